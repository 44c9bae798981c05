//! Operations: health, metrics, and the OpenAPI document (no credentials).

use crate::error::ErrorBody;
use crate::reply::Reply;
use crate::state::App;
use crate::wire::HealthOut;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use connreq_core::Network as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Whether the server answers and its database takes commands.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = HealthOut), (status = 503, body = HealthOut)))]
pub async fn healthz(State(app): State<Arc<App>>) -> Reply {
    let events = app.store.read(|m| m.last_seq().0).unwrap_or(0);
    if app.degraded.load(Ordering::Relaxed) {
        return Reply::json(503, &HealthOut { status: "degraded".into(), events });
    }
    Reply::json(200, &HealthOut { status: "ok".into(), events })
}

/// Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    let mut r = app.metrics.encode().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

/// The answer to a path no route has.
pub async fn unknown_route() -> Reply {
    crate::error::ApiError::not_found("no such endpoint; GET /v1/openapi.json lists them").reply()
}

/// The answer to a method a path does not take.
pub async fn wrong_method() -> Reply {
    let body =
        ErrorBody { error: "InvalidInput".into(), message: "this endpoint does not take that method".into() };
    Reply::json(405, &body)
}

//! Operations: health, metrics, and the OpenAPI document (no credentials).

use crate::error::ErrorBody;
use crate::reply::Reply;
use crate::state::App;
use crate::wire::{FeedOut, HealthOut, ReplicaOut};
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
    let feed = app.published.as_ref().map(|p| {
        let published = p.load(Ordering::Relaxed);
        let network = app.store.database_id().map(|id| crate::feed::network_id(&id)).unwrap_or_default();
        FeedOut { network, published, lag_events: events.saturating_sub(published) }
    });
    let replica = app.replica.as_ref().map(|r| {
        let lag = r.lag();
        let (p99, applied) = r.quantile(0.99);
        ReplicaOut {
            primary: r.primary(),
            lag_events: lag.events,
            lag_seconds: lag.seconds,
            connected: lag.connected,
            applied_p99_seconds: p99,
            applied_events: applied,
        }
    });
    let degraded = app.degraded.load(Ordering::Relaxed);
    let status = if degraded { "degraded" } else { "ok" };
    let body = HealthOut { status: status.into(), events, feed, replica };
    Reply::json(if degraded { 503 } else { 200 }, &body)
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

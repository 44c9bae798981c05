//! The HTTP API v1 (SPEC §12): every route, and the OpenAPI document built
//! from the same handlers (utoipa), served at `/v1/openapi.json`.
//!
//! Members, requests, relations, notifications (with the live stream),
//! email preferences and one-click unsubscribe, moderation, operator
//! endpoints and operations; each group in its module, each route one
//! `.routes(routes!(...))` line below.

pub mod inbox;
pub mod mail;
pub mod members;
pub mod moderation;
pub mod operator;
pub mod ops;
pub mod personal;
pub mod relations;
pub mod requests;

use crate::auth;
use crate::extract::BODY_LIMIT;
use crate::sse;
use crate::state::App;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The document's frame: title, version, credentials.
#[derive(OpenApi)]
#[openapi(
    info(title = "connreq", description = "The connection-request system of a professional network, as an HTTP service (SPEC §12)."),
    modifiers(&Bearer),
    tags(
        (name = "members"), (name = "requests"), (name = "relations"), (name = "notifications"),
        (name = "moderation"), (name = "operator"), (name = "operations")
    )
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("the service key (CONNREQ_API_KEY) or a member token (JWT, HS256)"))
                    .build(),
            ),
        );
    }
}

/// The routes and the OpenAPI document describing exactly them.
pub fn api() -> (Router<Arc<App>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(members::register))
        .routes(routes!(members::set_setting))
        .routes(routes!(members::import_contacts))
        .routes(routes!(members::sent))
        .routes(routes!(members::received))
        .routes(routes!(members::connections))
        .routes(routes!(members::mutual))
        .routes(routes!(members::profile))
        .routes(routes!(members::standing))
        .routes(routes!(personal::invitations))
        .routes(routes!(personal::suggestions))
        .routes(routes!(personal::export))
        .routes(routes!(personal::update, personal::erase))
        .routes(routes!(personal::withdraw_all))
        .routes(routes!(mail::preferences))
        .routes(routes!(mail::set_preference))
        .routes(routes!(mail::set_frequency))
        .routes(routes!(mail::set_locale))
        .routes(routes!(mail::unsubscribe_page, mail::unsubscribe))
        .routes(routes!(relations::remove_connection))
        .routes(routes!(relations::block, relations::unblock, relations::is_blocked))
        .routes(routes!(relations::report))
        .routes(routes!(requests::send))
        .routes(routes!(requests::get_request))
        .routes(routes!(requests::accept))
        .routes(routes!(requests::ignore))
        .routes(routes!(requests::decline))
        .routes(routes!(requests::withdraw))
        .routes(routes!(inbox::notifications))
        .routes(routes!(inbox::mark_read))
        .routes(routes!(sse::stream))
        .routes(routes!(moderation::flags))
        .routes(routes!(moderation::resolve))
        .routes(routes!(moderation::flag))
        .routes(routes!(moderation::flag_events))
        .routes(routes!(moderation::lift_restriction))
        .routes(routes!(operator::events))
        .routes(routes!(operator::stats))
        .routes(routes!(operator::expire))
        .routes(routes!(operator::pending_emails))
        .routes(routes!(operator::mark_emails_sent))
        .routes(routes!(operator::mark_emails_undeliverable))
        .routes(routes!(operator::email))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::metrics))
        .split_for_parts()
}

/// The whole application: the API, `/v1/openapi.json`, JSON answers for
/// unknown routes and methods, the 64 KiB body limit, and credentials
/// checked (and `/v1/me` rewritten) before routing.
pub fn app(state: Arc<App>) -> Router {
    let (api, doc) = api();
    let doc = Arc::new(doc.to_json().unwrap_or_else(|_| "{}".to_owned()));
    let routes = api
        .route(
            "/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], (*doc).clone()) }
            }),
        )
        .merge(crate::web::router(state.demo))
        .fallback(ops::unknown_route)
        .method_not_allowed_fallback(ops::wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state.clone());
    // Outside the router, so `/v1/me` is rewritten before routing.
    Router::new().fallback_service(routes).layer(axum::middleware::from_fn_with_state(state, auth::layer))
}

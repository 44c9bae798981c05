//! The web interface (SPEC §14): pages for members and moderators at `/`.
//!
//! A page is a server-rendered shell ([`shell`]) that needs no credentials:
//! navigation, headings, the dialog, and a place for its content. The one
//! script ([`assets`], embedded in the binary) keeps the member token handed
//! over as `/#token=...` in `sessionStorage`, fetches the page's content,
//! HTML rendered here from the same queries the API answers
//! (`GET /ui/part/{page}`, with `Authorization: Bearer`, like every API
//! call), and carries out every action through the API itself (`/v1/...`).
//! So the pages hold no rules and no credentials of their own: what a token
//! may see or do is exactly what the API lets it, no cookie is ever set,
//! and a token never travels in a URL.
//!
//! Member text reaches the browser only escaped (maud escapes every value)
//! or through `textContent`, and every page carries a Content-Security-Policy
//! that allows scripts from this server only, never inline.
//! `serve --demo` adds [`demo`]: a page that signs in as any member.

pub mod assets;
pub mod chart;
pub mod dashboard;
pub mod demo;
pub mod format;
pub mod lists;
pub mod notifications;
pub mod part;
pub mod review;
pub mod settings;
pub mod shell;

use crate::state::App;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use std::sync::Arc;

/// How many items a page shows at once ("Show more" fetches the next ones).
pub const PAGE_SIZE: usize = 50;

/// The Content-Security-Policy of every page: this server's script, style
/// and images only, no inline script or style, no frames, forms posting
/// nowhere else, fetches to this server only.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Whether `path` is served without credentials: the pages' shells, their
/// script and style, and (with `--demo`) the demo sign-in. The pages'
/// content (`/ui/part/...`) needs credentials like the API.
pub fn is_public(path: &str) -> bool {
    shell::Page::from_path(path).is_some()
        || assets::Asset::from_path(path).is_some()
        || path == "/favicon.ico"
        || path == demo::PAGE
        || path == demo::TOKEN
}

/// The routes of the web interface (the demo's only when `demo`).
pub fn router(demo: bool) -> Router<Arc<App>> {
    let mut router = Router::new();
    for page in shell::Page::ALL {
        router = router.route(page.path(), get(shell::page));
    }
    router = router
        .route("/ui/{asset}", get(assets::asset))
        .route("/favicon.ico", get(assets::asset))
        .route("/ui/part/{page}", get(part::part));
    if demo {
        router = router.route(demo::PAGE, get(demo::page)).route(demo::TOKEN, post(demo::token));
    }
    router
}

/// Adds the headers every answer of the web interface carries: the CSP, no
/// sniffing, no referrer, no framing.
pub fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

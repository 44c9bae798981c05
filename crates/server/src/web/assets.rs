//! The script, the style sheet and the icon, embedded in the binary: the
//! pages load nothing from any other host and need no build step.

use crate::web::secure;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asset {
    /// `app.js`: sign-in, the content, actions through the API, the live stream.
    Script,
    /// `app.css`.
    Style,
    /// `icon.svg`.
    Icon,
}

/// The script.
pub const SCRIPT: &str = include_str!("assets/app.js");
/// The style sheet.
pub const STYLE: &str = include_str!("assets/app.css");
/// The icon.
pub const ICON: &str = include_str!("assets/icon.svg");

impl Asset {
    /// The asset at `path`, if any.
    pub fn from_path(path: &str) -> Option<Asset> {
        match path {
            "/ui/app.js" => Some(Asset::Script),
            "/ui/app.css" => Some(Asset::Style),
            "/ui/icon.svg" | "/favicon.ico" => Some(Asset::Icon),
            _ => None,
        }
    }

    /// Its content and media type.
    pub fn content(self) -> (&'static str, &'static str) {
        match self {
            Asset::Script => (SCRIPT, "text/javascript; charset=utf-8"),
            Asset::Style => (STYLE, "text/css; charset=utf-8"),
            Asset::Icon => (ICON, "image/svg+xml"),
        }
    }
}

/// `GET /ui/{asset}` (and `/favicon.ico`).
pub async fn asset(uri: axum::http::Uri) -> Response {
    let Some(asset) = Asset::from_path(uri.path()) else {
        return crate::error::ApiError::not_found("no such file").into_response();
    };
    let (body, media) = asset.content();
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    // Revalidated each time: a new binary's script is never mixed with an old page.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    secure(response)
}

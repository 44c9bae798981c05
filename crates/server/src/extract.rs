//! Extractors whose refusals are answers of the API's own shape: path ids
//! and queries that cannot be read are 400, a body over 64 KiB is 413, a
//! body that is not the JSON expected is 400.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// The largest body the API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Path parameters.
pub struct P<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| P(v))
            .map_err(|e| ApiError::bad_request(format!("the path is not valid: {}", e.body_text())))
    }
}

/// Query parameters.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Q(v))
            .map_err(|e| ApiError::bad_request(format!("the query is not valid: {}", e.body_text())))
    }
}

/// The raw body (at most [`BODY_LIMIT`] bytes).
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(Body).map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(BODY_LIMIT)
            } else {
                ApiError::bad_request("the body cannot be read")
            }
        })
    }
}

impl Body {
    /// The body as `T`; an empty body reads as `{}`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let bytes: &[u8] = if self.0.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &self.0 };
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid: {e}")))
    }
}

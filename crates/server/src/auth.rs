//! Credentials (SPEC §12): `Authorization: Bearer <service key or member
//! token>`. The service key is compared in constant time and may act as any
//! member; a member token acts only as its member and reads only that
//! member's views; the flag and operator endpoints need the service key or a
//! moderator token. Under a member token `/v1/me/...` is
//! `/v1/members/{sub}/...`.

use crate::error::ApiError;
use crate::secrets::Secrets;
use crate::state::App;
use crate::token::{self, TokenHolder};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use connreq_core::MemberId;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Who is calling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The service key: any member, every endpoint.
    Service,
    /// A member token.
    Member(TokenHolder),
}

/// Paths anyone may call: operations, the API's description, one-click
/// unsubscribe links (their signed token is their credential), and the web
/// interface's pages and files (their content needs credentials, [`crate::web`]).
pub fn is_open_path(path: &str) -> bool {
    matches!(path, "/healthz" | "/metrics" | "/v1/openapi.json")
        || path.starts_with("/v1/unsubscribe/")
        || crate::web::is_public(path)
}

/// Checks the `Authorization` header against the secrets.
pub fn authenticate(headers: &HeaderMap, secrets: &Secrets) -> Result<Principal, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("credentials are required: Authorization: Bearer <key or token>")
    })?;
    let text = value.to_str().map_err(|_| ApiError::unauthorized("the credentials are not valid"))?;
    let presented = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .ok_or_else(|| {
            ApiError::unauthorized("credentials must be given as Authorization: Bearer <key or token>")
        })?
        .trim();
    if bool::from(presented.as_bytes().ct_eq(secrets.api_key.as_bytes())) {
        return Ok(Principal::Service);
    }
    match token::verify(&secrets.token_secret, presented) {
        Ok(holder) => Ok(Principal::Member(holder)),
        Err(_) => Err(ApiError::unauthorized(
            "the credentials are not valid (wrong key, or a token that is expired or altered)",
        )),
    }
}

/// The path a member token means: `/v1/me/rest` is `/v1/members/{sub}/rest`.
fn rewrite_me(uri: &Uri, principal: Principal) -> Result<Option<Uri>, ApiError> {
    let path = uri.path();
    let rest = match path.strip_prefix("/v1/me") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => return Ok(None),
    };
    let Principal::Member(holder) = principal else {
        return Err(ApiError::not_found(
            "/v1/me/... names the member of a member token; use /v1/members/{id}/...",
        ));
    };
    let mut new = format!("/v1/members/{}{rest}", holder.member.0);
    if let Some(q) = uri.query() {
        new.push('?');
        new.push_str(q);
    }
    new.parse::<Uri>().map(Some).map_err(|_| ApiError::bad_request("the path cannot be read"))
}

/// The outer layer: authenticates every request but the open ones, rewrites
/// `/v1/me`, and hands the [`Principal`] to the handlers.
pub async fn layer(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    if is_open_path(req.uri().path()) {
        return next.run(req).await;
    }
    let principal = match authenticate(req.headers(), &app.secrets) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match rewrite_me(req.uri(), principal) {
        Ok(Some(uri)) => *req.uri_mut() = uri,
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .copied()
            .ok_or_else(|| ApiError::unauthorized("credentials are required"))
    }
}

impl Principal {
    /// The member a command acts as: `given` (the body's actor field) for the
    /// service key, where it is required; the token's member for a member
    /// token, where `given` may be left out and any other value is refused.
    pub fn acts_as(self, given: Option<u64>, field: &str) -> Result<MemberId, ApiError> {
        match (self, given) {
            (Principal::Service, Some(m)) => Ok(MemberId(m)),
            (Principal::Service, None) => {
                Err(ApiError::bad_request(format!("{field} is required with the service key")))
            }
            (Principal::Member(h), None) => Ok(h.member),
            (Principal::Member(h), Some(m)) if m == h.member.0 => Ok(h.member),
            (Principal::Member(h), Some(m)) => Err(ApiError::forbidden(format!(
                "this token acts as {}; it cannot act as {}",
                h.member,
                MemberId(m)
            ))),
        }
    }

    /// Whether the caller may read or act on member `m`'s own views.
    pub fn reads(self, m: MemberId) -> Result<(), ApiError> {
        match self {
            Principal::Service => Ok(()),
            Principal::Member(h) if h.member == m => Ok(()),
            Principal::Member(h) => {
                Err(ApiError::forbidden(format!("this token reads only the views of {}", h.member)))
            }
        }
    }

    /// Whether the caller may use the flag and operator endpoints.
    pub fn operator(self) -> Result<(), ApiError> {
        match self {
            Principal::Service => Ok(()),
            Principal::Member(h) if h.moderator => Ok(()),
            Principal::Member(_) => {
                Err(ApiError::forbidden("this needs the service key or a moderator token"))
            }
        }
    }

    /// The member of a member token (`None` for the service key).
    pub fn member(self) -> Option<MemberId> {
        match self {
            Principal::Service => None,
            Principal::Member(h) => Some(h.member),
        }
    }

    /// The namespace of this caller's idempotency keys: one caller can never
    /// replay another's answer.
    pub fn key_scope(self) -> String {
        match self {
            Principal::Service => "service".to_owned(),
            Principal::Member(h) => format!("member:{}", h.member.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        Secrets { api_key: "the-key".into(), token_secret: "the-secret".into() }
    }

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn the_key_a_token_and_nothing_else_authenticate() {
        assert_eq!(authenticate(&headers("Bearer the-key"), &secrets()), Ok(Principal::Service));
        let t = token::mint(
            "the-secret",
            MemberId(3),
            std::time::Duration::from_secs(60),
            false,
            token::now_secs(),
        )
        .unwrap();
        assert!(matches!(
            authenticate(&headers(&format!("Bearer {t}")), &secrets()),
            Ok(Principal::Member(_))
        ));
        for bad in ["Bearer the-kez", "Bearer ", "the-key", "Basic the-key", "Bearer the-key2"] {
            assert_eq!(authenticate(&headers(bad), &secrets()).map_err(|e| e.status), Err(401), "{bad}");
        }
        assert_eq!(authenticate(&HeaderMap::new(), &secrets()).map_err(|e| e.status), Err(401));
    }

    #[test]
    fn me_is_the_tokens_member_and_nothing_for_the_key() {
        let m = Principal::Member(TokenHolder { member: MemberId(9), moderator: false });
        let uri: Uri = "/v1/me/sent?state=pending".parse().unwrap();
        assert_eq!(rewrite_me(&uri, m).unwrap().unwrap().to_string(), "/v1/members/9/sent?state=pending");
        assert_eq!(rewrite_me(&"/v1/meh".parse().unwrap(), m).unwrap(), None);
        assert_eq!(rewrite_me(&uri, Principal::Service).map_err(|e| e.status), Err(404));
    }
}

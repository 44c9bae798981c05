//! What every command handler does the same way: read `at` (default now;
//! more than a day ahead of the server's clock is refused, SPEC §16), scope
//! the `Idempotency-Key`, fingerprint the request, and hand the command to
//! the writer.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::Body;
use crate::reply::Reply;
use crate::state::App;
use crate::time::now;
use crate::wire::At;
use crate::writer::{Answer, Check, Job, Keyed};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, Method, Uri};
use connreq_core::{Command, Timestamp};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How far ahead of the server's clock a command may be dated.
pub const MAX_AHEAD_MS: i64 = 24 * 3600 * 1000;

/// The time of a command: the given one, or now.
pub fn at_of(at: &Option<At>) -> Result<Timestamp, ApiError> {
    let clock = now();
    let Some(at) = at else { return Ok(clock) };
    let t = at.timestamp().map_err(ApiError::invalid)?;
    if t.0 > clock.0.saturating_add(MAX_AHEAD_MS) {
        return Err(ApiError::invalid(format!(
            "at {t} is more than a day ahead of the server's clock ({clock})"
        )));
    }
    Ok(t)
}

/// A command's request as every command handler takes it (the last
/// extractor, since it reads the body): the server, the caller, and what an
/// `Idempotency-Key` is scoped and fingerprinted by.
pub struct CommandCall {
    /// The server.
    pub app: Arc<App>,
    /// The caller.
    pub principal: Principal,
    method: Method,
    /// The path (after `/v1/me` was rewritten).
    uri: Uri,
    headers: HeaderMap,
    body: Body,
}

impl FromRequest<Arc<App>> for CommandCall {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let principal = Principal::from_request_parts(&mut parts, app).await?;
        let (method, uri, headers) = (parts.method.clone(), parts.uri.clone(), parts.headers.clone());
        let body = Body::from_request(Request::from_parts(parts, body), app).await?;
        Ok(Self { app: app.clone(), principal, method, uri, headers, body })
    }
}

impl CommandCall {
    /// The body as `T`; an empty body reads as `{}`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        self.body.json()
    }

    /// Hands `command` to the writer and waits for its answer.
    pub async fn run(
        self,
        kind: &'static str,
        command: Command,
        at: Timestamp,
        check: Option<Check>,
        answer: Answer,
    ) -> Result<Reply, ApiError> {
        let keyed = self.keyed()?;
        Ok(self.app.writer.submit(Job { kind, command, at, check, answer, keyed }).await)
    }

    fn keyed(&self) -> Result<Option<Keyed>, ApiError> {
        let Some(value) = self.headers.get("idempotency-key") else { return Ok(None) };
        let key =
            value.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?;
        if key.is_empty() || key.len() > 255 {
            return Err(ApiError::bad_request("Idempotency-Key must be 1 to 255 characters"));
        }
        let mut hash = Sha256::new();
        hash.update(self.method.as_str().as_bytes());
        hash.update([0]);
        hash.update(self.uri.path().as_bytes());
        hash.update([0]);
        hash.update(&self.body.0);
        let scoped = format!("{}\n{key}", self.principal.key_scope());
        Ok(Some(Keyed { key: scoped.into_bytes(), fingerprint: hash.finalize().to_vec() }))
    }
}

/// The answer of a command that returns nothing: 204.
pub fn no_content() -> Answer {
    Box::new(|_, _| Ok(Reply::no_content()))
}

//! What every command handler does the same way: read `at` (default now;
//! more than a day ahead of the server's clock is refused, SPEC §16), scope
//! the `Idempotency-Key`, fingerprint the request, and hand the command to
//! the writer.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::reply::Reply;
use crate::state::App;
use crate::time::now;
use crate::wire::At;
use crate::writer::{Answer, Check, Job, Keyed};
use axum::http::{HeaderMap, Method, Uri};
use connreq_core::{Command, Timestamp};
use sha2::{Digest, Sha256};

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

/// The request as the writer needs it for an idempotency key.
pub struct Origin<'a> {
    /// The caller.
    pub principal: Principal,
    /// Its headers.
    pub headers: &'a HeaderMap,
    /// The method.
    pub method: &'a Method,
    /// The path (after `/v1/me` was rewritten).
    pub uri: &'a Uri,
    /// The raw body.
    pub body: &'a [u8],
}

fn keyed(origin: &Origin<'_>) -> Result<Option<Keyed>, ApiError> {
    let Some(value) = origin.headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?;
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::bad_request("Idempotency-Key must be 1 to 255 characters"));
    }
    let mut hash = Sha256::new();
    hash.update(origin.method.as_str().as_bytes());
    hash.update([0]);
    hash.update(origin.uri.path().as_bytes());
    hash.update([0]);
    hash.update(origin.body);
    let scoped = format!("{}\n{key}", origin.principal.key_scope());
    Ok(Some(Keyed { key: scoped.into_bytes(), fingerprint: hash.finalize().to_vec() }))
}

/// Hands a command to the writer and waits for its answer.
pub async fn run(
    app: &App,
    origin: Origin<'_>,
    kind: &'static str,
    command: Command,
    at: Timestamp,
    check: Option<Check>,
    answer: Answer,
) -> Result<Reply, ApiError> {
    let keyed = keyed(&origin)?;
    Ok(app.writer.submit(Job { kind, command, at, check, answer, keyed }).await)
}

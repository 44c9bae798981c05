//! Operator endpoints (service key or moderator): the event log as NDJSON,
//! counts, expiry, the outbox.

use crate::auth::Principal;
use crate::command::{CommandCall, at_of};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{P, Q};
use crate::reply::Reply;
use crate::state::App;
use crate::time::parse_at;
use crate::wire::{AtIn, CountOut, EmailOut, EventOut, IdsIn, StatsOut};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use connreq_core::{Command, EmailId, Network, Outcome, Seq};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// `?since=&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events after this sequence number.
    #[serde(default)]
    pub since: u64,
    /// At most this many.
    pub limit: Option<u64>,
}

/// The event log after `since`, one JSON object per line.
#[utoipa::path(get, path = "/v1/events", tag = "operator", params(EventsQuery),
    responses((status = 200, description = "NDJSON: one Event per line", content_type = "application/x-ndjson", body = EventOut),
              (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn events(
    State(app): State<Arc<App>>,
    principal: Principal,
    Q(q): Q<EventsQuery>,
) -> Result<Response, ApiError> {
    principal.operator()?;
    let store = app.store.clone();
    let limit = q.limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, connreq_core::Error> {
        let mut out = Vec::new();
        for e in store.events(Seq(q.since), limit)? {
            serde_json::to_writer(&mut out, &EventOut::from(&e))
                .map_err(|e| connreq_core::Error::StorageError(e.to_string()))?;
            out.push(b'\n');
        }
        Ok(out)
    })
    .await
    .map_err(|_| ApiError::unavailable())??;
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    Ok(response)
}

/// Counts: requests by state, connections, members by standing, flags, emails, events.
#[utoipa::path(get, path = "/v1/stats", tag = "operator",
    responses((status = 200, body = StatsOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn stats(State(app): State<Arc<App>>, principal: Principal) -> Result<Reply, ApiError> {
    principal.operator()?;
    let s = app.store.read(|m| m.stats())?;
    Ok(Reply::json(200, &StatsOut::from(&s)))
}

/// Expires open requests older than the policy's `pending_ttl`.
#[utoipa::path(post, path = "/v1/expire", tag = "operator", request_body(content = Option<AtIn>),
    params(("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 200, body = CountOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn expire(call: CommandCall) -> Result<Reply, ApiError> {
    call.principal.operator()?;
    let input: AtIn = call.json()?;
    let at = at_of(&input.at)?;
    call.run("expire", Command::Expire, at, None, count()).await
}

fn count() -> crate::writer::Answer {
    Box::new(|_, o: Outcome| Ok(Reply::json(200, &CountOut { count: o.count() })))
}

/// `?due_before=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PendingQuery {
    /// Only emails due at or before this time (RFC 3339 or epoch ms).
    pub due_before: Option<String>,
}

/// Unsent emails, by due time.
#[utoipa::path(get, path = "/v1/emails/pending", tag = "operator", params(PendingQuery),
    responses((status = 200, body = Vec<EmailOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pending_emails(
    State(app): State<Arc<App>>,
    principal: Principal,
    Q(q): Q<PendingQuery>,
) -> Result<Reply, ApiError> {
    principal.operator()?;
    let due = q.due_before.as_deref().map(parse_at).transpose().map_err(ApiError::invalid)?;
    let list = app.store.read(|m| m.pending_emails(due))?;
    Ok(Reply::json(200, &list.iter().map(EmailOut::from).collect::<Vec<_>>()))
}

/// Records emails the caller delivered itself (SPEC §10); answers how many were newly marked.
#[utoipa::path(post, path = "/v1/emails/sent", tag = "operator", request_body = IdsIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 200, body = CountOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn mark_emails_sent(call: CommandCall) -> Result<Reply, ApiError> {
    call.principal.operator()?;
    let input: IdsIn = call.json()?;
    let at = at_of(&input.at)?;
    let command = Command::MarkEmailsSent { ids: input.ids.into_iter().map(EmailId).collect() };
    call.run("mark_emails_sent", command, at, None, count()).await
}

/// Records emails whose address the caller's provider refused for good
/// (skipped, `invalid_address`); answers how many were newly skipped.
#[utoipa::path(post, path = "/v1/emails/undeliverable", tag = "operator", request_body = IdsIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 200, body = CountOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn mark_emails_undeliverable(call: CommandCall) -> Result<Reply, ApiError> {
    call.principal.operator()?;
    let input: IdsIn = call.json()?;
    let at = at_of(&input.at)?;
    let command = Command::MarkEmailsUndeliverable { ids: input.ids.into_iter().map(EmailId).collect() };
    call.run("mark_emails_undeliverable", command, at, None, count()).await
}

/// One email, whatever its status (queued, sent or skipped, and why).
#[utoipa::path(get, path = "/v1/emails/{id}", tag = "operator",
    params(("id" = u64, Path, description = "the email")),
    responses((status = 200, body = EmailOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn email(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(id): P<u64>,
) -> Result<Reply, ApiError> {
    principal.operator()?;
    let e = app.store.read(|m| m.email(EmailId(id)))??;
    Ok(Reply::json(200, &EmailOut::from(&e)))
}

//! Requests: send, accept, ignore, decline, withdraw (each answered with the
//! actor's view), and one request read. A member token acting on or asking
//! about a request it is not a party to gets 404 `NotFound` (SPEC §18).

use crate::auth::Principal;
use crate::command::{CommandCall, at_of};
use crate::error::{ApiError, ErrorBody};
use crate::extract::P;
use crate::reply::Reply;
use crate::state::App;
use crate::wire::{DeclineIn, RecipientIn, RequestOut, SendIn, WithdrawIn};
use crate::writer::Answer;
use axum::extract::State;
use connreq_core::Network as _;
use connreq_core::{Command, MemberId, RequestId};
use std::sync::Arc;

/// The answer: the request (`id`, or the one the command returned) as
/// `viewer` sees it, with `status`.
fn seen_by(viewer: MemberId, id: Option<RequestId>, status: u16) -> Answer {
    Box::new(move |store, outcome| {
        let id = id
            .or(outcome.request())
            .ok_or_else(|| connreq_core::Error::StorageError("no request id".into()))?;
        let r = store.read(|m| m.request_seen_by(viewer, id))??;
        Ok(Reply::json(status, &RequestOut::from(&r)))
    })
}

/// For a member token: 404 unless the member is a party to the request
/// (checked before anything else, so nothing tells the request exists).
/// The parties of a request never change, so this holds when it runs.
fn party_check(app: &App, principal: Principal, id: RequestId) -> Result<(), ApiError> {
    let Some(member) = principal.member() else { return Ok(()) };
    match app.store.read(|m| m.parties(id))? {
        Some((s, r)) if s == member || r == member => Ok(()),
        _ => Err(ApiError::from(connreq_core::Error::NotFound(id.to_string()))),
    }
}

/// Sends a connection request.
#[utoipa::path(post, path = "/v1/requests", tag = "requests", request_body = SendIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 201, description = "the sender's view", body = RequestOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn send(call: CommandCall) -> Result<Reply, ApiError> {
    let input: SendIn = call.json()?;
    let sender = call.principal.acts_as(input.sender, "sender")?;
    let at = at_of(&input.at)?;
    let command =
        Command::Send { sender, recipient: MemberId(input.recipient), note: input.note, email: input.email };
    call.run("send", command, at, None, seen_by(sender, None, 201)).await
}

macro_rules! respond {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $path:literal, $input:ty, $actor:ident, $make:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "requests", request_body = $input,
            params(("id" = u64, Path, description = "the request"),
                   ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
            responses((status = 200, description = "the actor's view", body = RequestOut), (status = "4XX", body = ErrorBody)),
            security(("bearer" = [])))]
        pub async fn $name(P(id): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
            let request = RequestId(id);
            party_check(&call.app, call.principal, request)?;
            let input: $input = call.json()?;
            let actor = call.principal.acts_as(input.$actor, stringify!($actor))?;
            let at = at_of(&input.at)?;
            let make: fn(MemberId, RequestId, $input) -> Command = $make;
            let command = make(actor, request, input);
            call.run($kind, command, at, None, seen_by(actor, Some(request), 200)).await
        }
    };
}

respond!(
    /// The recipient accepts a pending or ignored request.
    accept, "accept", "/v1/requests/{id}/accept", RecipientIn, recipient,
    |recipient, request, _| Command::Accept { recipient, request }
);
respond!(
    /// The recipient archives a pending request (the sender is not told).
    ignore, "ignore", "/v1/requests/{id}/ignore", RecipientIn, recipient,
    |recipient, request, _| Command::Ignore { recipient, request }
);
respond!(
    /// The recipient declines, with an optional message.
    decline, "decline", "/v1/requests/{id}/decline", DeclineIn, recipient,
    |recipient, request, i| Command::Decline { recipient, request, message: i.message }
);
respond!(
    /// The sender withdraws, with an optional message.
    withdraw, "withdraw", "/v1/requests/{id}/withdraw", WithdrawIn, sender,
    |sender, request, i| Command::Withdraw { sender, request, message: i.message }
);

/// A request: the operator's view (true state) for the service key or a
/// moderator; a member's own view for a member token that is a party to it.
#[utoipa::path(get, path = "/v1/requests/{id}", tag = "requests",
    params(("id" = u64, Path, description = "the request")),
    responses((status = 200, body = RequestOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_request(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(id): P<u64>,
) -> Result<Reply, ApiError> {
    let id = RequestId(id);
    let r = match principal {
        Principal::Member(h) if !h.moderator => app.store.read(|m| m.request_seen_by(h.member, id))??,
        _ => app.store.read(|m| m.request(id))??,
    };
    Ok(Reply::json(200, &RequestOut::from(&r)))
}

//! Between two members: remove a connection, block, unblock, is-blocked,
//! report.

use crate::auth::Principal;
use crate::command::{CommandCall, at_of, no_content};
use crate::error::{ApiError, ErrorBody};
use crate::extract::P;
use crate::reply::Reply;
use crate::state::App;
use crate::wire::{AtIn, BlockedOut, ReportIn};
use crate::writer::Check;
use axum::extract::State;
use connreq_core::Network as _;
use connreq_core::{Command, MemberId, ReportReason, RequestId};
use std::sync::Arc;

macro_rules! pair_command {
    ($(#[$doc:meta])* $name:ident, $method:ident, $kind:literal, $path:literal, $make:expr) => {
        $(#[$doc])*
        #[utoipa::path($method, path = $path, tag = "relations", request_body(content = Option<AtIn>),
            params(("m" = u64, Path, description = "the member acting"), ("other" = u64, Path, description = "the other member"),
                   ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
            responses((status = 204, description = "done"), (status = "4XX", body = ErrorBody)),
            security(("bearer" = [])))]
        pub async fn $name(P((m, other)): P<(u64, u64)>, call: CommandCall) -> Result<Reply, ApiError> {
            let input: AtIn = call.json()?;
            let member = call.principal.acts_as(Some(m), "member")?;
            let at = at_of(&input.at)?;
            let make: fn(MemberId, MemberId) -> Command = $make;
            call.run($kind, make(member, MemberId(other)), at, None, no_content()).await
        }
    };
}

pair_command!(
    /// Ends a connection; no one is told.
    remove_connection, delete, "remove_connection", "/v1/members/{m}/connections/{other}",
    |member, other| Command::RemoveConnection { member, other }
);
pair_command!(
    /// Blocks `other`: cancels open requests both ways; the blocked member is not told.
    block, put, "block", "/v1/members/{m}/blocks/{other}",
    |blocker, blocked| Command::Block { blocker, blocked }
);
pair_command!(
    /// Lifts a block.
    unblock, delete, "unblock", "/v1/members/{m}/blocks/{other}",
    |blocker, blocked| Command::Unblock { blocker, blocked }
);

/// Whether `m` has blocked `other` (directional).
#[utoipa::path(get, path = "/v1/members/{m}/blocks/{other}", tag = "relations",
    params(("m" = u64, Path, description = "the member"), ("other" = u64, Path, description = "the other member")),
    responses((status = 200, body = BlockedOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn is_blocked(
    State(app): State<Arc<App>>,
    principal: Principal,
    P((m, other)): P<(u64, u64)>,
) -> Result<Reply, ApiError> {
    principal.reads(MemberId(m))?;
    let blocked = app.store.read(|model| model.is_blocked(MemberId(m), MemberId(other)))??;
    Ok(Reply::json(200, &BlockedOut { blocked }))
}

/// Reports a member; a `request_id` must name a request from the reported member to the reporter.
#[utoipa::path(post, path = "/v1/reports", tag = "relations", request_body = ReportIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 204, description = "reported"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report(call: CommandCall) -> Result<Reply, ApiError> {
    let input: ReportIn = call.json()?;
    let reporter = call.principal.acts_as(input.reporter, "reporter")?;
    let reason = ReportReason::parse(&input.reason).map_err(|w| ApiError::invalid(w.0))?;
    let at = at_of(&input.at)?;
    let request = input.request_id.map(RequestId);
    // A member token naming a request it is not a party to learns nothing of it.
    let check: Option<Check> = match (call.principal.member(), request) {
        (Some(member), Some(id)) => Some(Box::new(move |store| match store.read(|m| m.parties(id))? {
            Some((s, r)) if s == member || r == member => Ok(()),
            _ => Err(ApiError::from(connreq_core::Error::NotFound(id.to_string()))),
        })),
        _ => None,
    };
    let command = Command::Report { reporter, reported: MemberId(input.reported), reason, request };
    call.run("report", command, at, check, no_content()).await
}

//! Moderation: flags, the events behind them, their resolution (who decided
//! and why) and lifting a restriction (service key or moderator token).

use crate::auth::Principal;
use crate::command::{CommandCall, at_of, no_content};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{P, Q};
use crate::reply::Reply;
use crate::state::App;
use crate::wire::{EventOut, FlagOut, LiftIn, ResolveIn};
use axum::extract::State;
use connreq_core::Network as _;
use connreq_core::{Command, Decision, FlagId, FlagStatus, MemberId};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// `?status=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FlagQuery {
    /// `open` (the review queue, the default), `cleared`, `restricted` or `all`.
    pub status: Option<String>,
}

/// Flags, oldest first: the review queue by default.
#[utoipa::path(get, path = "/v1/flags", tag = "moderation", params(FlagQuery),
    responses((status = 200, body = Vec<FlagOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn flags(
    State(app): State<Arc<App>>,
    principal: Principal,
    Q(q): Q<FlagQuery>,
) -> Result<Reply, ApiError> {
    principal.operator()?;
    let list = match q.status.as_deref() {
        None | Some("open") => app.store.read(|m| m.review_queue())?,
        Some("all") => app.store.read(|m| m.all_flags())?,
        Some(other) => {
            let status = FlagStatus::parse(other).map_err(|w| ApiError::invalid(w.0))?;
            app.store.read(|m| m.all_flags())?.into_iter().filter(|f| f.status == status).collect()
        }
    };
    Ok(Reply::json(200, &list.iter().map(FlagOut::from).collect::<Vec<_>>()))
}

/// Decides an open flag: `clear` or `restrict`.
#[utoipa::path(post, path = "/v1/flags/{id}/resolve", tag = "moderation", request_body = ResolveIn,
    params(("id" = u64, Path, description = "the flag"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 200, description = "the flag after the decision", body = FlagOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resolve(P(id): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
    call.principal.operator()?;
    let input: ResolveIn = call.json()?;
    let decision = Decision::parse(&input.decision).map_err(|w| ApiError::invalid(w.0))?;
    let at = at_of(&input.at)?;
    let flag = FlagId(id);
    let moderator = deciding(call.principal, input.moderator)?;
    let answer = Box::new(move |store: &connreq_store::Store, _| {
        let f = store.read(|m| m.flag(flag))??;
        Ok(Reply::json(200, &FlagOut::from(&f)))
    });
    let command = Command::ResolveFlag { flag, decision, moderator, note: input.note };
    call.run("resolve_flag", command, at, None, answer).await
}

/// Who decides: under a moderator token, its member (naming another is
/// `NotAuthorized`); under the service key, whoever the body names.
fn deciding(principal: Principal, given: Option<u64>) -> Result<Option<MemberId>, ApiError> {
    match (principal.member(), given) {
        (Some(me), Some(other)) if other != me.0 => {
            Err(ApiError::forbidden("a moderator token decides as its own member"))
        }
        (Some(me), _) => Ok(Some(me)),
        (None, given) => Ok(given.map(MemberId)),
    }
}

/// One flag, whatever its status.
#[utoipa::path(get, path = "/v1/flags/{id}", tag = "moderation",
    params(("id" = u64, Path, description = "the flag")),
    responses((status = 200, body = FlagOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn flag(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(id): P<u64>,
) -> Result<Reply, ApiError> {
    principal.operator()?;
    let f = app.store.read(|m| m.flag(FlagId(id)))??;
    Ok(Reply::json(200, &FlagOut::from(&f)))
}

/// The events behind a flag's evidence, in log order (SPEC §15).
#[utoipa::path(get, path = "/v1/flags/{id}/events", tag = "moderation",
    params(("id" = u64, Path, description = "the flag")),
    responses((status = 200, body = Vec<EventOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn flag_events(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(id): P<u64>,
) -> Result<Reply, ApiError> {
    principal.operator()?;
    let events = app.store.flag_events(FlagId(id))?;
    Ok(Reply::json(200, &events.iter().map(EventOut::from).collect::<Vec<_>>()))
}

/// Lifts a restriction a moderator decided on (SPEC §15): the member is back in good standing.
#[utoipa::path(post, path = "/v1/members/{m}/lift-restriction", tag = "moderation", request_body = LiftIn,
    params(("m" = u64, Path, description = "the member"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 204, description = "lifted"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn lift_restriction(P(m): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
    call.principal.operator()?;
    let input: LiftIn = call.json()?;
    let at = at_of(&input.at)?;
    let moderator = deciding(call.principal, input.moderator)?;
    let command = Command::LiftRestriction { member: MemberId(m), moderator, note: input.note };
    call.run("lift_restriction", command, at, None, no_content()).await
}

//! Moderation: flags and their resolution (service key or moderator).

use crate::auth::Principal;
use crate::command::{Origin, at_of, run};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Body, P, Q};
use crate::reply::Reply;
use crate::state::App;
use crate::wire::{FlagOut, ResolveIn};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use connreq_core::Network as _;
use connreq_core::{Command, Decision, FlagId, FlagStatus};
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
pub async fn resolve(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(id): P<u64>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Reply, ApiError> {
    principal.operator()?;
    let input: ResolveIn = body.json()?;
    let decision = Decision::parse(&input.decision).map_err(|w| ApiError::invalid(w.0))?;
    let at = at_of(&input.at)?;
    let flag = FlagId(id);
    let answer = Box::new(move |store: &connreq_store::Store, _| {
        let f = store.read(|m| m.flag(flag))??;
        Ok(Reply::json(200, &FlagOut::from(&f)))
    });
    let origin = Origin { principal, headers: &headers, method: &method, uri: &uri, body: &body.0 };
    run(&app, origin, "resolve_flag", Command::ResolveFlag { flag, decision }, at, None, answer).await
}

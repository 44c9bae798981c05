//! A member's in-app notifications and their read marks (the live stream is
//! in `sse`).

use crate::auth::Principal;
use crate::command::{CommandCall, at_of, no_content};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{P, Q};
use crate::reply::Reply;
use crate::state::App;
use crate::wire::{IdsIn, NotificationOut};
use axum::extract::State;
use connreq_core::Network as _;
use connreq_core::{Command, MemberId, NotificationId};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// `?unread_only=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// Only unread notifications.
    #[serde(default)]
    pub unread_only: bool,
}

/// The member's notifications, oldest first.
#[utoipa::path(get, path = "/v1/members/{m}/notifications", tag = "notifications",
    params(("m" = u64, Path, description = "the member"), InboxQuery),
    responses((status = 200, body = Vec<NotificationOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn notifications(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(m): P<u64>,
    Q(q): Q<InboxQuery>,
) -> Result<Reply, ApiError> {
    principal.reads(MemberId(m))?;
    let list = app.store.read(|model| model.notifications(MemberId(m), q.unread_only))??;
    Ok(Reply::json(200, &list.iter().map(NotificationOut::from).collect::<Vec<_>>()))
}

/// Marks the member's notifications with these ids read.
#[utoipa::path(post, path = "/v1/members/{m}/notifications/read", tag = "notifications", request_body = IdsIn,
    params(("m" = u64, Path, description = "the member"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 204, description = "marked"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn mark_read(P(m): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
    let input: IdsIn = call.json()?;
    let member = call.principal.acts_as(Some(m), "member")?;
    let at = at_of(&input.at)?;
    let command = Command::MarkRead { member, ids: input.ids.into_iter().map(NotificationId).collect() };
    call.run("mark_read", command, at, None, no_content()).await
}

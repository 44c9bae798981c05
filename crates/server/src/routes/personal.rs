//! What SPEC §11 gives each member: their invitations with the connections
//! they share with each sender, people they may know, withdrawing their
//! invitations in bulk, changing their address or name, and their personal
//! data (a copy of it, and its erasure). A member token reaches only its own
//! member; the service key any member.

use crate::auth::Principal;
use crate::command::{CommandCall, at_of, no_content};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{P, Q};
use crate::reply::Reply;
use crate::state::App;
use crate::wire::{CountOut, RequestOut};
use axum::extract::State;
use connreq_core::Network as _;
use connreq_core::{Command, MemberId, Outcome};
use serde::{Deserialize, Deserializer, Serialize};
use std::sync::Arc;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

/// An open invitation as its recipient sees it, with the connections they
/// share with its sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InvitationOut {
    /// The request, as the recipient sees it.
    pub request: RequestOut,
    /// How many connections the sender and the recipient have in common.
    pub mutual_count: u64,
    /// Up to three of them, the lowest ids.
    pub mutuals: Vec<u64>,
}

/// Someone the member may know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SuggestionOut {
    /// Who.
    pub member: u64,
    /// How many connections they share with the member.
    pub mutual_count: u64,
    /// `mutual_connections` or `contact`.
    pub reason: String,
}

/// `?include_ignored=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InvitationsQuery {
    /// Also the invitations the member ignored.
    #[serde(default)]
    pub include_ignored: bool,
}

/// `?limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SuggestionsQuery {
    /// How many at most (default 10, at most 100).
    pub limit: Option<usize>,
    /// As of when (RFC 3339 or epoch ms; default now): cooldowns and recent
    /// declines depend on it.
    pub at: Option<String>,
}

/// `PATCH /v1/members/{m}`: a field left out stays as it is; `null` removes it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIn {
    /// The new address, or `null` to remove it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// The new name, or `null` to remove it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<crate::wire::At>,
}

/// A field given (as a value or `null`), as opposed to left out.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /v1/members/{m}/withdraw-all`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawAllIn {
    /// Only invitations older than this many seconds (default: all open ones).
    #[serde(default)]
    pub older_than_seconds: Option<u64>,
    /// A message to each recipient.
    #[serde(default)]
    pub message: Option<String>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<crate::wire::At>,
}

/// `DELETE /v1/members/{m}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseIn {
    /// When (default now).
    #[serde(default)]
    pub at: Option<crate::wire::At>,
}

/// The member's open invitations, oldest first, with mutual connections.
#[utoipa::path(get, path = "/v1/members/{m}/invitations", tag = "members",
    params(("m" = u64, Path, description = "the member"), InvitationsQuery),
    responses((status = 200, body = Vec<InvitationOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn invitations(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(m): P<u64>,
    Q(q): Q<InvitationsQuery>,
) -> Result<Reply, ApiError> {
    principal.reads(MemberId(m))?;
    let list = app.store.read(|model| model.invitations(MemberId(m), q.include_ignored))??;
    let out: Vec<InvitationOut> = list
        .iter()
        .map(|i| InvitationOut {
            request: RequestOut::from(&i.request),
            mutual_count: i.mutual_count,
            mutuals: i.mutuals.iter().map(|x| x.0).collect(),
        })
        .collect();
    Ok(Reply::json(200, &out))
}

/// People the member may know, best first.
#[utoipa::path(get, path = "/v1/members/{m}/suggestions", tag = "members",
    params(("m" = u64, Path, description = "the member"), SuggestionsQuery),
    responses((status = 200, body = Vec<SuggestionOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn suggestions(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(m): P<u64>,
    Q(q): Q<SuggestionsQuery>,
) -> Result<Reply, ApiError> {
    principal.reads(MemberId(m))?;
    let limit = q.limit.unwrap_or(10);
    if limit > 100 {
        return Err(ApiError::invalid("limit must be at most 100"));
    }
    let at = match q.at.as_deref() {
        Some(t) => crate::time::parse_at(t).map_err(ApiError::invalid)?,
        None => crate::time::now(),
    };
    let list = app.store.read(|model| model.suggestions(MemberId(m), limit, at))??;
    let out: Vec<SuggestionOut> = list
        .iter()
        .map(|s| SuggestionOut {
            member: s.member.0,
            mutual_count: s.mutual_count,
            reason: s.reason.as_str().to_owned(),
        })
        .collect();
    Ok(Reply::json(200, &out))
}

/// Everything stored about the member as they may see it (SPEC §11), as JSON.
#[utoipa::path(get, path = "/v1/members/{m}/export", tag = "members",
    params(("m" = u64, Path, description = "the member")),
    responses((status = 200, description = "the member's data", body = Object), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(m): P<u64>,
) -> Result<Reply, ApiError> {
    principal.reads(MemberId(m))?;
    let data = app.store.read(|model| model.export_member(MemberId(m)))??;
    Ok(Reply::json(200, &data))
}

/// Changes the member's address or name.
#[utoipa::path(patch, path = "/v1/members/{m}", tag = "members", request_body = UpdateIn,
    params(("m" = u64, Path, description = "the member"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 204, description = "changed"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(P(m): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
    let input: UpdateIn = call.json()?;
    let member = call.principal.acts_as(Some(m), "member")?;
    let at = at_of(&input.at)?;
    let command = Command::UpdateMember { member, email: input.email, name: input.name };
    call.run("update_member", command, at, None, no_content()).await
}

/// Withdraws every open invitation the member sent (older than the given
/// age, when given); answers how many.
#[utoipa::path(post, path = "/v1/members/{m}/withdraw-all", tag = "requests", request_body = WithdrawAllIn,
    params(("m" = u64, Path, description = "the sender"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 200, body = CountOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn withdraw_all(P(m): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
    let input: WithdrawAllIn = call.json()?;
    let sender = call.principal.acts_as(Some(m), "sender")?;
    let at = at_of(&input.at)?;
    let older_than = input.older_than_seconds.map(Duration::from_secs);
    let command = Command::WithdrawAll { sender, older_than, message: input.message };
    let answer =
        Box::new(|_: &connreq_store::Store, o: Outcome| Ok(Reply::json(200, &CountOut { count: o.count() })));
    call.run("withdraw_all", command, at, None, answer).await
}

/// Erases the member (SPEC §11): their texts leave every file of the
/// database; the id stays as a tombstone. The member themself or the service key.
#[utoipa::path(delete, path = "/v1/members/{m}", tag = "members", request_body = EraseIn,
    params(("m" = u64, Path, description = "the member"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 204, description = "erased"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn erase(P(m): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
    let input: EraseIn = call.json()?;
    let member = call.principal.acts_as(Some(m), "member")?;
    let at = at_of(&input.at)?;
    let command = Command::EraseMember { member };
    call.run("erase_member", command, at, None, no_content()).await
}

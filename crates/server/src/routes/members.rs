//! Members: register, invitation setting, contacts, and each member's views
//! (sent, received, connections, mutual connections, public profile,
//! standing). A member token reads only its own member's views; public
//! profiles are for anyone signed in; standing is the operator's (SPEC §18).

use crate::auth::Principal;
use crate::command::{CommandCall, at_of, no_content};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{P, Q};
use crate::reply::Reply;
use crate::state::App;
use crate::wire::{ContactsIn, MemberOut, ProfileOut, RegisterIn, RequestOut, SettingIn, StandingOut};
use axum::extract::State;
use connreq_core::Network as _;
use connreq_core::{Command, InvitationSetting, Locale, MemberId, RequestState};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// Registers a member.
#[utoipa::path(post, path = "/v1/members", tag = "members", request_body = RegisterIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 201, body = MemberOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn register(call: CommandCall) -> Result<Reply, ApiError> {
    let input: RegisterIn = call.json()?;
    let member = call.principal.acts_as(Some(input.member), "member")?;
    let at = at_of(&input.at)?;
    let locale =
        input.locale.as_deref().map(Locale::parse).transpose().map_err(|w| ApiError::invalid(w.0))?;
    let command = Command::Register { member, email: input.email, name: input.name, locale };
    let answer =
        Box::new(move |_: &connreq_store::Store, _| Ok(Reply::json(201, &MemberOut { member: member.0 })));
    call.run("register", command, at, None, answer).await
}

/// Sets who may invite the member.
#[utoipa::path(put, path = "/v1/members/{m}/invitation-setting", tag = "members", request_body = SettingIn,
    params(("m" = u64, Path, description = "the member"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 204, description = "set"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_setting(P(m): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
    let input: SettingIn = call.json()?;
    let member = call.principal.acts_as(Some(m), "member")?;
    let setting = InvitationSetting::parse(&input.setting).map_err(|w| ApiError::invalid(w.0))?;
    let at = at_of(&input.at)?;
    let command = Command::SetInvitationSetting { member, setting };
    call.run("set_invitation_setting", command, at, None, no_content()).await
}

/// Adds addresses to the member's imported contacts.
#[utoipa::path(post, path = "/v1/members/{m}/contacts", tag = "members", request_body = ContactsIn,
    params(("m" = u64, Path, description = "the member"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 204, description = "added"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import_contacts(P(m): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
    let input: ContactsIn = call.json()?;
    let member = call.principal.acts_as(Some(m), "member")?;
    let at = at_of(&input.at)?;
    let command = Command::ImportContacts { member, emails: input.emails };
    call.run("import_contacts", command, at, None, no_content()).await
}

/// `?state=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StateQuery {
    /// Only requests shown in this state.
    pub state: Option<String>,
}

fn state_filter(q: &StateQuery) -> Result<Option<RequestState>, ApiError> {
    q.state.as_deref().map(RequestState::parse).transpose().map_err(|w| ApiError::invalid(w.0))
}

/// The requests the member sent, as the sender sees them, oldest first.
#[utoipa::path(get, path = "/v1/members/{m}/sent", tag = "members",
    params(("m" = u64, Path, description = "the member"), StateQuery),
    responses((status = 200, body = Vec<RequestOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn sent(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(m): P<u64>,
    Q(q): Q<StateQuery>,
) -> Result<Reply, ApiError> {
    principal.reads(MemberId(m))?;
    let state = state_filter(&q)?;
    let list = app.store.read(|model| model.sent(MemberId(m), state))??;
    Ok(Reply::json(200, &list.iter().map(RequestOut::from).collect::<Vec<_>>()))
}

/// The requests the member received, as the recipient sees them, oldest first.
#[utoipa::path(get, path = "/v1/members/{m}/received", tag = "members",
    params(("m" = u64, Path, description = "the member"), StateQuery),
    responses((status = 200, body = Vec<RequestOut>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn received(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(m): P<u64>,
    Q(q): Q<StateQuery>,
) -> Result<Reply, ApiError> {
    principal.reads(MemberId(m))?;
    let state = state_filter(&q)?;
    let list = app.store.read(|model| model.received(MemberId(m), state))??;
    Ok(Reply::json(200, &list.iter().map(RequestOut::from).collect::<Vec<_>>()))
}

/// The member's connections, sorted by id.
#[utoipa::path(get, path = "/v1/members/{m}/connections", tag = "members",
    params(("m" = u64, Path, description = "the member")),
    responses((status = 200, body = Vec<u64>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn connections(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(m): P<u64>,
) -> Result<Reply, ApiError> {
    principal.reads(MemberId(m))?;
    let list = app.store.read(|model| model.connections(MemberId(m)))??;
    Ok(Reply::json(200, &list.iter().map(|c| c.0).collect::<Vec<_>>()))
}

/// The members connected to both, sorted by id.
#[utoipa::path(get, path = "/v1/members/{m}/mutual/{other}", tag = "members",
    params(("m" = u64, Path, description = "the member"), ("other" = u64, Path, description = "the other member")),
    responses((status = 200, body = Vec<u64>), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn mutual(
    State(app): State<Arc<App>>,
    principal: Principal,
    P((m, other)): P<(u64, u64)>,
) -> Result<Reply, ApiError> {
    principal.reads(MemberId(m))?;
    let list = app.store.read(|model| model.mutual_connections(MemberId(m), MemberId(other)))??;
    Ok(Reply::json(200, &list.iter().map(|c| c.0).collect::<Vec<_>>()))
}

/// What anyone may see of a member: id, name, connection count.
#[utoipa::path(get, path = "/v1/members/{m}/profile", tag = "members",
    params(("m" = u64, Path, description = "the member")),
    responses((status = 200, body = ProfileOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn profile(
    State(app): State<Arc<App>>,
    _principal: Principal,
    P(m): P<u64>,
) -> Result<Reply, ApiError> {
    let p = app.store.read(|model| model.public_profile(MemberId(m)))??;
    Ok(Reply::json(200, &ProfileOut::from(&p)))
}

/// The member's moderation standing (service key or moderator only).
#[utoipa::path(get, path = "/v1/members/{m}/standing", tag = "moderation",
    params(("m" = u64, Path, description = "the member")),
    responses((status = 200, body = StandingOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn standing(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(m): P<u64>,
) -> Result<Reply, ApiError> {
    principal.operator()?;
    let s = app.store.read(|model| model.standing(MemberId(m)))??;
    Ok(Reply::json(200, &StandingOut { member: m, standing: s.as_str().to_owned() }))
}

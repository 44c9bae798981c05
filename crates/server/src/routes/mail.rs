//! A member's email (SPEC §10): which kinds they get, how often, in which
//! language, and the one-click unsubscribe links emails carry (RFC 8058),
//! which need no credentials: the signed token is the credential, and it
//! switches off exactly the kind it names for exactly its member. A GET of a
//! link only shows a page with a button; only a POST changes anything.

use crate::auth::Principal;
use crate::command::{CommandCall, at_of, no_content};
use crate::error::{ApiError, ErrorBody};
use crate::extract::P;
use crate::reply::Reply;
use crate::state::App;
use crate::writer::Job;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use connreq_core::Network as _;
use connreq_core::{Command, EmailFrequency, Locale, MemberId, PreferenceKind};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// A member's email settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EmailPreferencesOut {
    /// Each kind of email the member can switch, and whether it is on.
    pub preferences: std::collections::BTreeMap<String, bool>,
    /// `immediate` or `daily`.
    pub frequency: String,
    /// The language of their texts.
    pub locale: String,
}

/// `PUT /v1/members/{m}/email-preferences/{kind}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferenceIn {
    /// On or off.
    pub enabled: bool,
    /// When (default now).
    #[serde(default)]
    pub at: Option<crate::wire::At>,
}

/// `PUT /v1/members/{m}/email-frequency`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FrequencyIn {
    /// `immediate` or `daily`.
    pub frequency: String,
    /// When (default now).
    #[serde(default)]
    pub at: Option<crate::wire::At>,
}

/// `PUT /v1/members/{m}/locale`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocaleIn {
    /// `en`, `de`, `fr` or `es`.
    pub locale: String,
    /// When (default now).
    #[serde(default)]
    pub at: Option<crate::wire::At>,
}

/// The member's email preferences, frequency and language.
#[utoipa::path(get, path = "/v1/members/{m}/email-preferences", tag = "members",
    params(("m" = u64, Path, description = "the member")),
    responses((status = 200, body = EmailPreferencesOut), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn preferences(
    State(app): State<Arc<App>>,
    principal: Principal,
    P(m): P<u64>,
) -> Result<Reply, ApiError> {
    principal.reads(MemberId(m))?;
    let member = MemberId(m);
    let out = app.store.read(|model| -> Result<EmailPreferencesOut, connreq_core::Error> {
        Ok(EmailPreferencesOut {
            preferences: model
                .email_preferences(member)?
                .into_iter()
                .map(|(k, on)| (k.as_str().to_owned(), on))
                .collect(),
            frequency: model.email_frequency(member)?.as_str().to_owned(),
            locale: model.locale(member)?.as_str().to_owned(),
        })
    })??;
    Ok(Reply::json(200, &out))
}

/// Switches one kind of email (or `all`) on or off.
#[utoipa::path(put, path = "/v1/members/{m}/email-preferences/{kind}", tag = "members", request_body = PreferenceIn,
    params(("m" = u64, Path, description = "the member"),
           ("kind" = String, Path, description = "a kind of email, or all"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 204, description = "set"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_preference(P((m, kind)): P<(u64, String)>, call: CommandCall) -> Result<Reply, ApiError> {
    let input: PreferenceIn = call.json()?;
    let member = call.principal.acts_as(Some(m), "member")?;
    let kind = PreferenceKind::parse(&kind).map_err(|w| ApiError::invalid(w.0))?;
    let at = at_of(&input.at)?;
    let command = Command::SetEmailPreference { member, kind, enabled: input.enabled };
    call.run("set_email_preference", command, at, None, no_content()).await
}

/// Chooses how often the member gets email.
#[utoipa::path(put, path = "/v1/members/{m}/email-frequency", tag = "members", request_body = FrequencyIn,
    params(("m" = u64, Path, description = "the member"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 204, description = "set"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_frequency(P(m): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
    let input: FrequencyIn = call.json()?;
    let member = call.principal.acts_as(Some(m), "member")?;
    let frequency = EmailFrequency::parse(&input.frequency).map_err(|w| ApiError::invalid(w.0))?;
    let at = at_of(&input.at)?;
    let command = Command::SetEmailFrequency { member, frequency };
    call.run("set_email_frequency", command, at, None, no_content()).await
}

/// Chooses the language of the member's texts.
#[utoipa::path(put, path = "/v1/members/{m}/locale", tag = "members", request_body = LocaleIn,
    params(("m" = u64, Path, description = "the member"),
           ("Idempotency-Key" = Option<String>, Header, description = "carry the command out once")),
    responses((status = 204, description = "set"), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_locale(P(m): P<u64>, call: CommandCall) -> Result<Reply, ApiError> {
    let input: LocaleIn = call.json()?;
    let member = call.principal.acts_as(Some(m), "member")?;
    let locale = Locale::parse(&input.locale).map_err(|w| ApiError::invalid(w.0))?;
    let at = at_of(&input.at)?;
    call.run("set_locale", Command::SetLocale { member, locale }, at, None, no_content()).await
}

/// A small page (the unsubscribe link's), with no script and no outside resource.
fn page(status: u16, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>\n"
    );
    let status = axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK);
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; form-action 'self'"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

fn what(kind: PreferenceKind) -> &'static str {
    match kind {
        PreferenceKind::All => "all emails",
        PreferenceKind::InvitationReceived => "emails about invitations you receive",
        PreferenceKind::InvitationAccepted => "emails about invitations accepted",
        PreferenceKind::InvitationDeclined => "emails about invitations declined",
        PreferenceKind::InvitationWithdrawn => "emails about invitations withdrawn",
        PreferenceKind::InvitationReminder => "reminders of invitations waiting for you",
    }
}

/// Shows what the link would switch off, with a button; changes nothing (a
/// mail scanner following links unsubscribes no one).
#[utoipa::path(get, path = "/v1/unsubscribe/{token}", tag = "members",
    params(("token" = String, Path, description = "the signed token of an email's link")),
    responses((status = 200, description = "a page with a button", content_type = "text/html"),
              (status = 404, description = "not a valid link", content_type = "text/html")))]
pub async fn unsubscribe_page(State(app): State<Arc<App>>, P(token): P<String>) -> Response {
    let Some(links) = &app.unsubscribe else { return invalid_link() };
    match links.verify(&token) {
        Ok((_, kind)) => page(
            200,
            "Unsubscribe",
            &format!(
                "<p>Stop receiving {}?</p><form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
                what(kind)
            ),
        ),
        Err(_) => invalid_link(),
    }
}

fn invalid_link() -> Response {
    page(404, "Link not valid", "<p>This unsubscribe link is not valid.</p>")
}

/// One-click unsubscribe (RFC 8058): switches the token's kind off for its member.
#[utoipa::path(post, path = "/v1/unsubscribe/{token}", tag = "members",
    params(("token" = String, Path, description = "the signed token of an email's link")),
    responses((status = 200, description = "switched off", content_type = "text/html"),
              (status = 404, description = "not a valid link", content_type = "text/html")))]
pub async fn unsubscribe(State(app): State<Arc<App>>, P(token): P<String>) -> Response {
    let Some(links) = &app.unsubscribe else { return invalid_link() };
    let Ok((member, kind)) = links.verify(&token) else { return invalid_link() };
    let job = Job {
        kind: "unsubscribe",
        command: Command::SetEmailPreference { member, kind, enabled: false },
        // Never before the log's clock (a command may be dated a little ahead).
        at: app
            .store
            .read(|m| m.clock())
            .ok()
            .flatten()
            .map_or_else(crate::time::now, |c| connreq_core::Timestamp(c.0.max(crate::time::now().0))),
        check: None,
        answer: no_content(),
        keyed: None,
    };
    let reply = app.writer.submit(job).await;
    match reply.status {
        s if s < 300 => {
            page(200, "Unsubscribed", &format!("<p>You will no longer receive {}.</p>", what(kind)))
        }
        404 => invalid_link(),
        _ => page(503, "Try again", "<p>This could not be done just now; please try the link again.</p>"),
    }
}

//! A blocking client of the HTTP API (ureq, one agent keeping its
//! connections alive): what the command line's `--server` and Python's
//! `connreq.Client` use. Answers come back as the core's records; refusals
//! as [`ClientError`], carrying the SPEC §8 class name and the server's message.

use crate::error::ErrorBody;
use crate::wire::{
    CountOut, EmailOut, EventOut, FlagOut, NotificationOut, ProfileOut, RequestOut, StandingOut, StatsOut,
};
use connreq_core::{Email, Flag, MemberId, Notification, PublicProfile, Request, Timestamp};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

/// A refusal or a failure, as the server (or the connection) reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientError {
    /// The SPEC §8 class name (`StorageError` when the server cannot be reached).
    pub name: String,
    /// The message.
    pub message: String,
    /// The HTTP status (0 when there was no answer).
    pub status: u16,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ClientError {}

type Result<T> = std::result::Result<T, ClientError>;

fn unreadable(what: impl std::fmt::Display) -> ClientError {
    ClientError {
        name: "StorageError".into(),
        message: format!("the server's answer cannot be read: {what}"),
        status: 0,
    }
}

/// A connection to a connreq server.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    authorization: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish()
    }
}

fn at_json(at: Option<Timestamp>) -> Value {
    at.map_or(Value::Null, |t| json!(t.0))
}

fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// A client of the server at `base_url` (`http://HOST:PORT`), with a service
    /// key or a member token (`credential`), waiting at most `timeout` per call.
    pub fn new(base_url: &str, credential: Option<&str>, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_idle_connections_per_host(64)
            .build();
        Self {
            agent: config.into(),
            base: base_url.trim_end_matches('/').to_owned(),
            authorization: credential.map(|c| format!("Bearer {c}")),
        }
    }

    /// The server's address.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// One call: `method` on `path` with an optional JSON body; the status and body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<(u16, Vec<u8>)> {
        let url = format!("{}{path}", self.base);
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(a) = &self.authorization {
            builder = builder.header("Authorization", a);
        }
        if let Some(k) = key {
            builder = builder.header("Idempotency-Key", k);
        }
        let bytes = match body {
            Some(v) => {
                builder = builder.header("Content-Type", "application/json");
                serde_json::to_vec(v).map_err(unreadable)?
            }
            None => Vec::new(),
        };
        let request = builder.body(bytes).map_err(|e| ClientError {
            name: "InvalidInput".into(),
            message: format!("cannot make a request to {url}: {e}"),
            status: 0,
        })?;
        let mut response = self.agent.run(request).map_err(|e| ClientError {
            name: "StorageError".into(),
            message: format!("cannot reach the connreq server at {}: {e}", self.base),
            status: 0,
        })?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(u64::MAX).read_to_vec().map_err(unreadable)?;
        Ok((status, body))
    }

    fn ask<T: DeserializeOwned>(&self, method: &str, path: &str, body: Option<&Value>) -> Result<T> {
        let (status, bytes) = self.call(method, path, body, None)?;
        if (200..300).contains(&status) {
            let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(bytes).map_err(unreadable);
        }
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(e) => ClientError { name: e.error, message: e.message, status },
            Err(_) => ClientError {
                name: if status >= 500 { "StorageError" } else { "InvalidInput" }.into(),
                message: format!("the server answered {status}"),
                status,
            },
        })
    }

    fn done(&self, method: &str, path: &str, body: &Value) -> Result<()> {
        self.ask::<Value>(method, path, Some(body)).map(drop)
    }

    /// `register(member, email, name, locale)`.
    pub fn register(
        &self,
        member: u64,
        email: Option<&str>,
        name: Option<&str>,
        locale: Option<&str>,
        at: Option<Timestamp>,
    ) -> Result<()> {
        self.done(
            "POST",
            "/v1/members",
            &json!({"member": member, "email": email, "name": name, "locale": locale, "at": at_json(at)}),
        )
    }

    /// `set_email_preference(member, kind, enabled)`.
    pub fn set_email_preference(
        &self,
        member: u64,
        kind: &str,
        enabled: bool,
        at: Option<Timestamp>,
    ) -> Result<()> {
        let path = format!("/v1/members/{member}/email-preferences/{kind}");
        self.done("PUT", &path, &json!({"enabled": enabled, "at": at_json(at)}))
    }

    /// `email_preferences(member)`, with the member's frequency and language.
    pub fn email_preferences(&self, member: u64) -> Result<crate::routes::mail::EmailPreferencesOut> {
        self.ask("GET", &format!("/v1/members/{member}/email-preferences"), None)
    }

    /// `set_email_frequency(member, frequency)`.
    pub fn set_email_frequency(&self, member: u64, frequency: &str, at: Option<Timestamp>) -> Result<()> {
        let path = format!("/v1/members/{member}/email-frequency");
        self.done("PUT", &path, &json!({"frequency": frequency, "at": at_json(at)}))
    }

    /// `set_locale(member, locale)`.
    pub fn set_locale(&self, member: u64, locale: &str, at: Option<Timestamp>) -> Result<()> {
        self.done(
            "PUT",
            &format!("/v1/members/{member}/locale"),
            &json!({"locale": locale, "at": at_json(at)}),
        )
    }

    /// `set_invitation_setting(member, setting)`.
    pub fn set_invitation_setting(&self, member: u64, setting: &str, at: Option<Timestamp>) -> Result<()> {
        let path = format!("/v1/members/{member}/invitation-setting");
        self.done("PUT", &path, &json!({"setting": setting, "at": at_json(at)}))
    }

    /// `import_contacts(member, emails)`.
    pub fn import_contacts(&self, member: u64, emails: &[String], at: Option<Timestamp>) -> Result<()> {
        let path = format!("/v1/members/{member}/contacts");
        self.done("POST", &path, &json!({"emails": emails, "at": at_json(at)}))
    }

    fn request_out(&self, method: &str, path: &str, body: &Value) -> Result<Request> {
        self.ask::<RequestOut>(method, path, Some(body))?.into_core().map_err(unreadable)
    }

    /// `send(sender, recipient, note, email)`: the sender's view of the request.
    /// `sender` may be `None` under a member token.
    pub fn send(
        &self,
        sender: Option<u64>,
        recipient: u64,
        note: Option<&str>,
        email: Option<&str>,
        at: Option<Timestamp>,
    ) -> Result<Request> {
        let body = json!({"sender": sender, "recipient": recipient, "note": note, "email": email, "at": at_json(at)});
        self.request_out("POST", "/v1/requests", &body)
    }

    /// `accept`, `ignore` (`action`), as `recipient`: the recipient's view.
    pub fn respond(
        &self,
        action: &str,
        recipient: Option<u64>,
        id: u64,
        at: Option<Timestamp>,
    ) -> Result<Request> {
        let path = format!("/v1/requests/{id}/{action}");
        self.request_out("POST", &path, &json!({"recipient": recipient, "at": at_json(at)}))
    }

    /// `decline(recipient, id, message)`: the recipient's view.
    pub fn decline(
        &self,
        recipient: Option<u64>,
        id: u64,
        message: Option<&str>,
        at: Option<Timestamp>,
    ) -> Result<Request> {
        let path = format!("/v1/requests/{id}/decline");
        self.request_out(
            "POST",
            &path,
            &json!({"recipient": recipient, "message": message, "at": at_json(at)}),
        )
    }

    /// `withdraw(sender, id, message)`: the sender's view.
    pub fn withdraw(
        &self,
        sender: Option<u64>,
        id: u64,
        message: Option<&str>,
        at: Option<Timestamp>,
    ) -> Result<Request> {
        let path = format!("/v1/requests/{id}/withdraw");
        self.request_out("POST", &path, &json!({"sender": sender, "message": message, "at": at_json(at)}))
    }

    /// `request(id)`.
    pub fn request(&self, id: u64) -> Result<Request> {
        self.ask::<RequestOut>("GET", &format!("/v1/requests/{id}"), None)?.into_core().map_err(unreadable)
    }

    fn requests(&self, path: &str, state: Option<&str>) -> Result<Vec<Request>> {
        let path = match state {
            Some(s) => format!("{path}?state={}", enc(s)),
            None => path.to_owned(),
        };
        let list: Vec<RequestOut> = self.ask("GET", &path, None)?;
        list.into_iter().map(|r| r.into_core().map_err(unreadable)).collect()
    }

    /// `sent(member, state)`.
    pub fn sent(&self, member: u64, state: Option<&str>) -> Result<Vec<Request>> {
        self.requests(&format!("/v1/members/{member}/sent"), state)
    }

    /// `received(member, state)`.
    pub fn received(&self, member: u64, state: Option<&str>) -> Result<Vec<Request>> {
        self.requests(&format!("/v1/members/{member}/received"), state)
    }

    /// `connections(member)`.
    pub fn connections(&self, member: u64) -> Result<Vec<u64>> {
        self.ask("GET", &format!("/v1/members/{member}/connections"), None)
    }

    /// `mutual_connections(a, b)`.
    pub fn mutual_connections(&self, a: u64, b: u64) -> Result<Vec<u64>> {
        self.ask("GET", &format!("/v1/members/{a}/mutual/{b}"), None)
    }

    /// `public_profile(member)`.
    pub fn public_profile(&self, member: u64) -> Result<PublicProfile> {
        let p: ProfileOut = self.ask("GET", &format!("/v1/members/{member}/profile"), None)?;
        Ok(PublicProfile {
            member: connreq_core::MemberId(p.member),
            name: p.name,
            connection_count: p.connection_count,
        })
    }

    /// `remove_connection(member, other)`.
    pub fn remove_connection(&self, member: u64, other: u64, at: Option<Timestamp>) -> Result<()> {
        self.done("DELETE", &format!("/v1/members/{member}/connections/{other}"), &json!({"at": at_json(at)}))
    }

    /// `block(blocker, blocked)`.
    pub fn block(&self, blocker: u64, blocked: u64, at: Option<Timestamp>) -> Result<()> {
        self.done("PUT", &format!("/v1/members/{blocker}/blocks/{blocked}"), &json!({"at": at_json(at)}))
    }

    /// `unblock(blocker, blocked)`.
    pub fn unblock(&self, blocker: u64, blocked: u64, at: Option<Timestamp>) -> Result<()> {
        self.done("DELETE", &format!("/v1/members/{blocker}/blocks/{blocked}"), &json!({"at": at_json(at)}))
    }

    /// `is_blocked(blocker, blocked)`.
    pub fn is_blocked(&self, blocker: u64, blocked: u64) -> Result<bool> {
        let v: Value = self.ask("GET", &format!("/v1/members/{blocker}/blocks/{blocked}"), None)?;
        Ok(v.get("blocked").and_then(Value::as_bool).unwrap_or(false))
    }

    /// `report(reporter, reported, reason, request_id)`.
    pub fn report(
        &self,
        reporter: Option<u64>,
        reported: u64,
        reason: &str,
        request_id: Option<u64>,
        at: Option<Timestamp>,
    ) -> Result<()> {
        let body = json!({"reporter": reporter, "reported": reported, "reason": reason, "request_id": request_id, "at": at_json(at)});
        self.done("POST", "/v1/reports", &body)
    }

    /// `notifications(member, unread_only)`.
    pub fn notifications(&self, member: u64, unread_only: bool) -> Result<Vec<Notification>> {
        let path = format!("/v1/members/{member}/notifications?unread_only={unread_only}");
        let list: Vec<NotificationOut> = self.ask("GET", &path, None)?;
        list.into_iter().map(|n| n.into_core().map_err(unreadable)).collect()
    }

    /// `mark_read(member, ids)`.
    pub fn mark_read(&self, member: u64, ids: &[u64], at: Option<Timestamp>) -> Result<()> {
        self.done(
            "POST",
            &format!("/v1/members/{member}/notifications/read"),
            &json!({"ids": ids, "at": at_json(at)}),
        )
    }

    /// `pending_emails(due_before)`.
    pub fn pending_emails(&self, due_before: Option<Timestamp>) -> Result<Vec<Email>> {
        let path = match due_before {
            Some(t) => format!("/v1/emails/pending?due_before={}", t.0),
            None => "/v1/emails/pending".to_owned(),
        };
        let list: Vec<EmailOut> = self.ask("GET", &path, None)?;
        list.into_iter().map(|e| e.into_core().map_err(unreadable)).collect()
    }

    /// `mark_emails_sent(ids)`: how many were newly marked.
    pub fn mark_emails_sent(&self, ids: &[u64], at: Option<Timestamp>) -> Result<u64> {
        let c: CountOut =
            self.ask("POST", "/v1/emails/sent", Some(&json!({"ids": ids, "at": at_json(at)})))?;
        Ok(c.count)
    }

    /// `mark_emails_undeliverable(ids)`: how many were newly skipped.
    pub fn mark_emails_undeliverable(&self, ids: &[u64], at: Option<Timestamp>) -> Result<u64> {
        let c: CountOut =
            self.ask("POST", "/v1/emails/undeliverable", Some(&json!({"ids": ids, "at": at_json(at)})))?;
        Ok(c.count)
    }

    /// `email(id)`, whatever its status.
    pub fn email(&self, id: u64) -> Result<Email> {
        let e: EmailOut = self.ask("GET", &format!("/v1/emails/{id}"), None)?;
        e.into_core().map_err(unreadable)
    }

    /// `invitations(member, include_ignored)`: open invitations with mutual connections.
    pub fn invitations(&self, member: u64, include_ignored: bool) -> Result<Vec<connreq_core::Invitation>> {
        let path = format!("/v1/members/{member}/invitations?include_ignored={include_ignored}");
        let list: Vec<crate::routes::personal::InvitationOut> = self.ask("GET", &path, None)?;
        list.into_iter()
            .map(|i| {
                Ok(connreq_core::Invitation {
                    request: i.request.into_core().map_err(unreadable)?,
                    mutual_count: i.mutual_count,
                    mutuals: i.mutuals.into_iter().map(MemberId).collect(),
                })
            })
            .collect()
    }

    /// `suggestions(member, limit)` as of `at` (default the server's now).
    pub fn suggestions(
        &self,
        member: u64,
        limit: usize,
        at: Option<Timestamp>,
    ) -> Result<Vec<connreq_core::Suggestion>> {
        let mut path = format!("/v1/members/{member}/suggestions?limit={limit}");
        if let Some(t) = at {
            path.push_str(&format!("&at={}", t.0));
        }
        let list: Vec<crate::routes::personal::SuggestionOut> = self.ask("GET", &path, None)?;
        list.into_iter()
            .map(|s| {
                let reason = match s.reason.as_str() {
                    "contact" => connreq_core::SuggestionReason::Contact,
                    "mutual_connections" => connreq_core::SuggestionReason::MutualConnections,
                    other => return Err(unreadable(format!("an unknown suggestion reason {other:?}"))),
                };
                Ok(connreq_core::Suggestion {
                    member: MemberId(s.member),
                    mutual_count: s.mutual_count,
                    reason,
                })
            })
            .collect()
    }

    /// `withdraw_all(sender, older_than, message)`: how many were withdrawn.
    pub fn withdraw_all(
        &self,
        sender: u64,
        older_than: Option<std::time::Duration>,
        message: Option<&str>,
        at: Option<Timestamp>,
    ) -> Result<u64> {
        let body = json!({
            "older_than_seconds": older_than.map(|d| d.as_secs()),
            "message": message,
            "at": at_json(at),
        });
        let c: CountOut = self.ask("POST", &format!("/v1/members/{sender}/withdraw-all"), Some(&body))?;
        Ok(c.count)
    }

    /// `update_member(member, email, name)`: `None` leaves a field, `Some(None)` removes it.
    pub fn update_member(
        &self,
        member: u64,
        email: Option<Option<&str>>,
        name: Option<Option<&str>>,
        at: Option<Timestamp>,
    ) -> Result<()> {
        let mut body = serde_json::Map::new();
        if let Some(e) = email {
            body.insert("email".into(), json!(e));
        }
        if let Some(n) = name {
            body.insert("name".into(), json!(n));
        }
        body.insert("at".into(), at_json(at));
        self.done("PATCH", &format!("/v1/members/{member}"), &Value::Object(body))
    }

    /// `export_member(member)`: everything stored about the member, as JSON.
    pub fn export_member(&self, member: u64) -> Result<Value> {
        self.ask("GET", &format!("/v1/members/{member}/export"), None)
    }

    /// `erase_member(member)`.
    pub fn erase_member(&self, member: u64, at: Option<Timestamp>) -> Result<()> {
        self.done("DELETE", &format!("/v1/members/{member}"), &json!({"at": at_json(at)}))
    }

    /// `expire()`: how many requests expired.
    pub fn expire(&self, at: Option<Timestamp>) -> Result<u64> {
        let c: CountOut = self.ask("POST", "/v1/expire", Some(&json!({"at": at_json(at)})))?;
        Ok(c.count)
    }

    /// `standing(member)`.
    pub fn standing(&self, member: u64) -> Result<String> {
        let s: StandingOut = self.ask("GET", &format!("/v1/members/{member}/standing"), None)?;
        Ok(s.standing)
    }

    /// Flags with a status (`open` is the review queue; `all` every flag).
    pub fn flags(&self, status: &str) -> Result<Vec<Flag>> {
        let list: Vec<FlagOut> = self.ask("GET", &format!("/v1/flags?status={}", enc(status)), None)?;
        list.into_iter().map(|f| f.into_core().map_err(unreadable)).collect()
    }

    /// `resolve_flag(flag_id, decision, moderator, note)`: the flag after it.
    pub fn resolve_flag(
        &self,
        flag: u64,
        decision: &str,
        moderator: Option<u64>,
        note: Option<&str>,
        at: Option<Timestamp>,
    ) -> Result<Flag> {
        let body = json!({"decision": decision, "moderator": moderator, "note": note, "at": at_json(at)});
        let f: FlagOut = self.ask("POST", &format!("/v1/flags/{flag}/resolve"), Some(&body))?;
        f.into_core().map_err(unreadable)
    }

    /// `flag(flag_id)`, whatever its status.
    pub fn flag(&self, flag: u64) -> Result<Flag> {
        let f: FlagOut = self.ask("GET", &format!("/v1/flags/{flag}"), None)?;
        f.into_core().map_err(unreadable)
    }

    /// `flag_events(flag_id)`: the events behind a flag's evidence, in log order.
    pub fn flag_events(&self, flag: u64) -> Result<Vec<EventOut>> {
        self.ask("GET", &format!("/v1/flags/{flag}/events"), None)
    }

    /// `lift_restriction(member, moderator, note)`.
    pub fn lift_restriction(
        &self,
        member: u64,
        moderator: Option<u64>,
        note: Option<&str>,
        at: Option<Timestamp>,
    ) -> Result<()> {
        let body = json!({"moderator": moderator, "note": note, "at": at_json(at)});
        self.done("POST", &format!("/v1/members/{member}/lift-restriction"), &body)
    }

    /// `stats()`.
    pub fn stats(&self) -> Result<StatsOut> {
        self.ask("GET", "/v1/stats", None)
    }

    /// `events(since, limit)`.
    pub fn events(&self, since: u64, limit: Option<u64>) -> Result<Vec<EventOut>> {
        let path = match limit {
            Some(l) => format!("/v1/events?since={since}&limit={l}"),
            None => format!("/v1/events?since={since}"),
        };
        let (status, bytes) = self.call("GET", &path, None, None)?;
        if status != 200 {
            return self.ask::<Vec<EventOut>>("GET", &path, None);
        }
        bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).map_err(unreadable))
            .collect()
    }
}

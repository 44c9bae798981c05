//! The JSON shapes of the API, shared by the server (which writes them) and
//! the client (which reads them back into the core's records). Ids are
//! integers, times RFC 3339 UTC strings; bodies refuse unknown fields.

use crate::time::parse_at;
use connreq_core::{
    Email, EventRecord, Flag, FlagId, FlagRule, FlagStatus, MemberId, Notification, NotificationId,
    NotificationKind, PublicProfile, Request, RequestId, RequestState, Seq, Stats, Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A time in a body: epoch milliseconds or RFC 3339 text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum At {
    /// Epoch milliseconds.
    Millis(i64),
    /// RFC 3339, e.g. `2026-10-03T12:00:00Z`.
    Text(String),
}

impl At {
    /// The time, or why it is not one.
    pub fn timestamp(&self) -> Result<Timestamp, String> {
        match self {
            At::Millis(ms) if Timestamp(*ms).is_valid() => Ok(Timestamp(*ms)),
            At::Millis(ms) => Err(format!("at {ms} is outside the years 1 to 9999")),
            At::Text(t) => parse_at(t),
        }
    }
}

fn time(t: Timestamp) -> String {
    t.to_string()
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    parse_at(s)
}

/// A connection request as one viewer sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequestOut {
    /// Its id.
    pub id: u64,
    /// Who sent it.
    pub sender: u64,
    /// Who received it.
    pub recipient: u64,
    /// The note, if any.
    pub note: Option<String>,
    /// Its state as the viewer sees it.
    pub state: String,
    /// When it was sent.
    pub created_at: String,
    /// When its state last changed, as the viewer sees it.
    pub updated_at: String,
    /// The withdraw or decline message, if any.
    pub message: Option<String>,
}

impl From<&Request> for RequestOut {
    fn from(r: &Request) -> Self {
        Self {
            id: r.id.0,
            sender: r.sender.0,
            recipient: r.recipient.0,
            note: r.note.clone(),
            state: r.state.as_str().to_owned(),
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
            message: r.message.clone(),
        }
    }
}

impl RequestOut {
    /// Back to the core's record.
    pub fn into_core(self) -> Result<Request, String> {
        Ok(Request {
            id: RequestId(self.id),
            sender: MemberId(self.sender),
            recipient: MemberId(self.recipient),
            note: self.note,
            state: RequestState::parse(&self.state).map_err(|w| w.0)?,
            created_at: parse_time(&self.created_at)?,
            updated_at: parse_time(&self.updated_at)?,
            message: self.message,
        })
    }
}

/// An in-app notification (also the `data` of a stream event).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotificationOut {
    /// Its id: increasing across the whole network.
    pub id: u64,
    /// Whose inbox.
    pub member: u64,
    /// `invitation_received`, `invitation_accepted`, …
    pub kind: String,
    /// The request concerned.
    pub request_id: u64,
    /// The other member.
    pub actor: u64,
    /// When.
    pub created_at: String,
    /// The text shown, plain (escape it when showing it as HTML).
    pub text: String,
    /// Whether it was read.
    pub read: bool,
}

impl From<&Notification> for NotificationOut {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id.0,
            member: n.member.0,
            kind: n.kind.as_str().to_owned(),
            request_id: n.request_id.0,
            actor: n.actor.0,
            created_at: time(n.created_at),
            text: n.text.clone(),
            read: n.read,
        }
    }
}

impl NotificationOut {
    /// Back to the core's record.
    pub fn into_core(self) -> Result<Notification, String> {
        Ok(Notification {
            id: NotificationId(self.id),
            member: MemberId(self.member),
            kind: NotificationKind::parse(&self.kind).map_err(|w| w.0)?,
            request_id: RequestId(self.request_id),
            actor: MemberId(self.actor),
            created_at: parse_time(&self.created_at)?,
            text: self.text,
            read: self.read,
        })
    }
}

/// An email in the outbox: queued, sent or skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EmailOut {
    /// Its id (the notification's it carries, or its own).
    pub id: u64,
    /// To whom.
    pub member: u64,
    /// Their address.
    pub address: String,
    /// A notification kind, `invitation_reminder` or `digest`.
    pub kind: String,
    /// The subject (member text as written).
    pub subject: String,
    /// The plain-text body (member text as written).
    pub body: String,
    /// The HTML body (member text escaped).
    pub html: String,
    /// When it is due.
    pub due_at: String,
    /// When a mail server took it, if one has.
    pub sent_at: Option<String>,
    /// `queued`, `sent` or `skipped`.
    pub status: String,
    /// Why it was skipped: `stale`, `blocked`, `preference` or `invalid_address`.
    pub skip_reason: Option<String>,
    /// The notification it carries (none for a reminder or a digest).
    pub notification_id: Option<u64>,
    /// The request it is about (none for a digest).
    pub request_id: Option<u64>,
}

impl From<&Email> for EmailOut {
    fn from(e: &Email) -> Self {
        Self {
            id: e.id.0,
            member: e.member.0,
            address: e.address.clone(),
            kind: e.kind.as_str().to_owned(),
            subject: e.subject.clone(),
            body: e.body.clone(),
            html: e.html.clone(),
            due_at: time(e.due_at),
            sent_at: e.sent_at.map(time),
            status: e.status.as_str().to_owned(),
            skip_reason: e.skip_reason.map(|r| r.as_str().to_owned()),
            notification_id: e.notification.map(|n| n.0),
            request_id: e.request_id.map(|r| r.0),
        }
    }
}

impl EmailOut {
    /// Back to the core's record.
    pub fn into_core(self) -> Result<Email, String> {
        Ok(Email {
            id: connreq_core::EmailId(self.id),
            member: MemberId(self.member),
            address: self.address,
            kind: connreq_core::EmailKind::parse(&self.kind).map_err(|w| w.0)?,
            subject: self.subject,
            body: self.body,
            html: self.html,
            due_at: parse_time(&self.due_at)?,
            sent_at: self.sent_at.as_deref().map(parse_time).transpose()?,
            status: connreq_core::EmailStatus::parse(&self.status).map_err(|w| w.0)?,
            skip_reason: self
                .skip_reason
                .as_deref()
                .map(connreq_core::SkipReason::parse)
                .transpose()
                .map_err(|w| w.0)?,
            notification: self.notification_id.map(NotificationId),
            request_id: self.request_id.map(RequestId),
        })
    }
}

/// A moderation flag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FlagOut {
    /// Its id.
    pub id: u64,
    /// The member flagged.
    pub member: u64,
    /// The rule.
    pub rule: String,
    /// The events behind it, in order.
    pub evidence: Vec<u64>,
    /// When it was opened.
    pub created_at: String,
    /// `open`, `cleared` or `restricted`.
    pub status: String,
    /// The moderator who resolved it, when one was named.
    pub resolved_by: Option<u64>,
    /// The moderator's reason, when given.
    pub resolution_note: Option<String>,
    /// When it was resolved.
    pub resolved_at: Option<String>,
}

impl From<&Flag> for FlagOut {
    fn from(f: &Flag) -> Self {
        Self {
            id: f.id.0,
            member: f.member.0,
            rule: f.rule.as_str().to_owned(),
            evidence: f.evidence.iter().map(|s| s.0).collect(),
            created_at: time(f.created_at),
            status: f.status.as_str().to_owned(),
            resolved_by: f.resolved_by.map(|m| m.0),
            resolution_note: f.resolution_note.clone(),
            resolved_at: f.resolved_at.map(time),
        }
    }
}

impl FlagOut {
    /// Back to the core's record.
    pub fn into_core(self) -> Result<Flag, String> {
        Ok(Flag {
            id: FlagId(self.id),
            member: MemberId(self.member),
            rule: FlagRule::parse(&self.rule).map_err(|w| w.0)?,
            evidence: self.evidence.into_iter().map(Seq).collect(),
            created_at: parse_time(&self.created_at)?,
            status: FlagStatus::parse(&self.status).map_err(|w| w.0)?,
            resolved_by: self.resolved_by.map(MemberId),
            resolution_note: self.resolution_note,
            resolved_at: self.resolved_at.as_deref().map(parse_time).transpose()?,
        })
    }
}

/// What anyone may see of a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProfileOut {
    /// The member.
    pub member: u64,
    /// Their name.
    pub name: Option<String>,
    /// How many connections they have.
    pub connection_count: u64,
}

impl From<&PublicProfile> for ProfileOut {
    fn from(p: &PublicProfile) -> Self {
        Self { member: p.member.0, name: p.name.clone(), connection_count: p.connection_count }
    }
}

/// Counts for dashboards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatsOut {
    /// Requests by true state.
    pub requests: BTreeMap<String, u64>,
    /// Connections (each pair once).
    pub connections: u64,
    /// Members by standing.
    pub members: BTreeMap<String, u64>,
    /// Open moderation flags.
    pub open_flags: u64,
    /// Emails not yet sent.
    pub unsent_emails: u64,
    /// Events in the log.
    pub events: u64,
}

impl From<&Stats> for StatsOut {
    fn from(s: &Stats) -> Self {
        let owned = |m: &BTreeMap<&'static str, u64>| m.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        Self {
            requests: owned(&s.requests),
            connections: s.connections,
            members: owned(&s.members),
            open_flags: s.open_flags,
            unsent_emails: s.unsent_emails,
            events: s.events,
        }
    }
}

/// One event of the log (a line of `GET /v1/events`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventOut {
    /// Gapless from 1.
    pub seq: u64,
    /// When.
    pub at: String,
    /// What happened.
    pub kind: String,
    /// Who acted.
    pub actor: Option<u64>,
    /// Who was acted upon.
    pub subject: Option<u64>,
    /// The request concerned.
    pub request_id: Option<u64>,
    /// A JSON object, as text.
    pub detail: String,
}

impl From<&EventRecord> for EventOut {
    fn from(e: &EventRecord) -> Self {
        Self {
            seq: e.seq.0,
            at: time(e.at),
            kind: e.kind.to_owned(),
            actor: e.actor.map(|m| m.0),
            subject: e.subject.map(|m| m.0),
            request_id: e.request_id.map(|r| r.0),
            detail: e.detail.clone(),
        }
    }
}

impl EventOut {
    /// Back to the core's record (a kind this connreq does not know is an error).
    pub fn into_core(self) -> Result<EventRecord, String> {
        let kind = connreq_core::event_view::BodyView::KINDS
            .iter()
            .find(|k| **k == self.kind)
            .ok_or_else(|| format!("an unknown event kind {:?}", self.kind))?;
        Ok(EventRecord {
            seq: Seq(self.seq),
            at: parse_time(&self.at)?,
            kind,
            actor: self.actor.map(MemberId),
            subject: self.subject.map(MemberId),
            request_id: self.request_id.map(RequestId),
            detail: self.detail,
        })
    }
}

/// `201` of register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberOut {
    /// The member registered.
    pub member: u64,
}

/// Whether a block exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockedOut {
    /// `true` when the member has blocked the other.
    pub blocked: bool,
}

/// A standing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StandingOut {
    /// The member.
    pub member: u64,
    /// `good`, `under_review` or `restricted`.
    pub standing: String,
}

/// A count of things a command changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CountOut {
    /// How many.
    pub count: u64,
}

/// `GET /healthz`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HealthOut {
    /// `ok`, or `degraded` when the database refuses commands.
    pub status: String,
    /// The last event of the log.
    pub events: u64,
    /// On a primary that publishes its log (`--publish`): how far the feed is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed: Option<FeedOut>,
    /// On a read replica (`--replica-of`): its primary and its lag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<ReplicaOut>,
}

/// The event feed of a primary, in `/healthz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FeedOut {
    /// The network id: what a replica's `--network` names.
    pub network: String,
    /// The last event JetStream acknowledged.
    pub published: u64,
    /// Durable events not acknowledged yet.
    pub lag_events: u64,
}

/// A read replica's lag, in `/healthz`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReplicaOut {
    /// Where commands go.
    pub primary: String,
    /// Events the stream holds that the replica has not applied yet.
    pub lag_events: u64,
    /// 0 when nothing is pending; else how long ago the last event applied
    /// was published (while the stream is unreachable: since it was last heard).
    pub lag_seconds: f64,
    /// Whether the replica reaches the stream now.
    pub connected: bool,
    /// Of every event applied since the replica started, the time from its
    /// recording on the primary to its application here below which 99% fell.
    pub applied_p99_seconds: f64,
    /// How many events that covers.
    pub applied_events: u64,
}

/// `POST /v1/members`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterIn {
    /// The new member's id.
    pub member: u64,
    /// Their email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Their display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The language of their texts: `en` (the default), `de`, `fr` or `es`.
    #[serde(default)]
    pub locale: Option<String>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// `PUT /v1/members/{m}/invitation-setting`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingIn {
    /// `everyone`, `email_or_contacts`, `contacts` or `nobody`.
    pub setting: String,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// `POST /v1/members/{m}/contacts`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactsIn {
    /// Addresses to add.
    pub emails: Vec<String>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// `POST /v1/requests`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendIn {
    /// Who invites (under a member token: left out, or the token's member).
    #[serde(default)]
    pub sender: Option<u64>,
    /// Who is invited.
    pub recipient: u64,
    /// An optional note.
    #[serde(default)]
    pub note: Option<String>,
    /// The recipient's address, when their setting asks for it.
    #[serde(default)]
    pub email: Option<String>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// `POST /v1/requests/{id}/accept` and `/ignore`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientIn {
    /// Who acts: the recipient (under a member token: may be left out).
    #[serde(default)]
    pub recipient: Option<u64>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// `POST /v1/requests/{id}/decline`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineIn {
    /// Who acts: the recipient (under a member token: may be left out).
    #[serde(default)]
    pub recipient: Option<u64>,
    /// A message to the sender.
    #[serde(default)]
    pub message: Option<String>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// `POST /v1/requests/{id}/withdraw`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawIn {
    /// Who acts: the sender (under a member token: may be left out).
    #[serde(default)]
    pub sender: Option<u64>,
    /// A message to the recipient.
    #[serde(default)]
    pub message: Option<String>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// `POST /v1/reports`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    /// Who reports (under a member token: may be left out).
    #[serde(default)]
    pub reporter: Option<u64>,
    /// Who is reported.
    pub reported: u64,
    /// `spam`, `harassment` or `dont_know`.
    pub reason: String,
    /// A request from the reported member to the reporter.
    #[serde(default)]
    pub request_id: Option<u64>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// `POST /v1/members/{m}/notifications/read` and `POST /v1/emails/sent`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdsIn {
    /// The ids.
    pub ids: Vec<u64>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// `POST /v1/flags/{id}/resolve`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveIn {
    /// `clear` or `restrict`.
    pub decision: String,
    /// The moderator deciding (default: the moderator token's member).
    #[serde(default)]
    pub moderator: Option<u64>,
    /// Why.
    #[serde(default)]
    pub note: Option<String>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// A command with nothing to say but when (block, unblock, remove a connection, expire).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AtIn {
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

/// `POST /v1/members/{m}/lift-restriction`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiftIn {
    /// The moderator lifting it (default: the moderator token's member).
    #[serde(default)]
    pub moderator: Option<u64>,
    /// Why.
    #[serde(default)]
    pub note: Option<String>,
    /// When (default now).
    #[serde(default)]
    pub at: Option<At>,
}

//! `export_member`: everything the network keeps about a member, as they
//! may see it (SPEC §11), as JSON: their profile, settings and contacts,
//! the requests they sent and received (their views), their connections,
//! notifications and emails, the blocks and reports they made, and their
//! standing as they can learn it (restricted or not: a review in progress is
//! the operator's, SPEC §18). Never who reported or blocked them, nor
//! moderation's flags.

use crate::error::Error;
use crate::ids::MemberId;
use crate::kinds::{EmailStatus, Standing};
use crate::model::Model;
use crate::views::{Email, Notification, Request};
use serde_json::{Value, json};

fn request(r: &Request) -> Value {
    json!({
        "id": r.id.0,
        "sender": r.sender.0,
        "recipient": r.recipient.0,
        "note": r.note,
        "state": r.state.as_str(),
        "created_at": r.created_at.to_string(),
        "updated_at": r.updated_at.to_string(),
        "message": r.message,
    })
}

fn notification(n: &Notification) -> Value {
    json!({
        "id": n.id.0,
        "kind": n.kind.as_str(),
        "request_id": n.request_id.0,
        "actor": n.actor.0,
        "created_at": n.created_at.to_string(),
        "text": n.text,
        "read": n.read,
    })
}

fn email(e: &Email) -> Value {
    json!({
        "id": e.id.0,
        "kind": e.kind.as_str(),
        "status": e.status.as_str(),
        "address": e.address,
        "subject": e.subject,
        "body": e.body,
        "due_at": e.due_at.to_string(),
        "sent_at": e.sent_at.map(|t| t.to_string()),
    })
}

impl Model {
    /// `export_member(member)`: a JSON object of everything kept about the
    /// member, as they may see it (times as RFC 3339 UTC text).
    pub fn export_member(&self, member: MemberId) -> Result<Value, Error> {
        let m = self.member(member)?;
        let state = self.state();
        let profile = state.profile(member);
        let mut contacts: Vec<&str> =
            profile.and_then(|p| p.contacts.as_deref()).into_iter().flatten().map(String::as_str).collect();
        contacts.sort_unstable();
        // The emails that went to the member: not those queued or skipped,
        // whose fate is the outbox's and could tell what the member must not
        // learn (that an invitation they still see open was cancelled by a block).
        let emails: Vec<Value> =
            self.emails_of(member)?.iter().filter(|e| e.status == EmailStatus::Sent).map(email).collect();
        let mut blocks: Vec<u64> =
            state.blocks.iter().filter(|(by, _)| *by == member).map(|(_, blocked)| blocked.0).collect();
        blocks.sort_unstable();
        let reports: Vec<Value> = state
            .reports_made
            .get(&member)
            .into_iter()
            .flatten()
            .map(|(reported, reason, at)| {
                json!({"reported": reported.0, "reason": reason.as_str(), "at": at.to_string()})
            })
            .collect();
        Ok(json!({
            "member": member.0,
            "profile": {
                "name": state.name_of(member),
                "email": state.email_of(member).map(|e| e.as_str()),
                "connection_count": m.connections.len(),
            },
            "settings": {
                "invitation_setting": m.setting.as_str(),
                "email_preferences": self
                    .email_preferences(member)?
                    .into_iter()
                    .map(|(k, on)| (k.as_str().to_owned(), Value::Bool(on)))
                    .collect::<serde_json::Map<_, _>>(),
                "email_frequency": self.email_frequency(member)?.as_str(),
                "locale": self.locale(member)?.as_str(),
            },
            "contacts": contacts,
            "requests_sent": self.sent(member, None)?.iter().map(request).collect::<Vec<_>>(),
            "requests_received": self.received(member, None)?.iter().map(request).collect::<Vec<_>>(),
            "connections": m.connections.iter().map(|c| c.0).collect::<Vec<_>>(),
            "notifications": self.notifications(member, false)?.iter().map(notification).collect::<Vec<_>>(),
            "emails": emails,
            "blocks": blocks,
            "reports": reports,
            // Only what the member can learn anyway (SPEC §18: through
            // AccountRestricted): a review in progress is the operator's.
            "standing": if m.standing == Standing::Restricted { "restricted" } else { "good" },
        }))
    }
}

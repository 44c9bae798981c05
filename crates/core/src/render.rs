//! Rendering: the texts of notifications and emails. Member text (names, notes, messages) is
//! escaped; a notification about a request older than `date_context_after`
//! names the date the request was sent.

use crate::ids::MemberId;
use crate::kinds::NotificationKind;
use crate::policy::Policy;
use crate::records::NotificationRecord;
use crate::state::State;
use crate::text::{escape, escape_line};
use crate::time::duration_ms;

/// How an erased member is called in texts (SPEC §11).
pub const FORMER_MEMBER: &str = "a former member";

/// How a member is called in texts: their name, "Member 42", or "a former member".
pub fn display_name(state: &State, member: MemberId) -> String {
    if state.members.get(&member).is_some_and(|m| m.erased) {
        return FORMER_MEMBER.to_owned();
    }
    match state.name_of(member) {
        Some(name) => name.to_owned(),
        None => format!("Member {}", member.0),
    }
}

/// `text` with "a former member" at its start written as a sentence starts.
fn sentence(mut text: String) -> String {
    if text.starts_with(FORMER_MEMBER) {
        text.replace_range(..1, "A");
    }
    text
}

/// The in-app text of a notification.
pub fn notification_text(state: &State, policy: &Policy, n: &NotificationRecord) -> String {
    let Some(r) = state.request(n.request) else {
        return String::new();
    };
    let actor = escape(&display_name(state, n.parties(r).1));
    let made = state.notified_at(n).unwrap_or(r.updated_at);
    let age = made.millis().saturating_sub(r.created_at.millis());
    let sent_on = if age > duration_ms(policy.date_context_after) {
        format!(" sent on {}", r.created_at.date())
    } else {
        String::new()
    };
    let mut text = match n.kind {
        NotificationKind::InvitationReceived => format!("{actor} wants to connect with you."),
        NotificationKind::InvitationAccepted => {
            format!("{actor} accepted your invitation to connect{sent_on}.")
        }
        NotificationKind::InvitationDeclined => {
            format!("Your connection request to {actor}{sent_on} was withdrawn.")
        }
        NotificationKind::InvitationWithdrawn => {
            format!("{actor} withdrew the connection request{sent_on}.")
        }
        NotificationKind::InvitationExpired => {
            format!("Your connection request to {actor}{sent_on} expired.")
        }
    };
    let texts = state.texts_of(n.request, r);
    let extra = match n.kind {
        NotificationKind::InvitationReceived => {
            texts.and_then(|t| t.note.as_deref()).map(|note| ("Note", note))
        }
        NotificationKind::InvitationDeclined | NotificationKind::InvitationWithdrawn => {
            texts.and_then(|t| t.message.as_deref()).map(|m| ("Message", m))
        }
        _ => None,
    };
    if let Some((label, body)) = extra {
        text.push_str(&format!("\n\n{label}: {}", escape(body)));
    }
    sentence(text)
}

/// The subject of the email that carries a notification. One line, escaped.
pub fn email_subject(state: &State, n: &NotificationRecord) -> String {
    let Some((_, other)) = state.notified(n) else {
        return String::new();
    };
    let actor = escape_line(&display_name(state, other));
    sentence(match n.kind {
        NotificationKind::InvitationReceived => format!("{actor} wants to connect"),
        NotificationKind::InvitationAccepted => format!("{actor} accepted your invitation"),
        NotificationKind::InvitationDeclined => "Your connection request was withdrawn".to_owned(),
        NotificationKind::InvitationWithdrawn => format!("{actor} withdrew a connection request"),
        NotificationKind::InvitationExpired => "Your connection request expired".to_owned(),
    })
}

/// The plain-text body of the email that carries a notification.
pub fn email_body(state: &State, policy: &Policy, n: &NotificationRecord) -> String {
    let Some((member, _)) = state.notified(n) else {
        return String::new();
    };
    let greeting = escape_line(&display_name(state, member));
    format!(
        "Hi {greeting},\n\n{}\n\nYou can see your invitations in the app.\n",
        notification_text(state, policy, n)
    )
}

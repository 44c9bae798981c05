//! A member's inbox and the outbox: notifications read, emails handed to a mail server.

use crate::command::Outcome;
use crate::decide::Ctx;
use crate::error::Error;
use crate::event::EventBody;
use crate::ids::{EmailId, MemberId, NotificationId};

/// `mark_read(member, ids)`: only the member's own notifications (others are
/// `NotFound`); those already read change nothing.
pub(super) fn mark_read(
    cx: &mut Ctx<'_>,
    member: MemberId,
    ids: &[NotificationId],
) -> Result<Outcome, Error> {
    cx.member(member)?;
    let mut unread = Vec::new();
    for id in ids {
        match cx.state.notification(*id) {
            Some(n) if cx.state.notified(n).is_some_and(|(m, _)| m == member) => {
                if !n.read && !unread.contains(id) {
                    unread.push(*id);
                }
            }
            _ => return Err(Error::NotFound(id.to_string())),
        }
    }
    if !unread.is_empty() {
        cx.push(EventBody::NotificationsRead { member, ids: unread });
    }
    Ok(Outcome::Done)
}

/// Records emails as handed to a mail server; returns how many were newly
/// marked (one marked before counts nothing, so a repeat sends nothing twice).
pub(super) fn mark_emails_sent(cx: &mut Ctx<'_>, ids: &[EmailId]) -> Result<Outcome, Error> {
    let mut marked: Vec<(EmailId, MemberId)> = Vec::new();
    for id in ids {
        let e = cx.state.email(*id).ok_or_else(|| Error::NotFound(id.to_string()))?;
        if e.sent_at.is_none() && !marked.iter().any(|(m, _)| m == id) {
            let member = cx
                .state
                .notification(e.notification)
                .and_then(|n| cx.state.notified(n))
                .map(|(member, _)| member)
                .ok_or_else(|| Error::NotFound(id.to_string()))?;
            marked.push((*id, member));
        }
    }
    for (email, member) in &marked {
        cx.push(EventBody::EmailSent { email: *email, member: *member });
    }
    Ok(Outcome::Count(marked.len() as u64))
}

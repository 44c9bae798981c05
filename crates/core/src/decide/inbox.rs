//! A member's inbox and the outbox: notifications read, emails handed to a
//! mail server or refused by it.

use crate::command::Outcome;
use crate::decide::{Ctx, notices};
use crate::error::Error;
use crate::event::EventBody;
use crate::ids::{EmailId, MemberId, NotificationId};
use crate::kinds::SkipReason;
use crate::records::Mail;

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
            Some(n) if n.is_notification() && cx.state.notified(n).is_some_and(|(m, _)| m == member) => {
                if !n.read && !unread.contains(id) {
                    unread.push(*id);
                }
            }
            _ => return Err(Error::NotFound(id.to_string())),
        }
    }
    if !unread.is_empty() {
        // Read in the app before the digest went: it no longer lists them.
        let from = cx.state.digests.get(&member).map(|d| d.from);
        let listed = unread
            .iter()
            .filter(|id| {
                from.is_some_and(|f| f < id.0 as usize)
                    && cx.state.notification(**id).is_some_and(|n| n.mail() == Mail::InDigest)
            })
            .count() as u32;
        cx.push(EventBody::NotificationsRead { member, ids: unread });
        if listed > 0 {
            notices::digest_lost(cx, member, listed);
        }
    }
    Ok(Outcome::Done)
}

/// Records emails as handed to a mail server; returns how many were newly
/// marked (one marked before counts nothing, so a repeat sends nothing twice).
pub(super) fn mark_emails_sent(cx: &mut Ctx<'_>, ids: &[EmailId]) -> Result<Outcome, Error> {
    let mut marked: Vec<(EmailId, MemberId)> = Vec::new();
    for id in ids {
        let e = cx.state.email(*id).ok_or_else(|| Error::NotFound(id.to_string()))?;
        if e.sent_at.is_none() && e.skipped.is_none() && !marked.iter().any(|(m, _)| m == id) {
            marked.push((*id, e.member));
        }
    }
    for (email, member) in &marked {
        cx.push(EventBody::EmailSent { email: *email, member: *member });
    }
    Ok(Outcome::Count(marked.len() as u64))
}

/// Records emails the mail server refused for good (`invalid_address`); returns
/// how many were newly skipped (sent or skipped ones count nothing).
pub(super) fn mark_emails_undeliverable(cx: &mut Ctx<'_>, ids: &[EmailId]) -> Result<Outcome, Error> {
    let mut skipped: Vec<EmailId> = Vec::new();
    for id in ids {
        let e = cx.state.email(*id).ok_or_else(|| Error::NotFound(id.to_string()))?;
        if e.sent_at.is_none() && e.skipped.is_none() && !skipped.contains(id) {
            skipped.push(*id);
        }
    }
    let count = skipped.len() as u64;
    if !skipped.is_empty() {
        cx.push(EventBody::EmailsSkipped { emails: skipped, reason: SkipReason::InvalidAddress });
    }
    Ok(Outcome::Count(count))
}

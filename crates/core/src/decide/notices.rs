//! Who is told of what, and when their email is due (SPEC §3): the notices
//! written into the events that notify, so that applying an event only
//! records what was decided here.

use crate::decide::Ctx;
use crate::event::Notice;
use crate::ids::MemberId;
use crate::kinds::NotificationKind;
use crate::time::duration_ms;

/// The notice for a notification of `kind` to `member`: every notification
/// but an expiry queues an email, due `email_delay` after it, to a member
/// with an address.
pub(super) fn notice(cx: &Ctx<'_>, member: MemberId, kind: NotificationKind) -> Notice {
    let has_email = cx.state.members.get(&member).is_some_and(|m| m.has_email);
    let emailed = has_email && kind != NotificationKind::InvitationExpired;
    let delay = u64::try_from(duration_ms(cx.policy.email_delay)).unwrap_or(u64::MAX);
    Notice { email_after_ms: emailed.then_some(delay) }
}

/// The notice of a withdrawal to `recipient`, when the policy tells recipients of withdrawals.
pub(super) fn withdrawal(cx: &Ctx<'_>, recipient: MemberId) -> Option<Notice> {
    cx.policy.notify_on_withdraw.then(|| notice(cx, recipient, NotificationKind::InvitationWithdrawn))
}

/// The notice of a decline to `sender`, when the policy tells senders of declines.
pub(super) fn decline(cx: &Ctx<'_>, sender: MemberId) -> Option<Notice> {
    cx.policy.notify_on_decline.then(|| notice(cx, sender, NotificationKind::InvitationDeclined))
}

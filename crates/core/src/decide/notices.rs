//! Who is told of what, and when their email is due (SPEC §3): the notices
//! written into the events that notify, so that applying an event only
//! records what was decided here.

use crate::decide::Ctx;
use crate::event::Notice;
use crate::ids::MemberId;
use crate::kinds::NotificationKind;
use crate::members::Member;
use crate::time::duration_ms;

/// The notice for a notification of `kind` to `member`: every notification
/// but an expiry queues an email, due `email_delay` after it, to a member
/// with an address.
pub(super) fn notice(cx: &Ctx<'_>, member: MemberId, kind: NotificationKind) -> Notice {
    match cx.state.members.get(&member) {
        Some(m) => notice_to(cx, m, kind),
        None => Notice::default(),
    }
}

/// [`notice`] for a member whose record is at hand.
pub(super) fn notice_to(cx: &Ctx<'_>, member: &Member, kind: NotificationKind) -> Notice {
    let emailed = member.has_email && kind != NotificationKind::InvitationExpired;
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

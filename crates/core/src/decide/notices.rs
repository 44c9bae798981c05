//! Who is told of what, and how their email goes (SPEC §3, §10): the notices
//! written into the events that notify, the reminders of a new invitation,
//! and the emails that will never go because what they are about is over,
//! the member blocked its subject, or switched its kind off.

use crate::decide::Ctx;
use crate::event::{EmailPlan, EventBody, Notice};
use crate::ids::{EmailId, MemberId, NotificationId, RequestId};
use crate::kinds::{EmailKind, NotificationKind, PreferenceKind, SkipReason};
use crate::members::Member;
use crate::records::{Mail, NotificationRecord, Party, RequestRecord};
use crate::time::{DAY_MS, Timestamp, duration_ms};

/// The notice for a notification of `kind` to `member`.
pub(super) fn notice(cx: &Ctx<'_>, member: MemberId, kind: NotificationKind) -> Notice {
    match cx.state.members.get(&member) {
        Some(m) => notice_to(cx, member, m, kind),
        None => Notice::default(),
    }
}

/// [`notice`] for a member whose record is at hand: no email for an expiry,
/// for a member without an address, or for a kind they switched off; a place
/// in the digest for a member who chose a daily one; otherwise an email due
/// `email_delay` after the notification.
pub(super) fn notice_to(cx: &Ctx<'_>, id: MemberId, member: &Member, kind: NotificationKind) -> Notice {
    let emailed = member.mail.has_email()
        && kind != NotificationKind::InvitationExpired
        && cx.state.wants_email(id, member, EmailKind::of(kind));
    let email = match (emailed, member.mail.daily()) {
        (false, _) => EmailPlan::None,
        (true, true) => EmailPlan::Digest(next_digest(cx.at, cx.policy.digest_hour)),
        (true, false) => {
            EmailPlan::After(u64::try_from(duration_ms(cx.policy.email_delay)).unwrap_or(u64::MAX))
        }
    };
    Notice { email }
}

/// The notice of a withdrawal to `recipient`, when the policy tells recipients of withdrawals.
pub(super) fn withdrawal(cx: &Ctx<'_>, recipient: MemberId) -> Option<Notice> {
    cx.policy.notify_on_withdraw.then(|| notice(cx, recipient, NotificationKind::InvitationWithdrawn))
}

/// The notice of a decline to `sender`, when the policy tells senders of declines.
pub(super) fn decline(cx: &Ctx<'_>, sender: MemberId) -> Option<Notice> {
    cx.policy.notify_on_decline.then(|| notice(cx, sender, NotificationKind::InvitationDeclined))
}

/// When a new invitation's recipient is reminded of it while it stays
/// pending: the policy's `invitation_reminders` after now, for a recipient
/// with an address who has not switched reminders off.
pub(super) fn reminders(cx: &Ctx<'_>, recipient: MemberId, r: &Member) -> Vec<Timestamp> {
    let times = &cx.policy.invitation_reminders;
    if times.is_empty()
        || !r.mail.has_email()
        || !cx.state.wants_email(recipient, r, EmailKind::InvitationReminder)
    {
        return Vec::new();
    }
    times.iter().map(|d| cx.at.plus(*d)).collect()
}

/// The first `hour`:00 UTC after `at`: when a digest opened at `at` is due.
pub(crate) fn next_digest(at: Timestamp, hour: u8) -> Timestamp {
    let day = at.0.div_euclid(DAY_MS) * DAY_MS;
    let due = day + i64::from(hour) * 3_600_000;
    Timestamp(if due > at.0 { due } else { due + DAY_MS })
}

/// Request `r` ends (or, with `reminders_only`, is ignored): what is unsent
/// about it is skipped. For its recipient, who blocked its sender, the reason
/// is the block; otherwise it is stale.
pub(super) fn request_ended(
    cx: &mut Ctx<'_>,
    r: &RequestRecord,
    reminders_only: bool,
    blocker: Option<MemberId>,
) {
    if !r.received_unsent && r.reminders_done >= r.reminders {
        return;
    }
    let emails = cx.state.unsent_about(r, reminders_only);
    let reason = if blocker == Some(r.recipient) { SkipReason::Blocked } else { SkipReason::Stale };
    skip(cx, r.recipient, emails, reason);
}

/// `blocker` blocks `blocked`: the blocker's unsent emails about the member
/// blocked (and their places in the blocker's digest) are skipped, and what is
/// unsent about the invitation the block `cancelled`, if any.
pub(super) fn blocked(
    cx: &mut Ctx<'_>,
    blocker: MemberId,
    blocked: MemberId,
    cancelled: Option<&RequestRecord>,
) {
    if let Some(r) = cancelled
        && r.recipient != blocker
    {
        request_ended(cx, r, false, Some(blocker));
    }
    let Ok(m) = cx.member(blocker) else { return };
    let state = cx.state;
    let mut emails: Vec<EmailId> = unsent_in_inbox(cx, blocker, m)
        .filter(|(_, n)| state.notified(n).is_some_and(|(_, other)| other == blocked))
        .map(|(i, _)| EmailId(i as u64 + 1))
        .collect();
    if let Some(r) = cancelled
        && r.recipient == blocker
        && (r.received_unsent || r.reminders_done < r.reminders)
    {
        for e in state.unsent_about(r, false) {
            if !emails.contains(&e) {
                emails.push(e);
            }
        }
    }
    skip(cx, blocker, emails, SkipReason::Blocked);
}

/// `member` switched `kind` off: their unsent emails of that kind (places in
/// their digest, reminders, and with `all` the digest itself) are skipped.
pub(super) fn switched_off(cx: &mut Ctx<'_>, member: MemberId, kind: PreferenceKind) {
    let Ok(m) = cx.member(member) else { return };
    let state = cx.state;
    let off = |k: EmailKind| PreferenceKind::governing(k).is_some_and(|p| p.bits() & kind.bits() != 0);
    let all = kind == PreferenceKind::All;
    let mut emails: Vec<EmailId> = unsent_in_inbox(cx, member, m)
        // With `all`, the digest goes as a whole: its places need no skipping of their own.
        .filter(|(_, n)| off(n.email_kind()) && !(all && n.mail == Mail::InDigest))
        .map(|(i, _)| EmailId(i as u64 + 1))
        .collect();
    if off(EmailKind::InvitationReminder) {
        let open_from = state.oldest_open;
        for (_, r) in state.requests_of(m, Party::Recipient).take_while(|(i, _)| *i >= open_from) {
            if r.reminders_done < r.reminders {
                emails.extend(state.unsent_about(r, true));
            }
        }
    }
    if all && let Some(d) = state.digests.get(&member) {
        emails.push(EmailId(d.email as u64 + 1));
        cx.overlay.digest_skipped(member);
    }
    skip(cx, member, emails, SkipReason::Preference);
}

/// `member` (record `m`) no longer has an address: every email still unsent
/// to them (their digest, their reminders) is skipped, `invalid_address`.
pub(super) fn address_removed(cx: &mut Ctx<'_>, member: MemberId, m: &Member) {
    let state = cx.state;
    let mut emails: Vec<EmailId> = unsent_in_inbox(cx, member, m)
        .filter(|(_, n)| n.mail == Mail::Unsent)
        .map(|(i, _)| EmailId(i as u64 + 1))
        .collect();
    for (_, r) in state.requests_of(m, Party::Recipient).take_while(|(i, _)| *i >= state.oldest_open) {
        if r.reminders_done < r.reminders {
            emails.extend(state.unsent_about(r, true));
        }
    }
    if let Some(d) = state.digests.get(&member) {
        emails.push(EmailId(d.email as u64 + 1));
        cx.overlay.digest_skipped(member);
    }
    skip(cx, member, emails, SkipReason::InvalidAddress);
}

/// The notifications in `member`'s inbox whose email is unsent or whose
/// place in their queued digest stands, newest first.
fn unsent_in_inbox<'a>(
    cx: &Ctx<'a>,
    member: MemberId,
    m: &'a Member,
) -> impl Iterator<Item = (usize, &'a NotificationRecord)> + use<'a> {
    let state = cx.state;
    let digest_from = state.digests.get(&member).map(|d| d.from);
    let floor = digest_from.map_or(state.oldest_unsent, |f| f.min(state.oldest_unsent));
    state.inbox_of(m).take_while(move |(i, _)| *i >= floor).filter(move |(i, n)| {
        n.mail == Mail::Unsent
            || (n.mail == Mail::InDigest && !n.read && digest_from.is_some_and(|f| f <= *i))
    })
}

/// Skips `emails` of `member` for `reason`; a digest left with nothing to
/// list is skipped too (stale).
fn skip(cx: &mut Ctx<'_>, member: MemberId, emails: Vec<EmailId>, reason: SkipReason) {
    if emails.is_empty() {
        return;
    }
    let state = cx.state;
    let listed = emails
        .iter()
        .filter(|e| {
            state.notification(NotificationId(e.0)).is_some_and(|n| n.mail == Mail::InDigest && !n.read)
        })
        .count() as u32;
    cx.push(EventBody::EmailsSkipped { emails, reason });
    if listed > 0 {
        digest_lost(cx, member, listed);
    }
}

/// `count` notifications left `member`'s queued digest in this command (read
/// or skipped): a digest with nothing left to list is skipped (stale).
pub(super) fn digest_lost(cx: &mut Ctx<'_>, member: MemberId, count: u32) {
    let Some(d) = cx.state.digests.get(&member).copied() else { return };
    let items = d.items + added_to_digest(cx, member);
    if cx.overlay.digest_lost(member, count) >= items && !cx.overlay.digest_skipped(member) {
        cx.push(EventBody::EmailsSkipped {
            emails: vec![EmailId(d.email as u64 + 1)],
            reason: SkipReason::Stale,
        });
    }
}

/// How many notifications this command has put in `member`'s digest so far.
fn added_to_digest(cx: &Ctx<'_>, member: MemberId) -> u32 {
    let state = cx.state;
    let told = |request: &RequestId, party: Party| state.request(*request).map(|r| r.party(party));
    cx.events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::InvitationSent { recipient, notice, .. } => Some((Some(*recipient), *notice)),
            EventBody::InvitationAccepted { request, notice, .. }
            | EventBody::InvitationExpired { request, notice, .. } => {
                Some((told(request, Party::Sender), *notice))
            }
            EventBody::InvitationDeclined { request, notice: Some(notice), .. }
            | EventBody::ViewChanged { request, notice: Some(notice), .. } => {
                Some((told(request, Party::Sender), *notice))
            }
            EventBody::InvitationWithdrawn { request, notice: Some(notice), .. } => {
                Some((told(request, Party::Recipient), *notice))
            }
            _ => None,
        })
        .filter(|(to, notice)| *to == Some(member) && matches!(notice.email, EmailPlan::Digest(_)))
        .count() as u32
}

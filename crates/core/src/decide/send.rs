//! `send`: SPEC §2's rules, checked in the order SPEC gives them.

use crate::command::Outcome;
use crate::decide::{Ctx, moderation, notices, respond};
use crate::error::Error;
use crate::event::EventBody;
use crate::ids::{MemberId, RequestId};
use crate::kinds::{InvitationSetting, NotificationKind, Standing};
use crate::members::Member;
use crate::policy::ReverseRequest;
use crate::text::{EmailAddress, check_note};
use crate::time::DAY_MS;
use std::time::Duration;

const WEEK: Duration = Duration::from_millis(7 * DAY_MS as u64);

/// `send(sender, recipient, note, email)`: the new request's id, or under
/// `reverse_request = "accept"` the id of the recipient's request accepted instead.
pub(super) fn send(
    cx: &mut Ctx<'_>,
    sender: MemberId,
    recipient: MemberId,
    note: Option<&str>,
    email: Option<&str>,
) -> Result<Outcome, Error> {
    let state = cx.state;
    // 1. registered, not oneself
    let s = cx.member(sender)?;
    let r = cx.member(recipient)?;
    if sender == recipient {
        return Err(Error::SelfRequest);
    }
    // 2. standing
    if s.standing == Standing::Restricted {
        return Err(Error::AccountRestricted);
    }
    // 3. blocks, the recipient's setting, "I don't know this person" — one error for all
    if state.blocked_either_way(sender, recipient)
        || !setting_allows(cx, sender, recipient, r, email)
        || state.dont_know.contains(&(recipient, sender))
    {
        return Err(Error::InvitationNotAllowed(recipient));
    }
    // 4. connected (from the two members already at hand)
    if Member::connected((sender, s), (recipient, r)) {
        return Err(Error::AlreadyConnected(recipient));
    }
    // 5. an open request this way, 6. an open request the other way
    match state.open_between(sender, recipient) {
        Some((request, from)) if from == sender => {
            return Err(Error::AlreadyPending { recipient, request });
        }
        Some((request, _)) => {
            return match cx.policy.reverse_request {
                ReverseRequest::Error => Err(Error::ReversePending { sender: recipient, request }),
                ReverseRequest::Accept => {
                    respond::check_connection_limits(cx, recipient, sender)?;
                    respond::accepted(cx, request, recipient);
                    Ok(Outcome::Request(request))
                }
            };
        }
        None => {}
    }
    // 7. the note, and the email address given
    if let Some(n) = note {
        check_note("note", n, cx.policy.max_note_chars as usize)?;
    }
    if let Some(e) = email {
        EmailAddress::parse(e)?;
    }
    // 8. policy limits
    if let Some(limit) = cx.policy.weekly_invite_limit {
        // The `limit`-th newest send in the window, if there are that many: it
        // must leave the window before one more fits in it (not always the
        // oldest in it: the policy may have lowered the limit since).
        if let Some(blocking) = state.sends_since(s, cx.at.minus(WEEK)).nth(limit as usize - 1) {
            return Err(Error::RateLimited { limit, until: blocking.created_at.plus(WEEK) });
        }
    }
    if let Some(cooldown) = cx.policy.resend_cooldown
        && let Some(closed) = state.pairs.get(&(sender, recipient)).map(|p| p.last_closed)
    {
        let until = closed.plus(cooldown);
        if cx.at < until {
            return Err(Error::CooldownActive { recipient, until });
        }
    }
    respond::check_limits_of(cx, [(sender, s), (recipient, r)])?;
    let request = RequestId(state.requests.len() as u64 + 1);
    let notice = notices::notice(cx, recipient, NotificationKind::InvitationReceived);
    let seq = cx.push(EventBody::InvitationSent {
        request,
        sender,
        recipient,
        note: note.map(str::to_owned),
        notice,
    });
    moderation::after_send(cx, sender, seq);
    Ok(Outcome::Request(request))
}

/// Whether `recipient`'s invitation setting lets `sender` invite them.
fn setting_allows(
    cx: &Ctx<'_>,
    sender: MemberId,
    recipient: MemberId,
    r: &Member,
    email: Option<&str>,
) -> bool {
    let state = cx.state;
    let in_contacts = || {
        let contacts = state.profile(recipient).and_then(|p| p.contacts.as_deref());
        match (state.email_of(sender), contacts) {
            (Some(e), Some(c)) => c.contains(&e.key()),
            _ => false,
        }
    };
    match r.setting {
        InvitationSetting::Everyone => true,
        InvitationSetting::Nobody => false,
        InvitationSetting::Contacts => in_contacts(),
        InvitationSetting::EmailOrContacts => {
            let knows_email = match (email, state.email_of(recipient)) {
                (Some(given), Some(theirs)) => given.to_lowercase() == theirs.key(),
                _ => false,
            };
            knows_email || in_contacts()
        }
    }
}

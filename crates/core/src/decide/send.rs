//! `send`: SPEC §2's rules, checked in the order SPEC gives them.

use crate::command::Outcome;
use crate::decide::{Ctx, moderation, notices, respond};
use crate::error::Error;
use crate::event::EventBody;
use crate::ids::{MemberId, RequestId};
use crate::kinds::{InvitationSetting, NotificationKind, Standing};
use crate::members::Member;
use crate::policy::ReverseRequest;
use crate::records::RequestRecord;
use crate::text::{EmailAddress, check_note, meaningful};
use crate::time::DAY_MS;
use std::time::Duration;

const WEEK: Duration = Duration::from_millis(7 * DAY_MS as u64);

/// How many wrong addresses a sender may give in a day before every send
/// with an address is refused (SPEC §18).
pub(crate) const WRONG_ADDRESSES_PER_DAY: usize = 5;

/// `send(sender, recipient, note, email)`: the new request's id, or under
/// `reverse_request = "accept"` the id of the recipient's request accepted
/// instead. The rules in the order SPEC §2 and §18 give them: registered and
/// not oneself; not restricted; what the sender sees open between them; no
/// block either way and no `dont_know` report; not connected; no open request
/// either way; not too many wrong addresses; the recipient's setting; the
/// note and the address; the policy's limits (the weekly limit, the open
/// requests the sender may have, the cooldown, connections).
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
    // 5. an open request this way, 6. an open request the other way, as the
    // sender sees them: reported before anything that could reveal a block, a
    // report or a setting (a request the sender sees open only in their own
    // view — a block they must not learn of, a decline they were not told of —
    // is open, as far as they know).
    let in_view = state.open_in_view_between(sender, recipient);
    if let Some(request) = in_view
        && let Some(r) = state.request(request)
        && let Some(party) = r.party_of(sender)
        && state.view_of(request, r, party).is_some()
    {
        return open_in_senders_view(cx, request, r, sender, recipient);
    }
    if let Some((request, from)) = state.open_between(sender, recipient) {
        return open_either_way(cx, request, from, sender, recipient);
    }
    // 3. blocks and "I don't know this person" (the setting comes later) — one error for all
    if state.blocked_either_way(sender, recipient) || state.dont_know.contains(&(recipient, sender)) {
        return Err(Error::InvitationNotAllowed(recipient));
    }
    // 4. connected (from the two members already at hand)
    if Member::connected((sender, s), (recipient, r)) {
        return Err(Error::AlreadyConnected(recipient));
    }
    // 5-6 (continued): a request only the recipient sees open stands for them
    // as an open request does.
    if let Some(request) = in_view
        && let Some(r) = state.request(request)
    {
        return open_either_way(cx, request, r.sender, sender, recipient);
    }
    // 3 (continued). Guessed addresses, then the recipient's setting.
    if email.is_some() && wrong_addresses_today(cx, sender) >= WRONG_ADDRESSES_PER_DAY {
        return Err(Error::InvitationNotAllowed(recipient));
    }
    match setting_allows(cx, sender, recipient, r, email) {
        Allowed::Yes => {}
        Allowed::No => return Err(Error::InvitationNotAllowed(recipient)),
        Allowed::WrongAddress => {
            // Refused, and the wrong address is counted.
            cx.push(EventBody::WrongAddressGiven { sender, recipient });
            cx.refuse(Error::InvitationNotAllowed(recipient));
            return Ok(Outcome::Done);
        }
    }
    // 7. the note, and the email address given
    if let Some(n) = note {
        check_note("note", n, cx.policy.max_note_chars as usize)?;
    }
    let note = meaningful(note);
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
    // SPEC §11: the open requests the sender sees, after the weekly limit.
    if let Some(max) = cx.policy.max_outstanding
        && state.open_sent_by(s, max as usize) >= max as usize
    {
        return Err(Error::OutstandingLimit { max });
    }
    if let Some(cooldown) = cx.policy.resend_cooldown
        && let Some(closed) = state.pairs.get(&(sender, recipient)).and_then(|p| p.last_closed())
    {
        let until = closed.plus(cooldown);
        if cx.at < until {
            return Err(Error::CooldownActive { recipient, until });
        }
    }
    respond::check_limits_of(cx, [(sender, s), (recipient, r)])?;
    let request = RequestId(state.requests.len() as u64 + 1);
    let notice = notices::notice_to(cx, recipient, r, NotificationKind::InvitationReceived);
    let reminders = notices::reminders(cx, recipient, r);
    let seq = cx.push(EventBody::InvitationSent {
        request,
        sender,
        recipient,
        note: note.map(str::to_owned),
        notice,
        reminders,
    });
    moderation::after_send(cx, sender, seq);
    moderation::after_resend(cx, sender, recipient, seq);
    Ok(Outcome::Request(request))
}

/// A send to a member with a request between them that the sender sees open
/// only in their own view: the same way, it is pending; the other way, it is
/// the sender's to answer (a blocked recipient may not accept it).
fn open_in_senders_view(
    cx: &Ctx<'_>,
    request: RequestId,
    r: &RequestRecord,
    sender: MemberId,
    recipient: MemberId,
) -> Result<Outcome, Error> {
    if r.sender == sender {
        return Err(Error::AlreadyPending { recipient, request });
    }
    match cx.policy.reverse_request {
        ReverseRequest::Error => Err(Error::ReversePending { sender: recipient, request }),
        ReverseRequest::Accept => Err(Error::InvitationNotAllowed(recipient)),
    }
}

/// Rules 5 and 6: an open request from `from` between the two: the same way,
/// it is pending; the other way, `reverse_request` says (refuse, or accept it).
fn open_either_way(
    cx: &mut Ctx<'_>,
    request: RequestId,
    from: MemberId,
    sender: MemberId,
    recipient: MemberId,
) -> Result<Outcome, Error> {
    if from == sender {
        return Err(Error::AlreadyPending { recipient, request });
    }
    match cx.policy.reverse_request {
        ReverseRequest::Error => Err(Error::ReversePending { sender: recipient, request }),
        ReverseRequest::Accept => {
            respond::check_connection_limits(cx, recipient, sender)?;
            respond::accepted(cx, request, cx.request(request)?);
            Ok(Outcome::Request(request))
        }
    }
}

/// How many wrong addresses `sender` gave in the last day.
fn wrong_addresses_today(cx: &Ctx<'_>, sender: MemberId) -> usize {
    let since = cx.at.0 - DAY_MS;
    cx.state.wrong_addresses.get(&sender).map_or(0, |list| list.iter().filter(|t| t.0 > since).count())
}

/// What the recipient's setting says of a send.
enum Allowed {
    Yes,
    No,
    /// Refused: the setting asks for the recipient's address and the one given is not it.
    WrongAddress,
}

/// Whether `recipient`'s invitation setting lets `sender` invite them.
fn setting_allows(
    cx: &Ctx<'_>,
    sender: MemberId,
    recipient: MemberId,
    r: &Member,
    email: Option<&str>,
) -> Allowed {
    let state = cx.state;
    let in_contacts = || {
        let contacts = state.profile(recipient).and_then(|p| p.contacts.as_deref());
        match (state.email_of(sender), contacts) {
            (Some(e), Some(c)) => c.contains(&e.key()),
            _ => false,
        }
    };
    let yes = |allowed: bool| if allowed { Allowed::Yes } else { Allowed::No };
    match r.setting {
        InvitationSetting::Everyone => Allowed::Yes,
        InvitationSetting::Nobody => Allowed::No,
        InvitationSetting::Contacts => yes(in_contacts()),
        InvitationSetting::FriendsOfFriends => {
            let shared = || state.members.get(&sender).is_some_and(|s| Member::share_a_connection(s, r));
            yes(shared() || in_contacts())
        }
        InvitationSetting::EmailOrContacts => {
            if in_contacts() {
                return Allowed::Yes;
            }
            match (email, state.email_of(recipient)) {
                (Some(given), Some(theirs)) if theirs.is(given) => Allowed::Yes,
                (Some(_), _) => Allowed::WrongAddress,
                (None, _) => Allowed::No,
            }
        }
    }
}

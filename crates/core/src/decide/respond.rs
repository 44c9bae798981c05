//! Answering a request: the recipient accepts, ignores or declines it; the
//! sender withdraws it. Only the party named may act (`NotAuthorized`), and
//! only from the states SPEC §2 allows (`InvalidTransition`, naming the state
//! as the actor sees it).

use crate::command::Outcome;
use crate::decide::{Ctx, moderation, notices};
use crate::error::Error;
use crate::event::EventBody;
use crate::ids::{MemberId, RequestId};
use crate::kinds::{NotificationKind, RequestState};
use crate::members::Member;
use crate::records::{Party, RequestRecord, seen_as};
use crate::text::{check_note, meaningful};

/// `accept(recipient, id)`: from pending or ignored; a connection forms. A
/// recipient the sender has blocked keeps seeing the request, but accepting
/// it is refused exactly as a send to the sender would be.
pub(super) fn accept(cx: &mut Ctx<'_>, recipient: MemberId, request: RequestId) -> Result<Outcome, Error> {
    let (r, seen) = acting_on(cx, recipient, request, Party::Recipient, "accept")?;
    if let Some(state) = seen {
        return match state.is_open() {
            true => Err(Error::InvitationNotAllowed(r.sender)),
            false => Err(Error::InvalidTransition { request, state, action: "accepted" }),
        };
    }
    check_transition(request, r, Party::Recipient, "accepted", RequestState::is_open)?;
    check_connection_limits(cx, r.sender, r.recipient)?;
    accepted(cx, request, r);
    Ok(Outcome::Done)
}

/// The events of an accepted request (also a send under `reverse_request = "accept"`).
pub(super) fn accepted(cx: &mut Ctx<'_>, request: RequestId, r: &RequestRecord) {
    let notice = notices::notice(cx, r.sender, NotificationKind::InvitationAccepted);
    let window = moderation::outcome_window(cx);
    let seq = cx.push(EventBody::InvitationAccepted { request, notice, window });
    notices::request_ended(cx, r, false, None);
    moderation::after_outcome(cx, r.sender, request, true, seq);
}

/// `ignore(recipient, id)`: from pending; nobody is told.
pub(super) fn ignore(cx: &mut Ctx<'_>, recipient: MemberId, request: RequestId) -> Result<Outcome, Error> {
    let (r, seen) = acting_on(cx, recipient, request, Party::Recipient, "ignore")?;
    if let Some(state) = seen {
        let to = (RequestState::Ignored, "ignored");
        return in_view(cx, request, Party::Recipient, state, to, |s| s == RequestState::Pending, None);
    }
    check_transition(request, r, Party::Recipient, "ignored", |s| s == RequestState::Pending)?;
    ignored(cx, request, r);
    Ok(Outcome::Done)
}

/// The events of an ignored request (also a `dont_know` report's): its
/// reminders are over.
pub(super) fn ignored(cx: &mut Ctx<'_>, request: RequestId, r: &RequestRecord) {
    let window = moderation::outcome_window(cx);
    let seq = cx.push(EventBody::InvitationIgnored { request, window });
    notices::request_ended(cx, r, true, None);
    moderation::after_outcome(cx, r.sender, request, false, seq);
}

/// `decline(recipient, id, message)`: from pending or ignored; the sender is
/// told unless the policy keeps declines silent.
pub(super) fn decline(
    cx: &mut Ctx<'_>,
    recipient: MemberId,
    request: RequestId,
    message: Option<&str>,
) -> Result<Outcome, Error> {
    let (r, seen) = acting_on(cx, recipient, request, Party::Recipient, "decline")?;
    check_message(cx, message)?;
    let message = meaningful(message);
    if let Some(state) = seen {
        let to = (RequestState::Declined, "declined");
        return in_view(cx, request, Party::Recipient, state, to, RequestState::is_open, message);
    }
    check_transition(request, r, Party::Recipient, "declined", RequestState::is_open)?;
    let notice = notices::decline(cx, r.sender);
    let window = moderation::outcome_window(cx);
    let seq = cx.push(EventBody::InvitationDeclined {
        request,
        message: message.map(str::to_owned),
        notice,
        window,
    });
    notices::request_ended(cx, r, false, None);
    moderation::after_outcome(cx, r.sender, request, false, seq);
    Ok(Outcome::Done)
}

/// `withdraw(sender, id, message)`: from pending or ignored; the recipient is
/// told unless the policy keeps withdrawals silent.
pub(super) fn withdraw(
    cx: &mut Ctx<'_>,
    sender: MemberId,
    request: RequestId,
    message: Option<&str>,
) -> Result<Outcome, Error> {
    let (r, seen) = acting_on(cx, sender, request, Party::Sender, "withdraw")?;
    check_message(cx, message)?;
    let message = meaningful(message);
    if let Some(state) = seen {
        let to = (RequestState::Withdrawn, "withdrawn");
        in_view(cx, request, Party::Sender, state, to, RequestState::is_open, message)?;
        // As far as the sender knows, they withdrew: moderation counts it.
        let seq = cx.events.last().map(|e| e.seq).unwrap_or_default();
        moderation::after_withdrawal(cx, r.sender, r.recipient, seq);
        return Ok(Outcome::Done);
    }
    check_transition(request, r, Party::Sender, "withdrawn", RequestState::is_open)?;
    let notice = notices::withdrawal(cx, r.recipient);
    let seq =
        cx.push(EventBody::InvitationWithdrawn { request, message: message.map(str::to_owned), notice });
    notices::request_ended(cx, r, false, None);
    moderation::after_withdrawal(cx, r.sender, r.recipient, seq);
    Ok(Outcome::Done)
}

/// `withdraw_all(sender, older_than, message)`: every request the sender sees
/// open (at least `older_than` old, when given), oldest first, each withdrawn
/// as `withdraw` would; returns how many.
pub(super) fn withdraw_all(
    cx: &mut Ctx<'_>,
    sender: MemberId,
    older_than: Option<std::time::Duration>,
    message: Option<&str>,
) -> Result<Outcome, Error> {
    let m = cx.member(sender)?;
    check_message(cx, message)?;
    let state = cx.state;
    let cutoff = older_than.map(|d| cx.at.minus(d));
    let mut open: Vec<RequestId> = state
        .requests_of(m, Party::Sender)
        // Every request before the expiry scan's start is open nowhere.
        .take_while(|(i, _)| *i >= state.oldest_open)
        .filter_map(|(i, r)| {
            let id = RequestId(i as u64 + 1);
            let seen = state.seen_by(id, r, Party::Sender)?;
            (seen.state.is_open() && cutoff.is_none_or(|c| r.created_at <= c)).then_some(id)
        })
        .collect();
    open.reverse();
    for id in &open {
        withdraw(cx, sender, *id, message)?;
    }
    Ok(Outcome::Count(open.len() as u64))
}

/// An action on a request that `party` sees otherwise than it is: it moves
/// their view only, from a state they see as allowing it; nobody else is
/// affected or told.
fn in_view(
    cx: &mut Ctx<'_>,
    request: RequestId,
    party: Party,
    seen: RequestState,
    (state, action): (RequestState, &'static str),
    allowed: impl Fn(RequestState) -> bool,
    message: Option<&str>,
) -> Result<Outcome, Error> {
    if !allowed(seen) {
        return Err(Error::InvalidTransition { request, state: seen, action });
    }
    cx.push(EventBody::ViewChanged {
        request,
        party,
        state,
        message: message.map(str::to_owned),
        notice: None,
    });
    Ok(Outcome::Done)
}

/// The request `id`, after checking the actor is registered and is its
/// `party`; with the state they see when their view of it is their own
/// (`NotFound` when it is not in their views at all).
fn acting_on<'a>(
    cx: &Ctx<'a>,
    actor: MemberId,
    id: RequestId,
    party: Party,
    action: &'static str,
) -> Result<(&'a RequestRecord, Option<RequestState>), Error> {
    cx.member(actor)?;
    let r = cx.request(id)?;
    if r.party(party) != actor {
        return Err(Error::NotAuthorized { request: id, role: party.as_str(), action });
    }
    match cx.state.view_of(id, r, party) {
        Some(v) => match v.state {
            Some(state) => Ok((r, Some(seen_as(state, party)))),
            None => Err(Error::NotFound(id.to_string())),
        },
        None => Ok((r, None)),
    }
}

/// Refuses a transition the request's true state does not allow. The error
/// names the state as the actor sees it, so it reveals nothing they could
/// not see (an ignore).
fn check_transition(
    id: RequestId,
    r: &RequestRecord,
    party: Party,
    action: &'static str,
    allowed: impl Fn(RequestState) -> bool,
) -> Result<(), Error> {
    if allowed(r.state) {
        Ok(())
    } else {
        Err(Error::InvalidTransition { request: id, state: r.truth_seen_by(party), action })
    }
}

/// A withdraw or decline message: the note's rules.
fn check_message(cx: &Ctx<'_>, message: Option<&str>) -> Result<(), Error> {
    match message {
        Some(m) => check_note("message", m, cx.policy.max_note_chars as usize),
        None => Ok(()),
    }
}

/// Neither member may be at `max_connections`.
pub(super) fn check_connection_limits(cx: &Ctx<'_>, a: MemberId, b: MemberId) -> Result<(), Error> {
    check_limits_of(cx, [(a, cx.member(a)?), (b, cx.member(b)?)])
}

/// [`check_connection_limits`] for members already at hand.
pub(super) fn check_limits_of(cx: &Ctx<'_>, members: [(MemberId, &Member); 2]) -> Result<(), Error> {
    let max = cx.policy.max_connections;
    match members.into_iter().find(|(_, m)| m.connections.len() >= max as usize) {
        Some((member, _)) => Err(Error::ConnectionLimit { member, max }),
        None => Ok(()),
    }
}

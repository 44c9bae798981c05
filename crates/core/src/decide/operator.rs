//! The operator's commands: expiry, a moderator's decision on a flag or on a
//! restriction, a new policy.

use crate::command::Outcome;
use crate::decide::{Ctx, moderation, notices, standing};
use crate::error::Error;
use crate::event::{EventBody, StandingCause};
use crate::ids::{FlagId, MemberId, RequestId};
use crate::kinds::{Decision, FlagStatus, NotificationKind, RequestState};
use crate::policy::Policy;
use crate::records::Party;
use crate::text::{check_note, meaningful};

/// Longest moderator's note, in Unicode scalar values.
pub(crate) const MAX_MODERATOR_NOTE: usize = 2_000;

/// `expire()`: every open request older than `pending_ttl` expires, oldest
/// first; the sender is told in-app. Returns how many expired.
pub(super) fn expire(cx: &mut Ctx<'_>) -> Result<Outcome, Error> {
    let Some(ttl) = cx.policy.pending_ttl else {
        return Ok(Outcome::Count(0));
    };
    let state = cx.state;
    let cutoff = cx.at.minus(ttl);
    let mut n = 0;
    for (i, r) in state.requests.iter_from(state.oldest_open) {
        let request = RequestId(i as u64 + 1);
        if r.created_at >= cutoff {
            break;
        }
        if r.state.is_open() {
            let notice = notices::notice(cx, r.sender, NotificationKind::InvitationExpired);
            let window = moderation::outcome_window(cx);
            let seq = cx.push(EventBody::InvitationExpired { request, notice, window });
            notices::request_ended(cx, r, false, None);
            moderation::after_outcome(cx, r.sender, request, false, seq);
            n += 1;
            continue;
        }
        // Open only in one party's view: it expires there, with the usual
        // notification to a sender; nobody else sees anything. It is not
        // counted: the count is the operator's, of requests that expired.
        for party in [Party::Sender, Party::Recipient] {
            let Some(v) = state.view_of(request, r, party) else { continue };
            if v.state.is_some_and(RequestState::is_open) {
                let notice = (party == Party::Sender)
                    .then(|| notices::notice(cx, r.sender, NotificationKind::InvitationExpired));
                let expired = RequestState::Expired;
                cx.push(EventBody::ViewChanged { request, party, state: expired, message: None, notice });
            } else if v.before_block.is_some_and(|(s, _)| s.is_open()) {
                // Cancelled by their own block: it would have expired by now.
                cx.push(EventBody::ViewExpiredBehindBlock { request, party });
            }
        }
    }
    Ok(Outcome::Count(n))
}

/// A moderator's name and note: the moderator must be a registered member,
/// the note follows a note's rules (a longer limit); a note of only
/// whitespace is no note.
fn who_and_why<'n>(
    cx: &Ctx<'_>,
    moderator: Option<MemberId>,
    note: Option<&'n str>,
) -> Result<Option<&'n str>, Error> {
    if let Some(m) = moderator {
        cx.member(m)?;
    }
    if let Some(n) = note {
        check_note("note", n, MAX_MODERATOR_NOTE)?;
    }
    Ok(meaningful(note))
}

/// `resolve_flag(flag, decision, moderator, note)`: an open flag only; the
/// member's standing follows from the flags left open and the decision.
pub(super) fn resolve_flag(
    cx: &mut Ctx<'_>,
    flag: FlagId,
    decision: Decision,
    moderator: Option<MemberId>,
    note: Option<&str>,
) -> Result<Outcome, Error> {
    let f = cx.state.flag(flag).ok_or_else(|| Error::NotFound(flag.to_string()))?;
    if !cx.state.open_flags.contains(&flag) {
        return Err(Error::InvalidInput(format!("{flag} was already resolved ({})", f.status)));
    }
    let note = who_and_why(cx, moderator, note)?.map(str::to_owned);
    cx.push(EventBody::FlagResolved { flag, member: f.member, decision, moderator, note });
    let to = standing::after_resolution(cx.state, f.member, flag, decision);
    moderation::change_standing(cx, f.member, to, StandingCause::Resolved(flag));
    Ok(Outcome::Done)
}

/// `lift_restriction(member, moderator, note)`: only a restriction a
/// moderator decided on can be lifted (an automatic one ends when its flag is
/// cleared); the member's standing then follows from their open flags.
pub(super) fn lift_restriction(
    cx: &mut Ctx<'_>,
    member: MemberId,
    moderator: Option<MemberId>,
    note: Option<&str>,
) -> Result<Outcome, Error> {
    cx.member(member)?;
    let restricted = cx.state.moderation.get(&member).is_some_and(|m| m.restricted_by_decision);
    if !restricted {
        return Err(Error::InvalidInput(format!(
            "{member} is not restricted by a moderator's decision (an automatic restriction ends when its flag is cleared)"
        )));
    }
    let note = who_and_why(cx, moderator, note)?.map(str::to_owned);
    // The flag the restriction was decided on: the member's last flag resolved `restrict`.
    let decided_on = (1..=cx.state.flags.len() as u64)
        .rev()
        .map(FlagId)
        .find(|id| {
            cx.state.flag(*id).is_some_and(|f| f.member == member && f.status == FlagStatus::Restricted)
        })
        .unwrap_or(FlagId(0));
    cx.push(EventBody::RestrictionLifted { member, moderator, note });
    let to = standing::after_lift(cx.state, member);
    moderation::change_standing(cx, member, to, StandingCause::Lifted(decided_on));
    Ok(Outcome::Done)
}

/// A new policy from now on (recorded only when it differs).
pub(super) fn change_policy(cx: &mut Ctx<'_>, policy: &Policy) -> Result<Outcome, Error> {
    policy.validate()?;
    if policy != cx.policy {
        cx.push(EventBody::PolicyChanged { policy: Box::new(policy.clone()) });
    }
    Ok(Outcome::Done)
}

//! Between two members: ending a connection, blocking, unblocking, reporting.

use crate::command::Outcome;
use crate::decide::{Ctx, moderation, notices, respond};
use crate::error::Error;
use crate::event::EventBody;
use crate::ids::{MemberId, RequestId};
use crate::kinds::{ReportReason, RequestState};
use crate::records::Party;

/// `remove_connection(member, other)`: nobody is told; `NotFound` when they are not connected.
pub(super) fn remove_connection(
    cx: &mut Ctx<'_>,
    member: MemberId,
    other: MemberId,
) -> Result<Outcome, Error> {
    cx.member(member)?;
    cx.member(other)?;
    if !cx.state.connected(member, other) {
        return Err(Error::NotFound(format!("a connection between {member} and {other}")));
    }
    cx.push(EventBody::ConnectionRemoved { member, other });
    Ok(Outcome::Done)
}

/// `block(blocker, blocked)`: cancels the open request between them and ends
/// their connection; nobody is told. Blocking again changes nothing.
pub(super) fn block(cx: &mut Ctx<'_>, blocker: MemberId, blocked: MemberId) -> Result<Outcome, Error> {
    cx.member(blocker)?;
    cx.member(blocked)?;
    if blocker == blocked {
        return Err(Error::InvalidInput("a member cannot block themselves".into()));
    }
    if cx.state.blocks.contains(&(blocker, blocked)) {
        return Ok(Outcome::Done);
    }
    cx.push(EventBody::MemberBlocked { blocker, blocked });
    let mut cancelled = None;
    if let Some((request, _)) = cx.state.open_between(blocker, blocked) {
        cx.push(EventBody::InvitationCancelled { request, blocker });
        cancelled = cx.state.request(request);
    }
    // The blocker gets no more mail about the member blocked; an invitation
    // the block cancelled is no longer news to the member blocked either.
    notices::blocked(cx, blocker, blocked, cancelled);
    // A request the blocker still sees open (the other had blocked them
    // first): their block cancels it, as far as they see.
    if let Some(request) = cx.state.open_in_view_between(blocker, blocked)
        && let Some(r) = cx.state.request(request)
        && let Some(party) = [Party::Sender, Party::Recipient].into_iter().find(|p| r.party(*p) == blocker)
        && cx.state.view_of(request, r, party).is_some()
    {
        let state = RequestState::Cancelled;
        cx.push(EventBody::ViewChanged { request, party, state, message: None, notice: None });
    }
    if cx.state.connected(blocker, blocked) {
        cx.push(EventBody::ConnectionRemoved { member: blocker, other: blocked });
    }
    Ok(Outcome::Done)
}

/// `unblock(blocker, blocked)`: restores nothing; unblocking one not blocked changes nothing.
pub(super) fn unblock(cx: &mut Ctx<'_>, blocker: MemberId, blocked: MemberId) -> Result<Outcome, Error> {
    cx.member(blocker)?;
    cx.member(blocked)?;
    if cx.state.blocks.contains(&(blocker, blocked)) {
        cx.push(EventBody::MemberUnblocked { blocker, blocked });
        // The request the block cancelled comes back if the member blocked
        // still sees it open and no block stands the other way.
        if !cx.state.blocks.contains(&(blocked, blocker))
            && let Some(request) = cx.state.open_in_view_between(blocker, blocked)
            && let Some(r) = cx.state.request(request)
            && let Some(party) = r.party_of(blocked)
            && cx.state.view_of(request, r, party).is_some()
            && r.state == RequestState::Cancelled
            && let Some(state) = cx.state.view_of(request, r, party).and_then(|v| v.state)
        {
            cx.push(EventBody::InvitationRestored { request, state });
        }
        // One the blocker had cancelled in a view of their own comes back for them.
        if let Some(request) = cx.state.live_view_between(blocker, blocked)
            && let Some(r) = cx.state.request(request)
            && let Some(party) = r.party_of(blocker)
            && cx.state.view_of(request, r, party).is_some_and(|v| v.before_block.is_some())
        {
            cx.push(EventBody::ViewRestored { request, party });
        }
    }
    Ok(Outcome::Done)
}

/// `report(reporter, reported, reason, request_id)`: a `request_id` must name a
/// request from the reported member to the reporter; `dont_know` also
/// archives the open invitation it is about. Moderation runs after it.
pub(super) fn report(
    cx: &mut Ctx<'_>,
    reporter: MemberId,
    reported: MemberId,
    reason: ReportReason,
    request: Option<RequestId>,
) -> Result<Outcome, Error> {
    cx.member(reporter)?;
    cx.member(reported)?;
    if reporter == reported {
        return Err(Error::InvalidInput("a member cannot report themselves".into()));
    }
    if let Some(id) = request {
        match cx.state.request(id) {
            Some(r) if r.sender == reported && r.recipient == reporter => {}
            _ => {
                return Err(Error::InvalidInput(format!(
                    "{id} is not a request from {reported} to {reporter}"
                )));
            }
        }
    }
    let seq = cx.push(EventBody::MemberReported { reporter, reported, reason, request });
    if reason == ReportReason::DontKnow {
        // "I don't know this person" archives the open invitation it is about,
        // also one the reporter sees open only in their own view.
        let state = cx.state;
        let in_view = || {
            state.open_in_view_between(reporter, reported).filter(|id| {
                state.request(*id).is_some_and(|r| {
                    r.sender == reported && state.view_of(*id, r, Party::Recipient).is_some()
                })
            })
        };
        let target = request.or_else(|| state.open_request(reported, reporter)).or_else(in_view);
        if let Some(id) = target
            && let Some(r) = state.request(id)
        {
            match state.view_of(id, r, Party::Recipient) {
                Some(v) if v.state == Some(RequestState::Pending) => {
                    let ignored = RequestState::Ignored;
                    cx.push(EventBody::ViewChanged {
                        request: id,
                        party: Party::Recipient,
                        state: ignored,
                        message: None,
                        notice: None,
                    });
                }
                Some(_) => {}
                None if r.state == RequestState::Pending => respond::ignored(cx, id, r),
                None => {}
            }
        }
    }
    moderation::after_report(cx, reporter, reported, seq);
    if reason == ReportReason::Harassment {
        moderation::after_harassment_report(cx, reporter, reported, seq);
    }
    Ok(Outcome::Done)
}

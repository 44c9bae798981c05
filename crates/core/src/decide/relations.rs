//! Between two members: ending a connection, blocking, unblocking, reporting.

use crate::command::Outcome;
use crate::decide::{Ctx, moderation, respond};
use crate::error::Error;
use crate::event::EventBody;
use crate::ids::{MemberId, RequestId};
use crate::kinds::{ReportReason, RequestState};

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
    if let Some((request, _)) = cx.state.open_between(blocker, blocked) {
        cx.push(EventBody::InvitationCancelled { request, blocker });
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
        // "I don't know this person" archives the open invitation it is about.
        let target = request.or_else(|| cx.state.open_request(reported, reporter));
        if let Some(id) = target
            && cx.state.request(id).is_some_and(|r| r.state == RequestState::Pending)
        {
            respond::ignored(cx, id, reported);
        }
    }
    moderation::after_report(cx, reporter, reported, seq);
    Ok(Outcome::Done)
}

//! `repeated_resends` (SPEC §15): a sender who sends to one member again
//! after `review_resends_same_person` earlier requests to that member ended
//! declined, withdrawn or ignored within the window. A `harassment` report by
//! that member is part of the evidence, and with `review_resends_after_harassment`
//! earlier declined requests it is enough to flag when it is made about the
//! re-sending: after a request sent after those declines. A report made
//! before anything was sent again (an angry answer to a first invitation)
//! does not make the next send pestering: measured, that reading flagged
//! members who had sent again once to someone they did not know had reported
//! them (docs/MODERATION.md).
//!
//! The evidence is the story itself, in order: each earlier request's
//! `invitation_sent` and the event that ended it, the harassment reports, and
//! the new request.

use super::{flag, record, spent_for_pairs};
use crate::decide::Ctx;
use crate::ids::{MemberId, Seq};
use crate::kinds::{FlagRule, ReportReason};
use crate::records::{Ended, Ending};

/// The endings of `sender`'s requests to `recipient` that count: within the
/// window, after the evidence a moderator decided on, one per request.
fn counted(cx: &Ctx<'_>, sender: MemberId, recipient: MemberId, spent: Seq) -> Vec<Ending> {
    let since = cx.at.minus(cx.policy.review_window);
    let Some(pair) = cx.state.pairs.get(&(sender, recipient)) else {
        return Vec::new();
    };
    let mut out: Vec<Ending> = Vec::new();
    for e in pair.endings.iter().filter(|e| e.at >= since && e.seq > spent) {
        // A request ends once in truth; a view of its own can end it again for its sender.
        if !out.iter().any(|o| o.request == e.request) {
            out.push(*e);
        }
    }
    out
}

/// The `harassment` reports `reporter` made against `reported` within the
/// window, after the evidence a moderator decided on.
fn harassment(cx: &Ctx<'_>, reporter: MemberId, reported: MemberId, spent: Seq) -> Vec<Seq> {
    let since = cx.at.minus(cx.policy.review_window);
    record(cx, reported).map_or_else(Vec::new, |m| {
        m.reports
            .iter()
            .filter(|r| r.0 == reporter && r.3 == ReportReason::Harassment && r.1 >= since && r.2 > spent)
            .map(|r| r.2)
            .collect()
    })
}

/// Each ended request's `invitation_sent` and ending, and `more`, in log order.
fn evidence(cx: &Ctx<'_>, endings: &[Ending], more: impl IntoIterator<Item = Seq>) -> Vec<Seq> {
    let mut evidence: Vec<Seq> = endings
        .iter()
        .flat_map(|e| cx.state.request(e.request()).map(|r| r.seq).into_iter().chain([e.seq]))
        .chain(more)
        .collect();
    evidence.sort_unstable();
    evidence.dedup();
    evidence
}

/// Run after `sender` sent a request to `recipient` (event `seq`).
pub(in crate::decide) fn after_resend(cx: &mut Ctx<'_>, sender: MemberId, recipient: MemberId, seq: Seq) {
    let Some(needed) = cx.policy.review_resends_same_person else {
        return;
    };
    if !cx.state.pairs.contains_key(&(sender, recipient)) {
        return;
    }
    let spent = spent_for_pairs(cx, sender);
    let endings = counted(cx, sender, recipient, spent);
    if endings.len() >= needed as usize {
        let reports = harassment(cx, recipient, sender, spent);
        let evidence = evidence(cx, &endings, reports.into_iter().chain([seq]));
        flag(cx, sender, FlagRule::RepeatedResends, evidence);
    }
}

/// Run after `reporter` reported `reported` for harassment (event `seq`): the
/// combination flags when `reported` sent to them again after
/// `review_resends_after_harassment` declined requests.
pub(in crate::decide) fn after_harassment_report(
    cx: &mut Ctx<'_>,
    reporter: MemberId,
    reported: MemberId,
    seq: Seq,
) {
    let Some(needed) = cx.policy.review_resends_after_harassment else {
        return;
    };
    if !cx.state.pairs.contains_key(&(reported, reporter)) {
        return;
    }
    let spent = spent_for_pairs(cx, reported);
    let endings = counted(cx, reported, reporter, spent);
    let declines: Vec<&Ending> = endings.iter().filter(|e| e.how == Ended::Declined).collect();
    let Some(last_needed) = declines.get(needed as usize - 1) else {
        return;
    };
    // A request sent after that decline: one that ended since, or the open one.
    let state = cx.state;
    let sent_after = |id| state.request(id).map(|r| r.seq).filter(|s| *s > last_needed.seq);
    let mut resent: Vec<Seq> = endings.iter().filter_map(|e| sent_after(e.request())).collect();
    resent.extend(state.open_request(reported, reporter).and_then(sent_after));
    if resent.is_empty() {
        return;
    }
    let reports = harassment(cx, reporter, reported, spent);
    let evidence = evidence(cx, &endings, resent.into_iter().chain(reports).chain([seq]));
    flag(cx, reported, FlagRule::RepeatedResends, evidence);
}

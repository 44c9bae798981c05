//! Moderation rules of SPEC §4, run inside `decide` after the event that may
//! trigger them. Each produces flags (with the events behind them as evidence)
//! and standing changes; nothing here is ever shown in a public profile.
//!
//! Evidence a moderator has cleared is spent: after a flag for a rule is
//! cleared, only events after it count towards that rule again, so clearing a
//! member does not re-flag them on their next action.

use crate::decide::Ctx;
use crate::event::{EventBody, OutcomeWindow, StandingCause};
use crate::ids::{FlagId, MemberId, RequestId, Seq};
use crate::kinds::{FlagRule, Standing};
use crate::records::ModerationRecord;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

fn record<'a>(cx: &Ctx<'a>, member: MemberId) -> Option<&'a ModerationRecord> {
    cx.state.moderation.get(&member)
}

fn spent(cx: &Ctx<'_>, member: MemberId, rule: FlagRule) -> Seq {
    record(cx, member).map_or(Seq(0), |m| m.spent_through(rule))
}

/// The member's standing, with what this command already changed.
fn current_standing(cx: &Ctx<'_>, member: MemberId) -> Standing {
    cx.overlay
        .standing
        .iter()
        .rev()
        .find(|(m, _)| *m == member)
        .map(|(_, s)| *s)
        .or_else(|| cx.state.members.get(&member).map(|m| m.standing))
        .unwrap_or(Standing::Good)
}

fn open_flag(cx: &Ctx<'_>, member: MemberId, rule: FlagRule) -> Option<FlagId> {
    cx.overlay
        .flags
        .iter()
        .find(|(m, r, _)| *m == member && *r == rule)
        .map(|(_, _, f)| *f)
        .or_else(|| record(cx, member).and_then(|m| m.open_flag(rule)))
}

/// Records a standing change if `to` differs from the member's current standing.
pub(super) fn change_standing(cx: &mut Ctx<'_>, member: MemberId, to: Standing, cause: StandingCause) {
    let from = current_standing(cx, member);
    if from != to {
        cx.push(EventBody::StandingChanged { member, from, to, cause });
        cx.overlay.standing.push((member, to));
    }
}

/// Opens a flag for `rule` with `evidence`, or, if one is open, adds `latest` to it.
/// Returns the flag.
fn flag(cx: &mut Ctx<'_>, member: MemberId, rule: FlagRule, evidence: Vec<Seq>, latest: Seq) -> FlagId {
    if let Some(flag) = open_flag(cx, member, rule) {
        cx.push(EventBody::FlagEvidenceAdded { flag, member, evidence: vec![latest] });
        return flag;
    }
    let flag = cx.take_flag_id();
    cx.push(EventBody::AccountFlagged { flag, member, rule, evidence });
    cx.overlay.flags.push((member, rule, flag));
    if current_standing(cx, member) == Standing::Good {
        change_standing(cx, member, Standing::UnderReview, StandingCause::Flagged(flag));
    }
    flag
}

/// Repeated withdrawals to the same member within the window.
pub(super) fn after_withdrawal(cx: &mut Ctx<'_>, sender: MemberId, recipient: MemberId, seq: Seq) {
    let policy = cx.policy;
    let since = cx.at.minus(policy.review_window);
    let spent = spent(cx, sender, FlagRule::RepeatedWithdrawals);
    let mut evidence: Vec<Seq> = cx
        .state
        .pairs
        .get(&(sender, recipient))
        .map(|p| p.withdrawals.iter().filter(|(t, s)| *t >= since && *s > spent).map(|(_, s)| *s).collect())
        .unwrap_or_default();
    evidence.push(seq);
    if evidence.len() >= policy.review_withdrawals_same_person as usize {
        flag(cx, sender, FlagRule::RepeatedWithdrawals, evidence, seq);
    }
}

/// Reports from distinct members within the window: review, then restriction.
pub(super) fn after_report(cx: &mut Ctx<'_>, reporter: MemberId, reported: MemberId, seq: Seq) {
    let policy = cx.policy;
    let since = cx.at.minus(policy.review_window);
    let spent = spent(cx, reported, FlagRule::Reported);
    let mut reports: Vec<(MemberId, Seq)> = record(cx, reported)
        .map(|m| {
            m.reports.iter().filter(|(_, t, s)| *t >= since && *s > spent).map(|(r, _, s)| (*r, *s)).collect()
        })
        .unwrap_or_default();
    reports.push((reporter, seq));
    let mut reporters: Vec<MemberId> = reports.iter().map(|(r, _)| *r).collect();
    reporters.sort_unstable();
    reporters.dedup();
    let distinct = reporters.len();
    let review = policy.review_after_reports as usize;
    let restrict = policy.restrict_after_reports as usize;
    if distinct >= review.min(restrict) {
        let evidence = reports.iter().map(|(_, s)| *s).collect();
        let flag = flag(cx, reported, FlagRule::Reported, evidence, seq);
        if distinct >= restrict && current_standing(cx, reported) != Standing::Restricted {
            change_standing(cx, reported, Standing::Restricted, StandingCause::AutomaticRestriction(flag));
        }
    }
}

/// The optional burst rule: more than `burst_per_hour` sends within an hour.
pub(super) fn after_send(cx: &mut Ctx<'_>, sender: MemberId, seq: Seq) {
    let Some(limit) = cx.policy.burst_per_hour else {
        return;
    };
    let Some(m) = cx.state.members.get(&sender) else {
        return;
    };
    let spent = spent(cx, sender, FlagRule::Burst);
    let mut evidence: Vec<Seq> =
        cx.state.sends_since(m, cx.at.minus(HOUR)).map(|r| r.seq).filter(|s| *s > spent).collect();
    evidence.reverse();
    evidence.push(seq);
    if evidence.len() > limit as usize {
        flag(cx, sender, FlagRule::Burst, evidence, seq);
    }
}

/// Whether a resolved invitation counts towards the sender's low-acceptance
/// rule, and how many outcomes the rule keeps: set while the rule is on.
pub(super) fn outcome_window(cx: &Ctx<'_>) -> Option<OutcomeWindow> {
    let policy = cx.policy;
    match (policy.low_acceptance_min_resolved, policy.low_acceptance_max_rate) {
        (Some(keep), Some(_)) => Some(OutcomeWindow { keep }),
        _ => None,
    }
}

/// The optional low-acceptance rule, run whenever one of `sender`'s invitations
/// is resolved (accepted, ignored, declined, expired).
pub(super) fn after_outcome(
    cx: &mut Ctx<'_>,
    sender: MemberId,
    request: RequestId,
    accepted: bool,
    seq: Seq,
) {
    let policy = cx.policy;
    let (Some(n), Some(max_rate)) = (policy.low_acceptance_min_resolved, policy.low_acceptance_max_rate)
    else {
        return;
    };
    let n = n as usize;
    let mut outcomes: Vec<(RequestId, bool, Seq)> =
        record(cx, sender).map(|m| m.outcomes.clone()).unwrap_or_default();
    let earlier = cx.overlay.outcomes.iter().filter(|o| o.0 == sender).map(|o| (o.1, o.2, o.3));
    for o in earlier.chain(std::iter::once((request, accepted, seq))) {
        match outcomes.iter_mut().rev().find(|x| x.0 == o.0) {
            Some(x) => *x = o,
            None => outcomes.push(o),
        }
    }
    cx.overlay.outcomes.push((sender, request, accepted, seq));
    let spent = spent(cx, sender, FlagRule::LowAcceptance);
    let recent: Vec<&(RequestId, bool, Seq)> = outcomes.iter().filter(|o| o.2 > spent).collect();
    if recent.len() < n {
        return;
    }
    let last = &recent[recent.len() - n..];
    let accepted = last.iter().filter(|o| o.1).count();
    if (accepted as f64) < max_rate * n as f64 {
        let evidence = last.iter().map(|o| o.2).collect();
        flag(cx, sender, FlagRule::LowAcceptance, evidence, seq);
    }
}

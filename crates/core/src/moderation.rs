//! Moderation rules of SPEC §4, run inside `decide` after the event that may
//! trigger them. Each produces flags (with the events behind them as evidence)
//! and standing changes; nothing here is ever shown in a public profile.
//!
//! Evidence a moderator has cleared is spent: after a flag for a rule is
//! cleared, only events after it count towards that rule again, so clearing a
//! member does not re-flag them on their next action.

use crate::event::EventBody;
use crate::ids::{FlagId, MemberId, RequestId, Seq};
use crate::kinds::{Decision, FlagRule, Standing};
use crate::model::{Batch, Model};
use crate::state::ModerationRecord;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

/// Moderation decisions made earlier in the same batch.
#[derive(Clone, Debug, Default)]
pub(crate) struct Overlay {
    flags: Vec<(MemberId, FlagRule, FlagId)>,
    standing: Vec<(MemberId, Standing)>,
    outcomes: Vec<(MemberId, RequestId, bool, Seq)>,
}

fn record(model: &Model, member: MemberId) -> Option<&ModerationRecord> {
    model.state().moderation.get(&member)
}

fn spent(model: &Model, member: MemberId, rule: FlagRule) -> Seq {
    record(model, member).map_or(Seq(0), |m| m.spent_through(rule))
}

fn standing(model: &Model, b: &Batch, member: MemberId) -> Standing {
    b.overlay
        .standing
        .iter()
        .rev()
        .find(|(m, _)| *m == member)
        .map(|(_, s)| *s)
        .or_else(|| model.state().members.get(&member).map(|m| m.standing))
        .unwrap_or(Standing::Good)
}

fn open_flag(model: &Model, b: &Batch, member: MemberId, rule: FlagRule) -> Option<FlagId> {
    b.overlay
        .flags
        .iter()
        .find(|(m, r, _)| *m == member && *r == rule)
        .map(|(_, _, f)| *f)
        .or_else(|| record(model, member).and_then(|m| m.open_flag(rule)))
}

/// Records a standing change if `to` differs from the member's current standing.
pub(crate) fn change_standing(model: &Model, b: &mut Batch, member: MemberId, to: Standing, automatic: bool) {
    let from = standing(model, b, member);
    if from != to {
        b.push(EventBody::StandingChanged { member, from, to, automatic });
        b.overlay.standing.push((member, to));
    }
}

/// Opens a flag for `rule` with `evidence`, or, if one is open, adds `latest` to it.
fn flag(model: &Model, b: &mut Batch, member: MemberId, rule: FlagRule, evidence: Vec<Seq>, latest: Seq) {
    if let Some(flag) = open_flag(model, b, member, rule) {
        b.push(EventBody::FlagEvidenceAdded { flag, member, evidence: vec![latest] });
        return;
    }
    let flag = Model::take_flag_id(b);
    b.push(EventBody::AccountFlagged { flag, member, rule, evidence });
    b.overlay.flags.push((member, rule, flag));
    if standing(model, b, member) == Standing::Good {
        change_standing(model, b, member, Standing::UnderReview, false);
    }
}

/// Repeated withdrawals to the same member within the window.
pub(crate) fn after_withdrawal(
    model: &Model,
    b: &mut Batch,
    sender: MemberId,
    recipient: MemberId,
    seq: Seq,
) {
    let policy = model.policy();
    let since = b.at.minus(policy.review_window);
    let spent = spent(model, sender, FlagRule::RepeatedWithdrawals);
    let mut evidence: Vec<Seq> = model
        .state()
        .pairs
        .get(&(sender, recipient))
        .map(|p| p.withdrawals.iter().filter(|(t, s)| *t >= since && *s > spent).map(|(_, s)| *s).collect())
        .unwrap_or_default();
    evidence.push(seq);
    if evidence.len() >= policy.review_withdrawals_same_person as usize {
        flag(model, b, sender, FlagRule::RepeatedWithdrawals, evidence, seq);
    }
}

/// Reports from distinct members within the window: review, then restriction.
pub(crate) fn after_report(model: &Model, b: &mut Batch, reporter: MemberId, reported: MemberId, seq: Seq) {
    let policy = model.policy();
    let since = b.at.minus(policy.review_window);
    let spent = spent(model, reported, FlagRule::Reported);
    let mut reports: Vec<(MemberId, Seq)> = record(model, reported)
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
        flag(model, b, reported, FlagRule::Reported, evidence, seq);
    }
    if distinct >= restrict && standing(model, b, reported) != Standing::Restricted {
        change_standing(model, b, reported, Standing::Restricted, true);
    }
}

/// The optional burst rule: more than `burst_per_hour` sends within an hour.
pub(crate) fn after_send(model: &Model, b: &mut Batch, sender: MemberId, seq: Seq) {
    let Some(limit) = model.policy().burst_per_hour else {
        return;
    };
    let Some(m) = model.state().members.get(&sender) else {
        return;
    };
    let spent = spent(model, sender, FlagRule::Burst);
    let mut evidence: Vec<Seq> =
        model.sends_since(m, b.at.minus(HOUR)).map(|r| r.seq).filter(|s| *s > spent).collect();
    evidence.reverse();
    evidence.push(seq);
    if evidence.len() > limit as usize {
        flag(model, b, sender, FlagRule::Burst, evidence, seq);
    }
}

/// The optional low-acceptance rule, run whenever one of `sender`'s invitations
/// is resolved (accepted, ignored, declined, expired).
pub(crate) fn after_outcome(
    model: &Model,
    b: &mut Batch,
    sender: MemberId,
    request: RequestId,
    accepted: bool,
    seq: Seq,
) {
    let policy = model.policy();
    let (Some(n), Some(max_rate)) = (policy.low_acceptance_min_resolved, policy.low_acceptance_max_rate)
    else {
        return;
    };
    let n = n as usize;
    let mut outcomes: Vec<(RequestId, bool, Seq)> =
        record(model, sender).map(|m| m.outcomes.clone()).unwrap_or_default();
    let earlier = b.overlay.outcomes.iter().filter(|o| o.0 == sender).map(|o| (o.1, o.2, o.3));
    for o in earlier.chain(std::iter::once((request, accepted, seq))) {
        match outcomes.iter_mut().rev().find(|x| x.0 == o.0) {
            Some(x) => *x = o,
            None => outcomes.push(o),
        }
    }
    b.overlay.outcomes.push((sender, request, accepted, seq));
    let spent = spent(model, sender, FlagRule::LowAcceptance);
    let recent: Vec<&(RequestId, bool, Seq)> = outcomes.iter().filter(|o| o.2 > spent).collect();
    if recent.len() < n {
        return;
    }
    let last = &recent[recent.len() - n..];
    let accepted = last.iter().filter(|o| o.1).count();
    if (accepted as f64) < max_rate * n as f64 {
        let evidence = last.iter().map(|o| o.2).collect();
        flag(model, b, sender, FlagRule::LowAcceptance, evidence, seq);
    }
}

/// The standing a member has once `flag` is resolved with `decision`.
pub(crate) fn standing_after_resolution(
    model: &Model,
    member: MemberId,
    flag: FlagId,
    decision: Decision,
) -> Standing {
    let state = model.state();
    let Some(m) = state.moderation.get(&member) else {
        return Standing::Good;
    };
    let remaining: Vec<FlagId> = m.open.iter().map(|(_, f)| *f).filter(|f| *f != flag).collect();
    let automatic = remaining.iter().any(|f| state.flag(*f).is_some_and(|f| f.automatic_restriction));
    if decision == Decision::Restrict || m.restricted_by_decision || automatic {
        Standing::Restricted
    } else if remaining.is_empty() {
        Standing::Good
    } else {
        Standing::UnderReview
    }
}

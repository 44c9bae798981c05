//! `low_acceptance` (optional, SPEC §4): of the sender's last
//! `low_acceptance_min_resolved` resolved invitations, fewer than
//! `low_acceptance_max_rate` accepted.

use super::{flag, record, spent};
use crate::decide::Ctx;
use crate::event::OutcomeWindow;
use crate::ids::{MemberId, RequestId, Seq};
use crate::kinds::FlagRule;

/// Whether a resolved invitation counts towards the sender's low-acceptance
/// rule, and how many outcomes the rule keeps: set while the rule is on.
pub(in crate::decide) fn outcome_window(cx: &Ctx<'_>) -> Option<OutcomeWindow> {
    let policy = cx.policy;
    match (policy.low_acceptance_min_resolved, policy.low_acceptance_max_rate) {
        (Some(keep), Some(_)) => Some(OutcomeWindow { keep }),
        _ => None,
    }
}

/// Run whenever one of `sender`'s invitations is resolved (accepted,
/// ignored, declined, expired).
pub(in crate::decide) fn after_outcome(
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
        flag(cx, sender, FlagRule::LowAcceptance, evidence);
    }
}

//! `repeated_withdrawals` (SPEC §4): a sender who withdraws requests to one
//! member `review_withdrawals_same_person` times within the window.

use super::{flag, spent_for_pairs};
use crate::decide::Ctx;
use crate::ids::{MemberId, Seq};
use crate::kinds::FlagRule;

/// Run after `sender` withdrew a request to `recipient` (event `seq`, already
/// in the pair's history once applied, so it is added here).
pub(in crate::decide) fn after_withdrawal(cx: &mut Ctx<'_>, sender: MemberId, recipient: MemberId, seq: Seq) {
    let Some(threshold) = cx.policy.review_withdrawals_same_person else {
        return;
    };
    let since = cx.at.minus(cx.policy.review_window);
    let spent = spent_for_pairs(cx, sender);
    let mut evidence: Vec<Seq> = cx
        .state
        .pairs
        .get(&(sender, recipient))
        .map(|p| p.withdrawals().filter(|(t, s)| *t >= since && *s > spent).map(|(_, s)| s).collect())
        .unwrap_or_default();
    evidence.push(seq);
    if evidence.len() >= threshold as usize {
        flag(cx, sender, FlagRule::RepeatedWithdrawals, evidence);
    }
}

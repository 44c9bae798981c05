//! `burst` (optional, SPEC §4): more than `burst_per_hour` sends within an hour.

use super::{flag, spent};
use crate::decide::Ctx;
use crate::ids::{MemberId, Seq};
use crate::kinds::FlagRule;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

/// Run after `sender` sent a request (event `seq`).
pub(in crate::decide) fn after_send(cx: &mut Ctx<'_>, sender: MemberId, seq: Seq) {
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
        flag(cx, sender, FlagRule::Burst, evidence);
    }
}

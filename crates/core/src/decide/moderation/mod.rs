//! Moderation rules of SPEC §4 and §15, run inside `decide` after the event
//! that may trigger them. Each produces flags (with the events behind them as
//! evidence) and standing changes; nothing here is ever shown in a public
//! profile or to the member concerned. One file per rule:
//!
//! | file | rule |
//! |---|---|
//! | `withdrawals.rs` | `repeated_withdrawals`: withdrawals to one member |
//! | `reports.rs` | `reported`: distinct reporters, scaled by how many the member invited |
//! | `resends.rs` | `repeated_resends`: sending again after requests ended unwanted, or after a harassment report |
//! | `burst.rs` | `burst` (optional): many sends within an hour |
//! | `acceptance.rs` | `low_acceptance` (optional): few of the last invitations accepted |
//!
//! This file holds what they share: opening a flag or adding evidence to
//! the open one, changing a standing, and spent evidence. Evidence a
//! moderator has decided on is spent: after a flag for a rule is resolved,
//! only events after it count towards that rule again, so clearing a member
//! does not re-flag them on their next action. The two rules about one pair
//! (`repeated_withdrawals`, `repeated_resends`) share their spent evidence.

mod acceptance;
mod burst;
mod reports;
mod resends;
mod withdrawals;

pub(super) use acceptance::{after_outcome, outcome_window};
pub(super) use burst::after_send;
pub(super) use reports::after_report;
pub(super) use resends::{after_harassment_report, after_resend};
pub(super) use withdrawals::after_withdrawal;

use crate::decide::Ctx;
use crate::event::{EventBody, StandingCause};
use crate::ids::{FlagId, MemberId, Seq};
use crate::kinds::{FlagRule, Standing};
use crate::records::ModerationRecord;

fn record<'a>(cx: &Ctx<'a>, member: MemberId) -> Option<&'a ModerationRecord> {
    cx.state.moderation.get(&member)
}

/// The last event of `rule`'s evidence against `member` a moderator decided on.
fn spent(cx: &Ctx<'_>, member: MemberId, rule: FlagRule) -> Seq {
    record(cx, member).map_or(Seq(0), |m| m.spent_through(rule))
}

/// The last event of the evidence of either rule about one pair
/// (`repeated_withdrawals`, `repeated_resends`) a moderator decided on: the
/// two look at the same withdrawals, so a decision on one spends them for both.
fn spent_for_pairs(cx: &Ctx<'_>, member: MemberId) -> Seq {
    spent(cx, member, FlagRule::RepeatedWithdrawals).max(spent(cx, member, FlagRule::RepeatedResends))
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

/// The member's open flag for `rule`, also one this command opened.
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

/// Opens a flag for `rule` with `evidence` (in order), or, if one is open,
/// adds to it the events of `evidence` it does not hold yet. Returns the flag.
fn flag(cx: &mut Ctx<'_>, member: MemberId, rule: FlagRule, evidence: Vec<Seq>) -> FlagId {
    if let Some(flag) = open_flag(cx, member, rule) {
        let mut have: Vec<Seq> = cx.state.flag(flag).map(|f| f.evidence.clone()).unwrap_or_default();
        have.extend(cx.overlay.evidence.iter().filter(|(f, _)| *f == flag).map(|(_, s)| *s));
        have.sort_unstable();
        let new: Vec<Seq> = evidence.into_iter().filter(|s| have.binary_search(s).is_err()).collect();
        if !new.is_empty() {
            cx.overlay.evidence.extend(new.iter().map(|s| (flag, *s)));
            cx.push(EventBody::FlagEvidenceAdded { flag, member, evidence: new });
        }
        return flag;
    }
    let flag = cx.take_flag_id();
    cx.overlay.evidence.extend(evidence.iter().map(|s| (flag, *s)));
    cx.push(EventBody::AccountFlagged { flag, member, rule, evidence });
    cx.overlay.flags.push((member, rule, flag));
    if current_standing(cx, member) == Standing::Good {
        change_standing(cx, member, Standing::UnderReview, StandingCause::Flagged(flag));
    }
    flag
}

//! `reported` (SPEC §4, scaled by volume in §15): distinct reporters within
//! the window put a member under review (`review_after_reports`) and restrict
//! them (`restrict_after_reports`), when they also make up at least
//! `review_report_share` of the distinct members the reported member invited
//! within the window (a member who invited nobody counts as 100%). Three
//! reports mean something else from a member who invited ten people than
//! from one who invited five hundred.

use super::{change_standing, current_standing, flag, open_flag, record, spent};
use crate::collections::Set;
use crate::decide::Ctx;
use crate::event::StandingCause;
use crate::ids::{MemberId, Seq};
use crate::kinds::{FlagRule, Standing};

/// Run after `reporter` reported `reported` (event `seq`).
pub(in crate::decide) fn after_report(cx: &mut Ctx<'_>, reporter: MemberId, reported: MemberId, seq: Seq) {
    let policy = cx.policy;
    let (review, restrict) = (policy.review_after_reports, policy.restrict_after_reports);
    if review.is_none() && restrict.is_none() {
        return;
    }
    let since = cx.at.minus(policy.review_window);
    let spent = spent(cx, reported, FlagRule::Reported);
    let mut reports: Vec<(MemberId, Seq)> = record(cx, reported)
        .map(|m| m.reports.iter().filter(|r| r.1 >= since && r.2 > spent).map(|r| (r.0, r.2)).collect())
        .unwrap_or_default();
    reports.push((reporter, seq));
    let mut reporters: Vec<MemberId> = reports.iter().map(|(r, _)| *r).collect();
    reporters.sort_unstable();
    reporters.dedup();
    let distinct = reporters.len();
    let review_hit = review.is_some_and(|n| distinct >= n as usize);
    let restrict_hit = restrict.is_some_and(|n| distinct >= n as usize);
    if !review_hit && !restrict_hit {
        return;
    }
    let open = open_flag(cx, reported, FlagRule::Reported);
    let restricted = current_standing(cx, reported) == Standing::Restricted;
    // The share is needed to open a flag, and to restrict: an open flag takes
    // more reports as evidence whatever their share.
    let share_met = if open.is_none() || (restrict_hit && !restricted) {
        share_met(cx, reported, distinct)
    } else {
        true
    };
    if open.is_none() && !share_met {
        return;
    }
    let evidence = reports.iter().map(|(_, s)| *s).collect();
    let flag = flag(cx, reported, FlagRule::Reported, evidence);
    if restrict_hit && share_met && !restricted {
        change_standing(cx, reported, Standing::Restricted, StandingCause::AutomaticRestriction(flag));
    }
}

/// Whether `reporters` distinct reporters make up at least the policy's
/// share of the distinct members `member` invited within the window. Walks
/// the member's sends in the window, newest first, and stops as soon as they
/// invited too many for the share to be met.
pub(in crate::decide) fn share_met(cx: &Ctx<'_>, member: MemberId, reporters: usize) -> bool {
    let Some(share) = cx.policy.review_report_share else {
        return true;
    };
    if share <= 0.0 {
        return true;
    }
    let Some(m) = cx.state.members.get(&member) else {
        return true;
    };
    // reporters / invited >= share, with room for rounding (3 of 150 is 2%).
    let too_many = |invited: usize| invited as f64 * share > reporters as f64 + 1e-9;
    let mut invited: Set<MemberId> = Set::default();
    for r in cx.state.sends_since(m, cx.at.minus(cx.policy.review_window)) {
        if invited.insert(r.recipient) && too_many(invited.len()) {
            return false;
        }
    }
    true
}

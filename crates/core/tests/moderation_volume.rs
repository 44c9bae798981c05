//! SPEC §15: reports scaled by how many the member invited, repeated
//! re-sends and the harassment combination, table-driven at and around
//! their thresholds.

mod common;

use common::*;
use connreq_core::{
    Flag, FlagRule, MemberId, MemoryNetwork, Network, Policy, ReportReason, RequestState, Seq, Standing,
    Timestamp,
};

const HOUR: i64 = 3_600_000;

fn flags_for(net: &MemoryNetwork, member: MemberId, rule: FlagRule) -> Vec<Flag> {
    net.review_queue().unwrap().into_iter().filter(|f| f.member == member && f.rule == rule).collect()
}

fn last_seq(net: &MemoryNetwork, kind: &str) -> Seq {
    all_events(net).into_iter().rev().find(|e| e.kind == kind).expect("an event of that kind").seq
}

/// A (member 1) invites `invited` members (ids from 100) on day `on`, and the
/// first `reports` of them report A for spam the next day; returns the
/// report events.
fn invite_and_report(net: &MemoryNetwork, invited: u64, reports: u64, on: i64) -> Vec<Seq> {
    for k in 0..invited {
        let id = m(100 + k);
        if net.register(id, None, None, day(on)).is_ok() || net.standing(id).is_ok() {
            net.send(A, id, None, None, after(day(on), k as i64)).unwrap();
        }
    }
    (0..reports)
        .map(|k| {
            let reporter = m(100 + k);
            let _ = net.register(reporter, None, None, day(on + 1));
            net.report(reporter, A, ReportReason::Spam, None, after(day(on + 1), k as i64)).unwrap();
            last_seq(net, "member_reported")
        })
        .collect()
}

#[test]
fn reports_flag_only_when_the_reporters_are_a_large_enough_share_of_those_invited() {
    let share = Policy::standard().review_report_share.expect("on by default");
    assert_eq!(share, 0.06);
    // invited, reporters, the share policy, standing after
    let cases: [(&str, u64, u64, Option<f64>, Standing); 11] = [
        ("500 invited, 3 reports: 0.6%", 500, 3, Some(share), Standing::Good),
        ("10 invited, 3 reports: 30%", 10, 3, Some(share), Standing::UnderReview),
        ("nobody invited, 3 reports: counts as 100%", 0, 3, Some(share), Standing::UnderReview),
        ("50 invited, 3 reports: 6% exactly", 50, 3, Some(share), Standing::UnderReview),
        ("51 invited, 3 reports: just under 6%", 51, 3, Some(share), Standing::Good),
        ("83 invited, 5 reports: 6.02%, restricted", 83, 5, Some(share), Standing::Restricted),
        ("84 invited, 5 reports: 5.95%", 84, 5, Some(share), Standing::Good),
        ("10 invited, 2 reports: too few reporters", 10, 2, Some(share), Standing::Good),
        ("500 invited, 3 reports, no share rule", 500, 3, None, Standing::UnderReview),
        ("500 invited, 30 reports: 6%", 500, 30, Some(share), Standing::Restricted),
        ("500 invited, 29 reports: 5.8%", 500, 29, Some(share), Standing::Good),
    ];
    for (label, invited, reports, share, standing) in cases {
        let net = network(Policy { review_report_share: share, ..Policy::standard() }, &[1]);
        let seqs = invite_and_report(&net, invited, reports, 0);
        assert_eq!(net.standing(A).unwrap(), standing, "{label}");
        let flags = flags_for(&net, A, FlagRule::Reported);
        if standing == Standing::Good {
            assert!(flags.is_empty(), "{label}: {flags:?}");
        } else {
            assert_eq!(flags.len(), 1, "{label}");
            assert_eq!(flags[0].evidence, seqs, "{label}: every report in the window is evidence");
        }
    }
}

#[test]
fn only_invitations_within_the_window_and_each_member_once_count_towards_the_share() {
    // 500 invited long ago, 10 recently: the window holds 10.
    let net = network(Policy::standard(), &[1]);
    invite_and_report(&net, 500, 0, 0);
    for k in 0..500 {
        if let Some(id) = net.read(|model| model.open_request(A, m(100 + k))).unwrap() {
            net.withdraw(A, id, None, after(day(95), k as i64)).unwrap();
        }
    }
    for k in 0..10 {
        let id = m(1000 + k);
        net.register(id, None, None, day(100)).unwrap();
        net.send(A, id, None, None, after(day(100), k as i64)).unwrap();
    }
    for k in 0..3 {
        net.report(m(1000 + k), A, ReportReason::Spam, None, after(day(101), k as i64)).unwrap();
    }
    assert_eq!(
        net.standing(A).unwrap(),
        Standing::UnderReview,
        "500 invitations 95+ days ago are outside the window"
    );

    // Twenty sends to the same two members are two members invited.
    let net = network(Policy::standard(), &[1, 2, 3, 4, 5]);
    for k in 0..10 {
        for to in [B, C] {
            let id = net.send(A, to, None, None, after(day(k), 1)).unwrap();
            net.withdraw(A, id, None, after(day(k), 2)).unwrap();
        }
    }
    for (k, reporter) in [C, D, E].into_iter().enumerate() {
        net.report(reporter, A, ReportReason::Harassment, None, after(day(20), k as i64)).unwrap();
    }
    assert_eq!(flags_for(&net, A, FlagRule::Reported).len(), 1, "3 reporters of 2 invited");
}

/// How one of A's requests to B ends.
#[derive(Clone, Copy, Debug)]
enum End {
    Declined,
    Withdrawn,
    IgnoredThenExpired,
}

fn end_request(net: &MemoryNetwork, to: MemberId, end: End, at: Timestamp) -> Timestamp {
    match end {
        End::Declined => request_in(net, A, to, RequestState::Declined, at).1,
        End::Withdrawn => request_in(net, A, to, RequestState::Withdrawn, at).1,
        End::IgnoredThenExpired => {
            let id = net.send(A, to, None, None, at).unwrap();
            net.ignore(to, id, after(at, HOUR)).unwrap();
            let when = after(at, 11 * MS_PER_DAY);
            assert_eq!(net.expire(when).unwrap(), 1);
            when
        }
    }
}

/// A label, how A's earlier requests ended (to whom, on which day), and
/// whether the next send to B flags.
type ResendCase = (&'static str, &'static [(End, u64, i64)], bool);

#[test]
fn sending_again_after_three_unwanted_endings_within_the_window_flags_repeated_resends() {
    use End::*;
    let cases: [ResendCase; 9] = [
        ("two declined", &[(Declined, 2, 0), (Declined, 2, 10)], false),
        ("three declined", &[(Declined, 2, 0), (Declined, 2, 10), (Declined, 2, 20)], true),
        (
            "declined, withdrawn, ignored",
            &[(Declined, 2, 0), (Withdrawn, 2, 20), (IgnoredThenExpired, 2, 40)],
            true,
        ),
        (
            "three ignored until they expired",
            &[(IgnoredThenExpired, 2, 0), (IgnoredThenExpired, 2, 15), (IgnoredThenExpired, 2, 30)],
            true,
        ),
        ("three declined over 120 days", &[(Declined, 2, 0), (Declined, 2, 60), (Declined, 2, 120)], false),
        ("three declined by three people", &[(Declined, 2, 0), (Declined, 3, 10), (Declined, 4, 20)], false),
        ("four declined", &[(Declined, 2, 0), (Declined, 2, 10), (Declined, 2, 20), (Declined, 2, 30)], true),
        (
            "one long ago, three within",
            &[(Declined, 2, 0), (Declined, 2, 100), (Declined, 2, 110), (Declined, 2, 120)],
            true,
        ),
        ("two withdrawn, one declined", &[(Withdrawn, 2, 0), (Withdrawn, 2, 10), (Declined, 2, 20)], true),
    ];
    for (label, endings, flagged) in cases {
        let policy = Policy { pending_ttl: Some(days(10)), ..Policy::standard() };
        let net = network(policy, &[1, 2, 3, 4, 5]);
        let mut t = T0;
        for (end, to, d) in endings {
            t = end_request(&net, m(*to), *end, day(*d).max(after(t, 1)));
        }
        let last = day(endings.last().unwrap().2 + 5).max(after(t, HOUR));
        net.send(A, B, None, None, last).unwrap();
        let sent = last_seq(&net, "invitation_sent");
        let flags = flags_for(&net, A, FlagRule::RepeatedResends);
        assert_eq!(!flags.is_empty(), flagged, "{label}: {flags:?}");
        if flagged {
            let evidence = &flags[0].evidence;
            assert_eq!(evidence.last(), Some(&sent), "{label}: the new request is evidence");
            let kinds: Vec<&str> = net
                .flag_events(flags[0].id)
                .unwrap()
                .iter()
                .map(|e| e.kind)
                .filter(|k| *k == "invitation_sent")
                .collect();
            assert!(kinds.len() >= 4, "{label}: the earlier requests and the new one: {kinds:?}");
            assert_eq!(net.standing(A).unwrap(), Standing::UnderReview, "{label}");
        }
        // Never the other party.
        assert!(flags_for(&net, B, FlagRule::RepeatedResends).is_empty(), "{label}");
    }
}

#[test]
fn the_resends_rule_is_off_when_its_threshold_is_none_and_follows_it_otherwise() {
    for (threshold, flagged) in [(None, false), (Some(2), true), (Some(3), false)] {
        let policy = Policy {
            review_resends_same_person: threshold,
            review_resends_after_harassment: None,
            ..Policy::standard()
        };
        let net = network(policy, &[1, 2]);
        request_in(&net, A, B, RequestState::Declined, day(0));
        request_in(&net, A, B, RequestState::Declined, day(5));
        net.send(A, B, None, None, day(10)).unwrap();
        assert_eq!(!flags_for(&net, A, FlagRule::RepeatedResends).is_empty(), flagged, "{threshold:?}");
    }
}

/// A step between A (sender) and B: a send that B declines, a send left
/// pending, or a report by B.
#[derive(Clone, Copy, Debug)]
enum Step {
    SendDeclined,
    SendPending,
    Report(ReportReason),
}

#[test]
fn a_harassment_report_about_a_send_after_a_decline_is_enough_to_flag() {
    use ReportReason::*;
    use Step::*;
    // steps in order; the policy's declines needed; whether A ends up flagged repeated_resends
    let cases: [(&str, &[Step], Option<u32>, bool); 8] = [
        ("decline, send again, harassment", &[SendDeclined, SendPending, Report(Harassment)], Some(1), true),
        ("decline, harassment, no send again", &[SendDeclined, Report(Harassment)], Some(1), false),
        (
            "decline, harassment, then send again",
            &[SendDeclined, Report(Harassment), SendPending],
            Some(1),
            false,
        ),
        ("decline, send again, spam", &[SendDeclined, SendPending, Report(Spam)], Some(1), false),
        ("no decline, harassment", &[SendPending, Report(Harassment)], Some(1), false),
        ("two declines needed, one given", &[SendDeclined, SendPending, Report(Harassment)], Some(2), false),
        (
            "two declines needed, two given",
            &[SendDeclined, SendDeclined, SendPending, Report(Harassment)],
            Some(2),
            true,
        ),
        ("the combination off", &[SendDeclined, SendPending, Report(Harassment)], None, false),
    ];
    for (label, steps, needed, flagged) in cases {
        let net = network(Policy { review_resends_after_harassment: needed, ..Policy::standard() }, &[1, 2]);
        let mut evidence = Vec::new();
        for (k, step) in steps.iter().enumerate() {
            let at = day(k as i64 * 3);
            match step {
                SendDeclined => {
                    request_in(&net, A, B, RequestState::Declined, at);
                    evidence.push(last_seq(&net, "invitation_sent"));
                    evidence.push(last_seq(&net, "invitation_declined"));
                }
                SendPending => {
                    net.send(A, B, None, None, at).unwrap();
                    evidence.push(last_seq(&net, "invitation_sent"));
                }
                Report(reason) => {
                    net.report(B, A, *reason, None, at).unwrap();
                    evidence.push(last_seq(&net, "member_reported"));
                }
            }
        }
        let flags = flags_for(&net, A, FlagRule::RepeatedResends);
        assert_eq!(!flags.is_empty(), flagged, "{label}: {flags:?}");
        if flagged {
            assert_eq!(flags[0].evidence, evidence, "{label}: the whole story, in order");
        }
    }
}

#[test]
fn a_decision_on_one_pair_rule_spends_the_evidence_for_both() {
    let net = standard();
    for d in 0..3 {
        request_in(&net, A, B, RequestState::Withdrawn, day(d));
    }
    let withdrawals = flags_for(&net, A, FlagRule::RepeatedWithdrawals);
    assert_eq!(withdrawals.len(), 1);
    net.resolve_flag(withdrawals[0].id, connreq_core::Decision::Clear, day(4)).unwrap();
    net.send(A, B, None, None, day(5)).unwrap();
    assert!(
        flags_for(&net, A, FlagRule::RepeatedResends).is_empty(),
        "the three withdrawals a moderator cleared do not flag the next send"
    );
    assert_eq!(net.standing(A).unwrap(), Standing::Good);
}

mod share_property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Reports flag exactly when there are enough reporters and they make
        /// up the share of the distinct members invited in the window.
        #[test]
        fn reports_flag_exactly_when_count_and_share_are_both_met(
            invited in 0u64..120,
            reporters in 1u64..10,
            share in prop::option::of(0.01f64..0.5),
        ) {
            let policy = Policy { review_report_share: share, ..Policy::standard() };
            let net = network(policy.clone(), &[1]);
            invite_and_report(&net, invited, reporters, 0);
            let enough = reporters >= u64::from(policy.review_after_reports.unwrap());
            let met = share.is_none_or(|s| invited == 0 || reporters as f64 >= s * invited as f64 - 1e-9);
            let flagged = !flags_for(&net, A, FlagRule::Reported).is_empty();
            prop_assert_eq!(flagged, enough && met, "{} invited, {} reporters, share {:?}", invited, reporters, share);
            let restricted = net.standing(A).unwrap() == Standing::Restricted;
            let restrict = reporters >= u64::from(policy.restrict_after_reports.unwrap());
            prop_assert_eq!(restricted, restrict && met);
        }
    }
}

//! SPEC §4: moderation thresholds, table-driven.

mod common;

use common::*;
use connreq_core::{
    Decision, Error, Flag, FlagRule, FlagStatus, MemberId, MemoryNetwork, Network, Policy, ReportReason,
    RequestState, Seq, Standing, Timestamp,
};

const HOUR: i64 = 3_600_000;

/// A label, events as (member, day), and the indices of the events a flag holds as evidence.
type WithdrawalCase = (&'static str, &'static [(u64, i64)], Option<&'static [usize]>);
/// As [`WithdrawalCase`], with the standing expected at the end.
type ReportCase = (&'static str, &'static [(u64, i64)], Standing, Option<&'static [usize]>);

fn last_seq(net: &MemoryNetwork, kind: &str) -> Seq {
    all_events(net).into_iter().rev().find(|e| e.kind == kind).expect("an event of that kind").seq
}

/// `s` invites `r` at `at` and withdraws an hour later; returns the withdrawal's event.
fn withdrawal(net: &MemoryNetwork, s: MemberId, r: MemberId, at: Timestamp) -> Seq {
    let id = net.send(s, r, None, None, at).unwrap();
    net.withdraw(s, id, None, after(at, HOUR)).unwrap();
    last_seq(net, "invitation_withdrawn")
}

fn open_flags(net: &MemoryNetwork, member: MemberId) -> Vec<Flag> {
    net.review_queue().unwrap().into_iter().filter(|f| f.member == member).collect()
}

fn open_flags_for(net: &MemoryNetwork, member: MemberId, rule: FlagRule) -> Vec<Flag> {
    open_flags(net, member).into_iter().filter(|f| f.rule == rule).collect()
}

fn members() -> Vec<u64> {
    (1..=12).collect()
}

#[test]
fn repeated_withdrawals_to_one_person_within_the_window_flag_the_sender() {
    // withdrawals by A as (recipient, day); which of them are evidence of a flag
    let cases: [WithdrawalCase; 9] = [
        ("one withdrawal", &[(2, 0)], None),
        ("two to one person", &[(2, 0), (2, 1)], None),
        ("three to one person within 90 days", &[(2, 0), (2, 30), (2, 88)], Some(&[0, 1, 2])),
        ("three to one person on one day", &[(2, 0), (2, 0), (2, 0)], Some(&[0, 1, 2])),
        ("three spread over 200 days", &[(2, 0), (2, 100), (2, 200)], None),
        ("three spread over 92 days", &[(2, 0), (2, 46), (2, 92)], None),
        ("two each to four people", &[(2, 0), (3, 0), (4, 0), (5, 0), (2, 1), (3, 1), (4, 1), (5, 1)], None),
        (
            "one each to ten people",
            &[(2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0), (8, 0), (9, 0), (10, 0), (11, 0)],
            None,
        ),
        ("two long ago, then three", &[(2, 0), (2, 1), (2, 150), (2, 151), (2, 152)], Some(&[2, 3, 4])),
    ];
    for (label, withdrawals, evidence) in cases {
        let net = network(Policy::standard(), &members());
        // Each send two hours after the one before on the same day: the log's clock never runs backwards.
        let seqs: Vec<Seq> = withdrawals
            .iter()
            .enumerate()
            .map(|(k, (to, d))| withdrawal(&net, A, m(*to), after(day(*d), 2 * HOUR * k as i64)))
            .collect();
        let flags = open_flags(&net, A);
        match evidence {
            None => {
                assert!(flags.is_empty(), "{label}: {flags:?}");
                assert_eq!(net.standing(A).unwrap(), Standing::Good, "{label}");
            }
            Some(idx) => {
                assert_eq!(flags.len(), 1, "{label}");
                assert_eq!(flags[0].rule, FlagRule::RepeatedWithdrawals, "{label}");
                assert_eq!(flags[0].status, FlagStatus::Open, "{label}");
                assert_eq!(flags[0].evidence, idx.iter().map(|i| seqs[*i]).collect::<Vec<_>>(), "{label}");
                assert_eq!(net.standing(A).unwrap(), Standing::UnderReview, "{label}");
            }
        }
        for other in 2..=12 {
            assert_eq!(
                net.standing(m(other)).unwrap(),
                Standing::Good,
                "{label}: recipients are not flagged"
            );
        }
    }
}

#[test]
fn a_fourth_withdrawal_adds_evidence_to_the_same_open_flag() {
    let net = network(Policy::standard(), &members());
    let mut seqs: Vec<Seq> = (0..3).map(|d| withdrawal(&net, A, B, day(d))).collect();
    let first = open_flags(&net, A);
    seqs.push(withdrawal(&net, A, B, day(10)));
    let after_fourth = open_flags_for(&net, A, FlagRule::RepeatedWithdrawals);
    assert_eq!(after_fourth.len(), 1);
    assert_eq!(after_fourth[0].id, first[0].id);
    assert_eq!(after_fourth[0].evidence, seqs);
    assert_eq!(after_fourth[0].created_at, first[0].created_at);
    seqs.push(withdrawal(&net, A, B, day(11)));
    assert_eq!(open_flags_for(&net, A, FlagRule::RepeatedWithdrawals)[0].evidence, seqs);
    // The fourth send was a re-send after three withdrawals: one flag of that rule too, and no more.
    let rules: Vec<String> = all_events(&net)
        .iter()
        .filter(|e| e.kind == "account_flagged")
        .map(|e| serde_json::from_str::<serde_json::Value>(&e.detail).unwrap()["rule"].to_string())
        .collect();
    assert_eq!(rules, ["\"repeated_withdrawals\"", "\"repeated_resends\""]);
}

#[test]
fn clearing_a_flag_resets_to_good_and_only_later_withdrawals_count_again() {
    let net = network(Policy::standard(), &members());
    for d in 0..3 {
        withdrawal(&net, A, B, day(d));
    }
    let flag = open_flags(&net, A)[0].id;
    net.resolve_flag(flag, Decision::Clear, day(3)).unwrap();
    assert_eq!(net.standing(A).unwrap(), Standing::Good);
    withdrawal(&net, A, B, day(4));
    assert_eq!(net.standing(A).unwrap(), Standing::Good, "one more withdrawal does not re-flag");
    assert!(open_flags(&net, A).is_empty());
    let s2 = withdrawal(&net, A, B, day(5));
    assert!(open_flags(&net, A).is_empty());
    let s3 = withdrawal(&net, A, B, day(6));
    let again = open_flags(&net, A);
    assert_eq!(again.len(), 1, "three withdrawals after the clearing flag again");
    assert_ne!(again[0].id, flag);
    assert_eq!(again[0].evidence.len(), 3);
    assert_eq!(&again[0].evidence[1..], [s2, s3]);
    assert_eq!(net.standing(A).unwrap(), Standing::UnderReview);
}

#[test]
fn the_withdrawal_threshold_and_window_follow_the_policy() {
    let policy =
        Policy { review_withdrawals_same_person: Some(2), review_window: days(10), ..Policy::standard() };
    let net = network(policy, &members());
    withdrawal(&net, A, B, day(0));
    withdrawal(&net, A, B, day(11));
    assert!(open_flags(&net, A).is_empty(), "outside a ten-day window");
    withdrawal(&net, A, B, day(12));
    assert_eq!(open_flags(&net, A).len(), 1);
}

fn report(net: &MemoryNetwork, reporter: u64, reported: MemberId, at: Timestamp) -> Seq {
    net.report(m(reporter), reported, ReportReason::Spam, None, at).unwrap();
    last_seq(net, "member_reported")
}

#[test]
fn reports_from_distinct_members_within_the_window_flag_then_restrict() {
    // reports against A as (reporter, day); the standing after; which reports are evidence
    let cases: [ReportCase; 9] = [
        ("one report", &[(2, 0)], Standing::Good, None),
        ("two distinct reporters", &[(2, 0), (3, 0)], Standing::Good, None),
        ("three distinct reporters", &[(2, 0), (3, 1), (4, 2)], Standing::UnderReview, Some(&[0, 1, 2])),
        (
            "four distinct reporters",
            &[(2, 0), (3, 0), (4, 0), (5, 0)],
            Standing::UnderReview,
            Some(&[0, 1, 2, 3]),
        ),
        (
            "five distinct reporters",
            &[(2, 0), (3, 0), (4, 0), (5, 0), (6, 0)],
            Standing::Restricted,
            Some(&[0, 1, 2, 3, 4]),
        ),
        ("the same reporter five times", &[(2, 0), (2, 1), (2, 2), (2, 3), (2, 4)], Standing::Good, None),
        ("two reporters, twice each", &[(2, 0), (3, 0), (2, 1), (3, 1)], Standing::Good, None),
        (
            "a third reporter after repeats",
            &[(2, 0), (2, 1), (3, 1), (4, 2)],
            Standing::UnderReview,
            Some(&[0, 1, 2, 3]),
        ),
        ("three reporters over 95 days", &[(2, 0), (3, 1), (4, 95)], Standing::Good, None),
    ];
    for (label, reports, standing, evidence) in cases {
        let net = network(Policy::standard(), &members());
        let seqs: Vec<Seq> = reports.iter().map(|(who, d)| report(&net, *who, A, day(*d))).collect();
        assert_eq!(net.standing(A).unwrap(), standing, "{label}");
        let flags = open_flags(&net, A);
        match evidence {
            None => assert!(flags.is_empty(), "{label}: {flags:?}"),
            Some(idx) => {
                assert_eq!(flags.len(), 1, "{label}");
                assert_eq!(flags[0].rule, FlagRule::Reported, "{label}");
                let expected: Vec<Seq> = idx.iter().map(|i| seqs[*i]).collect();
                assert_eq!(flags[0].evidence, expected, "{label}");
            }
        }
        let send = net.send(A, m(12), None, None, day(100));
        let expected_send = if standing == Standing::Restricted { "AccountRestricted" } else { "ok" };
        assert_eq!(outcome(send), expected_send, "{label}");
    }
}

#[test]
fn reports_in_the_window_count_and_older_ones_do_not() {
    let net = network(Policy::standard(), &members());
    report(&net, 2, A, day(0));
    report(&net, 3, A, day(50));
    report(&net, 4, A, day(89));
    assert_eq!(net.standing(A).unwrap(), Standing::UnderReview);

    let net = network(Policy::standard(), &members());
    for (who, d) in [(2, 0), (3, 1), (4, 2), (5, 3), (6, 200)] {
        report(&net, who, A, day(d));
    }
    assert_eq!(net.standing(A).unwrap(), Standing::UnderReview, "the fifth report came after the window");
}

#[test]
fn a_moderator_can_clear_an_automatic_restriction() {
    let net = network(Policy::standard(), &members());
    for who in 2..=6 {
        report(&net, who, A, day(0));
    }
    assert_eq!(net.send(A, m(12), None, None, day(1)), Err(Error::AccountRestricted));
    let flag = open_flags(&net, A)[0].id;
    net.resolve_flag(flag, Decision::Clear, day(2)).unwrap();
    assert_eq!(net.standing(A).unwrap(), Standing::Good);
    assert!(net.send(A, m(12), None, None, day(3)).is_ok());
    report(&net, 7, A, day(4));
    assert_eq!(net.standing(A).unwrap(), Standing::Good, "cleared reports are not counted again");
}

#[test]
fn a_restriction_by_decision_outlasts_the_clearing_of_other_flags() {
    let net = network(Policy::standard(), &members());
    for d in 0..3 {
        withdrawal(&net, A, B, day(d));
    }
    for who in 3..=5 {
        report(&net, who, A, day(3));
    }
    let flags = open_flags(&net, A);
    assert_eq!(
        flags.iter().map(|f| f.rule).collect::<Vec<_>>(),
        [FlagRule::RepeatedWithdrawals, FlagRule::Reported]
    );
    net.resolve_flag(flags[1].id, Decision::Restrict, day(4)).unwrap();
    net.resolve_flag(flags[0].id, Decision::Clear, day(5)).unwrap();
    assert_eq!(net.standing(A).unwrap(), Standing::Restricted);
    assert_eq!(net.send(A, m(12), None, None, day(6)), Err(Error::AccountRestricted));
}

#[test]
fn clearing_one_of_two_open_flags_leaves_the_member_under_review() {
    let net = network(Policy::standard(), &members());
    for d in 0..3 {
        withdrawal(&net, A, B, day(d));
    }
    for who in 3..=5 {
        report(&net, who, A, day(3));
    }
    let flags = open_flags(&net, A);
    net.resolve_flag(flags[0].id, Decision::Clear, day(4)).unwrap();
    assert_eq!(net.standing(A).unwrap(), Standing::UnderReview);
    net.resolve_flag(flags[1].id, Decision::Clear, day(5)).unwrap();
    assert_eq!(net.standing(A).unwrap(), Standing::Good);
}

#[test]
fn the_burst_rule_is_off_by_default() {
    let net = network(Policy::standard(), &members());
    for to in 2..=12 {
        net.send(A, m(to), None, None, minute(to as i64)).unwrap();
    }
    assert!(net.review_queue().unwrap().is_empty());
}

#[test]
fn the_burst_rule_flags_more_than_the_policys_sends_in_an_hour() {
    let policy = Policy { burst_per_hour: Some(5), ..Policy::standard() };
    // minutes after T0 at which A sends; whether that is a burst
    let cases: [(&str, &[i64], bool); 4] = [
        ("five in an hour", &[0, 1, 2, 3, 4], false),
        ("six in an hour", &[0, 10, 20, 30, 40, 50], true),
        ("six in two hours", &[0, 20, 40, 60, 80, 100], false),
        ("eleven spread at five an hour", &[0, 1, 2, 3, 4, 61, 62, 63, 64, 65, 122], false),
    ];
    for (label, minutes, burst) in cases {
        let net = network(policy.clone(), &members());
        let mut seqs = Vec::new();
        for (i, at) in minutes.iter().enumerate() {
            net.send(A, m(i as u64 + 2), None, None, minute(*at)).unwrap();
            seqs.push(last_seq(&net, "invitation_sent"));
        }
        let flags = open_flags(&net, A);
        assert_eq!(!flags.is_empty(), burst, "{label}");
        if burst {
            assert_eq!(flags[0].rule, FlagRule::Burst);
            assert_eq!(flags[0].evidence, seqs, "{label}");
            assert_eq!(net.standing(A).unwrap(), Standing::UnderReview);
        }
    }
}

#[test]
fn the_low_acceptance_rule_is_off_by_default() {
    let net = network(Policy::standard(), &members());
    for to in 2..=12 {
        request_in(&net, A, m(to), RequestState::Declined, minute(to as i64));
    }
    assert!(net.review_queue().unwrap().is_empty());
}

#[test]
fn the_low_acceptance_rule_flags_too_few_accepted_among_the_last_resolved() {
    use RequestState::*;
    let policy = Policy {
        low_acceptance_min_resolved: Some(4),
        low_acceptance_max_rate: Some(0.5),
        pending_ttl: Some(days(30)),
        ..Policy::standard()
    };
    let cases: [(&str, &[RequestState], bool); 7] = [
        ("three declined: too few to judge", &[Declined, Declined, Declined], false),
        ("one accepted of four", &[Accepted, Declined, Declined, Declined], true),
        ("two accepted of four", &[Accepted, Declined, Accepted, Ignored], false),
        ("four ignored", &[Ignored, Ignored, Ignored, Ignored], true),
        ("four expired", &[Expired, Expired, Expired, Expired], true),
        ("bad start, good last four", &[Declined, Declined, Accepted, Accepted, Accepted, Declined], false),
        ("withdrawals are not outcomes", &[Withdrawn, Withdrawn, Withdrawn, Accepted, Accepted], false),
    ];
    for (label, outcomes, flagged) in cases {
        let net = network(policy.clone(), &members());
        let mut t = T0;
        for (i, state) in outcomes.iter().enumerate() {
            t = request_in(&net, A, m(i as u64 + 2), *state, after(t, 1)).1;
        }
        let flags = open_flags(&net, A);
        assert_eq!(!flags.is_empty(), flagged, "{label}: {flags:?}");
        if flagged {
            assert_eq!(flags[0].rule, FlagRule::LowAcceptance, "{label}");
            assert_eq!(flags[0].evidence.len(), 4, "{label}");
        }
    }
}

#[test]
fn moderation_never_shows_in_a_public_profile() {
    let net = network(Policy { burst_per_hour: Some(1), ..Policy::standard() }, &members());
    let before = net.public_profile(A).unwrap();
    for d in 0..3 {
        withdrawal(&net, A, B, day(d));
    }
    for who in 3..=7 {
        report(&net, who, A, day(3));
    }
    assert_eq!(net.standing(A).unwrap(), Standing::Restricted);
    assert_eq!(net.public_profile(A).unwrap(), before);
}

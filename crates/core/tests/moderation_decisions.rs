//! SPEC §15 "Who decided": a flag records its moderator, note and time; a
//! restriction by decision can be lifted; `flag_events` gives the events
//! behind a flag.

mod common;

use common::*;
use connreq_core::{
    Decision, Error, FlagRule, FlagStatus, MemberId, Network, Policy, RequestState, Standing,
};

const MODERATOR: MemberId = MemberId(9);

fn withdrawals_flag(net: &connreq_core::MemoryNetwork) -> connreq_core::FlagId {
    for d in 0..3 {
        request_in(net, A, B, RequestState::Withdrawn, day(d));
    }
    let queue = net.review_queue().unwrap();
    queue.iter().find(|f| f.rule == FlagRule::RepeatedWithdrawals).unwrap().id
}

#[test]
fn resolving_records_who_decided_why_and_when() {
    let net = network(Policy::standard(), &[1, 2, 9]);
    let flag = withdrawals_flag(&net);
    let open = net.read(|m| m.flag(flag)).unwrap().unwrap();
    assert_eq!((open.resolved_by, open.resolution_note.clone(), open.resolved_at), (None, None, None));
    net.resolve_flag_by(flag, Decision::Clear, Some(MODERATOR), Some("a job hunt, not abuse"), day(4))
        .unwrap();
    let f = net.read(|m| m.flag(flag)).unwrap().unwrap();
    assert_eq!(f.status, FlagStatus::Cleared);
    assert_eq!(f.resolved_by, Some(MODERATOR));
    assert_eq!(f.resolution_note.as_deref(), Some("a job hunt, not abuse"));
    assert_eq!(f.resolved_at, Some(day(4)));
    let event = all_events(&net).into_iter().rev().find(|e| e.kind == "flag_resolved").unwrap();
    assert_eq!(event.actor, Some(MODERATOR));
    let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap();
    assert_eq!(detail["note"], "a job hunt, not abuse");
}

#[test]
fn a_moderator_and_note_are_checked_before_anything_is_recorded() {
    let net = network(Policy::standard(), &[1, 2, 9]);
    let flag = withdrawals_flag(&net);
    let before = event_count(&net);
    let long = "x".repeat(2_001);
    let cases: [(&str, Option<MemberId>, Option<&str>, &str); 4] = [
        ("an unregistered moderator", Some(MemberId(77)), None, "UnknownMember"),
        ("a note too long", Some(MODERATOR), Some(long.as_str()), "NoteTooLong"),
        ("a control character", None, Some("bad\u{7}"), "InvalidInput"),
        ("a bidirectional override", None, Some("ok\u{202e}"), "InvalidInput"),
    ];
    for (label, moderator, note, error) in cases {
        assert_eq!(
            outcome(net.resolve_flag_by(flag, Decision::Clear, moderator, note, day(5))),
            error,
            "{label}"
        );
    }
    assert_eq!(event_count(&net), before, "nothing recorded");
    net.resolve_flag_by(flag, Decision::Clear, None, Some("   "), day(5)).unwrap();
    assert_eq!(net.read(|m| m.flag(flag)).unwrap().unwrap().resolution_note, None, "whitespace is no note");
}

#[test]
fn a_restriction_by_decision_can_be_lifted_and_the_standing_follows_the_flags_left_open() {
    let net = network(Policy::standard(), &[1, 2, 3, 4, 5, 9]);
    let flag = withdrawals_flag(&net);
    net.resolve_flag_by(flag, Decision::Restrict, Some(MODERATOR), Some("cycling"), day(4)).unwrap();
    assert_eq!(net.send(A, C, None, None, day(5)), Err(Error::AccountRestricted));
    assert_eq!(net.read(|m| m.restricted_by_decision(A)).unwrap(), Ok(true));
    net.lift_restriction(A, Some(MODERATOR), Some("appeal upheld"), day(6)).unwrap();
    assert_eq!(net.read(|m| m.restricted_by_decision(A)).unwrap(), Ok(false));
    assert_eq!(net.standing(A).unwrap(), Standing::Good);
    let lifted = all_events(&net).into_iter().rev().find(|e| e.kind == "restriction_lifted").unwrap();
    assert_eq!((lifted.actor, lifted.subject), (Some(MODERATOR), Some(A)));
    assert!(lifted.detail.contains("appeal upheld"), "{}", lifted.detail);
    let flag_after = net.read(|m| m.flag(flag)).unwrap().unwrap();
    assert_eq!(flag_after.status, FlagStatus::Restricted, "the decision stays on record");
    // The evidence decided on is spent: the next send and withdrawal to B flag nothing.
    request_in(&net, A, B, RequestState::Withdrawn, day(7));
    assert!(net.review_queue().unwrap().is_empty(), "{:?}", net.review_queue().unwrap());
    assert_eq!(net.standing(A).unwrap(), Standing::Good);
    // Lifting twice, or lifting a member nobody restricted, is refused.
    assert_eq!(outcome(net.lift_restriction(A, None, None, day(8))), "InvalidInput");
    assert_eq!(outcome(net.lift_restriction(C, None, None, day(8))), "InvalidInput");
    assert_eq!(outcome(net.lift_restriction(MemberId(99), None, None, day(8))), "UnknownMember");
}

#[test]
fn lifting_leaves_a_member_with_an_open_flag_under_review_and_never_lifts_an_automatic_restriction() {
    let net = network(Policy::standard(), &[1, 2, 3, 4, 5, 9]);
    let flag = withdrawals_flag(&net);
    net.resolve_flag(flag, Decision::Restrict, day(4)).unwrap();
    // Three reports from members A never invited: a reported flag opens.
    for (k, reporter) in [C, D, E].into_iter().enumerate() {
        net.report(reporter, A, connreq_core::ReportReason::Spam, None, after(day(5), k as i64)).unwrap();
    }
    net.lift_restriction(A, None, None, day(6)).unwrap();
    assert_eq!(net.standing(A).unwrap(), Standing::UnderReview);

    let net = network(Policy::standard(), &[1, 2]);
    restrict_by_reports(&net, A, 10, day(1));
    assert_eq!(net.standing(A).unwrap(), Standing::Restricted);
    assert_eq!(net.read(|m| m.restricted_by_decision(A)).unwrap(), Ok(false), "restricted automatically");
    assert_eq!(
        outcome(net.lift_restriction(A, None, None, day(2))),
        "InvalidInput",
        "clear its flag instead"
    );
}

#[test]
fn flag_events_are_the_events_behind_the_evidence_in_order() {
    let net = network(Policy::standard(), &[1, 2, 9]);
    let flag = withdrawals_flag(&net);
    let evidence = net.read(|m| m.flag(flag)).unwrap().unwrap().evidence;
    let events = net.flag_events(flag).unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), evidence);
    assert!(events.iter().all(|e| e.kind == "invitation_withdrawn" && e.actor == Some(A)));
    assert_eq!(outcome(net.flag_events(connreq_core::FlagId(42))), "NotFound");
}

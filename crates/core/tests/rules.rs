//! SPEC §1–4 and §8: every rule and every error, through the `Network` trait on
//! `MemoryNetwork`.

mod common;

use common::*;
use connreq_core::{
    Command, Decision, EmailId, Error, FlagId, FlagRule, FlagStatus, InvitationSetting, MemberId,
    MemoryNetwork, Network, NotificationId, NotificationKind, Policy, PublicProfile, ReportReason, RequestId,
    RequestState, ReverseRequest, Seq, Standing, Timestamp,
};
use std::collections::BTreeSet;
use std::time::Duration;

const UNKNOWN: MemberId = MemberId(99);

type Probe = Box<dyn Fn(&MemoryNetwork) -> Result<(), Error>>;
type Step = Box<dyn Fn(&MemoryNetwork)>;

fn policy_with_ttl(ttl_days: u64) -> Policy {
    Policy { pending_ttl: Some(days(ttl_days)), ..Policy::standard() }
}

// ---------------------------------------------------------------- §1 members

#[test]
fn every_command_and_query_refuses_an_unregistered_member() {
    let net = standard();
    let id = net.send(A, B, None, None, T0).unwrap();
    let t = minute(1);
    let probes: Vec<(&str, Probe)> = vec![
        ("send from", Box::new(move |n| n.send(UNKNOWN, B, None, None, t).map(drop))),
        ("send to", Box::new(move |n| n.send(A, UNKNOWN, None, None, t).map(drop))),
        ("accept", Box::new(move |n| n.accept(UNKNOWN, id, t))),
        ("ignore", Box::new(move |n| n.ignore(UNKNOWN, id, t))),
        ("decline", Box::new(move |n| n.decline(UNKNOWN, id, None, t))),
        ("withdraw", Box::new(move |n| n.withdraw(UNKNOWN, id, None, t))),
        (
            "set_invitation_setting",
            Box::new(move |n| n.set_invitation_setting(UNKNOWN, InvitationSetting::Nobody, t)),
        ),
        ("import_contacts", Box::new(move |n| n.import_contacts(UNKNOWN, &["x@example.com"], t))),
        ("remove_connection member", Box::new(move |n| n.remove_connection(UNKNOWN, A, t))),
        ("remove_connection other", Box::new(move |n| n.remove_connection(A, UNKNOWN, t))),
        ("block blocker", Box::new(move |n| n.block(UNKNOWN, A, t))),
        ("block blocked", Box::new(move |n| n.block(A, UNKNOWN, t))),
        ("unblock blocker", Box::new(move |n| n.unblock(UNKNOWN, A, t))),
        ("unblock blocked", Box::new(move |n| n.unblock(A, UNKNOWN, t))),
        ("report reporter", Box::new(move |n| n.report(UNKNOWN, A, ReportReason::Spam, None, t))),
        ("report reported", Box::new(move |n| n.report(A, UNKNOWN, ReportReason::Spam, None, t))),
        ("mark_read", Box::new(move |n| n.mark_read(UNKNOWN, &[], t))),
        ("sent", Box::new(|n| n.sent(UNKNOWN, None).map(drop))),
        ("received", Box::new(|n| n.received(UNKNOWN, None).map(drop))),
        ("connections", Box::new(|n| n.connections(UNKNOWN).map(drop))),
        ("connection_count", Box::new(|n| n.connection_count(UNKNOWN).map(drop))),
        ("are_connected a", Box::new(|n| n.are_connected(UNKNOWN, A).map(drop))),
        ("are_connected b", Box::new(|n| n.are_connected(A, UNKNOWN).map(drop))),
        ("mutual_connections a", Box::new(|n| n.mutual_connections(UNKNOWN, A).map(drop))),
        ("mutual_connections b", Box::new(|n| n.mutual_connections(A, UNKNOWN).map(drop))),
        ("is_blocked blocker", Box::new(|n| n.is_blocked(UNKNOWN, A).map(drop))),
        ("is_blocked blocked", Box::new(|n| n.is_blocked(A, UNKNOWN).map(drop))),
        ("notifications", Box::new(|n| n.notifications(UNKNOWN, false).map(drop))),
        ("standing", Box::new(|n| n.standing(UNKNOWN).map(drop))),
        ("public_profile", Box::new(|n| n.public_profile(UNKNOWN).map(drop))),
    ];
    let before = event_count(&net);
    for (label, probe) in &probes {
        assert_eq!(probe(&net), Err(Error::UnknownMember(UNKNOWN)), "{label}");
    }
    assert_eq!(event_count(&net), before, "a refused command records nothing");
    assert_eq!(net.request(id).unwrap().state, RequestState::Pending);
}

#[test]
fn registering_a_member_twice_is_member_exists_and_keeps_the_first_registration() {
    let net = standard();
    assert_eq!(
        net.register(A, Some("other@example.com"), Some("Other"), minute(1)),
        Err(Error::MemberExists(A))
    );
    assert_eq!(net.public_profile(A).unwrap().name.as_deref(), Some("Ada"));
    net.send(B, A, None, None, minute(2)).unwrap();
    let emails = net.pending_emails(None).unwrap();
    assert_eq!(emails[0].address, address(1));
}

#[test]
fn any_member_id_works_the_same_however_the_ids_are_spread() {
    // Dense ids live in an array and far-off ones in a map: behaviour must not
    // depend on which, nor on the order members arrive in.
    let ids = [u64::MAX, 7, 0, 1 << 40, 3, 9_000_000, 5_000];
    let net = network(Policy::standard(), &ids);
    let mut sent = Vec::new();
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            sent.push((m(*a), m(*b), net.send(m(*a), m(*b), None, None, minute(i as i64)).unwrap()));
        }
    }
    for (k, (s, r, id)) in sent.iter().enumerate() {
        if k % 2 == 0 {
            net.accept(*r, *id, minute(30)).unwrap();
            assert!(net.are_connected(*s, *r).unwrap());
        }
    }
    for id in ids {
        let mine: Vec<RequestId> = sent.iter().filter(|(s, _, _)| *s == m(id)).map(|t| t.2).collect();
        let theirs: Vec<RequestId> = sent.iter().filter(|(_, r, _)| *r == m(id)).map(|t| t.2).collect();
        assert_eq!(net.sent(m(id), None).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), mine, "{id}");
        assert_eq!(
            net.received(m(id), None).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(),
            theirs,
            "{id}"
        );
        assert_eq!(net.public_profile(m(id)).unwrap().name, Some(name(id)));
        assert_eq!(net.unread_count(m(id)).unwrap() as usize, net.notifications(m(id), true).unwrap().len());
    }
    assert_eq!(net.register(m(1 << 40), None, None, minute(40)), Err(Error::MemberExists(m(1 << 40))));
    assert_eq!(net.sent(m(8), None), Err(Error::UnknownMember(m(8))));
    assert!(net.read(|model| model.invariant_violations()).unwrap().is_empty());
}

#[test]
fn lists_come_back_oldest_first_however_long_they_grow() {
    // A member's requests and inbox are threaded through the records; walk them
    // across many entries, interleaved with other members' traffic.
    let ids: Vec<u64> = (1..=40).collect();
    let net = network(Policy::standard(), &ids);
    let mut to_one = Vec::new();
    for round in 0..3 {
        for s in 2..=40 {
            let t = minute(round * 100 + s as i64);
            let id = net.send(m(s), m(1), None, None, t).unwrap();
            to_one.push(id);
            if s % 3 == 0 {
                net.withdraw(m(s), id, None, t).unwrap();
            } else if round < 2 {
                net.decline(m(1), id, None, t).unwrap();
            }
            if s < 40 {
                net.send(m(s), m(s + 1), None, None, t).ok();
            }
        }
    }
    let received: Vec<RequestId> = net.received(m(1), None).unwrap().iter().map(|r| r.id).collect();
    assert_eq!(received, to_one);
    let inbox = net.notifications(m(1), false).unwrap();
    assert!(inbox.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    assert_eq!(inbox.len(), to_one.len() + to_one.len() / 3, "one per request, one more per withdrawal");
    let pending = net.received(m(1), Some(RequestState::Pending)).unwrap();
    assert_eq!(
        pending.iter().map(|r| r.id).collect::<Vec<_>>(),
        to_one[to_one.len() - 39..]
            .iter()
            .copied()
            .enumerate()
            .filter(|(i, _)| (i + 2) % 3 != 0)
            .map(|(_, id)| id)
            .collect::<Vec<_>>()
    );
    assert!(net.read(|model| model.invariant_violations()).unwrap().is_empty());
}

#[test]
fn invalid_email_addresses_are_refused_at_registration() {
    let too_long = format!("{}@example.com", "a".repeat(255 - "@example.com".len() + 1));
    assert_eq!(too_long.len(), 256);
    let exactly_255 = format!("{}@b", "a".repeat(253));
    assert_eq!(exactly_255.len(), 255);
    let cases = [
        ("", "empty"),
        ("no-at-sign.example.com", "no @"),
        ("two@at@example.com", "two @"),
        ("@example.com", "nothing before @"),
        ("someone@", "nothing after @"),
        ("with space@example.com", "space"),
        ("tab\t@example.com", "tab"),
        ("line\n@example.com", "newline"),
        ("bell\u{7}@example.com", "control character"),
        (too_long.as_str(), "over 254 bytes"),
        (exactly_255.as_str(), "255 bytes"),
    ];
    let net = standard();
    for (i, (bad, why)) in cases.iter().enumerate() {
        let id = m(100 + i as u64);
        assert!(
            matches!(net.register(id, Some(bad), None, T0), Err(Error::InvalidInput(_))),
            "{why}: {bad:?} was accepted"
        );
        assert_eq!(net.public_profile(id), Err(Error::UnknownMember(id)), "{why}: registered anyway");
    }
}

#[test]
fn valid_email_addresses_are_accepted_up_to_254_bytes() {
    // The longest: a local part of 64 bytes (more is no address an SMTP library
    // takes, SPEC §18) and a domain of labels of at most 63.
    let longest = format!("{}@{}.{}.{}", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(61));
    assert_eq!(longest.len(), 254);
    let net = standard();
    for (i, good) in
        ["a@b", "Mixed.Case+tag@Example.COM", "ünï@çødé.example", longest.as_str()].iter().enumerate()
    {
        net.register(m(100 + i as u64), Some(good), None, T0).unwrap_or_else(|e| panic!("{good:?}: {e}"));
    }
}

#[test]
fn invalid_addresses_are_refused_in_contacts_and_in_send() {
    let net = standard();
    assert!(matches!(
        net.import_contacts(B, &["ok@example.com", "not an address"], T0),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(net.send(A, B, None, Some("nope"), T0), Err(Error::InvalidInput(_))));
    assert!(net.sent(A, None).unwrap().is_empty());
}

#[test]
fn names_with_control_characters_or_line_breaks_are_refused() {
    let net = standard();
    for (i, bad) in
        ["Eve\r\nBcc: all@example.com", "Eve\nSmith", "tab\tname", "nul\u{0}", "   "].iter().enumerate()
    {
        let id = m(100 + i as u64);
        assert!(matches!(net.register(id, None, Some(bad), T0), Err(Error::InvalidInput(_))), "{bad:?}");
        assert_eq!(net.public_profile(id), Err(Error::UnknownMember(id)));
    }
}

#[derive(Clone, Copy)]
enum Known {
    Nothing,
    Sender(&'static str),
    Other,
}

#[test]
fn the_recipients_invitation_setting_decides_who_may_invite() {
    use InvitationSetting as S;
    let right = "member2@example.com";
    let cases: [(S, Known, Option<&str>, &str); 15] = [
        (S::Everyone, Known::Nothing, None, "ok"),
        (S::EmailOrContacts, Known::Nothing, None, "InvitationNotAllowed"),
        (S::EmailOrContacts, Known::Nothing, Some(right), "ok"),
        (S::EmailOrContacts, Known::Nothing, Some("MEMBER2@Example.COM"), "ok"),
        (S::EmailOrContacts, Known::Nothing, Some("someone.else@example.com"), "InvitationNotAllowed"),
        (S::EmailOrContacts, Known::Nothing, Some("member1@example.com"), "InvitationNotAllowed"),
        (S::EmailOrContacts, Known::Sender("member1@example.com"), None, "ok"),
        (S::EmailOrContacts, Known::Sender("MEMBER1@Example.Com"), None, "ok"),
        (S::EmailOrContacts, Known::Other, None, "InvitationNotAllowed"),
        (S::EmailOrContacts, Known::Other, Some(right), "ok"),
        (S::Contacts, Known::Sender("Member1@EXAMPLE.com"), None, "ok"),
        (S::Contacts, Known::Nothing, Some(right), "InvitationNotAllowed"),
        (S::Contacts, Known::Other, None, "InvitationNotAllowed"),
        (S::Nobody, Known::Sender("member1@example.com"), Some(right), "InvitationNotAllowed"),
        (S::Nobody, Known::Nothing, None, "InvitationNotAllowed"),
    ];
    for (setting, contacts, email, expected) in cases {
        let net = standard();
        net.set_invitation_setting(B, setting, T0).unwrap();
        match contacts {
            Known::Nothing => {}
            Known::Sender(addr) => net.import_contacts(B, &[addr], T0).unwrap(),
            Known::Other => net.import_contacts(B, &["member3@example.com"], T0).unwrap(),
        }
        let got = net.send(A, B, None, email, minute(1));
        assert_eq!(outcome(got.clone()), expected, "{setting} with {email:?}");
        let sent = net.sent(A, None).unwrap();
        assert_eq!(sent.len(), usize::from(got.is_ok()), "{setting} with {email:?}");
    }
}

#[test]
fn a_sender_without_an_address_is_never_in_contacts() {
    let net = standard();
    net.register(m(6), None, Some("No Mail"), T0).unwrap();
    net.set_invitation_setting(B, InvitationSetting::Contacts, T0).unwrap();
    net.import_contacts(B, &["member1@example.com"], T0).unwrap();
    assert_eq!(outcome(net.send(m(6), B, None, None, minute(1))), "InvitationNotAllowed");
    assert_eq!(outcome(net.send(A, B, None, None, minute(1))), "ok");
}

#[test]
fn contacts_imported_later_and_setting_changes_take_effect_at_once() {
    let net = standard();
    net.set_invitation_setting(B, InvitationSetting::Contacts, T0).unwrap();
    assert_eq!(outcome(net.send(A, B, None, None, minute(1))), "InvitationNotAllowed");
    net.import_contacts(B, &["someone@example.com"], minute(2)).unwrap();
    net.import_contacts(B, &["MEMBER1@example.com"], minute(3)).unwrap();
    assert_eq!(outcome(net.send(A, B, None, None, minute(4))), "ok");
    net.set_invitation_setting(C, InvitationSetting::Nobody, minute(5)).unwrap();
    assert_eq!(outcome(net.send(A, C, None, None, minute(6))), "InvitationNotAllowed");
    net.set_invitation_setting(C, InvitationSetting::Everyone, minute(7)).unwrap();
    assert_eq!(outcome(net.send(A, C, None, None, minute(8))), "ok");
}

#[test]
fn every_refusal_by_rule_three_reads_the_same_and_never_mentions_a_block() {
    let net = standard();
    net.block(B, A, T0).unwrap();
    net.set_invitation_setting(C, InvitationSetting::Nobody, T0).unwrap();
    let r = net.send(A, D, None, None, T0).unwrap();
    net.report(D, A, ReportReason::DontKnow, Some(r), minute(1)).unwrap();
    // A still sees r pending (SPEC §18: the report is private): once A has withdrawn it, sends are refused.
    net.withdraw(A, r, None, minute(1)).unwrap();
    net.set_invitation_setting(E, InvitationSetting::Contacts, minute(1)).unwrap();
    let mut messages = BTreeSet::new();
    for to in [B, C, D, E] {
        let err = net.send(A, to, None, None, minute(2)).unwrap_err();
        assert!(matches!(err, Error::InvitationNotAllowed(x) if x == to), "{err:?}");
        let text = err.to_string();
        for word in ["block", "report", "setting", "contact", "know"] {
            assert!(!text.to_lowercase().contains(word), "{text:?} says {word:?}");
        }
        messages.insert(text.replace(&to.0.to_string(), "#"));
    }
    assert_eq!(messages.len(), 1, "{messages:?}");
}

// ---------------------------------------------------------------- §2 the order of send's checks

#[test]
fn send_rule_1_self_request_is_refused() {
    let net = standard();
    assert_eq!(net.send(A, A, None, None, T0), Err(Error::SelfRequest));
}

#[test]
fn send_rule_1_before_2_an_unknown_recipient_or_oneself_beats_a_restricted_sender() {
    let net = standard();
    restrict_by_reports(&net, A, 100, T0);
    assert_eq!(net.standing(A).unwrap(), Standing::Restricted);
    assert_eq!(net.send(A, UNKNOWN, None, None, minute(1)), Err(Error::UnknownMember(UNKNOWN)));
    assert_eq!(net.send(A, A, None, None, minute(1)), Err(Error::SelfRequest));
}

#[test]
fn send_rule_2_before_3_a_restricted_and_blocked_sender_gets_account_restricted() {
    let net = standard();
    net.block(B, A, T0).unwrap();
    net.set_invitation_setting(C, InvitationSetting::Nobody, T0).unwrap();
    restrict_by_reports(&net, A, 100, T0);
    assert_eq!(net.send(A, B, None, None, minute(1)), Err(Error::AccountRestricted));
    assert_eq!(net.send(A, C, None, None, minute(1)), Err(Error::AccountRestricted));
}

/// SPEC §18: the setting is checked after rules 4-6, so that a refusal cannot
/// tell a connected member the other's setting or address; a "don't know"
/// report (with a block) still comes first.
#[test]
fn send_rule_4_before_the_setting_but_a_dont_know_report_beats_already_connected() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    net.accept(B, r, minute(1)).unwrap();
    net.set_invitation_setting(B, InvitationSetting::Nobody, minute(2)).unwrap();
    assert_eq!(net.send(A, B, None, None, minute(3)), Err(Error::AlreadyConnected(B)));

    let r = net.send(C, D, None, None, minute(4)).unwrap();
    net.report(D, C, ReportReason::DontKnow, Some(r), minute(5)).unwrap();
    net.accept(D, r, minute(6)).unwrap();
    assert!(net.are_connected(C, D).unwrap());
    assert_eq!(net.send(C, D, None, None, minute(8)), Err(Error::InvitationNotAllowed(D)));
}

#[test]
fn send_rule_3_a_member_blocked_after_connecting_gets_invitation_not_allowed_without_the_word_block() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    net.accept(B, r, minute(1)).unwrap();
    net.block(B, A, minute(2)).unwrap();
    let err = net.send(A, B, Some("x".repeat(400).as_str()), None, minute(3)).unwrap_err();
    assert_eq!(err, Error::InvitationNotAllowed(B));
    assert!(!err.to_string().to_lowercase().contains("block"), "{err}");
}

/// SPEC §18: an open request is reported before the setting is looked at.
#[test]
fn send_rule_5_before_the_setting_already_pending_beats_a_refusing_setting() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    net.set_invitation_setting(B, InvitationSetting::Nobody, minute(1)).unwrap();
    assert_eq!(
        net.send(A, B, None, None, minute(2)),
        Err(Error::AlreadyPending { recipient: B, request: r })
    );
}

#[test]
fn send_rule_4_before_5_a_connected_member_gets_already_connected() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    net.accept(B, r, minute(1)).unwrap();
    assert_eq!(net.send(A, B, None, None, minute(2)), Err(Error::AlreadyConnected(B)));
    assert_eq!(net.send(B, A, None, None, minute(2)), Err(Error::AlreadyConnected(A)));
}

#[test]
fn send_rule_4_before_7_an_over_long_note_to_a_connected_member_gets_already_connected() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    net.accept(B, r, minute(1)).unwrap();
    let long = "x".repeat(301);
    assert_eq!(net.send(A, B, Some(&long), None, minute(2)), Err(Error::AlreadyConnected(B)));
    assert_eq!(net.send(A, B, Some("bad\u{7}"), None, minute(2)), Err(Error::AlreadyConnected(B)));
}

#[test]
fn send_rule_5_a_second_send_to_the_same_member_is_already_pending_even_when_ignored() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    assert_eq!(
        net.send(A, B, None, None, minute(1)),
        Err(Error::AlreadyPending { recipient: B, request: r })
    );
    net.ignore(B, r, minute(2)).unwrap();
    let err = net.send(A, B, None, None, minute(3)).unwrap_err();
    assert_eq!(err, Error::AlreadyPending { recipient: B, request: r });
    assert!(!err.to_string().contains("ignore"), "{err}");
    assert_eq!(net.sent(A, None).unwrap().len(), 1);
}

#[test]
fn send_rule_5_before_6_with_reverse_accept_a_repeated_send_is_already_pending_and_accepts_nothing() {
    let policy = Policy { reverse_request: ReverseRequest::Accept, ..Policy::standard() };
    let net = network(policy, &[1, 2]);
    let r = net.send(A, B, None, None, T0).unwrap();
    assert_eq!(
        net.send(A, B, None, None, minute(1)),
        Err(Error::AlreadyPending { recipient: B, request: r })
    );
    assert!(!net.are_connected(A, B).unwrap());
    assert_eq!(net.request(r).unwrap().state, RequestState::Pending);
}

#[test]
fn send_rule_5_before_7_already_pending_beats_an_over_long_note() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    let long = "x".repeat(301);
    assert_eq!(
        net.send(A, B, Some(&long), None, minute(1)),
        Err(Error::AlreadyPending { recipient: B, request: r })
    );
}

#[test]
fn send_rule_6_a_request_the_other_way_is_reverse_pending_by_default() {
    let net = standard();
    let r = net.send(B, A, None, None, T0).unwrap();
    assert_eq!(net.send(A, B, None, None, minute(1)), Err(Error::ReversePending { sender: B, request: r }));
    net.ignore(A, r, minute(2)).unwrap();
    assert_eq!(net.send(A, B, None, None, minute(3)), Err(Error::ReversePending { sender: B, request: r }));
    assert!(net.sent(A, None).unwrap().is_empty());
}

#[test]
fn send_rule_6_with_reverse_accept_returns_the_other_requests_id_and_connects() {
    for ignored_first in [false, true] {
        let policy = Policy { reverse_request: ReverseRequest::Accept, ..Policy::standard() };
        let net = network(policy, &[1, 2]);
        let r = net.send(B, A, Some("hello"), None, T0).unwrap();
        if ignored_first {
            net.ignore(A, r, minute(1)).unwrap();
        }
        assert_eq!(net.send(A, B, None, None, minute(2)), Ok(r), "ignored first: {ignored_first}");
        assert!(net.are_connected(A, B).unwrap());
        assert_eq!(net.request(r).unwrap().state, RequestState::Accepted);
        assert!(net.sent(A, None).unwrap().is_empty(), "no new request is created");
        let to_b = net.notifications(B, false).unwrap();
        assert_eq!(
            to_b.last().map(|n| (n.kind, n.request_id, n.actor)),
            Some((NotificationKind::InvitationAccepted, r, A))
        );
        assert_eq!(net.stats().unwrap().requests["accepted"], 1);
    }
}

#[test]
fn send_rule_6_before_7_reverse_pending_beats_an_over_long_note() {
    let net = standard();
    let r = net.send(B, A, None, None, T0).unwrap();
    let long = "x".repeat(301);
    assert_eq!(
        net.send(A, B, Some(&long), None, minute(1)),
        Err(Error::ReversePending { sender: B, request: r })
    );
}

#[test]
fn send_rule_7_before_8_note_errors_beat_policy_limits() {
    let policy =
        Policy { weekly_invite_limit: Some(1), resend_cooldown: Some(days(21)), ..Policy::standard() };
    let net = network(policy, &[1, 2, 3]);
    let r = net.send(A, B, None, None, T0).unwrap();
    net.withdraw(A, r, None, minute(1)).unwrap();
    let long = "x".repeat(301);
    assert_eq!(
        net.send(A, B, Some(&long), None, minute(2)),
        Err(Error::NoteTooLong { chars: 301, max: 300 })
    );
    assert!(matches!(net.send(A, B, Some("a\rb"), None, minute(2)), Err(Error::InvalidInput(_))));
    assert!(matches!(net.send(A, C, Some("a\u{1b}b"), None, minute(2)), Err(Error::InvalidInput(_))));
    assert!(matches!(net.send(A, C, None, None, minute(2)), Err(Error::RateLimited { .. })));
}

#[test]
fn send_rule_8_rate_limit_before_cooldown_before_connection_limit() {
    let policy = Policy {
        weekly_invite_limit: Some(2),
        resend_cooldown: Some(days(21)),
        max_connections: 1,
        ..Policy::standard()
    };
    let net = network(policy, &[1, 2, 3]);
    let r = net.send(A, B, None, None, T0).unwrap();
    net.withdraw(A, r, None, minute(1)).unwrap();
    let r = net.send(A, C, None, None, minute(2)).unwrap();
    net.accept(C, r, minute(3)).unwrap();
    assert!(matches!(net.send(A, B, None, None, minute(4)), Err(Error::RateLimited { limit: 2, .. })));
    assert!(matches!(net.send(A, B, None, None, day(8)), Err(Error::CooldownActive { recipient: B, .. })));
    assert_eq!(net.send(A, B, None, None, day(22)), Err(Error::ConnectionLimit { member: A, max: 1 }));
}

// ---------------------------------------------------------------- notes

#[test]
fn notes_are_limited_to_max_note_chars_unicode_scalar_values_without_control_characters() {
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "ok"),
        ("x".repeat(300), "ok"),
        ("é".repeat(300), "ok"),
        ("😀".repeat(300), "ok"),
        ("e\u{301}".repeat(150), "ok"),
        ("x".repeat(301), "NoteTooLong"),
        ("é".repeat(301), "NoteTooLong"),
        ("😀".repeat(301), "NoteTooLong"),
        ("first line\nsecond line".into(), "ok"),
        ("tab\there".into(), "InvalidInput"),
        ("carriage\rreturn".into(), "InvalidInput"),
        ("windows\r\nline".into(), "InvalidInput"),
        ("nul\u{0}".into(), "InvalidInput"),
        ("delete\u{7f}".into(), "InvalidInput"),
        ("next line\u{85}".into(), "InvalidInput"),
    ];
    for (note, expected) in &cases {
        let net = standard();
        let got = net.send(A, B, Some(note), None, T0);
        assert_eq!(outcome(got.clone()), *expected, "{note:?}");
        if let Ok(id) = got {
            // SPEC §18: a note of only whitespace (the empty one too) is no note.
            let stored = Some(note.as_str()).filter(|n| !n.trim().is_empty());
            assert_eq!(net.request(id).unwrap().note.as_deref(), stored);
        } else {
            assert!(net.sent(A, None).unwrap().is_empty());
        }
    }
    let net = standard();
    assert_eq!(
        net.send(A, B, Some(&"é".repeat(301)), None, T0),
        Err(Error::NoteTooLong { chars: 301, max: 300 })
    );
}

#[test]
fn the_note_limit_follows_the_policy() {
    let net = network(Policy { max_note_chars: 10, ..Policy::standard() }, &[1, 2, 3]);
    assert!(net.send(A, B, Some("0123456789"), None, T0).is_ok());
    assert_eq!(net.send(A, C, Some("0123456789a"), None, T0), Err(Error::NoteTooLong { chars: 11, max: 10 }));
}

#[test]
fn withdraw_and_decline_messages_have_the_notes_limits() {
    let cases: [(String, &str); 5] = [
        ("x".repeat(300), "ok"),
        ("x".repeat(301), "NoteTooLong"),
        ("two\nlines".into(), "ok"),
        ("cr\r".into(), "InvalidInput"),
        ("esc\u{1b}[31m".into(), "InvalidInput"),
    ];
    for (message, expected) in &cases {
        for withdraw in [true, false] {
            let net = standard();
            let r = net.send(A, B, None, None, T0).unwrap();
            let got = if withdraw {
                net.withdraw(A, r, Some(message), minute(1))
            } else {
                net.decline(B, r, Some(message), minute(1))
            };
            assert_eq!(outcome(got), *expected, "{message:?} withdraw={withdraw}");
            let req = net.request(r).unwrap();
            if *expected == "ok" {
                assert_eq!(req.message.as_deref(), Some(message.as_str()));
            } else {
                assert_eq!(req.state, RequestState::Pending, "a refused message changes nothing");
            }
        }
    }
}

// ---------------------------------------------------------------- rule 8: limits

#[test]
fn the_weekly_invite_limit_is_a_sliding_seven_day_window() {
    let net = network(Policy { weekly_invite_limit: Some(3), ..Policy::standard() }, &[1, 2, 3, 4, 5, 6]);
    net.send(A, B, None, None, day(0)).unwrap();
    net.send(A, C, None, None, day(1)).unwrap();
    let r = net.send(A, D, None, None, day(2)).unwrap();
    net.withdraw(A, r, None, day(2)).unwrap();
    let just_before = after(day(7), -1);
    assert_eq!(net.send(A, E, None, None, just_before), Err(Error::RateLimited { limit: 3, until: day(7) }));
    assert!(net.send(A, E, None, None, day(7)).is_ok(), "the first send left the window");
    assert_eq!(net.send(A, m(6), None, None, day(7)), Err(Error::RateLimited { limit: 3, until: day(8) }));
    assert!(net.send(A, m(6), None, None, day(8)).is_ok());
    assert!(net.send(C, D, None, None, day(8)).is_ok(), "the limit is per sender");
}

#[test]
fn rate_limited_names_the_time_a_send_is_allowed_again_even_after_the_limit_was_lowered() {
    let net = network(Policy { weekly_invite_limit: Some(5), ..Policy::standard() }, &[1, 2, 3, 4, 5, 6, 7]);
    for (i, to) in [B, C, D, E].into_iter().enumerate() {
        net.send(A, to, None, None, day(i as i64)).unwrap();
    }
    let lowered = Policy { weekly_invite_limit: Some(2), ..Policy::standard() };
    net.execute(Command::ChangePolicy { policy: lowered }, day(4)).unwrap();
    let until = match net.send(A, m(6), None, None, day(4)) {
        Err(Error::RateLimited { limit: 2, until }) => until,
        other => panic!("{other:?}"),
    };
    assert_eq!(until, day(9), "three of the four sends must leave the window");
    assert!(matches!(net.send(A, m(6), None, None, after(until, -1)), Err(Error::RateLimited { .. })));
    assert!(net.send(A, m(6), None, None, until).is_ok(), "a send is allowed at the time the error named");
}

#[test]
fn the_linkedin_policy_allows_one_hundred_invitations_a_week() {
    let ids: Vec<u64> = (1..=102).collect();
    let net = network(Policy::linkedin(), &ids);
    for to in 2..=101 {
        net.send(A, m(to), None, None, minute(to as i64)).unwrap();
    }
    assert!(matches!(
        net.send(A, m(102), None, None, minute(200)),
        Err(Error::RateLimited { limit: 100, .. })
    ));
}

#[test]
fn resend_cooldown_follows_a_withdrawal_or_a_decline_to_the_same_member() {
    for withdrawn in [true, false] {
        let net = network(Policy { resend_cooldown: Some(days(21)), ..Policy::standard() }, &[1, 2, 3]);
        let r = net.send(A, B, None, None, T0).unwrap();
        if withdrawn {
            net.withdraw(A, r, None, day(1)).unwrap();
        } else {
            net.decline(B, r, None, day(1)).unwrap();
        }
        let err = net.send(A, B, None, None, after(day(22), -1)).unwrap_err();
        assert_eq!(err, Error::CooldownActive { recipient: B, until: day(22) }, "withdrawn={withdrawn}");
        assert!(net.send(A, C, None, None, day(2)).is_ok(), "other members are not affected");
        let back = net.send(B, A, None, None, day(2));
        assert!(back.is_ok(), "the other direction is not affected");
        net.withdraw(B, back.unwrap(), None, day(2)).unwrap();
        assert!(net.send(A, B, None, None, day(22)).is_ok(), "the cooldown ends at its end");
    }
}

#[test]
fn there_is_no_cooldown_after_expiry_or_cancellation_or_without_the_policy() {
    let policy =
        Policy { resend_cooldown: Some(days(21)), pending_ttl: Some(days(10)), ..Policy::standard() };
    let net = network(policy, &[1, 2, 3]);
    let (_, t) = request_in(&net, A, B, RequestState::Expired, T0);
    assert!(net.send(A, B, None, None, t).is_ok());
    // Cancelled by the sender's own block, and declined by the recipient in their
    // own view (SPEC §18): over for both, so lifting the block brings nothing back.
    let r = net.send(A, C, None, None, t).unwrap();
    net.block(A, C, t).unwrap();
    net.decline(C, r, None, t).unwrap();
    net.unblock(A, C, t).unwrap();
    assert_eq!(net.sent(A, None).unwrap().last().unwrap().state, RequestState::Cancelled);
    assert!(net.send(A, C, None, None, t).is_ok());

    let net = standard();
    let (_, t) = request_in(&net, A, B, RequestState::Withdrawn, T0);
    assert!(net.send(A, B, None, None, t).is_ok());
}

#[test]
fn max_connections_is_checked_for_either_side_on_send_and_on_accept() {
    let net = network(Policy { max_connections: 1, ..Policy::standard() }, &[1, 2, 3, 4]);
    let to_b = net.send(A, B, None, None, T0).unwrap();
    let to_c = net.send(A, C, None, None, T0).unwrap();
    net.accept(B, to_b, minute(1)).unwrap();
    assert_eq!(net.accept(C, to_c, minute(2)), Err(Error::ConnectionLimit { member: A, max: 1 }));
    assert_eq!(net.request(to_c).unwrap().state, RequestState::Pending);
    assert_eq!(net.send(A, D, None, None, minute(3)), Err(Error::ConnectionLimit { member: A, max: 1 }));
    assert_eq!(net.send(D, A, None, None, minute(3)), Err(Error::ConnectionLimit { member: A, max: 1 }));
    assert_eq!(net.connection_count(A).unwrap(), 1);
    net.remove_connection(A, B, minute(4)).unwrap();
    assert!(net.accept(C, to_c, minute(5)).is_ok());
}

#[test]
fn lowering_max_connections_keeps_existing_connections_and_refuses_new_ones() {
    let net = standard();
    for (i, to) in [B, C, D].into_iter().enumerate() {
        request_in(&net, A, to, RequestState::Accepted, minute(i as i64));
    }
    let lowered = Policy { max_connections: 2, ..Policy::standard() };
    net.execute(Command::ChangePolicy { policy: lowered }, minute(10)).unwrap();
    assert_eq!(net.connections(A).unwrap(), [B, C, D]);
    assert_eq!(net.send(A, E, None, None, minute(11)), Err(Error::ConnectionLimit { member: A, max: 2 }));
    let problems = net.read(|model| model.invariant_violations()).unwrap();
    assert!(problems.is_empty(), "a member above a lowered limit is not a broken state: {problems:?}");
}

#[test]
fn reverse_accept_respects_max_connections() {
    let policy = Policy { reverse_request: ReverseRequest::Accept, max_connections: 1, ..Policy::standard() };
    let net = network(policy, &[1, 2, 3]);
    let to_b = net.send(A, B, None, None, T0).unwrap();
    let r = net.send(A, C, None, None, T0).unwrap();
    net.accept(C, r, minute(1)).unwrap();
    let from_b = net.send(B, A, None, None, minute(2));
    assert_eq!(from_b, Err(Error::ConnectionLimit { member: A, max: 1 }));
    assert_eq!(net.request(to_b).unwrap().state, RequestState::Pending);
    assert!(!net.are_connected(A, B).unwrap());
}

// ---------------------------------------------------------------- the state machine

#[test]
fn only_the_recipient_may_accept_ignore_or_decline_and_only_the_sender_may_withdraw() {
    let cases: [(&str, MemberId, &str); 8] = [
        ("accept", A, "recipient"),
        ("accept", C, "recipient"),
        ("ignore", A, "recipient"),
        ("ignore", C, "recipient"),
        ("decline", A, "recipient"),
        ("decline", C, "recipient"),
        ("withdraw", B, "sender"),
        ("withdraw", C, "sender"),
    ];
    for (action, actor, role) in cases {
        let net = standard();
        let r = net.send(A, B, None, None, T0).unwrap();
        let got = match action {
            "accept" => net.accept(actor, r, minute(1)),
            "ignore" => net.ignore(actor, r, minute(1)),
            "decline" => net.decline(actor, r, None, minute(1)),
            _ => net.withdraw(actor, r, None, minute(1)),
        };
        let err = got.unwrap_err();
        assert!(
            matches!(err, Error::NotAuthorized { request, role: ro, .. } if request == r && ro == role),
            "{err:?}"
        );
        assert_eq!(net.request(r).unwrap().state, RequestState::Pending, "{action} by {actor}");
    }
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Accept,
    Ignore,
    Decline,
    Withdraw,
}

fn act(net: &MemoryNetwork, action: Action, r: RequestId, at: Timestamp) -> Result<(), Error> {
    match action {
        Action::Accept => net.accept(B, r, at),
        Action::Ignore => net.ignore(B, r, at),
        Action::Decline => net.decline(B, r, None, at),
        Action::Withdraw => net.withdraw(A, r, None, at),
    }
}

#[test]
fn every_transition_the_table_does_not_allow_is_invalid_transition() {
    use RequestState::*;
    let allowed = |action: Action, from: RequestState| match action {
        Action::Accept | Action::Decline | Action::Withdraw => matches!(from, Pending | Ignored),
        Action::Ignore => from == Pending,
    };
    let to = |action: Action| match action {
        Action::Accept => Accepted,
        Action::Ignore => Ignored,
        Action::Decline => Declined,
        Action::Withdraw => Withdrawn,
    };
    let mut invalid = 0;
    let froms = RequestState::ALL.iter().map(|s| (*s, false)).chain([(Cancelled, true)]);
    for (from, blocker_is_sender) in froms {
        for action in [Action::Accept, Action::Ignore, Action::Decline, Action::Withdraw] {
            let net = network(policy_with_ttl(30), &[1, 2]);
            let (r, t) = if blocker_is_sender {
                let r = net.send(A, B, None, None, T0).unwrap();
                net.block(A, B, minute(1)).unwrap();
                (r, minute(1))
            } else {
                request_in(&net, A, B, from, T0)
            };
            let events = event_count(&net);
            let got = act(&net, action, r, after(t, 1000));
            // SPEC §18: the member a block was aimed at acts on their own view
            // (checked in rules.rs' privacy tests); here, the blocker.
            let blocked_acts = from == Cancelled && matches!(action, Action::Withdraw) != blocker_is_sender;
            if blocked_acts {
                assert_eq!(net.request(r).unwrap().state, Cancelled, "{action:?}: the truth stays");
                continue;
            }
            if allowed(action, from) {
                assert_eq!(got, Ok(()), "{action:?} from {from}");
                assert_eq!(net.request(r).unwrap().state, to(action));
            } else {
                invalid += 1;
                assert!(
                    matches!(got, Err(Error::InvalidTransition { request, .. }) if request == r),
                    "{action:?} from {from}: {got:?}"
                );
                assert_eq!(net.request(r).unwrap().state, from, "{action:?} from {from}");
                assert_eq!(event_count(&net), events);
            }
        }
    }
    // Of the 8 x 4 pairs, 7 are allowed; of the 8 from `cancelled`, the 4 by
    // the member the block was aimed at move their own view instead.
    assert_eq!(invalid, 8 * 4 - 7 - 4, "every disallowed pair was tried");
}

#[test]
fn an_invalid_transition_names_the_state_as_the_actor_sees_it() {
    // The sender never learns of an ignore: a second withdrawal names "withdrawn",
    // and an ignore by the recipient the sender cannot see.
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    net.ignore(B, r, minute(1)).unwrap();
    net.block(B, A, minute(2)).unwrap();
    // SPEC §18: the block hides itself: A withdraws it, in A's view.
    net.withdraw(A, r, None, minute(3)).unwrap();
    let err = net.withdraw(A, r, None, minute(4)).unwrap_err();
    assert!(matches!(err, Error::InvalidTransition { state: RequestState::Withdrawn, .. }), "{err:?}");
    let text = err.to_string();
    assert!(!text.contains("cancel") && !text.contains("ignore") && !text.contains("block"), "{text}");
    // The blocker sees their block's cancellation.
    let err = net.decline(B, r, None, minute(5)).unwrap_err();
    assert!(matches!(err, Error::InvalidTransition { state: RequestState::Cancelled, .. }), "{err:?}");
}

#[test]
fn an_unknown_request_id_is_not_found_for_every_command() {
    for missing in [RequestId(0), RequestId(2), RequestId(u64::MAX)] {
        let net = standard();
        net.send(A, B, None, None, T0).unwrap();
        for action in [Action::Accept, Action::Ignore, Action::Decline, Action::Withdraw] {
            assert!(
                matches!(act(&net, action, missing, minute(1)), Err(Error::NotFound(_))),
                "{action:?} {missing}"
            );
        }
        assert!(matches!(net.request(missing), Err(Error::NotFound(_))));
    }
}

#[test]
fn accept_ignore_decline_and_withdraw_move_the_request_and_accept_connects() {
    let net = standard();
    let r1 = net.send(A, B, Some("hi"), None, T0).unwrap();
    let r2 = net.send(A, C, None, None, T0).unwrap();
    let r3 = net.send(A, D, None, None, T0).unwrap();
    let r4 = net.send(A, E, None, None, T0).unwrap();
    assert_eq!((r1, r2, r3, r4), (RequestId(1), RequestId(2), RequestId(3), RequestId(4)));
    let req = net.request(r1).unwrap();
    assert_eq!(
        (req.sender, req.recipient, req.state, req.created_at, req.updated_at),
        (A, B, RequestState::Pending, T0, T0)
    );
    assert_eq!(req.note.as_deref(), Some("hi"));
    net.ignore(B, r1, minute(1)).unwrap();
    net.accept(B, r1, minute(2)).unwrap();
    net.decline(C, r2, Some("sorry"), minute(3)).unwrap();
    net.withdraw(A, r3, Some("oops"), minute(4)).unwrap();
    net.ignore(E, r4, minute(5)).unwrap();
    net.decline(E, r4, None, minute(6)).unwrap();
    let states: Vec<_> = [r1, r2, r3, r4].iter().map(|r| net.request(*r).unwrap().state).collect();
    use RequestState::*;
    assert_eq!(states, [Accepted, Declined, Withdrawn, Declined]);
    assert_eq!(net.request(r1).unwrap().updated_at, minute(2));
    assert_eq!(net.request(r2).unwrap().message.as_deref(), Some("sorry"));
    assert_eq!(net.request(r3).unwrap().message.as_deref(), Some("oops"));
    assert!(net.are_connected(A, B).unwrap() && net.are_connected(B, A).unwrap());
    assert_eq!(net.connections(A).unwrap(), vec![B]);
    assert!(!net.are_connected(A, C).unwrap());
}

#[test]
fn a_withdrawn_ignored_request_is_withdrawn() {
    let net = standard();
    let (r, t) = request_in(&net, A, B, RequestState::Ignored, T0);
    net.withdraw(A, r, None, after(t, 1)).unwrap();
    assert_eq!(net.request(r).unwrap().state, RequestState::Withdrawn);
}

// ---------------------------------------------------------------- expiry

#[test]
fn expire_moves_open_requests_older_than_pending_ttl_and_counts_them() {
    let net = network(policy_with_ttl(10), &[1, 2, 3, 4, 5]);
    let old = net.send(A, B, None, None, day(0)).unwrap();
    let old_ignored = net.send(C, B, None, None, day(0)).unwrap();
    let old_accepted = net.send(D, B, None, None, day(0)).unwrap();
    net.ignore(B, old_ignored, day(1)).unwrap();
    net.accept(B, old_accepted, day(1)).unwrap();
    let young = net.send(A, E, None, None, day(5)).unwrap();
    assert_eq!(net.expire(day(10)).unwrap(), 0, "exactly ten days old is not older than ten days");
    assert_eq!(net.expire(after(day(10), 1)).unwrap(), 2);
    assert_eq!(net.expire(after(day(10), 2)).unwrap(), 0);
    use RequestState::*;
    let states: Vec<_> =
        [old, old_ignored, old_accepted, young].iter().map(|r| net.request(*r).unwrap().state).collect();
    assert_eq!(states, [Expired, Expired, Accepted, Pending]);
    assert_eq!(net.request(old).unwrap().updated_at, after(day(10), 1));
    assert_eq!(net.expire(after(day(15), 1)).unwrap(), 1);
    assert_eq!(net.request(young).unwrap().state, Expired);
}

#[test]
fn expire_does_nothing_without_pending_ttl() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    let before = event_count(&net);
    assert_eq!(net.expire(day(10_000)).unwrap(), 0);
    assert_eq!(net.request(r).unwrap().state, RequestState::Pending);
    assert_eq!(event_count(&net), before);
}

#[test]
fn expiry_tells_only_the_sender_in_app_and_sends_no_email() {
    let net = network(policy_with_ttl(10), &[1, 2]);
    let r = net.send(A, B, None, None, T0).unwrap();
    let emails_before = net.pending_emails(None).unwrap().len();
    let b_before = net.notifications(B, false).unwrap().len();
    net.expire(day(11)).unwrap();
    let to_a = net.notifications(A, false).unwrap();
    assert_eq!(to_a.len(), 1);
    assert_eq!(
        (to_a[0].kind, to_a[0].request_id, to_a[0].actor),
        (NotificationKind::InvitationExpired, r, B)
    );
    assert_eq!(net.notifications(B, false).unwrap().len(), b_before);
    // No email for the expiry; B's unsent invitation email is stale now (SPEC §10).
    assert_eq!(net.pending_emails(None).unwrap().len(), emails_before - 1);
}

// ---------------------------------------------------------------- re-sending

#[test]
fn a_resend_after_a_closed_request_creates_a_new_request_with_a_new_id() {
    use RequestState::*;
    for closed in [Withdrawn, Declined, Expired, Cancelled] {
        let net = network(policy_with_ttl(10), &[1, 2]);
        let (old, t) = request_in(&net, A, B, closed, T0);
        if closed == Cancelled {
            // Closed as the sender sees it too (SPEC §18): they withdrew it.
            net.withdraw(A, old, None, t).unwrap();
            net.unblock(B, A, t).unwrap();
        }
        let new = net.send(A, B, None, None, after(t, 1)).unwrap();
        assert_ne!(new, old, "after {closed}");
        assert_eq!(net.request(old).unwrap().state, closed);
        assert_eq!(net.request(new).unwrap().state, Pending);
        assert_eq!(net.sent(A, None).unwrap().len(), 2);
    }
}

#[test]
fn resending_is_allowed_any_number_of_times() {
    let net = standard();
    let mut ids = BTreeSet::new();
    for i in 0..10 {
        let r = net.send(A, B, None, None, day(i)).unwrap();
        net.withdraw(A, r, None, after(day(i), 1)).unwrap();
        ids.insert(r);
    }
    assert_eq!(ids.len(), 10);
}

// ---------------------------------------------------------------- connections and blocks

#[test]
fn remove_connection_ends_it_both_ways_and_notifies_no_one() {
    let net = standard();
    let (_, t) = request_in(&net, A, B, RequestState::Accepted, T0);
    let notes = (net.notifications(A, false).unwrap().len(), net.notifications(B, false).unwrap().len());
    let emails = net.pending_emails(None).unwrap().len();
    net.remove_connection(B, A, after(t, 1)).unwrap();
    assert!(!net.are_connected(A, B).unwrap());
    assert_eq!((net.connection_count(A).unwrap(), net.connection_count(B).unwrap()), (0, 0));
    assert_eq!(
        (net.notifications(A, false).unwrap().len(), net.notifications(B, false).unwrap().len()),
        notes
    );
    assert_eq!(net.pending_emails(None).unwrap().len(), emails);
    assert!(matches!(net.remove_connection(A, B, after(t, 2)), Err(Error::NotFound(_))));
    assert!(net.send(A, B, None, None, after(t, 3)).is_ok(), "they can connect again");
}

#[test]
fn a_block_cancels_open_requests_in_either_direction_and_removes_a_connection() {
    for (blocker, blocked) in [(A, B), (B, A)] {
        let net = standard();
        let r = net.send(A, B, None, None, T0).unwrap();
        let (_, t) = request_in(&net, blocker, C, RequestState::Accepted, minute(1));
        let c_link = net.send(C, D, None, None, t).unwrap();
        let to_e = request_in(&net, blocked, E, RequestState::Pending, t).0;
        net.block(blocker, blocked, minute(5)).unwrap();
        net.block(blocker, C, minute(6)).unwrap();
        assert_eq!(net.request(r).unwrap().state, RequestState::Cancelled, "{blocker} blocks {blocked}");
        assert!(!net.are_connected(blocker, C).unwrap());
        assert_eq!(net.request(c_link).unwrap().state, RequestState::Pending, "unrelated requests stay");
        assert_eq!(net.request(to_e).unwrap().state, RequestState::Pending, "unrelated requests stay");
    }
}

#[test]
fn a_block_is_directional_refuses_sends_both_ways_and_notifies_no_one() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    let before = (
        net.notifications(A, false).unwrap(),
        net.notifications(B, false).unwrap(),
        net.pending_emails(None).unwrap(),
    );
    net.block(B, A, minute(1)).unwrap();
    assert!(net.is_blocked(B, A).unwrap());
    assert!(!net.is_blocked(A, B).unwrap());
    // A still sees the request pending (SPEC §18), so a re-send is AlreadyPending.
    assert_eq!(
        net.send(A, B, None, None, minute(2)),
        Err(Error::AlreadyPending { recipient: B, request: r })
    );
    assert_eq!(net.send(B, A, None, None, minute(2)), Err(Error::InvitationNotAllowed(A)));
    let after_block = (net.notifications(A, false).unwrap(), net.notifications(B, false).unwrap());
    assert_eq!(after_block, (before.0.clone(), before.1.clone()), "nobody is told");
    // B gets no email about the member B blocked (SPEC §10); the in-app notification stays.
    assert_eq!(before.2.len(), 1);
    assert!(net.pending_emails(None).unwrap().is_empty());
    let skipped = net.email(before.2[0].id).unwrap();
    assert_eq!(
        (skipped.status.as_str(), skipped.skip_reason.map(|r| r.as_str())),
        ("skipped", Some("blocked"))
    );
    assert_eq!(net.request(r).unwrap().state, RequestState::Cancelled);
    // Once A has withdrawn it (in A's view), a send is refused for the block.
    net.withdraw(A, r, None, minute(3)).unwrap();
    assert_eq!(net.send(A, B, None, None, minute(4)), Err(Error::InvitationNotAllowed(B)));
    assert_eq!(net.notifications(B, false).unwrap(), before.1, "B is told nothing");
}

#[test]
fn unblocking_restores_nothing_but_allows_sends_again() {
    let net = standard();
    let (_, t) = request_in(&net, A, B, RequestState::Accepted, T0);
    let r = net.send(C, A, None, None, t).unwrap();
    net.block(A, B, minute(1)).unwrap();
    net.block(A, C, minute(1)).unwrap();
    // C withdraws the request the block cancelled (as far as C knows): it is
    // over for both, and unblocking does not bring it back.
    net.withdraw(C, r, None, minute(1)).unwrap();
    net.unblock(A, B, minute(2)).unwrap();
    net.unblock(A, C, minute(2)).unwrap();
    assert!(!net.is_blocked(A, B).unwrap());
    assert!(!net.are_connected(A, B).unwrap());
    assert_eq!(net.request(r).unwrap().state, RequestState::Cancelled);
    assert!(net.send(B, A, None, None, minute(3)).is_ok());
    assert!(net.send(A, C, None, None, minute(3)).is_ok());
}

#[test]
fn a_block_stands_until_the_blocker_lifts_it() {
    let net = standard();
    net.block(A, B, T0).unwrap();
    net.block(B, A, T0).unwrap();
    net.unblock(A, B, minute(1)).unwrap();
    assert_eq!(
        net.send(A, B, None, None, minute(2)),
        Err(Error::InvitationNotAllowed(B)),
        "B's own block still stands"
    );
    net.unblock(A, B, minute(3)).unwrap();
    net.unblock(B, A, minute(3)).unwrap();
    assert!(net.send(A, B, None, None, minute(4)).is_ok());
    assert!(matches!(net.block(A, A, minute(5)), Err(Error::InvalidInput(_))));
}

// ---------------------------------------------------------------- reports

#[test]
fn every_report_reason_is_recorded() {
    for reason in [ReportReason::Spam, ReportReason::Harassment, ReportReason::DontKnow] {
        let net = standard();
        net.report(B, A, reason, None, T0).unwrap();
        let last = all_events(&net).pop().unwrap();
        assert_eq!((last.kind, last.actor, last.subject), ("member_reported", Some(B), Some(A)));
        let detail: serde_json::Value = serde_json::from_str(&last.detail).unwrap();
        assert_eq!(detail["reason"], reason.as_str());
    }
}

#[test]
fn dont_know_ignores_the_open_request_and_stops_further_invitations_from_the_reported_member() {
    for with_id in [true, false] {
        let net = standard();
        let r = net.send(A, B, None, None, T0).unwrap();
        net.report(B, A, ReportReason::DontKnow, with_id.then_some(r), minute(1)).unwrap();
        assert_eq!(net.request(r).unwrap().state, RequestState::Ignored, "with id: {with_id}");
        assert_eq!(net.sent(A, None).unwrap()[0].state, RequestState::Pending);
        assert_eq!(net.received(B, None).unwrap()[0].state, RequestState::Ignored);
        net.withdraw(A, r, None, minute(2)).unwrap();
        assert_eq!(net.send(A, B, None, None, minute(3)), Err(Error::InvitationNotAllowed(B)));
        assert!(net.send(B, A, None, None, minute(3)).is_ok(), "the reporter may still invite");
    }
}

#[test]
fn spam_and_harassment_reports_move_nothing_and_stop_no_invitation() {
    for reason in [ReportReason::Spam, ReportReason::Harassment] {
        let net = standard();
        let r = net.send(A, B, None, None, T0).unwrap();
        net.report(B, A, reason, Some(r), minute(1)).unwrap();
        assert_eq!(net.request(r).unwrap().state, RequestState::Pending);
        net.withdraw(A, r, None, minute(2)).unwrap();
        assert!(net.send(A, B, None, None, minute(3)).is_ok());
    }
}

#[test]
fn a_report_request_id_must_name_a_request_from_the_reported_member_to_the_reporter() {
    let net = standard();
    let a_to_b = net.send(A, B, None, None, T0).unwrap();
    let c_to_d = net.send(C, D, None, None, T0).unwrap();
    let before = event_count(&net);
    for (reporter, reported, id) in [(A, B, a_to_b), (E, A, a_to_b), (B, C, c_to_d), (B, A, RequestId(99))] {
        let got = net.report(reporter, reported, ReportReason::DontKnow, Some(id), minute(1));
        assert!(matches!(got, Err(Error::InvalidInput(_))), "{reporter} reports {reported} on {id}: {got:?}");
    }
    assert_eq!(event_count(&net), before);
    assert_eq!(net.request(a_to_b).unwrap().state, RequestState::Pending);
    assert!(net.report(B, A, ReportReason::DontKnow, Some(a_to_b), minute(2)).is_ok());
    assert!(matches!(net.report(A, A, ReportReason::Spam, None, minute(3)), Err(Error::InvalidInput(_))));
}

// ---------------------------------------------------------------- views

#[test]
fn the_sender_sees_an_ignored_request_as_pending_and_the_recipient_as_ignored() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    let r2 = net.send(A, C, None, None, minute(1)).unwrap();
    net.ignore(B, r, minute(5)).unwrap();
    let sent = net.sent(A, None).unwrap();
    assert_eq!(
        sent.iter().map(|x| (x.id, x.state)).collect::<Vec<_>>(),
        [(r, RequestState::Pending), (r2, RequestState::Pending)]
    );
    assert_eq!(sent[0].updated_at, T0, "the sender cannot see when it was ignored");
    assert_eq!(net.sent(A, Some(RequestState::Pending)).unwrap().len(), 2);
    assert!(net.sent(A, Some(RequestState::Ignored)).unwrap().is_empty());
    let received = net.received(B, None).unwrap();
    assert_eq!((received[0].state, received[0].updated_at), (RequestState::Ignored, minute(5)));
    assert_eq!(net.received(B, Some(RequestState::Ignored)).unwrap()[0].id, r);
    assert!(net.received(B, Some(RequestState::Pending)).unwrap().is_empty());
    assert_eq!(net.request(r).unwrap().state, RequestState::Ignored);
}

#[test]
fn views_list_oldest_first_and_filter_by_state() {
    let net = standard();
    let ids: Vec<RequestId> = [B, C, D, E]
        .iter()
        .enumerate()
        .map(|(i, to)| net.send(A, *to, None, None, minute(i as i64)).unwrap())
        .collect();
    net.accept(C, ids[1], minute(10)).unwrap();
    net.withdraw(A, ids[2], None, minute(11)).unwrap();
    assert_eq!(net.sent(A, None).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    assert_eq!(
        net.sent(A, Some(RequestState::Accepted)).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[1]]
    );
    assert_eq!(
        net.sent(A, Some(RequestState::Withdrawn)).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[2]]
    );
    assert_eq!(net.received(D, Some(RequestState::Withdrawn)).unwrap().len(), 1);
    assert!(net.received(A, None).unwrap().is_empty());
}

#[test]
fn after_a_block_the_blocked_member_sees_the_state_before_it_and_the_blocker_sees_cancelled() {
    use RequestState::*;
    // ignored before the block, the recipient blocks, what the sender sees, what the recipient
    // sees, and when the blocked member last saw a change
    let cases = [
        (false, true, Pending, Cancelled, T0),
        (true, true, Pending, Cancelled, T0),
        (false, false, Cancelled, Pending, T0),
        (true, false, Cancelled, Ignored, minute(3)),
    ];
    for (ignored_first, recipient_blocks, sender_sees, recipient_sees, blocked_updated) in cases {
        let net = standard();
        let r = net.send(A, B, None, None, T0).unwrap();
        if ignored_first {
            net.ignore(B, r, minute(3)).unwrap();
        }
        let (blocker, blocked) = if recipient_blocks { (B, A) } else { (A, B) };
        net.block(blocker, blocked, minute(10)).unwrap();
        let label = format!("ignored={ignored_first} recipient_blocks={recipient_blocks}");
        let s = net.sent(A, None).unwrap()[0].clone();
        let rc = net.received(B, None).unwrap()[0].clone();
        assert_eq!((s.state, rc.state), (sender_sees, recipient_sees), "{label}");
        let (blocked_view, blocker_view) = if recipient_blocks { (&s, &rc) } else { (&rc, &s) };
        assert_eq!(blocked_view.updated_at, blocked_updated, "{label}: nothing moved for the blocked member");
        assert_eq!(blocker_view.updated_at, minute(10), "{label}");
        assert_eq!(net.request(r).unwrap().state, Cancelled, "{label}: the operator sees the truth");
        assert_eq!(net.sent(A, Some(sender_sees)).unwrap().len(), 1, "{label}");
        assert_eq!(net.received(B, Some(recipient_sees)).unwrap().len(), 1, "{label}");
    }
}

#[test]
fn connections_and_mutual_connections_are_sorted_by_member_id() {
    let ids: Vec<u64> = (1..=9).collect();
    let net = network(Policy::standard(), &ids);
    let mut t = 0;
    for (x, y) in [(1, 9), (5, 1), (1, 3), (7, 1), (2, 9), (2, 5), (7, 2), (2, 8)] {
        t += 1;
        let r = net.send(m(x), m(y), None, None, minute(t)).unwrap();
        net.accept(m(y), r, minute(t)).unwrap();
    }
    assert_eq!(net.connections(m(1)).unwrap(), [m(3), m(5), m(7), m(9)]);
    assert_eq!(net.connections(m(2)).unwrap(), [m(5), m(7), m(8), m(9)]);
    assert_eq!(net.mutual_connections(m(1), m(2)).unwrap(), [m(5), m(7), m(9)]);
    assert_eq!(net.mutual_connections(m(2), m(1)).unwrap(), [m(5), m(7), m(9)]);
    assert!(net.mutual_connections(m(3), m(8)).unwrap().is_empty());
}

fn all_profiles(net: &MemoryNetwork) -> Vec<PublicProfile> {
    (1..=5).map(|id| net.public_profile(m(id)).unwrap()).collect()
}

#[test]
fn a_public_profile_holds_only_member_name_and_connection_count() {
    let net = standard();
    request_in(&net, A, B, RequestState::Accepted, T0);
    let PublicProfile { member, name, connection_count } = net.public_profile(A).unwrap();
    assert_eq!((member, name.as_deref(), connection_count), (A, Some("Ada"), 1));
    net.register(m(9), None, None, minute(1)).unwrap();
    assert_eq!(
        net.public_profile(m(9)).unwrap(),
        PublicProfile { member: m(9), name: None, connection_count: 0 }
    );
}

#[test]
fn public_profiles_never_change_on_withdraw_decline_ignore_report_block_of_a_non_connection_or_flag() {
    let net = standard();
    request_in(&net, A, B, RequestState::Accepted, T0);
    // Each step a minute after the one before: the log's clock never runs backwards.
    let steps: Vec<(&str, Step)> = vec![
        ("withdraw", Box::new(move |n| _ = request_in(n, A, C, RequestState::Withdrawn, minute(1)))),
        ("decline", Box::new(move |n| _ = request_in(n, D, A, RequestState::Declined, minute(2)))),
        ("ignore", Box::new(move |n| _ = request_in(n, E, A, RequestState::Ignored, minute(3)))),
        ("report", Box::new(move |n| n.report(C, A, ReportReason::Harassment, None, minute(4)).unwrap())),
        ("block of a non-connection", Box::new(move |n| n.block(A, D, minute(5)).unwrap())),
        ("blocked by a non-connection", Box::new(move |n| n.block(C, A, minute(6)).unwrap())),
        (
            "flag for repeated withdrawals",
            Box::new(move |n| {
                for i in 0..3 {
                    request_in(n, B, E, RequestState::Withdrawn, after(minute(7), i));
                }
                assert_eq!(n.standing(B).unwrap(), Standing::UnderReview);
            }),
        ),
        (
            "restriction by reports",
            Box::new(move |n| {
                restrict_by_reports(n, A, 100, minute(8));
                assert_eq!(n.standing(A).unwrap(), Standing::Restricted);
            }),
        ),
    ];
    for (label, step) in steps {
        let before = all_profiles(&net);
        step(&net);
        assert_eq!(all_profiles(&net), before, "{label}");
    }
}

#[test]
fn withdrawing_never_changes_anyones_connection_count() {
    let net = standard();
    request_in(&net, A, B, RequestState::Accepted, T0);
    request_in(&net, C, B, RequestState::Accepted, T0);
    let counts = |n: &MemoryNetwork| (1..=5).map(|id| n.connection_count(m(id)).unwrap()).collect::<Vec<_>>();
    let before = counts(&net);
    for (s, r) in [(A, C), (B, D), (E, A), (D, B)] {
        let (id, t) = request_in(&net, s, r, RequestState::Pending, minute(1));
        net.withdraw(s, id, Some("sorry"), after(t, 1)).unwrap();
        assert_eq!(counts(&net), before);
    }
    let (id, t) = request_in(&net, A, D, RequestState::Ignored, minute(2));
    net.withdraw(A, id, None, after(t, 1)).unwrap();
    assert_eq!(counts(&net), before);
    assert_eq!(net.stats().unwrap().connections, 2);
}

// ---------------------------------------------------------------- §3 notifications and emails

type Setup = fn(&MemoryNetwork) -> RequestId;
type Act = fn(&MemoryNetwork, RequestId, Timestamp);
/// A label, the setup, the command, the notifications it stores and the members it emails.
type NotifyCase = (&'static str, Setup, Act, &'static [(MemberId, NotificationKind)], &'static [MemberId]);

fn pending(n: &MemoryNetwork) -> RequestId {
    n.send(A, B, Some("hello"), None, T0).unwrap()
}

fn connected(n: &MemoryNetwork) -> RequestId {
    request_in(n, A, B, RequestState::Accepted, T0).0
}

#[test]
fn each_command_notifies_the_members_the_spec_table_names() {
    use NotificationKind::*;
    let act_at = day(31);
    let cases: [NotifyCase; 12] = [
        (
            "send",
            |_| RequestId(1),
            |n, _, t| _ = n.send(A, B, None, None, t).unwrap(),
            &[(B, InvitationReceived)],
            &[B],
        ),
        ("accept", pending, |n, r, t| n.accept(B, r, t).unwrap(), &[(A, InvitationAccepted)], &[A]),
        ("ignore", pending, |n, r, t| n.ignore(B, r, t).unwrap(), &[], &[]),
        ("decline", pending, |n, r, t| n.decline(B, r, None, t).unwrap(), &[(A, InvitationDeclined)], &[A]),
        (
            "withdraw",
            pending,
            |n, r, t| n.withdraw(A, r, None, t).unwrap(),
            &[(B, InvitationWithdrawn)],
            &[B],
        ),
        ("expire", pending, |n, _, t| assert_eq!(n.expire(t).unwrap(), 1), &[(A, InvitationExpired)], &[]),
        ("block by recipient", pending, |n, _, t| n.block(B, A, t).unwrap(), &[], &[]),
        ("block by sender", pending, |n, _, t| n.block(A, B, t).unwrap(), &[], &[]),
        ("remove_connection", connected, |n, _, t| n.remove_connection(A, B, t).unwrap(), &[], &[]),
        ("report", pending, |n, r, t| n.report(B, A, ReportReason::DontKnow, Some(r), t).unwrap(), &[], &[]),
        (
            "unblock",
            |n| {
                n.block(B, A, T0).unwrap();
                RequestId(0)
            },
            |n, _, t| n.unblock(B, A, t).unwrap(),
            &[],
            &[],
        ),
        (
            "accept after ignore",
            |n| request_in(n, A, B, RequestState::Ignored, T0).0,
            |n, r, t| n.accept(B, r, t).unwrap(),
            &[(A, InvitationAccepted)],
            &[A],
        ),
    ];
    for (label, setup, action, expected_notes, expected_emails) in cases {
        let net = network(policy_with_ttl(30), &[1, 2, 3]);
        let r = setup(&net);
        let before: Vec<usize> =
            [A, B, C].iter().map(|x| net.notifications(*x, false).unwrap().len()).collect();
        let emails_before: BTreeSet<EmailId> =
            net.pending_emails(None).unwrap().iter().map(|e| e.id).collect();
        action(&net, r, act_at);
        let mut new_notes = Vec::new();
        for (i, x) in [A, B, C].iter().enumerate() {
            for n in &net.notifications(*x, false).unwrap()[before[i]..] {
                assert_eq!((n.member, n.created_at, n.read), (*x, act_at, false), "{label}");
                assert_eq!(n.actor, if *x == A { B } else { A }, "{label}: the other member acted");
                new_notes.push((*x, n.kind));
            }
        }
        assert_eq!(new_notes, expected_notes, "{label}");
        let new_emails: Vec<_> = net
            .pending_emails(None)
            .unwrap()
            .into_iter()
            .filter(|e| !emails_before.contains(&e.id))
            .collect();
        assert_eq!(new_emails.iter().map(|e| e.member).collect::<Vec<_>>(), expected_emails, "{label}");
        for e in &new_emails {
            assert_eq!(e.due_at, act_at.plus(Duration::from_secs(120)), "{label}: due two minutes later");
            assert_eq!(e.address, address(e.member.0), "{label}");
            assert_eq!(e.sent_at, None);
        }
    }
}

#[test]
fn the_decline_email_subject_is_exactly_your_connection_request_was_withdrawn() {
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    net.decline(B, r, Some("no thanks"), minute(1)).unwrap();
    let to_a: Vec<_> = net.pending_emails(None).unwrap().into_iter().filter(|e| e.member == A).collect();
    assert_eq!(to_a.len(), 1);
    assert_eq!(to_a[0].subject, "Your connection request was withdrawn");
}

#[test]
fn emails_are_due_at_the_command_time_plus_the_policys_email_delay() {
    let net = network(Policy { email_delay: Duration::from_secs(600), ..Policy::standard() }, &[1, 2]);
    net.send(A, B, None, None, minute(7)).unwrap();
    assert_eq!(net.pending_emails(None).unwrap()[0].due_at, minute(17));
}

#[test]
fn a_member_without_an_address_gets_in_app_notifications_but_no_email() {
    let net = standard();
    net.register(m(9), None, Some("Offline"), T0).unwrap();
    let r = net.send(A, m(9), None, None, T0).unwrap();
    let back = net.send(m(9), B, None, None, T0).unwrap();
    net.accept(B, back, minute(1)).unwrap();
    net.withdraw(A, r, None, minute(2)).unwrap();
    let kinds: Vec<_> = net.notifications(m(9), false).unwrap().iter().map(|n| n.kind).collect();
    assert_eq!(
        kinds,
        [
            NotificationKind::InvitationReceived,
            NotificationKind::InvitationAccepted,
            NotificationKind::InvitationWithdrawn
        ]
    );
    let emails = net.pending_emails(None).unwrap();
    assert!(emails.iter().all(|e| e.member != m(9)), "{emails:?}");
    // B's invitation email went stale when B accepted (SPEC §10): nothing is left to send.
    assert!(emails.is_empty(), "{emails:?}");
}

#[test]
fn the_linkedin_policy_tells_no_one_of_a_withdrawal_but_still_of_a_decline() {
    let net = network(Policy::linkedin(), &[1, 2, 3]);
    let r = net.send(A, B, None, None, T0).unwrap();
    let (b_notes, emails) =
        (net.notifications(B, false).unwrap().len(), net.pending_emails(None).unwrap().len());
    net.withdraw(A, r, Some("sorry"), minute(1)).unwrap();
    assert_eq!(net.notifications(B, false).unwrap().len(), b_notes);
    // No email about the withdrawal, and the unsent invitation email is stale (SPEC §10).
    assert_eq!(net.pending_emails(None).unwrap().len(), emails - 1);
    let r = net.send(A, C, None, None, minute(2)).unwrap();
    net.decline(C, r, None, minute(3)).unwrap();
    assert_eq!(
        net.notifications(A, false).unwrap().last().unwrap().kind,
        NotificationKind::InvitationDeclined
    );
}

#[test]
fn the_standard_policy_always_tells_of_withdrawals_and_declines() {
    let p = Policy::standard();
    assert!(p.notify_on_withdraw && p.notify_on_decline);
    let net = network(Policy { notify_on_decline: false, ..Policy::standard() }, &[1, 2]);
    let r = net.send(A, B, None, None, T0).unwrap();
    net.decline(B, r, None, minute(1)).unwrap();
    assert!(net.notifications(A, false).unwrap().is_empty(), "a policy without decline notices sends none");
}

#[test]
fn mark_read_marks_only_the_members_own_notifications_and_unread_only_filters() {
    let net = standard();
    for (i, s) in [B, C, D].iter().enumerate() {
        net.send(*s, A, None, None, minute(i as i64)).unwrap();
    }
    let all = net.notifications(A, false).unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].created_at <= w[1].created_at && w[0].id < w[1].id), "oldest first");
    net.mark_read(A, &[all[0].id, all[2].id, all[0].id], minute(5)).unwrap();
    let unread: Vec<_> = net.notifications(A, true).unwrap().iter().map(|n| n.id).collect();
    assert_eq!(unread, [all[1].id]);
    let read: Vec<_> = net.notifications(A, false).unwrap().iter().map(|n| n.read).collect();
    assert_eq!(read, [true, false, true]);
    let events = event_count(&net);
    net.mark_read(A, &[all[0].id], minute(6)).unwrap();
    assert_eq!(event_count(&net), events, "marking read twice records nothing");
    net.send(A, E, None, None, minute(7)).unwrap();
    let es = net.notifications(E, false).unwrap()[0].id;
    assert!(matches!(net.mark_read(A, &[es], minute(8)), Err(Error::NotFound(_))));
    assert!(matches!(net.mark_read(A, &[NotificationId(999)], minute(8)), Err(Error::NotFound(_))));
    assert!(!net.notifications(E, false).unwrap()[0].read);
}

#[test]
fn pending_emails_lists_unsent_emails_due_at_or_before_the_time() {
    let net = standard();
    net.send(A, B, None, None, minute(0)).unwrap();
    net.send(A, C, None, None, minute(1)).unwrap();
    net.send(A, D, None, None, minute(2)).unwrap();
    let due: Vec<Timestamp> = net.pending_emails(None).unwrap().iter().map(|e| e.due_at).collect();
    assert_eq!(due, [minute(2), minute(3), minute(4)]);
    let cases = [
        (after(minute(2), -1), 0),
        (minute(2), 1),
        (after(minute(3), -1), 1),
        (minute(3), 2),
        (minute(100), 3),
    ];
    for (before, n) in cases {
        assert_eq!(net.pending_emails(Some(before)).unwrap().len(), n, "due before {before}");
    }
}

#[test]
fn marking_emails_sent_twice_marks_them_once() {
    let net = standard();
    net.send(A, B, None, None, T0).unwrap();
    net.send(A, C, None, None, T0).unwrap();
    let ids: Vec<EmailId> = net.pending_emails(None).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(net.stats().unwrap().unsent_emails, 2);
    assert_eq!(net.mark_emails_sent(&ids[..1], minute(3)).unwrap(), 1);
    assert_eq!(net.mark_emails_sent(&ids[..1], minute(4)).unwrap(), 0);
    assert_eq!(net.mark_emails_sent(&[ids[1], ids[1], ids[0]], minute(5)).unwrap(), 1);
    assert!(net.pending_emails(None).unwrap().is_empty());
    assert_eq!(net.stats().unwrap().unsent_emails, 0);
    let first = net.read(|model| model.email(ids[0])).unwrap().unwrap();
    assert_eq!(first.sent_at, Some(minute(3)));
    let kinds: Vec<_> =
        all_events(&net).iter().filter(|e| e.kind == "email_sent").map(|e| e.subject).collect();
    assert_eq!(kinds, [Some(B), Some(C)]);
    assert!(matches!(net.mark_emails_sent(&[EmailId(42)], minute(6)), Err(Error::NotFound(_))));
}

// ---------------------------------------------------------------- §4 moderation

fn withdraw_three_times(net: &MemoryNetwork, s: MemberId, r: MemberId, from_day: i64) -> Vec<Seq> {
    let mut seqs = Vec::new();
    for i in 0..3 {
        let id = net.send(s, r, None, None, day(from_day + i)).unwrap();
        net.withdraw(s, id, None, after(day(from_day + i), 1)).unwrap();
        let e = all_events(net).into_iter().rev().find(|e| e.kind == "invitation_withdrawn").unwrap();
        seqs.push(e.seq);
    }
    seqs
}

#[test]
fn standing_moves_from_good_to_under_review_and_back_when_a_flag_is_cleared() {
    let net = standard();
    assert_eq!(net.standing(A).unwrap(), Standing::Good);
    withdraw_three_times(&net, A, B, 0);
    assert_eq!(net.standing(A).unwrap(), Standing::UnderReview);
    let queue = net.review_queue().unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(
        (queue[0].member, queue[0].rule, queue[0].status),
        (A, FlagRule::RepeatedWithdrawals, FlagStatus::Open)
    );
    assert!(net.send(A, C, None, None, day(4)).is_ok(), "members under review can still send");
    net.resolve_flag(queue[0].id, Decision::Clear, day(5)).unwrap();
    assert_eq!(net.standing(A).unwrap(), Standing::Good);
    assert!(net.review_queue().unwrap().is_empty());
    assert_eq!(net.read(|m| m.flag(queue[0].id)).unwrap().unwrap().status, FlagStatus::Cleared);
}

#[test]
fn resolving_a_flag_with_restrict_restricts_the_member_from_sending() {
    let net = standard();
    withdraw_three_times(&net, A, B, 0);
    let flag = net.review_queue().unwrap()[0].id;
    net.resolve_flag(flag, Decision::Restrict, day(5)).unwrap();
    assert_eq!(net.standing(A).unwrap(), Standing::Restricted);
    assert_eq!(net.read(|m| m.flag(flag)).unwrap().unwrap().status, FlagStatus::Restricted);
    assert_eq!(net.send(A, C, None, None, day(6)), Err(Error::AccountRestricted));
    assert!(net.review_queue().unwrap().is_empty());
    let r = net.send(C, A, None, None, day(6)).unwrap();
    assert!(net.accept(A, r, day(7)).is_ok(), "a restricted member may still answer invitations");
}

#[test]
fn resolve_flag_refuses_unknown_and_already_resolved_flags() {
    let net = standard();
    assert!(matches!(
        net.resolve_flag(connreq_core::FlagId(1), Decision::Clear, T0),
        Err(Error::NotFound(_))
    ));
    withdraw_three_times(&net, A, B, 0);
    let flag = net.review_queue().unwrap()[0].id;
    net.resolve_flag(flag, Decision::Clear, day(5)).unwrap();
    assert!(matches!(net.resolve_flag(flag, Decision::Restrict, day(6)), Err(Error::InvalidInput(_))));
    assert_eq!(net.standing(A).unwrap(), Standing::Good);
}

#[test]
fn a_member_has_one_open_flag_per_rule_and_more_evidence_is_added_to_it() {
    let net = standard();
    let mut seqs = withdraw_three_times(&net, A, B, 0);
    let id = net.send(A, B, None, None, day(10)).unwrap();
    net.withdraw(A, id, None, day(11)).unwrap();
    seqs.push(all_events(&net).into_iter().rev().find(|e| e.kind == "invitation_withdrawn").unwrap().seq);
    let queue = net.review_queue().unwrap();
    // The fourth send after three withdrawals is also a re-send (SPEC §15): its own rule, its own flag.
    let rules: Vec<_> = queue.iter().map(|f| f.rule).collect();
    assert_eq!(rules, [FlagRule::RepeatedWithdrawals, FlagRule::RepeatedResends]);
    assert_eq!(queue[0].evidence, seqs);
    restrict_by_reports(&net, A, 100, day(12));
    let rules: Vec<_> = net.review_queue().unwrap().iter().map(|f| (f.member, f.rule)).collect();
    assert_eq!(
        rules,
        [(A, FlagRule::RepeatedWithdrawals), (A, FlagRule::RepeatedResends), (A, FlagRule::Reported)]
    );
}

// ---------------------------------------------------------------- §5 events and stats

#[test]
fn events_are_numbered_from_one_without_gaps_and_cover_every_kind_of_change() {
    let net = network(policy_with_ttl(30), &[1, 2, 3, 4, 5]);
    net.set_invitation_setting(E, InvitationSetting::Everyone, T0).unwrap();
    net.import_contacts(E, &["member1@example.com"], T0).unwrap();
    request_in(&net, D, C, RequestState::Expired, T0);
    let (r, _) = request_in(&net, A, B, RequestState::Accepted, day(31));
    request_in(&net, A, C, RequestState::Declined, day(31));
    request_in(&net, A, D, RequestState::Ignored, day(31));
    net.remove_connection(A, B, day(40)).unwrap();
    let seqs = withdraw_three_times(&net, C, B, 41);
    request_in(&net, E, B, RequestState::Cancelled, day(50));
    net.unblock(B, E, day(50)).unwrap();
    net.report(B, C, ReportReason::Spam, None, day(51)).unwrap();
    let flag = net.review_queue().unwrap()[0].id;
    net.resolve_flag(flag, Decision::Clear, day(52)).unwrap();
    let n = net.notifications(A, false).unwrap()[0].id;
    net.mark_read(A, &[n], day(53)).unwrap();
    let e = net.pending_emails(None).unwrap()[0].id;
    net.mark_emails_sent(&[e], day(53)).unwrap();

    let events = all_events(&net);
    assert_eq!(events.len() as u64, net.stats().unwrap().events);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, Seq(i as u64 + 1));
        let detail: serde_json::Value =
            serde_json::from_str(&e.detail).unwrap_or_else(|err| panic!("{}: {err}", e.detail));
        assert!(detail.is_object(), "{}", e.detail);
    }
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at), "times never run backwards");
    let kinds: BTreeSet<&str> = events.iter().map(|e| e.kind).collect();
    for kind in [
        "member_registered",
        "invitation_sent",
        "invitation_accepted",
        "invitation_ignored",
        "invitation_declined",
        "invitation_withdrawn",
        "invitation_expired",
        "invitation_cancelled",
        "connection_removed",
        "member_blocked",
        "member_unblocked",
        "member_reported",
        "account_flagged",
        "flag_resolved",
        "invitation_setting_changed",
        "contacts_imported",
        "notifications_read",
        "email_sent",
        "standing_changed",
    ] {
        assert!(kinds.contains(kind), "no {kind} event in {kinds:?}");
    }
    let sent = events.iter().find(|e| e.kind == "invitation_sent" && e.request_id == Some(r)).unwrap();
    assert_eq!((sent.actor, sent.subject, sent.request_id), (Some(A), Some(B), Some(r)));
    let flagged = events.iter().find(|e| e.kind == "account_flagged").unwrap();
    let detail: serde_json::Value = serde_json::from_str(&flagged.detail).unwrap();
    assert_eq!(detail["rule"], "repeated_withdrawals");
    let evidence: Vec<u64> = seqs.iter().map(|s| s.0).collect();
    assert_eq!(detail["evidence"], serde_json::json!(evidence));
}

#[test]
fn event_details_hold_the_note_message_and_reason() {
    let net = standard();
    let r = net.send(A, B, Some("a \"quoted\" note\nwith a line"), None, T0).unwrap();
    net.withdraw(A, r, Some("changed my mind"), minute(1)).unwrap();
    net.report(B, A, ReportReason::Harassment, Some(r), minute(2)).unwrap();
    let detail = |kind: &str| -> serde_json::Value {
        let e = all_events(&net).into_iter().find(|e| e.kind == kind).unwrap();
        serde_json::from_str(&e.detail).unwrap()
    };
    assert_eq!(detail("invitation_sent")["note"], "a \"quoted\" note\nwith a line");
    assert_eq!(detail("invitation_withdrawn")["message"], "changed my mind");
    assert_eq!(detail("member_reported")["reason"], "harassment");
}

#[test]
fn events_since_and_limit_page_through_the_log() {
    let net = standard();
    let total = event_count(&net) as u64;
    assert_eq!(total, 5);
    let seqs = |since: u64, limit: Option<usize>| -> Vec<u64> {
        net.events(Seq(since), limit).unwrap().iter().map(|e| e.seq.0).collect()
    };
    assert_eq!(seqs(0, None), [1, 2, 3, 4, 5]);
    assert_eq!(seqs(3, None), [4, 5]);
    assert_eq!(seqs(1, Some(2)), [2, 3]);
    assert_eq!(seqs(0, Some(0)), Vec::<u64>::new());
    assert_eq!(seqs(5, None), Vec::<u64>::new());
    assert_eq!(seqs(500, Some(3)), Vec::<u64>::new());
}

#[test]
fn stats_count_requests_by_state_connections_standings_flags_and_unsent_emails() {
    let net = standard();
    request_in(&net, A, B, RequestState::Accepted, T0);
    request_in(&net, A, C, RequestState::Ignored, T0);
    request_in(&net, D, E, RequestState::Withdrawn, T0);
    withdraw_three_times(&net, E, A, 1);
    let s = net.stats().unwrap();
    assert_eq!(s.requests["accepted"], 1);
    assert_eq!(s.requests["ignored"], 1);
    assert_eq!(s.requests["withdrawn"], 4);
    assert_eq!(s.requests["pending"], 0);
    assert_eq!(s.requests.len(), 7);
    assert_eq!(s.connections, 1);
    assert_eq!((s.members["good"], s.members["under_review"], s.members["restricted"]), (4, 1, 0));
    assert_eq!(s.open_flags, 1);
    assert_eq!(s.unsent_emails, net.pending_emails(None).unwrap().len() as u64);
    assert_eq!(s.events, event_count(&net) as u64);
}

#[test]
fn every_error_message_is_plain_words_without_debug_formatting() {
    let net = network(
        Policy {
            weekly_invite_limit: Some(2),
            resend_cooldown: Some(days(1)),
            max_connections: 1,
            ..Policy::standard()
        },
        &[1, 2, 3, 4, 5],
    );
    let r = net.send(A, B, None, None, T0).unwrap();
    let mut errors: Vec<Error> = vec![
        net.register(UNKNOWN, Some("bad"), None, T0).unwrap_err(),
        net.register(A, None, None, T0).unwrap_err(),
        net.send(UNKNOWN, A, None, None, T0).unwrap_err(),
        net.send(A, A, None, None, T0).unwrap_err(),
        net.send(A, B, None, None, T0).unwrap_err(),
        net.send(B, A, None, None, T0).unwrap_err(),
        net.send(C, D, Some(&"x".repeat(301)), None, T0).unwrap_err(),
        net.accept(C, r, T0).unwrap_err(),
        net.accept(B, RequestId(9), T0).unwrap_err(),
    ];
    net.withdraw(A, r, None, minute(1)).unwrap();
    errors.push(net.send(A, B, None, None, minute(2)).unwrap_err());
    errors.push(net.withdraw(A, r, None, minute(2)).unwrap_err());
    let r2 = net.send(A, C, None, None, minute(3)).unwrap();
    errors.push(net.send(A, D, None, None, minute(4)).unwrap_err());
    net.accept(C, r2, day(8)).unwrap();
    errors.push(net.send(A, D, None, None, day(9)).unwrap_err());
    errors.push(net.send(A, C, None, None, day(9)).unwrap_err());
    net.block(E, D, day(9)).unwrap();
    errors.push(net.send(D, E, None, None, day(9)).unwrap_err());
    restrict_by_reports(&net, E, 100, day(10));
    errors.push(net.send(E, B, None, None, day(10)).unwrap_err());
    let names: BTreeSet<&str> = errors.iter().map(Error::name).collect();
    assert_eq!(names.len(), 16, "{names:?}");
    for e in &errors {
        let text = e.to_string();
        assert!(!text.is_empty());
        for debug in ["Id(", "Timestamp(", "Some(", "None", "{", "}"] {
            assert!(!text.contains(debug), "{}: {text:?}", e.name());
        }
    }
}

#[test]
fn a_cloned_memory_network_goes_its_own_way() {
    let net = MemoryNetwork::new(Policy::standard()).unwrap();
    net.register(MemberId(1), None, None, T0).unwrap();
    net.register(MemberId(2), None, None, T0).unwrap();
    let id = net.send(MemberId(1), MemberId(2), None, None, T0).unwrap();
    let copy = net.clone();
    assert_eq!(copy.log(), net.log());
    copy.accept(MemberId(2), id, T0).unwrap();
    assert!(copy.are_connected(MemberId(1), MemberId(2)).unwrap());
    assert!(!net.are_connected(MemberId(1), MemberId(2)).unwrap());
    assert_eq!(net.request(id).unwrap().state, RequestState::Pending);
    assert!(copy.log().len() > net.log().len(), "the copy's log holds the accept, the original's does not");
}

// ---------------------------------------------------------------- §16 time

#[test]
fn a_command_dated_more_than_a_second_before_the_last_event_is_refused_naming_its_time() {
    let net = standard();
    let r = net.send(A, B, None, None, day(8)).unwrap();
    let before = event_count(&net);
    let err = net.withdraw(A, r, None, day(1)).unwrap_err();
    match &err {
        Error::InvalidInput(message) => {
            assert!(message.contains(&day(8).to_string()), "{message} names the last event's time");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert_eq!(event_count(&net), before, "nothing was recorded");
    assert_eq!(net.request(r).unwrap().state, RequestState::Pending);
    // A second before is the tolerance: recorded at the last event's time.
    assert_eq!(outcome(net.send(A, C, None, None, after(day(8), -1_001))), "InvalidInput");
    let r2 = net.send(A, C, None, None, after(day(8), -1_000)).unwrap();
    assert_eq!(net.request(r2).unwrap().created_at, day(8));
    net.withdraw(A, r, None, after(day(8), -500)).unwrap();
    assert_eq!(net.request(r).unwrap().updated_at, day(8));
}

#[test]
fn times_outside_the_years_1_to_9999_are_refused_and_the_ends_are_accepted() {
    let net = MemoryNetwork::new(Policy::standard()).unwrap();
    let first = Timestamp(Timestamp::EARLIEST.0 - 1);
    assert_eq!(outcome(net.register(A, None, None, first)), "InvalidInput");
    net.register(A, None, None, Timestamp::EARLIEST).unwrap();
    net.register(B, None, None, Timestamp::LATEST).unwrap();
    assert_eq!(outcome(net.register(C, None, None, Timestamp(Timestamp::LATEST.0 + 1))), "InvalidInput");
    assert_eq!(outcome(net.register(C, None, None, Timestamp(i64::MAX))), "InvalidInput");
    assert_eq!(event_count(&net), 2);
}

#[test]
fn every_standing_change_names_the_flag_behind_it() {
    let net = network(Policy::standard(), &(1..=12).collect::<Vec<_>>());
    for k in 0..3 {
        let (r, t) = request_in(&net, A, B, RequestState::Pending, minute(2 * k));
        net.withdraw(A, r, None, after(t, 1)).unwrap();
    }
    restrict_by_reports(&net, C, 20, minute(10));
    let flag_of = |rule| net.review_queue().unwrap().iter().find(|f| f.rule == rule).unwrap().id.0;
    let (withdrawals, reported) = (flag_of(FlagRule::RepeatedWithdrawals), flag_of(FlagRule::Reported));
    net.resolve_flag(FlagId(withdrawals), Decision::Clear, minute(11)).unwrap();
    let changes: Vec<(u64, String, u64, bool)> = all_events(&net)
        .iter()
        .filter(|e| e.kind == "standing_changed")
        .map(|e| {
            let d: serde_json::Value = serde_json::from_str(&e.detail).unwrap();
            (
                e.subject.unwrap().0,
                d["to"].as_str().unwrap().to_owned(),
                d["flag"].as_u64().unwrap(),
                d["automatic"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (1, "under_review".to_owned(), withdrawals, false),
            (3, "under_review".to_owned(), reported, false),
            (3, "restricted".to_owned(), reported, true),
            (1, "good".to_owned(), withdrawals, false),
        ]
    );
}

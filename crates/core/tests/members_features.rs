//! SPEC §11, rule by rule: invitations with mutual connections, friends of
//! friends, suggestions (every "never suggested" case), bulk withdrawal, the
//! outstanding cap and its place among send's checks, profile changes,
//! export and erasure.

mod common;

use common::*;
use connreq_core::{
    Error, InvitationSetting, MemberId, MemoryNetwork, Network, NotificationKind, Policy, ReportReason,
    RequestState, SuggestionReason,
};

/// Connects `a` and `b` (a request accepted at `T0`).
fn connect(net: &MemoryNetwork, a: MemberId, b: MemberId) {
    let r = net.send(a, b, None, None, T0).unwrap();
    net.accept(b, r, T0).unwrap();
}

fn suggested(net: &MemoryNetwork, who: MemberId) -> Vec<u64> {
    net.suggestions(who, 10, day(1)).unwrap().iter().map(|s| s.member.0).collect()
}

#[test]
fn invitations_are_the_recipients_open_view_with_mutual_counts_and_three_sorted_mutuals() {
    let net = network(Policy::standard(), &[1, 2, 3, 4, 5, 6, 7]);
    for x in [7, 3, 5, 6] {
        connect(&net, m(x), A);
        connect(&net, m(x), B);
    }
    let first = net.send(B, A, Some("hi"), None, minute(1)).unwrap();
    let second = net.send(D, A, None, None, minute(2)).unwrap();
    net.ignore(A, second, minute(3)).unwrap();
    let list = net.invitations(A, false).unwrap();
    assert_eq!(list.len(), 1, "an ignored invitation is left out unless asked for");
    assert_eq!(list[0].request, net.received(A, None).unwrap().into_iter().find(|r| r.id == first).unwrap());
    assert_eq!(list[0].mutual_count, 4);
    assert_eq!(list[0].mutuals, vec![m(3), m(5), m(6)]);
    let all = net.invitations(A, true).unwrap();
    assert_eq!(all.iter().map(|i| i.request.id).collect::<Vec<_>>(), vec![first, second], "oldest first");
    assert_eq!(all[1].request.state, RequestState::Ignored);
    net.accept(A, first, minute(4)).unwrap();
    assert_eq!(net.invitations(A, true).unwrap().len(), 1, "an accepted invitation is no longer open");
    assert!(matches!(net.invitations(m(99), false), Err(Error::UnknownMember(_))));
}

#[test]
fn friends_of_friends_lets_in_a_shared_connection_or_a_contact_and_no_one_else() {
    let net = standard();
    net.set_invitation_setting(A, InvitationSetting::FriendsOfFriends, T0).unwrap();
    assert_eq!(outcome(net.send(B, A, None, None, T0)), "InvitationNotAllowed");
    connect(&net, A, C);
    connect(&net, B, C);
    assert_eq!(outcome(net.send(B, A, None, None, minute(3))), "ok", "B shares C with A");
    assert_eq!(outcome(net.send(D, A, None, None, minute(3))), "InvitationNotAllowed");
    net.import_contacts(A, &[&address(4)], minute(4)).unwrap();
    assert_eq!(outcome(net.send(D, A, None, None, minute(5))), "ok", "D is in A's contacts");
}

#[test]
fn suggestions_rank_most_mutual_connections_first_then_contacts_with_their_reason() {
    let net = network(Policy::standard(), &[1, 2, 3, 4, 5, 6, 7, 8]);
    // A knows 2 and 3; 4 is connected to both, 5 to one; 8 is only in A's contacts.
    for c in [B, C] {
        connect(&net, A, c);
        connect(&net, c, D);
    }
    connect(&net, C, E);
    connect(&net, C, m(6));
    net.import_contacts(A, &[&address(8), &address(6), "nobody@nowhere.example"], minute(1)).unwrap();
    let s = net.suggestions(A, 10, minute(2)).unwrap();
    let got: Vec<(u64, u64, SuggestionReason)> =
        s.iter().map(|s| (s.member.0, s.mutual_count, s.reason)).collect();
    assert_eq!(
        got,
        vec![
            (4, 2, SuggestionReason::MutualConnections),
            (6, 1, SuggestionReason::Contact),
            (5, 1, SuggestionReason::MutualConnections),
            (8, 0, SuggestionReason::Contact),
        ]
    );
    assert_eq!(net.suggestions(A, 2, minute(2)).unwrap().len(), 2, "the limit holds");
    assert_eq!(net.suggestions(A, 0, minute(2)).unwrap(), vec![]);
}

/// A network where A and X (5) share connection C: X is suggested to A unless a rule says no.
fn pair() -> MemoryNetwork {
    let net = network(Policy { resend_cooldown: Some(days(30)), ..Policy::standard() }, &[1, 2, 3, 4, 5]);
    connect(&net, C, A);
    connect(&net, C, E);
    assert_eq!(suggested(&net, A), vec![5]);
    net
}

#[test]
fn never_suggested_the_member_or_a_connection() {
    let net = pair();
    assert!(!suggested(&net, A).contains(&1), "not oneself");
    assert!(!suggested(&net, A).contains(&3), "not a connection");
    connect(&net, A, E);
    assert!(suggested(&net, A).is_empty(), "a new connection leaves the suggestions");
}

#[test]
fn never_suggested_a_member_blocked_either_way() {
    let net = pair();
    net.block(A, E, minute(1)).unwrap();
    assert!(suggested(&net, A).is_empty());
    let net = pair();
    net.block(E, A, minute(1)).unwrap();
    assert!(suggested(&net, A).is_empty());
}

#[test]
fn never_suggested_anyone_with_an_open_request_either_way() {
    let net = pair();
    net.send(A, E, None, None, minute(1)).unwrap();
    assert!(suggested(&net, A).is_empty());
    let net = pair();
    let r = net.send(E, A, None, None, minute(1)).unwrap();
    net.ignore(A, r, minute(2)).unwrap();
    assert!(suggested(&net, A).is_empty(), "an ignored request is open");
}

#[test]
fn never_suggested_anyone_declined_or_withdrawn_within_the_review_window_or_in_cooldown() {
    let window = Policy::standard().review_window;
    let net = pair();
    let r = net.send(A, E, None, None, minute(1)).unwrap();
    net.withdraw(A, r, None, minute(2)).unwrap();
    assert!(net.suggestions(A, 10, minute(3)).unwrap().is_empty(), "withdrawn");
    assert_eq!(net.suggestions(A, 10, minute(3).plus(window)).unwrap().len(), 1, "the window passed");
    let net = pair();
    let r = net.send(A, E, None, None, minute(1)).unwrap();
    net.decline(E, r, None, minute(2)).unwrap();
    assert!(net.suggestions(A, 10, minute(3)).unwrap().is_empty(), "declined");
    let net = pair();
    let r = net.send(E, A, None, None, minute(1)).unwrap();
    net.decline(A, r, None, minute(2)).unwrap();
    assert!(net.suggestions(A, 10, minute(3)).unwrap().is_empty(), "the member declined them");
    // A cooldown longer than the window.
    let net = network(Policy { resend_cooldown: Some(days(200)), ..Policy::standard() }, &[1, 2, 3, 4, 5]);
    connect(&net, C, A);
    connect(&net, C, E);
    let r = net.send(A, E, None, None, minute(1)).unwrap();
    net.withdraw(A, r, None, minute(2)).unwrap();
    assert!(net.suggestions(A, 10, day(150)).unwrap().is_empty(), "in cooldown");
    assert_eq!(net.suggestions(A, 10, day(201)).unwrap().len(), 1, "cooldown over");
}

#[test]
fn never_suggested_anyone_who_reported_the_member_dont_know() {
    let net = pair();
    net.report(E, A, ReportReason::DontKnow, None, minute(1)).unwrap();
    assert!(suggested(&net, A).is_empty());
    let net = pair();
    net.report(E, A, ReportReason::Spam, None, minute(1)).unwrap();
    assert_eq!(suggested(&net, A), vec![5], "only dont_know rules it out");
}

#[test]
fn never_suggested_anyone_whose_setting_would_refuse_the_members_invitation() {
    for (setting, in_contacts, expected) in [
        (InvitationSetting::Nobody, false, false),
        (InvitationSetting::Contacts, false, false),
        (InvitationSetting::Contacts, true, true),
        (InvitationSetting::EmailOrContacts, false, false),
        (InvitationSetting::EmailOrContacts, true, true),
        (InvitationSetting::FriendsOfFriends, false, true),
        (InvitationSetting::Everyone, false, true),
    ] {
        let net = pair();
        net.set_invitation_setting(E, setting, minute(1)).unwrap();
        if in_contacts {
            net.import_contacts(E, &[&address(1)], minute(1)).unwrap();
        }
        assert_eq!(!suggested(&net, A).is_empty(), expected, "{setting} (A in contacts: {in_contacts})");
    }
    // Friends of friends refuses a contact-less suggestion without a mutual connection.
    let net = network(Policy::standard(), &[1, 2]);
    net.import_contacts(A, &[&address(2)], minute(1)).unwrap();
    assert_eq!(suggested(&net, A), vec![2]);
    net.set_invitation_setting(B, InvitationSetting::FriendsOfFriends, minute(2)).unwrap();
    assert!(suggested(&net, A).is_empty());
}

#[test]
fn withdraw_all_withdraws_every_open_request_as_withdraw_does_and_counts_them() {
    let net = standard();
    let accepted = net.send(A, E, None, None, day(0)).unwrap();
    net.accept(E, accepted, day(0)).unwrap();
    net.send(A, B, None, None, day(0)).unwrap();
    let ignored = net.send(A, C, None, None, day(5)).unwrap();
    net.ignore(C, ignored, day(5)).unwrap();
    net.send(A, D, None, None, day(9)).unwrap();
    assert_eq!(net.withdraw_all(A, Some(days(4)), Some("cleaning up"), day(10)).unwrap(), 2);
    assert_eq!(net.sent(A, Some(RequestState::Pending)).unwrap().len(), 1, "the newest stays");
    for who in [B, C] {
        let n = net.notifications(who, false).unwrap();
        assert_eq!(n.last().unwrap().kind, NotificationKind::InvitationWithdrawn, "{who} is told");
        assert!(n.last().unwrap().text.contains("cleaning up"));
    }
    assert_eq!(net.withdraw_all(A, None, None, day(10)).unwrap(), 1);
    assert_eq!(net.withdraw_all(A, None, None, day(10)).unwrap(), 0);
    assert_eq!(outcome(net.withdraw_all(A, None, Some(&"x".repeat(301)), day(10))), "NoteTooLong");
}

#[test]
fn the_outstanding_cap_refuses_a_send_while_the_sender_has_that_many_open() {
    let net = network(Policy { max_outstanding: Some(2), ..Policy::standard() }, &[1, 2, 3, 4, 5]);
    net.send(A, B, None, None, minute(1)).unwrap();
    let r = net.send(A, C, None, None, minute(1)).unwrap();
    assert_eq!(net.send(A, D, None, None, minute(2)), Err(Error::OutstandingLimit { max: 2 }));
    net.ignore(C, r, minute(3)).unwrap();
    assert_eq!(outcome(net.send(A, D, None, None, minute(3))), "OutstandingLimit", "ignored is still open");
    net.withdraw(A, r, None, minute(4)).unwrap();
    assert_eq!(outcome(net.send(A, D, None, None, minute(5))), "ok");
}

#[test]
fn a_block_does_not_lower_the_senders_count_of_what_they_see_open() {
    let net = network(Policy { max_outstanding: Some(1), ..Policy::standard() }, &[1, 2, 3]);
    net.send(A, B, None, None, minute(1)).unwrap();
    net.block(B, A, minute(2)).unwrap();
    assert_eq!(outcome(net.send(A, C, None, None, minute(3))), "OutstandingLimit", "A still sees it pending");
}

#[test]
fn the_outstanding_cap_is_checked_after_the_weekly_limit_and_the_note_before_the_cooldown() {
    let policy = Policy {
        max_outstanding: Some(1),
        weekly_invite_limit: Some(1),
        resend_cooldown: Some(days(21)),
        ..Policy::standard()
    };
    let net = network(policy.clone(), &[1, 2, 3]);
    net.send(A, B, None, None, minute(1)).unwrap();
    assert_eq!(outcome(net.send(A, C, None, None, minute(2))), "RateLimited", "the weekly limit comes first");
    assert_eq!(outcome(net.send(A, C, Some(&"x".repeat(301)), None, minute(2))), "NoteTooLong");
    let net = network(Policy { weekly_invite_limit: None, ..policy }, &[1, 2, 3]);
    let r = net.send(A, C, None, None, minute(1)).unwrap();
    net.withdraw(A, r, None, minute(2)).unwrap();
    net.send(A, B, None, None, minute(3)).unwrap();
    // A is in cooldown with C and at the cap: the cap is reported.
    assert_eq!(outcome(net.send(A, C, None, None, minute(4))), "OutstandingLimit");
}

#[test]
fn update_member_validates_as_register_and_later_texts_and_unsent_emails_follow() {
    let net = standard();
    net.send(A, B, None, None, minute(1)).unwrap();
    assert_eq!(outcome(net.update_member(A, Some(Some("not an address")), None, minute(2))), "InvalidInput");
    assert_eq!(outcome(net.update_member(A, None, Some(Some("bad\u{7}name")), minute(2))), "InvalidInput");
    assert_eq!(outcome(net.update_member(m(99), None, Some(Some("X")), minute(2))), "UnknownMember");
    net.update_member(A, None, Some(Some("Ada Lovelace")), minute(2)).unwrap();
    net.update_member(B, Some(Some("bob.new@example.com")), None, minute(2)).unwrap();
    let n = &net.notifications(B, false).unwrap()[0];
    assert_eq!(n.text, "Ada Lovelace wants to connect with you.");
    let email = &net.pending_emails(None).unwrap()[0];
    assert_eq!(email.address, "bob.new@example.com", "the unsent email goes to the new address");
    assert!(email.subject.starts_with("Ada Lovelace"));
    assert_eq!(net.public_profile(A).unwrap().name.as_deref(), Some("Ada Lovelace"));
    // No address: the unsent email has nowhere to go and leaves the outbox.
    net.update_member(B, Some(None), None, minute(3)).unwrap();
    assert!(net.pending_emails(None).unwrap().is_empty());
    let events = event_count(&net);
    net.update_member(A, None, Some(Some("Ada Lovelace")), minute(4)).unwrap();
    assert_eq!(event_count(&net), events, "a change to nothing new records nothing");
}

#[test]
fn export_is_json_with_everything_the_member_may_see() {
    let net = standard();
    net.import_contacts(A, &["Friend@Example.com"], minute(1)).unwrap();
    let r = net.send(A, B, Some("hello"), None, minute(1)).unwrap();
    net.accept(B, r, minute(2)).unwrap();
    net.send(C, A, None, None, minute(3)).unwrap();
    net.block(A, D, minute(4)).unwrap();
    net.report(A, E, ReportReason::Spam, None, minute(5)).unwrap();
    net.set_invitation_setting(A, InvitationSetting::Contacts, minute(6)).unwrap();
    // The export lists the emails that went to the member (those still queued or skipped are the outbox's).
    let to_a: Vec<_> =
        net.pending_emails(None).unwrap().iter().filter(|e| e.member == A).map(|e| e.id).collect();
    assert_eq!(to_a.len(), 2);
    net.mark_emails_sent(&to_a[..1], minute(7)).unwrap();
    let export = net.export_member(A).unwrap();
    let text = serde_json::to_string(&export).unwrap();
    let back: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, export);
    assert_eq!(export["profile"]["name"], "Ada");
    assert_eq!(export["profile"]["email"], address(1));
    assert_eq!(export["settings"]["invitation_setting"], "contacts");
    assert_eq!(export["contacts"], serde_json::json!(["friend@example.com"]));
    assert_eq!(export["requests_sent"][0]["note"], "hello");
    assert_eq!(export["requests_received"][0]["sender"], 3);
    assert_eq!(export["connections"], serde_json::json!([2]));
    assert_eq!(export["notifications"].as_array().unwrap().len(), 2);
    assert_eq!(export["emails"].as_array().unwrap().len(), 1);
    assert_eq!(export["emails"][0]["status"], "sent");
    assert_eq!(export["settings"]["email_frequency"], "immediate");
    assert_eq!(export["settings"]["locale"], "en");
    assert_eq!(export["blocks"], serde_json::json!([4]));
    assert_eq!(export["reports"][0]["reason"], "spam");
    assert_eq!(export["standing"], "good");
}

#[test]
fn an_erased_member_is_a_tombstone_everyone_sees_as_a_former_member() {
    let net = standard();
    connect(&net, A, B);
    let open = net.send(A, C, Some("secret note"), None, minute(1)).unwrap();
    let to_a = net.send(D, A, None, None, minute(1)).unwrap();
    let stats = net.stats().unwrap();
    net.erase_member(A, minute(2)).unwrap();
    for r in [open, to_a] {
        assert_eq!(net.request(r).unwrap().state, RequestState::Cancelled, "open requests are cancelled");
    }
    assert_eq!(net.request(open).unwrap().note, None, "the notes they wrote are gone");
    assert_eq!(net.connections(B).unwrap(), vec![], "connections end");
    let after = net.stats().unwrap();
    assert_eq!(after.connections, stats.connections - 1);
    assert_eq!(after.members["good"], stats.members["good"] - 1);
    assert_eq!(after.events, stats.events + 1);
    for e in [
        net.send(B, A, None, None, minute(3)).map(drop),
        net.send(A, B, None, None, minute(3)).map(drop),
        net.block(B, A, minute(3)),
        net.report(B, A, ReportReason::Spam, None, minute(3)),
        net.erase_member(A, minute(3)),
        net.public_profile(A).map(drop),
        net.export_member(A).map(drop),
    ] {
        assert_eq!(e, Err(Error::UnknownMember(A)));
    }
    assert_eq!(outcome(net.register(A, None, None, minute(3))), "MemberExists", "the id is never reused");
    let text = &net.notifications(C, false).unwrap()[0].text;
    assert_eq!(
        text,
        "A former member wants to connect with you.\n\nNote: secret note"
            .replace("\n\nNote: secret note", "")
            .as_str()
    );
    assert!(net.read(|model| model.invariant_violations()).unwrap().is_empty());
}

#[test]
fn erasing_a_member_who_declined_silently_then_accepted_removes_their_message_from_state_and_log_alike() {
    // The sender, not told of the decline, still sees it pending; the recipient's
    // own send then accepts it (reverse_request = accept). The decline's message
    // is the recipient's, whatever state the request is in now.
    let policy = Policy {
        notify_on_decline: false,
        reverse_request: connreq_core::ReverseRequest::Accept,
        ..Policy::standard()
    };
    let net = network(policy.clone(), &[1, 2]);
    let r = net.send(A, B, Some("hello"), None, T0).unwrap();
    net.decline(B, r, Some("not now"), minute(1)).unwrap();
    assert_eq!(net.send(B, A, None, None, minute(2)).unwrap(), r);
    net.erase_member(B, minute(3)).unwrap();
    assert_eq!(net.request(r).unwrap().message, None);
    let live = net.read(|m| m.clone()).unwrap();
    let replayed = connreq_core::Model::replay(policy, &net.log());
    assert!(replayed == live, "{:?}", replayed.differences(&live));
}

//! SPEC §18: privacy that holds against a curious member. For each private
//! fact, two networks that differ only in that fact; the member who must not
//! learn it makes the same member-facing calls in both, and every value, error
//! and time they see must be the same.
//!
//! A fact is paired with what the member could equally be seeing: a block or a
//! "don't know" report with a refusing invitation setting (both refuse sends
//! with the same error), an ignore or a silent decline with no answer at all,
//! a silent withdrawal's time and message with another time and none, a flag
//! with none. SPEC itself lets one thing through: a recipient the sender has
//! blocked may not accept the request ("refused exactly as a send is").

mod common;

use common::*;
use connreq_core::{
    Error, InvitationSetting, MemberId, MemoryNetwork, Network, NotificationId, Policy, ReportReason,
    RequestId, Timestamp,
};
use proptest::prelude::*;

/// Everything a member can ask about themselves and `other`, rendered.
/// Notification ids are a network-wide count that moves with every member's
/// activity; a member's own are compared by their order.
fn observe(net: &MemoryNetwork, me: MemberId, other: MemberId) -> Vec<String> {
    let notifications = net.notifications(me, false).map(|list| {
        list.into_iter()
            .enumerate()
            .map(|(i, n)| connreq_core::Notification { id: NotificationId(i as u64 + 1), ..n })
            .collect::<Vec<_>>()
    });
    vec![
        format!("sent {:?}", net.sent(me, None)),
        format!("received {:?}", net.received(me, None)),
        format!("notifications {notifications:?}"),
        format!("unread {:?}", net.unread_count(me)),
        format!("connections {:?} {:?}", net.connections(me), net.connection_count(me)),
        format!("mutual {:?}", net.mutual_connections(me, other)),
        format!("profiles {:?} {:?}", net.public_profile(me), net.public_profile(other)),
        format!("is_blocked {:?}", net.is_blocked(me, other)),
        format!("invitations {:?}", net.invitations(me, true)),
        format!("suggestions {:?}", net.suggestions(me, 10, day(1000))),
        format!("export {:?}", net.export_member(me).map(without_ids)),
    ]
}

/// An export with the network-wide numbers of notifications and emails left
/// out (they move with every member's activity, as `observe` says).
fn without_ids(mut export: serde_json::Value) -> serde_json::Value {
    for list in ["notifications", "emails"] {
        if let Some(items) = export[list].as_array_mut() {
            for item in items {
                if let Some(o) = item.as_object_mut() {
                    o.remove("id");
                }
            }
        }
    }
    export
}

/// One member-facing call by the curious member `me` about `other` and the
/// request `r` (or the newest request between them), at `t`.
#[derive(Clone, Copy, Debug)]
enum Call {
    Send,
    SendWithNote,
    Withdraw,
    WithdrawWithMessage,
    Ignore,
    Decline,
    ReportDontKnow,
    ReportSpam,
    Block,
    Unblock,
    MarkAllRead,
    /// Time passes beyond `pending_ttl` and the operator runs expiry.
    Expire,
    SendToThird,
}

const THIRD: MemberId = MemberId(3);

/// The requests between `me` and `other` that `me` can see, newest first.
fn between(net: &MemoryNetwork, me: MemberId, other: MemberId) -> Vec<RequestId> {
    let mut ids: Vec<RequestId> = net
        .sent(me, None)
        .unwrap()
        .into_iter()
        .filter(|r| r.recipient == other)
        .chain(net.received(me, None).unwrap().into_iter().filter(|r| r.sender == other))
        .map(|r| r.id)
        .collect();
    ids.sort_unstable();
    ids.reverse();
    ids
}

fn call(net: &MemoryNetwork, me: MemberId, other: MemberId, c: Call, t: Timestamp) -> String {
    let newest = between(net, me, other).first().copied().unwrap_or(RequestId(1));
    let result: Result<String, Error> = match c {
        Call::Send => net.send(me, other, None, None, t).map(|r| format!("{r:?}")),
        Call::SendWithNote => net.send(me, other, Some("hello again"), None, t).map(|r| format!("{r:?}")),
        Call::Withdraw => net.withdraw(me, newest, None, t).map(|()| String::new()),
        Call::WithdrawWithMessage => net.withdraw(me, newest, Some("sorry"), t).map(|()| String::new()),
        Call::Ignore => net.ignore(me, newest, t).map(|()| String::new()),
        Call::Decline => net.decline(me, newest, Some("no, thank you"), t).map(|()| String::new()),
        Call::ReportDontKnow => {
            net.report(me, other, ReportReason::DontKnow, None, t).map(|()| String::new())
        }
        Call::ReportSpam => net.report(me, other, ReportReason::Spam, None, t).map(|()| String::new()),
        Call::Block => net.block(me, other, t).map(|()| String::new()),
        Call::Unblock => net.unblock(me, other, t).map(|()| String::new()),
        Call::MarkAllRead => {
            let ids: Vec<NotificationId> =
                net.notifications(me, true).unwrap().iter().map(|n| n.id).collect();
            net.mark_read(me, &ids, t).map(|()| String::new())
        }
        Call::Expire => net.expire(t).map(|_| String::new()),
        Call::SendToThird => net.send(me, THIRD, None, None, t).map(|r| format!("{r:?}")),
    };
    // The operator's count of expired requests is not the member's to see.
    format!("{c:?}: {result:?}")
}

/// Runs `calls` by `me` in both networks, a minute apart from `start` (an
/// expiry a year later), comparing everything `me` sees after each.
fn same_for(
    label: &str,
    (with, without): (&MemoryNetwork, &MemoryNetwork),
    me: MemberId,
    other: MemberId,
    calls: &[Call],
    start: Timestamp,
) {
    assert_eq!(observe(with, me, other), observe(without, me, other), "{label}: before any call");
    let mut t = start;
    for (i, c) in calls.iter().enumerate() {
        t = match c {
            Call::Expire => Timestamp(t.0 + 400 * MS_PER_DAY),
            _ => Timestamp(t.0 + MS_PER_MINUTE),
        };
        let (a, b) = (call(with, me, other, *c, t), call(without, me, other, *c, t));
        assert_eq!(a, b, "{label}: call {i} {c:?}");
        assert_eq!(observe(with, me, other), observe(without, me, other), "{label}: after call {i} {c:?}");
    }
}

/// The calls a member on either side of a request can make, in several orders.
fn call_sequences(as_sender: bool) -> Vec<Vec<Call>> {
    use Call::*;
    let mut sequences = vec![
        vec![Send, SendWithNote, SendToThird, MarkAllRead],
        vec![Expire, Send, Withdraw, Send],
        vec![Block, Send, Unblock, Send, Expire],
        vec![ReportSpam, Send, Block, Unblock],
        vec![ReportDontKnow, Send, Expire, Send],
        vec![Block, Block, Unblock, Unblock, Send, Withdraw, Send],
    ];
    if as_sender {
        sequences.extend([
            vec![Withdraw, Send, SendWithNote],
            vec![WithdrawWithMessage, Send, Expire, Send],
            vec![Send, Withdraw, Withdraw, Block, Send],
        ]);
    } else {
        sequences.extend([
            vec![Ignore, Send, Decline, Send],
            vec![Decline, Send, Withdraw],
            vec![Ignore, Expire, Send, Withdraw],
            vec![ReportDontKnow, Ignore, Decline],
        ]);
    }
    sequences
}

/// Members 1 (A) and 2 (B) with addresses and names, 3 and 4 besides; a
/// request from A to B sent at T0.
fn base(policy: Policy) -> (MemoryNetwork, RequestId) {
    let net = network(policy, &[1, 2, 3, 4]);
    let r = net.send(A, B, Some("We met at the conference"), None, T0).unwrap();
    (net, r)
}

fn with_ttl(policy: Policy) -> Policy {
    Policy { pending_ttl: Some(days(183)), ..policy }
}

/// Checks one fact: `with` applies it to a network, `without` its counterpart;
/// `curious` must not tell them apart by any sequence of calls.
fn fact(
    label: &str,
    policy: Policy,
    curious: MemberId,
    with: impl Fn(&MemoryNetwork, RequestId),
    without: impl Fn(&MemoryNetwork, RequestId),
) {
    let other = if curious == A { B } else { A };
    for (k, calls) in call_sequences(curious == A).iter().enumerate() {
        let (net_with, r) = base(policy.clone());
        let (net_without, _) = base(policy.clone());
        with(&net_with, r);
        without(&net_without, r);
        same_for(
            &format!("{label}, sequence {k}"),
            (&net_with, &net_without),
            curious,
            other,
            calls,
            minute(10),
        );
    }
}

#[test]
fn an_ignore_is_not_seen_by_the_sender() {
    fact("ignore", with_ttl(Policy::standard()), A, |n, r| n.ignore(B, r, minute(1)).unwrap(), |_, _| {});
}

#[test]
fn a_block_by_the_recipient_is_not_seen_by_the_sender() {
    // What the sender could equally be seeing: the recipient refusing all invitations.
    for policy in [with_ttl(Policy::standard()), Policy::linkedin()] {
        fact(
            "block by the recipient",
            policy,
            A,
            |n, _| n.block(B, A, minute(1)).unwrap(),
            |n, _| n.set_invitation_setting(B, InvitationSetting::Nobody, minute(1)).unwrap(),
        );
    }
}

#[test]
fn a_block_by_the_recipient_of_an_ignored_request_is_not_seen_by_the_sender() {
    fact(
        "block after an ignore",
        with_ttl(Policy::standard()),
        A,
        |n, r| {
            n.ignore(B, r, minute(1)).unwrap();
            n.block(B, A, minute(2)).unwrap();
        },
        |n, r| {
            n.ignore(B, r, minute(1)).unwrap();
            n.set_invitation_setting(B, InvitationSetting::Nobody, minute(2)).unwrap();
        },
    );
}

#[test]
fn a_block_by_the_sender_is_not_seen_by_the_recipient() {
    fact(
        "block by the sender",
        with_ttl(Policy::standard()),
        B,
        |n, _| n.block(A, B, minute(1)).unwrap(),
        |n, _| n.set_invitation_setting(A, InvitationSetting::Nobody, minute(1)).unwrap(),
    );
}

#[test]
fn a_block_between_connections_is_not_seen_by_the_member_blocked() {
    let connect = |n: &MemoryNetwork, r: RequestId| n.accept(B, r, minute(1)).unwrap();
    fact(
        "block of a connection",
        with_ttl(Policy::standard()),
        A,
        move |n, r| {
            connect(n, r);
            n.block(B, A, minute(2)).unwrap();
        },
        move |n, r| {
            connect(n, r);
            n.remove_connection(B, A, minute(2)).unwrap();
            n.set_invitation_setting(B, InvitationSetting::Nobody, minute(2)).unwrap();
        },
    );
}

#[test]
fn a_dont_know_report_is_not_seen_by_the_member_reported() {
    fact(
        "dont_know",
        with_ttl(Policy::standard()),
        A,
        |n, r| n.report(B, A, ReportReason::DontKnow, Some(r), minute(1)).unwrap(),
        |n, _| n.set_invitation_setting(B, InvitationSetting::Nobody, minute(1)).unwrap(),
    );
}

#[test]
fn a_silent_withdrawal_shows_the_recipient_neither_its_time_nor_its_message() {
    // LinkedIn's policy: the invitation leaves the recipient's lists; when and why stay the sender's.
    fact(
        "silent withdrawal",
        Policy::linkedin(),
        B,
        |n, r| n.withdraw(A, r, Some("sorry, wrong person"), minute(1)).unwrap(),
        |n, r| n.withdraw(A, r, None, minute(5)).unwrap(),
    );
}

#[test]
fn a_silent_decline_is_not_seen_by_the_sender() {
    let policy = Policy { notify_on_decline: false, ..with_ttl(Policy::standard()) };
    fact(
        "silent decline",
        policy.clone(),
        A,
        |n, r| n.decline(B, r, Some("I don't know you"), minute(1)).unwrap(),
        |_, _| {},
    );
    // With a cooldown too: only what the sender did themselves starts one.
    let cooldown = Policy { resend_cooldown: Some(days(21)), ..policy };
    fact(
        "silent decline with a cooldown",
        cooldown,
        A,
        |n, r| n.decline(B, r, None, minute(1)).unwrap(),
        |_, _| {},
    );
}

#[test]
fn a_flag_is_not_seen_by_the_member_flagged() {
    // Three withdrawals to member 4 flag A under one threshold and not under another.
    let flagging = Policy { review_withdrawals_same_person: Some(3), ..with_ttl(Policy::standard()) };
    let lenient = Policy { review_withdrawals_same_person: Some(100), ..flagging.clone() };
    let withdrawals = |n: &MemoryNetwork| {
        for k in 0..3 {
            let r = n.send(A, D, None, None, minute(1 + k)).unwrap();
            n.withdraw(A, r, None, minute(1 + k)).unwrap();
        }
    };
    for (k, calls) in call_sequences(true).iter().enumerate() {
        let (with, _) = base(flagging.clone());
        let (without, _) = base(lenient.clone());
        withdrawals(&with);
        withdrawals(&without);
        assert_eq!(with.standing(A).unwrap(), connreq_core::Standing::UnderReview);
        assert_eq!(without.standing(A).unwrap(), connreq_core::Standing::Good);
        same_for(&format!("flag, sequence {k}"), (&with, &without), A, B, calls, minute(10));
    }
}

#[test]
fn a_pestering_flag_is_not_seen_by_the_member_flagged() {
    // A sends again after D declined, and D reports harassment: flagged
    // repeated_resends under the standard rules, not with them off.
    let flagging = with_ttl(Policy::standard());
    let lenient = Policy {
        review_resends_same_person: None,
        review_resends_after_harassment: None,
        ..flagging.clone()
    };
    let pester = |n: &MemoryNetwork| {
        let r = n.send(A, D, None, None, minute(1)).unwrap();
        n.decline(D, r, None, minute(2)).unwrap();
        let again = n.send(A, D, None, None, minute(3)).unwrap();
        n.report(D, A, ReportReason::Harassment, Some(again), minute(4)).unwrap();
    };
    for (k, calls) in call_sequences(true).iter().enumerate() {
        let (with, _) = base(flagging.clone());
        let (without, _) = base(lenient.clone());
        pester(&with);
        pester(&without);
        assert_eq!(with.standing(A).unwrap(), connreq_core::Standing::UnderReview);
        assert_eq!(without.standing(A).unwrap(), connreq_core::Standing::Good);
        same_for(&format!("pestering flag, sequence {k}"), (&with, &without), A, B, calls, minute(10));
    }
}

#[test]
fn acting_on_a_request_cancelled_by_a_block_moves_only_the_blocked_members_view() {
    // B blocks A: A withdraws in A's view; B and the operator see the truth.
    let (net, r) = base(with_ttl(Policy::standard()));
    net.block(B, A, minute(1)).unwrap();
    let b_before = observe(&net, B, A);
    net.withdraw(A, r, Some("sorry"), minute(2)).unwrap();
    assert_eq!(net.sent(A, None).unwrap()[0].state, connreq_core::RequestState::Withdrawn);
    assert_eq!(net.sent(A, None).unwrap()[0].message.as_deref(), Some("sorry"));
    assert_eq!(net.request(r).unwrap().state, connreq_core::RequestState::Cancelled);
    assert_eq!(observe(&net, B, A), b_before, "the blocker sees nothing new");
    // The recipient A blocked: ignore, decline and dont_know move B's view; accepting is refused as a send is.
    let (net, r) = base(with_ttl(Policy::standard()));
    net.block(A, B, minute(1)).unwrap();
    let refused = net.accept(B, r, minute(3)).unwrap_err();
    assert_eq!(refused, Error::InvitationNotAllowed(A));
    assert_eq!(refused.to_string(), Error::InvitationNotAllowed(A).to_string());
    net.report(B, A, ReportReason::DontKnow, None, minute(4)).unwrap();
    assert_eq!(net.received(B, None).unwrap()[0].state, connreq_core::RequestState::Ignored);
    net.decline(B, r, None, minute(5)).unwrap();
    assert_eq!(net.received(B, None).unwrap()[0].state, connreq_core::RequestState::Declined);
    assert_eq!(net.request(r).unwrap().state, connreq_core::RequestState::Cancelled);
    assert!(
        net.notifications(A, false).unwrap().iter().all(|n| n.request_id != r),
        "the blocker is told nothing"
    );
}

#[test]
fn a_request_a_block_cancelled_comes_back_when_the_block_is_lifted_if_its_member_still_sees_it() {
    let (net, r) = base(with_ttl(Policy::standard()));
    net.ignore(B, r, minute(1)).unwrap();
    net.block(B, A, minute(2)).unwrap();
    assert_eq!(net.received(B, None).unwrap()[0].state, connreq_core::RequestState::Cancelled);
    net.unblock(B, A, minute(3)).unwrap();
    // A never saw it end; for B it is back as B left it: ignored.
    assert_eq!(net.request(r).unwrap().state, connreq_core::RequestState::Ignored);
    assert_eq!(net.received(B, None).unwrap()[0].state, connreq_core::RequestState::Ignored);
    assert_eq!(net.sent(A, None).unwrap()[0].state, connreq_core::RequestState::Pending);
    net.accept(B, r, minute(4)).unwrap();
    assert!(net.are_connected(A, B).unwrap());
    // One A had withdrawn (in A's view) stays cancelled.
    let (net, r) = base(with_ttl(Policy::standard()));
    net.block(B, A, minute(1)).unwrap();
    net.withdraw(A, r, None, minute(2)).unwrap();
    net.unblock(B, A, minute(3)).unwrap();
    assert_eq!(net.request(r).unwrap().state, connreq_core::RequestState::Cancelled);
    assert!(net.send(A, B, None, None, minute(4)).is_ok());
}

#[test]
fn a_member_blocked_first_sees_cancelled_once_they_block_back() {
    let (net, r) = base(with_ttl(Policy::standard()));
    net.block(B, A, minute(1)).unwrap();
    assert_eq!(net.sent(A, None).unwrap()[0].state, connreq_core::RequestState::Pending);
    net.block(A, B, minute(2)).unwrap();
    let seen = &net.sent(A, None).unwrap()[0];
    assert_eq!((seen.id, seen.state, seen.updated_at), (r, connreq_core::RequestState::Cancelled, minute(2)));
}

#[test]
fn a_request_cancelled_by_a_block_expires_in_the_blocked_members_view_with_the_usual_notification() {
    let (net, r) = base(with_ttl(Policy::standard()));
    net.block(B, A, minute(1)).unwrap();
    let later = Timestamp(T0.0 + 184 * MS_PER_DAY);
    assert_eq!(
        net.expire(later).unwrap(),
        0,
        "the operator counts requests that expired; this one was cancelled"
    );
    let seen = &net.sent(A, None).unwrap()[0];
    assert_eq!((seen.state, seen.updated_at), (connreq_core::RequestState::Expired, later));
    let n = net.notifications(A, false).unwrap();
    let expired = n.iter().find(|n| n.request_id == r).expect("A is told, as of any expiry");
    assert_eq!((expired.kind.as_str(), expired.created_at), ("invitation_expired", later));
    assert!(net.notifications(B, false).unwrap().iter().all(|n| n.kind.as_str() != "invitation_expired"));
}

#[test]
fn with_email_or_contacts_a_wrong_address_and_a_connection_tell_nothing_and_guesses_are_limited() {
    // Connected: the answer is AlreadyConnected whatever address is given.
    let net = standard();
    let (_, t) = request_in(&net, A, B, connreq_core::RequestState::Accepted, T0);
    net.set_invitation_setting(B, InvitationSetting::EmailOrContacts, t).unwrap();
    for guess in ["wrong@example.com", address(2).as_str()] {
        assert_eq!(net.send(A, B, None, Some(guess), minute(1)), Err(Error::AlreadyConnected(B)), "{guess}");
    }
    // Not connected: five wrong guesses a day, then every send with an address is refused.
    net.set_invitation_setting(C, InvitationSetting::EmailOrContacts, minute(1)).unwrap();
    for k in 0..5 {
        let guess = format!("guess{k}@example.com");
        assert_eq!(net.send(A, C, None, Some(&guess), minute(2 + k)), Err(Error::InvitationNotAllowed(C)));
    }
    let wrong: Vec<_> = all_events(&net).into_iter().filter(|e| e.kind == "wrong_address_given").collect();
    assert_eq!(wrong.len(), 5);
    assert_eq!(net.send(A, C, None, Some(&address(3)), minute(8)), Err(Error::InvitationNotAllowed(C)));
    assert_eq!(
        all_events(&net).iter().filter(|e| e.kind == "wrong_address_given").count(),
        5,
        "refused on the count: nothing more recorded"
    );
    // A day after the first guess, the right address works again.
    let next_day = Timestamp(minute(2).0 + MS_PER_DAY + 1);
    assert!(net.send(A, C, None, Some(&address(3)), next_day).is_ok());
}

#[test]
fn the_order_of_sends_checks_hides_settings_and_reports_behind_what_the_sender_sees() {
    // A pending request is reported before a refusing setting or a "don't know" report.
    let net = standard();
    let r = net.send(A, B, None, None, T0).unwrap();
    net.report(B, A, ReportReason::DontKnow, Some(r), minute(1)).unwrap();
    assert_eq!(
        net.send(A, B, None, None, minute(2)),
        Err(Error::AlreadyPending { recipient: B, request: r })
    );
    // A reverse request likewise.
    let r = net.send(C, A, None, None, minute(3)).unwrap();
    net.set_invitation_setting(C, InvitationSetting::Nobody, minute(4)).unwrap();
    assert_eq!(net.send(A, C, None, None, minute(5)), Err(Error::ReversePending { sender: C, request: r }));
}

#[test]
fn imported_contacts_are_bounded() {
    let net = standard();
    let ten_thousand_and_one: Vec<String> = (0..10_001).map(|i| format!("c{i}@example.com")).collect();
    let list: Vec<&str> = ten_thousand_and_one.iter().map(String::as_str).collect();
    let err = net.import_contacts(A, &list, T0).unwrap_err();
    assert!(matches!(&err, Error::InvalidInput(m) if m.contains("10000")), "{err}");
    for batch in 0..5u64 {
        let chunk: Vec<String> =
            (0..10_000).map(|i| format!("c{}@example.com", batch * 10_000 + i)).collect();
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        net.import_contacts(A, &chunk, minute(1 + batch as i64)).unwrap();
    }
    let before = event_count(&net);
    let err = net.import_contacts(A, &["one.more@example.com"], minute(10)).unwrap_err();
    assert!(matches!(&err, Error::InvalidInput(m) if m.contains("50000")), "{err}");
    assert_eq!(event_count(&net), before, "nothing stored");
    // Addresses already imported do not count twice.
    net.import_contacts(A, &["c1@example.com", "C2@Example.com"], minute(11)).unwrap();
}

#[test]
fn whitespace_only_notes_and_messages_are_no_note() {
    let net = standard();
    let r = net.send(A, B, Some(" \n   "), None, T0).unwrap();
    assert_eq!(net.request(r).unwrap().note, None);
    net.decline(B, r, Some("   "), minute(1)).unwrap();
    assert_eq!(net.request(r).unwrap().message, None);
    let text = &net.notifications(A, false).unwrap()[0].text;
    assert!(!text.contains("Message"), "{text}");
}

/// 64 histories a run; `PROPTEST_CASES` for more.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    /// Random histories with and without a block: the member blocked sees the
    /// same whatever they do (SPEC's one exception, accepting a request from
    /// the member who blocked them, is not among their calls here).
    #[test]
    fn the_member_blocked_sees_the_same_with_a_block_as_with_a_refusing_setting(
        pending_before in any::<bool>(),
        ignored_before in any::<bool>(),
        blocked_is_sender in any::<bool>(),
        calls in prop::collection::vec(0usize..12, 1..14),
    ) {
        use Call::*;
        let menu = [Send, SendWithNote, Withdraw, WithdrawWithMessage, Ignore, Decline, ReportDontKnow,
                    ReportSpam, Block, Unblock, MarkAllRead, Expire];
        let (curious, blocker) = if blocked_is_sender { (A, B) } else { (B, A) };
        let build = |block: bool| {
            let net = network(with_ttl(Policy::standard()), &[1, 2, 3, 4]);
            if pending_before {
                let r = net.send(A, B, Some("hi"), None, T0).unwrap();
                if ignored_before {
                    net.ignore(B, r, minute(1)).unwrap();
                }
            }
            // Noise from a third member, the same in both.
            net.send(C, curious, None, None, minute(2)).unwrap();
            if block {
                net.block(blocker, curious, minute(3)).unwrap();
            } else {
                net.set_invitation_setting(blocker, InvitationSetting::Nobody, minute(3)).unwrap();
            }
            net
        };
        let (with, without) = (build(true), build(false));
        let calls: Vec<Call> = calls.iter().map(|i| menu[*i]).collect();
        same_for("random", (&with, &without), curious, blocker, &calls, minute(10));
    }
}

/// A and B share connection C; `fact` is applied to one network, `cover` (a
/// refusal A could equally be seeing) to the other: A's suggestions must be
/// the same, and without either, B is suggested (the test is not vacuous).
fn suggestions_hide(label: &str, fact: impl Fn(&MemoryNetwork), cover: impl Fn(&MemoryNetwork)) {
    let make = || {
        let net = network(Policy::standard(), &[1, 2, 3, 4]);
        for x in [A, B] {
            let r = net.send(C, x, None, None, T0).unwrap();
            net.accept(x, r, T0).unwrap();
        }
        net
    };
    let plain = make();
    assert_eq!(plain.suggestions(A, 10, minute(5)).unwrap()[0].member, B, "{label}: B is suggested at all");
    let (with, without) = (make(), make());
    fact(&with);
    cover(&without);
    assert_eq!(observe(&with, A, B), observe(&without, A, B), "{label}");
    assert!(with.suggestions(A, 10, minute(5)).unwrap().iter().all(|s| s.member != B), "{label}");
}

#[test]
fn suggestions_reveal_a_block_no_more_than_a_refusing_setting() {
    let nobody =
        |n: &MemoryNetwork| n.set_invitation_setting(B, InvitationSetting::Nobody, minute(1)).unwrap();
    suggestions_hide("B blocked A", |n| n.block(B, A, minute(1)).unwrap(), nobody);
    suggestions_hide(
        "B reported A dont_know",
        |n| n.report(B, A, ReportReason::DontKnow, None, minute(1)).unwrap(),
        nobody,
    );
    let contacts =
        |n: &MemoryNetwork| n.set_invitation_setting(B, InvitationSetting::Contacts, minute(1)).unwrap();
    suggestions_hide("B blocked A, against contacts only", |n| n.block(B, A, minute(1)).unwrap(), contacts);
}

#[test]
fn an_export_never_names_who_reported_or_blocked_the_member() {
    let net = network(Policy::standard(), &[1, 2, 3, 4, 5]);
    net.report(E, A, ReportReason::Harassment, None, minute(1)).unwrap();
    net.report(D, A, ReportReason::DontKnow, None, minute(1)).unwrap();
    net.block(C, A, minute(2)).unwrap();
    net.report(A, B, ReportReason::Spam, None, minute(3)).unwrap();
    let export = net.export_member(A).unwrap();
    let text = export.to_string();
    for who in [C, D, E] {
        assert!(!text.contains(&format!(":{}", who.0)), "{who} appears in {text}");
        assert!(!text.contains(&name(who.0)), "{who}'s name appears in {text}");
    }
    assert_eq!(export["reports"][0]["reported"], serde_json::json!(2), "the reports A made are there");
}

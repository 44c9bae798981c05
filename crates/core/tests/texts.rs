//! SPEC §3: what members read. In-app texts, email subjects and bodies for each
//! kind; the date of old requests; optional notes and messages; escaping of
//! member text; no header injection.

mod common;

use common::*;
use connreq_core::{
    EmailAddress, Event, EventBody, MemberId, MemoryNetwork, Model, Network, Notice, NotificationKind,
    Policy, RequestId, Seq, Timestamp,
};
use std::time::Duration;

/// 2026-10-03T12:00:00Z, the date SPEC uses as its example.
const OCT_3: Timestamp = Timestamp(1_791_028_800_000);
/// 2026-10-03T23:59:59Z.
const OCT_3_LATE: Timestamp = Timestamp(1_791_071_999_000);

fn at(days: i64) -> Timestamp {
    Timestamp(OCT_3.0 + days * MS_PER_DAY)
}

/// The latest notification of `member`: its kind, its text, and the subject and body
/// of the email that carries it (if there is one).
fn latest(net: &MemoryNetwork, member: MemberId) -> (NotificationKind, String, Option<(String, String)>) {
    let n = net.notifications(member, false).unwrap().pop().expect("a notification");
    let due = n.created_at.plus(net.policy().unwrap().email_delay);
    let email =
        net.pending_emails(None).unwrap().into_iter().rev().find(|e| e.member == member && e.due_at == due);
    (n.kind, n.text, email.map(|e| (e.subject, e.body)))
}

fn two_members(policy: Policy) -> MemoryNetwork {
    let net = MemoryNetwork::new(policy).unwrap();
    net.register(A, Some("ada@example.com"), Some("Ada"), T0).unwrap();
    net.register(B, Some("bob@example.com"), Some("Bob"), T0).unwrap();
    net
}

fn body(greeting: &str, text: &str) -> String {
    format!("Hi {greeting},\n\n{text}\n\nYou can see your invitations in the app.\n")
}

type Scenario = fn(&MemoryNetwork) -> MemberId;

#[test]
fn each_kind_has_its_in_app_text_email_subject_and_body() {
    use NotificationKind::*;
    let cases: [(&str, Scenario, NotificationKind, &str, Option<&str>); 8] = [
        (
            "received",
            |n| {
                n.send(A, B, None, None, at(0)).unwrap();
                B
            },
            InvitationReceived,
            "Ada wants to connect with you.",
            Some("Ada wants to connect"),
        ),
        (
            "received with a note",
            |n| {
                n.send(A, B, Some("We met at RustConf.\nCoffee?"), None, at(0)).unwrap();
                B
            },
            InvitationReceived,
            "Ada wants to connect with you.\n\nNote: We met at RustConf.\nCoffee?",
            Some("Ada wants to connect"),
        ),
        (
            "accepted",
            |n| {
                let r = n.send(A, B, Some("a note"), None, at(0)).unwrap();
                n.accept(B, r, at(1)).unwrap();
                A
            },
            InvitationAccepted,
            "Bob accepted your invitation to connect.",
            Some("Bob accepted your invitation"),
        ),
        (
            "declined",
            |n| {
                let r = n.send(A, B, None, None, at(0)).unwrap();
                n.decline(B, r, None, at(1)).unwrap();
                A
            },
            InvitationDeclined,
            "Your connection request to Bob was withdrawn.",
            Some("Your connection request was withdrawn"),
        ),
        (
            "declined with a message",
            |n| {
                let r = n.send(A, B, None, None, at(0)).unwrap();
                n.decline(B, r, Some("Not now, sorry."), at(1)).unwrap();
                A
            },
            InvitationDeclined,
            "Your connection request to Bob was withdrawn.\n\nMessage: Not now, sorry.",
            Some("Your connection request was withdrawn"),
        ),
        (
            "withdrawn",
            |n| {
                let r = n.send(A, B, None, None, at(0)).unwrap();
                n.withdraw(A, r, None, at(1)).unwrap();
                B
            },
            InvitationWithdrawn,
            "Ada withdrew the connection request.",
            Some("Ada withdrew a connection request"),
        ),
        (
            "withdrawn with a message",
            |n| {
                let r = n.send(A, B, None, None, at(0)).unwrap();
                n.withdraw(A, r, Some("Sent to the wrong Bob."), at(1)).unwrap();
                B
            },
            InvitationWithdrawn,
            "Ada withdrew the connection request.\n\nMessage: Sent to the wrong Bob.",
            Some("Ada withdrew a connection request"),
        ),
        (
            "expired",
            |n| {
                n.send(A, B, None, None, at(0)).unwrap();
                n.expire(at(4)).unwrap();
                A
            },
            InvitationExpired,
            "Your connection request to Bob expired.",
            None,
        ),
    ];
    for (label, scenario, kind, text, subject) in cases {
        let net = two_members(Policy { pending_ttl: Some(days(3)), ..Policy::standard() });
        let member = scenario(&net);
        let (got_kind, got_text, email) = latest(&net, member);
        assert_eq!(got_kind, kind, "{label}");
        assert_eq!(got_text, text, "{label}");
        let greeting = if member == A { "Ada" } else { "Bob" };
        let expected_email = subject.map(|s| (s.to_owned(), body(greeting, text)));
        assert_eq!(email, expected_email, "{label}");
    }
}

#[test]
fn a_member_without_a_name_is_called_by_number() {
    let net = MemoryNetwork::new(Policy::standard()).unwrap();
    net.register(m(42), Some("x@example.com"), None, T0).unwrap();
    net.register(m(7), Some("y@example.com"), None, T0).unwrap();
    net.send(m(42), m(7), None, None, T0).unwrap();
    let (_, text, email) = latest(&net, m(7));
    assert_eq!(text, "Member 42 wants to connect with you.");
    let (subject, body) = email.unwrap();
    assert_eq!(subject, "Member 42 wants to connect");
    assert!(body.starts_with("Hi Member 7,\n"), "{body}");
}

type Act = fn(&MemoryNetwork, RequestId, Timestamp);

#[test]
fn a_notification_about_a_request_older_than_seven_days_names_the_date_it_was_sent() {
    let accept: Act = |n, r, t| n.accept(B, r, t).unwrap();
    let decline: Act = |n, r, t| n.decline(B, r, Some("no"), t).unwrap();
    let withdraw: Act = |n, r, t| n.withdraw(A, r, None, t).unwrap();
    let expire: Act = |n, _, t| assert_eq!(n.expire(t).unwrap(), 1);
    let week = 7 * MS_PER_DAY;
    // what happens, sent at, how long after, whether the text names the date
    let cases: [(&str, Act, Timestamp, i64, bool); 12] = [
        ("accepted after 8 days", accept, OCT_3, 8 * MS_PER_DAY, true),
        ("accepted after exactly 7 days", accept, OCT_3, week, false),
        ("accepted after 6 days", accept, OCT_3, 6 * MS_PER_DAY, false),
        ("declined after 8 days", decline, OCT_3, 8 * MS_PER_DAY, true),
        ("declined after a day", decline, OCT_3, MS_PER_DAY, false),
        ("withdrawn after 7 days and a second", withdraw, OCT_3, week + 1000, true),
        ("withdrawn after 7 days less a second", withdraw, OCT_3, week - 1000, false),
        ("withdrawn after 200 days", withdraw, OCT_3, 200 * MS_PER_DAY, true),
        ("withdrawn, sent late in the UTC day", withdraw, OCT_3_LATE, 30 * MS_PER_DAY, true),
        ("withdrawn the same minute", withdraw, OCT_3, MS_PER_MINUTE, false),
        ("expired after 10 days", expire, OCT_3, 10 * MS_PER_DAY + 1, true),
        ("expired after 3 days", expire, OCT_3, 3 * MS_PER_DAY + 1, false),
    ];
    for (label, action, sent_at, later, names_date) in cases {
        let ttl = if later > 5 * MS_PER_DAY { days(10) } else { days(3) };
        let net = two_members(Policy { pending_ttl: Some(ttl), ..Policy::standard() });
        let r = net.send(A, B, None, None, sent_at).unwrap();
        action(&net, r, Timestamp(sent_at.0 + later));
        let member = if net.notifications(A, false).unwrap().is_empty() { B } else { A };
        let (_, text, email) = latest(&net, member);
        assert_eq!(text.contains(" sent on 2026-10-03"), names_date, "{label}: {text:?}");
        assert_eq!(text.contains("sent on"), names_date, "{label}: {text:?}");
        if let Some((subject, body)) = email {
            assert_eq!(body.contains(" sent on 2026-10-03"), names_date, "{label}: {body:?}");
            assert!(!subject.contains('\n'), "{label}");
        }
    }
}

#[test]
fn a_new_invitation_never_names_a_date() {
    let net = two_members(Policy::standard());
    net.send(A, B, None, None, OCT_3).unwrap();
    let (_, text, email) = latest(&net, B);
    assert!(!text.contains("sent on") && !email.unwrap().1.contains("sent on"), "{text}");
}

#[test]
fn the_date_threshold_follows_the_policy() {
    let net = two_members(Policy { date_context_after: days(1), ..Policy::standard() });
    let r = net.send(A, B, None, None, OCT_3).unwrap();
    net.accept(B, r, at(2)).unwrap();
    assert_eq!(latest(&net, A).1, "Bob accepted your invitation to connect sent on 2026-10-03.");
}

#[test]
fn the_optional_message_appears_only_when_given() {
    let net = two_members(Policy::standard());
    net.register(C, Some("cleo@example.com"), Some("Cleo"), T0).unwrap();
    let r1 = net.send(A, B, None, None, OCT_3).unwrap();
    let r2 = net.send(A, C, None, None, OCT_3).unwrap();
    net.withdraw(A, r1, None, at(1)).unwrap();
    net.withdraw(A, r2, Some("Wrong person, apologies"), at(1)).unwrap();
    let (_, plain, _) = latest(&net, B);
    let (_, with_message, email) = latest(&net, C);
    assert!(!plain.contains("Message"), "{plain}");
    assert!(with_message.ends_with("\n\nMessage: Wrong person, apologies"), "{with_message}");
    assert!(email.unwrap().1.contains("Message: Wrong person, apologies"));
}

#[test]
fn member_text_is_as_written_in_texts_subjects_and_plain_bodies_and_escaped_only_in_html() {
    let evil_name = "<script>alert(\"hi\")</script> & 'Co'";
    let escaped_name = "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; &#39;Co&#39;";
    let evil_note = "<a href=\"https://evil.example\">click</a> & win";
    let escaped_note = "&lt;a href=&quot;https://evil.example&quot;&gt;click&lt;/a&gt; &amp; win";
    let net = MemoryNetwork::new(Policy::standard()).unwrap();
    net.register(A, Some("ada@example.com"), Some(evil_name), T0).unwrap();
    net.register(B, Some("bob@example.com"), Some("Bob <b>Builder</b>"), T0).unwrap();
    let r = net.send(A, B, Some(evil_note), None, OCT_3).unwrap();
    let (_, text, email) = latest(&net, B);
    let (subject, body) = email.unwrap();
    assert_eq!(text, format!("{evil_name} wants to connect with you.\n\nNote: {evil_note}"));
    assert_eq!(subject, format!("{evil_name} wants to connect"));
    assert!(body.starts_with("Hi Bob <b>Builder</b>,\n"), "{body}");
    assert!(body.contains(evil_note), "{body}");
    let html = net.pending_emails(None).unwrap().pop().unwrap().html;
    assert!(html.contains(escaped_name) && html.contains(escaped_note), "{html}");
    assert!(html.contains("Bob &lt;b&gt;Builder&lt;/b&gt;"), "{html}");
    assert!(!html.contains("<script") && !html.contains("<a href=\"https://evil"), "{html}");
    let message = "</p><img src=x onerror=alert(1)> \"no\" & 'no'";
    net.decline(B, r, Some(message), at(1)).unwrap();
    let (_, text, email) = latest(&net, A);
    let (subject, body) = email.unwrap();
    assert!(text.ends_with(&format!("Message: {message}")), "{text}");
    assert!(body.contains(message), "{body}");
    assert_eq!(subject, "Your connection request was withdrawn");
    let html = net.pending_emails(None).unwrap().into_iter().find(|e| e.member == A).unwrap().html;
    let escaped_message = "&lt;/p&gt;&lt;img src=x onerror=alert(1)&gt; &quot;no&quot; &amp; &#39;no&#39;";
    assert!(html.contains(escaped_message) && !html.contains("<img"), "{html}");
    assert_eq!(net.request(r).unwrap().note.as_deref(), Some(evil_note), "stored as given");
}

#[test]
fn an_apostrophe_stays_an_apostrophe_in_the_app_and_in_plain_text() {
    // SPEC §16: "I don't think we have met" stays exactly that.
    let net = two_members(Policy::standard());
    let r = net.send(A, B, Some("I don't think we have met before"), None, T0).unwrap();
    let (_, text, email) = latest(&net, B);
    assert!(text.ends_with("Note: I don't think we have met before"), "{text}");
    assert!(email.unwrap().1.contains("Note: I don't think we have met before"));
    net.register(C, Some("c@example.com"), Some("Anne-Marie O'Neil & Co"), T0).unwrap();
    net.send(C, A, None, None, T0).unwrap();
    let (_, text, email) = latest(&net, A);
    assert_eq!(text, "Anne-Marie O'Neil & Co wants to connect with you.");
    assert_eq!(email.unwrap().0, "Anne-Marie O'Neil & Co wants to connect");
    net.decline(B, r, None, T0).unwrap();
}

#[test]
fn no_subject_ever_holds_a_line_break() {
    // A line separator in a name never reaches a subject: such a name is refused (SPEC §18).
    let net = MemoryNetwork::new(Policy::standard()).unwrap();
    assert!(matches!(
        net.register(A, None, Some("a\u{2028}b"), T0),
        Err(connreq_core::Error::InvalidInput(_))
    ));
    let names = ["Plain", "Ünïcødé Nämé", "Bcc: all@example.com", "x: y", "<b>&amp;</b>"];
    for name in names {
        let net = MemoryNetwork::new(Policy::standard()).unwrap();
        net.register(A, Some("a@example.com"), Some(name), T0).unwrap();
        net.register(B, Some("b@example.com"), Some(name), T0).unwrap();
        net.register(C, Some("c@example.com"), Some(name), T0).unwrap();
        let r1 = net.send(A, B, Some("line one\nBcc: x@example.com\n\nbody"), None, T0).unwrap();
        net.accept(B, r1, minute(1)).unwrap();
        let r2 = net.send(A, C, None, None, minute(2)).unwrap();
        net.decline(C, r2, Some("a\nb"), minute(3)).unwrap();
        let r3 = net.send(C, B, None, None, minute(4)).unwrap();
        net.withdraw(C, r3, Some("x\ny"), minute(5)).unwrap();
        let emails = net.pending_emails(None).unwrap();
        // The accepted and declined emails to A and the withdrawal to B; each
        // invitation email went stale when its request ended.
        assert_eq!(emails.len(), 3);
        for e in emails {
            assert!(!e.subject.contains('\r') && !e.subject.contains('\n'), "{name:?}: {:?}", e.subject);
            assert!(!e.body.contains('\r'), "{name:?}: {:?}", e.body);
        }
    }
}

#[test]
fn a_stored_name_with_a_line_break_still_cannot_add_a_header() {
    let evil = "Eve\r\nBcc: everyone@example.com\r\n\r\n<b>hi</b>";
    let event = |seq: u64, body: EventBody| Event { seq: Seq(seq), at: T0, body };
    let emailed = Notice::after_ms(120_000);
    let log = [
        event(
            1,
            EventBody::MemberRegistered {
                member: A,
                email: Some(EmailAddress::parse("eve@example.com").unwrap()),
                name: Some(evil.into()),
                locale: None,
            },
        ),
        event(
            2,
            EventBody::MemberRegistered {
                member: B,
                email: Some(EmailAddress::parse("bob@example.com").unwrap()),
                name: Some(evil.into()),
                locale: None,
            },
        ),
        event(
            3,
            EventBody::InvitationSent {
                request: RequestId(1),
                sender: A,
                recipient: B,
                note: None,
                notice: emailed,
                reminders: vec![],
            },
        ),
        event(
            4,
            EventBody::InvitationWithdrawn { request: RequestId(1), message: None, notice: Some(emailed) },
        ),
    ];
    let model = Model::replay(Policy::standard(), &log);
    let emails = model.pending_emails(None);
    assert_eq!(emails.len(), 2);
    for e in &emails {
        assert!(!e.subject.contains('\r') && !e.subject.contains('\n'), "{:?}", e.subject);
        assert!(!e.html.contains("<b>hi"), "{:?}", e.html);
        let first_line = e.body.lines().next().unwrap();
        assert!(first_line.starts_with("Hi Eve") && first_line.contains("Bcc:"), "{first_line:?}");
        assert!(!e.body.contains('\r'), "{:?}", e.body);
    }
}

#[test]
fn emails_go_to_the_address_as_registered() {
    let net = MemoryNetwork::new(Policy::standard()).unwrap();
    net.register(A, Some("Ada.Lovelace@Example.COM"), Some("Ada"), T0).unwrap();
    net.register(B, Some("bob@example.com"), Some("Bob"), T0).unwrap();
    let r = net.send(A, B, None, None, T0).unwrap();
    net.accept(B, r, minute(1)).unwrap();
    let to_a = net.pending_emails(None).unwrap().into_iter().find(|e| e.member == A).unwrap();
    assert_eq!(to_a.address, "Ada.Lovelace@Example.COM");
    assert_eq!(to_a.due_at, minute(1).plus(Duration::from_secs(120)));
}

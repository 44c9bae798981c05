//! Member text (names, emails, notes, messages) through validation, escaping
//! and the whole rendering path: in-app notifications, email subjects, plain
//! bodies (member text as written), HTML bodies (member text escaped), and the
//! RFC 5322 message built from them.

#![no_main]

mod common;

use arbitrary::Arbitrary;
use common::{START, Text};
use connreq_core::text::{EmailAddress, check_name, check_note, escape, escape_line, is_bidi_control};
use connreq_core::{MemberId, MemoryNetwork, Network, Timestamp};
use connreq_store::mail::Mailer;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    policy: u8,
    name1: Text,
    email1: Text,
    name2: Text,
    email2: Text,
    note: Text,
    note2: Text,
    message: Text,
    message2: Text,
    gap_days: u8,
}

fn validate(t: &str) {
    let chars = t.chars().count();
    if let Ok(e) = EmailAddress::parse(t) {
        assert!(t.len() <= 254, "a {}-byte address was accepted", t.len());
        assert_eq!(t.matches('@').count(), 1, "{t:?} was accepted");
        assert!(!t.chars().any(|c| c.is_whitespace() || c.is_control()), "{t:?} was accepted");
        assert_eq!(e.as_str(), t);
    }
    match check_note("note", t, 300) {
        Ok(()) => {
            assert!(chars <= 300);
            assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?} was accepted as a note");
            assert!(!t.chars().any(is_bidi_control), "{t:?} was accepted as a note");
        }
        Err(_) => assert!(
            chars > 300 || t.chars().any(|c| (c.is_control() && c != '\n') || is_bidi_control(c)),
            "{t:?} was refused as a note"
        ),
    }
    if check_name(t).is_ok() {
        assert!(!t.trim().is_empty() && chars <= 200, "{t:?} was accepted as a name");
        assert!(!t.chars().any(char::is_control), "{t:?} was accepted as a name");
        assert!(!t.chars().any(is_bidi_control), "{t:?} was accepted as a name");
    }
    let e = escape(t);
    assert!(!e.contains(['<', '>']), "escape({t:?}) = {e:?}");
    assert!(!e.chars().any(|c| c.is_control() && c != '\n'), "escape({t:?}) = {e:?}");
    let l = escape_line(t);
    assert!(!l.contains(['<', '>', '\n', '\r']), "escape_line({t:?}) = {l:?}");
    assert!(!l.chars().any(char::is_control), "escape_line({t:?}) = {l:?}");
}

fn valid_name(t: &Text) -> Option<&str> {
    check_name(t.as_str()).is_ok().then_some(t.as_str())
}

fn valid_email(t: &Text) -> Option<&str> {
    EmailAddress::parse(t.as_str()).is_ok().then_some(t.as_str())
}

fn valid_note(t: &Text, max: u32) -> Option<&str> {
    check_note("note", t.as_str(), max as usize).is_ok().then_some(t.as_str())
}

/// Plain text shown to a member: member text as written (markup included, it
/// is never interpreted), but nothing that could end a line or a header.
fn check_rendered(what: &str, text: &str) {
    assert!(!text.contains('\r'), "{what} carries a carriage return: {text:?}");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{what} carries a control character: {text:?}"
    );
}

/// The only markup an HTML part may hold: the template's own. Member text is
/// escaped, so every `<` must open one of these.
const TEMPLATE_TAGS: &[&str] = &[
    "<!DOCTYPE html>",
    "<html lang=\"",
    "<head>",
    "</head>",
    "<meta charset=\"utf-8\">",
    "<title>",
    "</title>",
    "<body>",
    "</body>",
    "</html>",
    "<p>",
    "</p>",
    "<br>",
    "<ul>",
    "</ul>",
    "<li>",
    "</li>",
    "<a href=\"",
    "</a>",
];

fn check_html(html: &str) {
    check_rendered("an HTML part", html);
    for (i, _) in html.match_indices('<') {
        let rest = &html[i..];
        assert!(
            TEMPLATE_TAGS.iter().any(|t| rest.starts_with(t)),
            "the HTML part carries markup the template does not: {:?}",
            rest.chars().take(60).collect::<String>()
        );
    }
}

fuzz_target!(|input: Input| {
    for t in [
        &input.name1,
        &input.email1,
        &input.name2,
        &input.email2,
        &input.note,
        &input.note2,
        &input.message,
        &input.message2,
    ] {
        validate(t.as_str());
    }

    let policy = common::policy(input.policy);
    let max = policy.max_note_chars;
    let net = MemoryNetwork::new(policy).unwrap();
    let (a, b, c) = (MemberId(1), MemberId(2), MemberId(3));
    let t0 = START;
    let later = Timestamp(t0.0 + i64::from(input.gap_days) * 86_400_000 + 1);
    let ok = "the scenario only uses valid input";

    // Registration with the fuzzed name and address, or without them when invalid;
    // invalid ones must be refused, never stored.
    for (m, name, email) in [(a, &input.name1, &input.email1), (b, &input.name2, &input.email2)] {
        if valid_name(name).is_none() || valid_email(email).is_none() {
            assert!(net.register(m, Some(email.as_str()), Some(name.as_str()), t0).is_err());
        }
        net.register(m, valid_email(email).or(Some("fallback@example.com")), valid_name(name), t0).expect(ok);
    }
    net.register(c, Some("c@example.com"), None, t0).expect(ok);

    // a → b with the note, declined with the message.
    let r1 = net.send(a, b, valid_note(&input.note, max), None, t0).expect(ok);
    if valid_note(&input.message, max).is_none() {
        assert!(net.decline(b, r1, Some(input.message.as_str()), later).is_err());
    }
    net.decline(b, r1, valid_note(&input.message, max), later).expect(ok);
    // b → c with the second note, withdrawn with the second message.
    let r2 = net.send(b, c, valid_note(&input.note2, max), None, later).expect(ok);
    let later2 = Timestamp(later.0 + i64::from(input.gap_days) * 86_400_000);
    net.withdraw(b, r2, valid_note(&input.message2, max), later2).expect(ok);
    // c → a, accepted: a's name in c's subject.
    let r3 = net.send(c, a, valid_note(&input.note, max), None, later2).expect(ok);
    net.accept(a, r3, Timestamp(later2.0 + 9 * 86_400_000)).expect(ok);
    // a → c would be connected; c → b again, left to expire where the policy says so.
    let _ = net.send(c, b, valid_note(&input.note2, max), None, later2);
    let _ = net.expire(Timestamp(later2.0 + 400 * 86_400_000));

    for m in [a, b, c] {
        for n in net.notifications(m, false).expect(ok) {
            check_rendered("a notification", &n.text);
        }
    }
    let mailer =
        Mailer::new("smtp://127.0.0.1:1", "connreq <n@localhost>", &[0; 16]).expect("the mailer builds");
    let emails = net.pending_emails(None).expect(ok);
    for e in &emails {
        assert!(!e.subject.contains(['\r', '\n']), "a subject spans lines: {:?}", e.subject);
        check_rendered("an email subject", &e.subject);
        check_rendered("an email body", &e.body);
        check_html(&e.html);
        let _ = mailer.message(e, later2, Some("https://example.com/v1/unsubscribe/t"));
    }
});

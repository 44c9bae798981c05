//! The messages the outbox becomes (SPEC §10 "Message format"), checked as
//! the bytes a mail server would receive. Delivery itself (plain SMTP,
//! STARTTLS, implicit TLS, AUTH, a server that is down, throughput) is tested
//! against a real SMTP server, aiosmtpd, in python/tests/test_email.py.

use connreq_core::{Email, EmailKind, Error, MemberId, Network, Policy, PreferenceKind, Timestamp};
use connreq_store::Store;
use connreq_store::mail::{Mailer, Refusal, unsubscribe_link};
use connreq_store::unsubscribe::Unsubscribe;

const T: Timestamp = Timestamp(1_790_000_000_000);
const LATER: Timestamp = Timestamp(1_790_000_000_000 + 3_600_000);

fn network() -> Store {
    let store = Store::temporary(Policy::standard()).unwrap();
    store.register(MemberId(1), Some("ada@example.com"), Some("Ada <b>O'Neil</b> & Co"), T).unwrap();
    store.register(MemberId(2), Some("bob@example.com"), Some("Bob"), T).unwrap();
    store
}

fn mailer(store: &Store) -> Mailer {
    Mailer::new("smtp://127.0.0.1:2525", "Network <notify@net.example>", &store.database_id().unwrap())
        .unwrap()
}

fn invitation(store: &Store, note: &str) -> Email {
    store.send(MemberId(1), MemberId(2), Some(note), None, T).unwrap();
    store.pending_emails(None).unwrap().pop().unwrap()
}

/// The message as sent: headers, then the body, CRLF line ends.
fn wire(mailer: &Mailer, email: &Email, link: Option<&str>) -> String {
    let message = mailer.message(email, LATER, link).unwrap();
    String::from_utf8(message.formatted()).unwrap()
}

fn headers(wire: &str) -> Vec<(String, String)> {
    let head = &wire[..wire.find("\r\n\r\n").unwrap()];
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            out.last_mut().unwrap().1.push_str(line);
        } else {
            let (name, value) = line.split_once(':').unwrap();
            out.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    out
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[test]
fn every_email_is_multipart_alternative_with_the_headers_providers_require() {
    let store = network();
    let m = mailer(&store);
    let email = invitation(&store, "We met at <RustConf> & liked it");
    let text = wire(&m, &email, None);
    let h = headers(&text);
    assert!(header(&h, "Content-Type").unwrap().starts_with("multipart/alternative"), "{text}");
    assert_eq!(header(&h, "Auto-Submitted"), Some("auto-generated"));
    assert_eq!(header(&h, "To"), Some("bob@example.com"));
    assert_eq!(header(&h, "From"), Some("Network <notify@net.example>"));
    assert!(header(&h, "Date").unwrap().ends_with("+0000"), "{text}");
    assert!(header(&h, "List-Unsubscribe").is_none(), "no public URL, no link");
    assert!(text.contains("Content-Type: text/plain; charset=utf-8"), "{text}");
    assert!(text.contains("Content-Type: text/html; charset=utf-8"), "{text}");
    // The plain part as written; the HTML part escaped.
    let decoded = decode_quoted_printable(&text);
    assert!(decoded.contains("Note: We met at <RustConf> & liked it"), "{decoded}");
    assert!(decoded.contains("We met at &lt;RustConf&gt; &amp; liked it"), "{decoded}");
    assert!(decoded.contains("Ada <b>O'Neil</b> & Co wants to connect with you."), "{decoded}");
    assert!(decoded.contains("Ada &lt;b&gt;O&#39;Neil&lt;/b&gt; &amp; Co"), "{decoded}");
}

#[test]
fn the_message_id_is_the_same_for_every_attempt_and_differs_between_databases() {
    let (one, two) = (network(), network());
    let (a, b) = (invitation(&one, "hi"), invitation(&two, "hi"));
    assert_eq!(a.id, b.id);
    let id_of = |store: &Store, email: &Email| {
        header(&headers(&wire(&mailer(store), email, None)), "Message-ID").unwrap().to_owned()
    };
    let first = id_of(&one, &a);
    assert_eq!(first, id_of(&one, &a), "a retried send is the same message");
    assert_ne!(first, id_of(&two, &b), "another database's email 1 is another message");
    assert!(first.starts_with('<') && first.ends_with("@net.example>"), "{first}");
}

#[test]
fn one_click_unsubscribe_headers_come_with_a_public_url() {
    let store = network();
    let m = mailer(&store);
    let email = invitation(&store, "hi");
    let links = Unsubscribe::new("https://net.example", b"a secret", &store.database_id().unwrap()).unwrap();
    let link = unsubscribe_link(&links, email.member, email.kind);
    let text = wire(&m, &email, Some(&link));
    let h = headers(&text);
    assert_eq!(header(&h, "List-Unsubscribe"), Some(format!("<{link}>").as_str()));
    assert_eq!(header(&h, "List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(links.verify(token).unwrap(), (MemberId(2), PreferenceKind::InvitationReceived));
    // A digest's link switches all email off; a reminder's, reminders.
    assert!(unsubscribe_link(&links, MemberId(2), EmailKind::Digest).contains(".all."));
    assert!(
        unsubscribe_link(&links, MemberId(2), EmailKind::InvitationReminder)
            .contains(".invitation_reminder.")
    );
}

#[test]
fn no_member_text_can_add_a_header() {
    // Names with line breaks are refused at registration; one stored by an
    // older version is shown on one line (see the core's texts tests). Notes
    // may hold line breaks: they stay in the body.
    let store = network();
    let m = mailer(&store);
    let email = invitation(&store, "line one\nBcc: everyone@example.com\n\nSubject: free money");
    let text = wire(&m, &email, None);
    let h = headers(&text);
    assert!(header(&h, "Bcc").is_none(), "{text}");
    assert_eq!(h.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Subject")).count(), 1, "{text}");
}

#[test]
fn an_email_without_an_address_or_with_one_smtp_refuses_is_the_addresses_fault() {
    let store = network();
    let m = mailer(&store);
    let mut email = invitation(&store, "hi");
    email.address = String::new();
    assert!(matches!(m.message(&email, LATER, None), Err(Refusal::Address(_))));
    email.address = "not an address".into();
    assert!(matches!(m.message(&email, LATER, None), Err(Refusal::Address(_))));
}

#[test]
fn bad_servers_and_senders_are_named() {
    let id = [0; 16];
    for (url, from, needle) in [
        ("http://127.0.0.1:25", "a@b.example", "smtp://"),
        ("smtp://127.0.0.1:25", "not an address", "sender"),
        ("smtp://user:hunter2@127.0.0.1:25/x", "a@b.example", "***"),
    ] {
        match Mailer::new(url, from, &id) {
            Err(Error::InvalidInput(m)) => assert!(m.contains(needle) && !m.contains("hunter2"), "{m}"),
            other => panic!("{url}: {:?}", other.err()),
        }
    }
}

/// The body parts as text: quoted-printable soft breaks joined, escapes decoded.
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(Ok(b)) = joined.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

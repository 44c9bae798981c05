//! Email delivery over SMTP to a minimal SMTP server on 127.0.0.1 that records
//! what it receives (the Python tests use aiosmtpd for the same checks).

use connreq_core::{Error, MemberId, Network, Policy, Timestamp};
use connreq_store::Store;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

const T: Timestamp = Timestamp(1_790_000_000_000);
const LATER: Timestamp = Timestamp(1_790_000_000_000 + 3_600_000);

/// One message as the server received it.
#[derive(Clone, Debug)]
struct Received {
    recipients: Vec<String>,
    data: String,
}

/// A minimal SMTP server: accepts every message and records it.
struct Sink {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

fn serve(stream: TcpStream, received: Arc<Mutex<Vec<Received>>>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    out.write_all(b"220 sink ready\r\n")?;
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            out.write_all(b"250-sink\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("MAIL FROM") {
            recipients.clear();
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RCPT TO") {
            recipients
                .push(line[8..].trim().trim_start_matches(':').trim().trim_matches(['<', '>']).to_owned());
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("DATA") {
            out.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                input.read_line(&mut line)?;
                if line == ".\r\n" || line.is_empty() {
                    break;
                }
                data.push_str(&line);
            }
            received.lock().unwrap().push(Received { recipients: recipients.clone(), data });
            out.write_all(b"250 queued\r\n")?;
        } else if upper.starts_with("QUIT") {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"250 ok\r\n")?;
        }
    }
}

impl Sink {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let shared = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, shared));
            }
        });
        Self { port, received }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn network() -> Store {
    let store = Store::temporary(Policy::standard()).unwrap();
    store.register(MemberId(1), Some("ada@example.com"), Some("Ada <b>Lovelace</b>"), T).unwrap();
    store.register(MemberId(2), Some("bob@example.com"), Some("Bob"), T).unwrap();
    store.register(MemberId(3), None, Some("Cy"), T).unwrap();
    store
}

#[test]
fn due_emails_arrive_once_each_with_their_subject_and_body() {
    let sink = Sink::start();
    let store = network();
    let id = store.send(MemberId(1), MemberId(2), Some("We met at <RustConf>"), None, T).unwrap();
    store.decline(MemberId(2), id, Some("Sorry"), T).unwrap();
    // Not yet due: nothing is sent.
    assert_eq!(store.dispatch_emails(&sink.url(), T).unwrap(), 0);
    assert_eq!(store.dispatch_emails(&sink.url(), LATER).unwrap(), 2);
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].recipients, vec!["bob@example.com"]);
    assert!(messages[0].data.contains("Subject: Ada &lt;b&gt;Lovelace&lt;/b&gt; wants to connect"));
    assert!(messages[0].data.contains("We met at &lt;RustConf&gt;"), "{}", messages[0].data);
    assert!(!messages[0].data.contains("<b>") && !messages[0].data.contains("<RustConf>"));
    assert_eq!(messages[1].recipients, vec!["ada@example.com"]);
    assert!(messages[1].data.contains("Subject: Your connection request was withdrawn"));
    assert!(messages[1].data.contains("Message: Sorry"));
    // A second dispatch sends nothing twice.
    assert_eq!(store.dispatch_emails(&sink.url(), LATER).unwrap(), 0);
    assert_eq!(sink.messages().len(), 2);
    assert!(store.pending_emails(None).unwrap().is_empty());
    let sent = store.events(connreq_core::Seq(0), None).unwrap();
    assert_eq!(sent.iter().filter(|e| e.kind == "email_sent").count(), 2);
}

#[test]
fn a_server_that_is_down_loses_no_email() {
    let store = network();
    store.send(MemberId(1), MemberId(2), None, None, T).unwrap();
    store.send(MemberId(3), MemberId(1), None, None, T).unwrap();
    let down = format!("smtp://127.0.0.1:{}", closed_port());
    match store.dispatch_emails(&down, LATER) {
        Err(Error::MailError(message)) => assert!(message.contains("2 left"), "{message}"),
        other => panic!("expected MailError, got {other:?}"),
    }
    assert_eq!(store.pending_emails(None).unwrap().len(), 2);
    let sink = Sink::start();
    assert_eq!(store.dispatch_emails(&sink.url(), LATER).unwrap(), 2);
    let mut to: Vec<String> = sink.messages().into_iter().flat_map(|m| m.recipients).collect();
    to.sort();
    assert_eq!(to, vec!["ada@example.com", "bob@example.com"]);
}

#[test]
fn members_without_an_address_get_no_email_and_bad_urls_are_named() {
    let store = network();
    store.send(MemberId(1), MemberId(3), None, None, T).unwrap();
    assert!(store.pending_emails(None).unwrap().is_empty());
    match store.dispatch_emails("http://127.0.0.1:25", LATER) {
        Err(Error::InvalidInput(m)) => assert!(m.contains("smtp://"), "{m}"),
        other => panic!("{other:?}"),
    }
}

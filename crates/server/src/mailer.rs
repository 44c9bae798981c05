//! The email loop (`serve --smtp URL`): sends every email within moments of
//! its due time over one kept-open SMTP connection (lettre's pooled
//! transport), and records each as sent — through the writer, so the record
//! is durable like any command — as soon as the server takes it: the record
//! is queued at once and the next email goes out while it waits for its
//! flush (records share flushes with everything else; the loop waits for all
//! of a round's records before it looks at the outbox again). A failing
//! server is retried with back-off (100 ms doubling to 30 s) and nothing is
//! lost: an email is only ever marked sent after the server took it, so after
//! a recorded success it is never sent again. A crash between the server
//! taking an email and the record can send that one email twice; its
//! `Message-ID` is the same both times, so the receiving side can tell.

use crate::metrics::Metrics;
use crate::reply::Reply;
use crate::time::now;
use crate::writer::{Job, Pending, Writer};
use connreq_core::Network as _;
use connreq_core::{Command, EmailId, Timestamp};
use connreq_store::Store;
use connreq_store::mail::{Mailer, Refusal, unsubscribe_link};
use connreq_store::unsubscribe::Unsubscribe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

/// The most emails sent between two looks at the outbox.
const ROUND: usize = 256;
/// The longest the loop sleeps without looking.
const IDLE: Duration = Duration::from_millis(500);
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// What the loop needs.
pub struct MailLoop {
    /// The database.
    pub store: Arc<Store>,
    /// Records go through the writer.
    pub writer: Writer,
    /// `smtp://` or `smtps://`, with credentials if any.
    pub url: String,
    /// The `From:` address.
    pub from: String,
    /// One-click unsubscribe links, when the server has a public URL.
    pub unsubscribe: Option<Unsubscribe>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Woken by the writer after flushes that made notifications.
    pub wake: mpsc::Receiver<()>,
    /// Set to stop.
    pub stop: Arc<AtomicBool>,
}

/// Records, through the writer, what became of email `id`: sent, or (an
/// address the server refused for good) skipped.
fn record(writer: &Writer, store: &Store, id: EmailId, sent: bool) -> Pending {
    // Never before the log's clock (a command may be dated a little ahead).
    let at = store.read(|m| m.clock()).ok().flatten().map_or_else(now, |c| Timestamp(c.0.max(now().0)));
    let (kind, command) = match sent {
        true => ("mark_emails_sent", Command::MarkEmailsSent { ids: vec![id] }),
        false => ("mark_emails_undeliverable", Command::MarkEmailsUndeliverable { ids: vec![id] }),
    };
    writer.queue(Job {
        kind,
        command,
        at,
        check: None,
        answer: Box::new(|_, _| Ok(Reply::no_content())),
        keyed: None,
    })
}

impl MailLoop {
    /// Starts the loop on a thread of its own.
    pub fn spawn(self) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new().name("connreq-mail".into()).spawn(move || self.run())
    }

    fn wait(&self, d: Duration) {
        let _ = self.wake.recv_timeout(d);
    }

    fn run(self) {
        let database = match self.store.database_id() {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(error = %e, "the mail loop cannot start");
                return;
            }
        };
        let mut mailer: Option<Mailer> = None;
        let mut backoff = BACKOFF_START;
        while !self.stop.load(Ordering::Relaxed) {
            let clock = now();
            let due = match self.store.read(|m| m.due_emails(Some(clock))) {
                Ok(d) => d,
                Err(_) => {
                    self.wait(IDLE);
                    continue;
                }
            };
            let mut failed = false;
            let mut records: Vec<(EmailId, Pending)> = Vec::new();
            for id in due.into_iter().take(ROUND) {
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
                let mut m =
                    match mailer.take().map_or_else(|| Mailer::new(&self.url, &self.from, &database), Ok) {
                        Ok(m) => m,
                        Err(e) => {
                            tracing::error!(error = %e, "the mail loop cannot start");
                            return;
                        }
                    };
                let rendered = self.store.read(|model| {
                    let link = self
                        .unsubscribe
                        .as_ref()
                        .zip(model.email_recipient(id))
                        .map(|(links, (member, kind))| unsubscribe_link(links, member, kind));
                    model.email_with_link(id, link.as_deref()).map(|e| (e, link))
                });
                let Ok(Ok((email, link))) = rendered else { continue };
                let outcome = match m.message(&email, clock, link.as_deref()) {
                    Ok(message) => m.send(&message),
                    Err(refusal) => Err(refusal),
                };
                match outcome {
                    Ok(()) => {
                        mailer = Some(m);
                        self.metrics.emails_sent.inc();
                        records.push((id, record(&self.writer, &self.store, id, true)));
                    }
                    Err(Refusal::Address(why)) => {
                        mailer = Some(m);
                        self.metrics.emails_skipped.inc();
                        tracing::warn!(email = id.0, reason = %why, "an address was refused for good; the email is skipped");
                        records.push((id, record(&self.writer, &self.store, id, false)));
                    }
                    Err(Refusal::Server(why)) => {
                        // A fresh connection next time.
                        self.metrics.emails_failed.inc();
                        tracing::warn!(error = %why, retry_in_ms = backoff.as_millis() as u64, "the mail server failed");
                        failed = true;
                        break;
                    }
                }
            }
            let worked = !records.is_empty();
            for (id, pending) in records {
                let r = pending.wait();
                if r.status >= 300 {
                    tracing::error!(
                        email = id.0,
                        status = r.status,
                        "an email was handed over but not recorded"
                    );
                    failed = true;
                }
            }
            if failed {
                self.wait(backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
            backoff = BACKOFF_START;
            if worked {
                continue;
            }
            let next = self.store.read(|m| m.next_email_due()).ok().flatten();
            let sleep = match next {
                Some(due) if due.0 > now().0 => Duration::from_millis((due.0 - now().0) as u64).min(IDLE),
                Some(_) => Duration::ZERO,
                None => IDLE,
            };
            if !sleep.is_zero() {
                self.wait(sleep);
            }
        }
    }
}

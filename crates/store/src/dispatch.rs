//! Dispatching the outbox over SMTP: the emails due, each built and handed to
//! the server over one connection, marked sent in batches as the server takes
//! them, so a second dispatch never sends one twice after a recorded success.
//! A crash between a send and its mark sends that email again on the next
//! dispatch with the same Message-ID, which mail systems recognise. An address
//! the server refuses for good is marked skipped (`invalid_address`); a server
//! that fails leaves the rest for a later dispatch.

use crate::mail::{Mailer, Refusal, unsubscribe_link};
use crate::store::Store;
use crate::unsubscribe::Unsubscribe;
use connreq_core::{EmailId, Error, Network, Timestamp};

/// Emails marked sent in one command (one flush): a crash re-sends at most these.
const MARK_BATCH: usize = 64;

/// What one `dispatch` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Emails handed to the server and marked sent.
    pub sent: u64,
    /// Emails whose address the server refused for good, with why; marked skipped.
    pub rejected: Vec<(EmailId, String)>,
    /// Emails due but not attempted because the server failed.
    pub deferred: u64,
    /// The failure that stopped the run, if any.
    pub error: Option<String>,
}

/// Where and how a dispatch delivers.
#[derive(Clone, Debug, Default)]
pub struct Delivery<'a> {
    /// The SMTP server (`smtp://` or `smtps://`, see [`crate::mail::SmtpUrl`]).
    pub smtp_url: &'a str,
    /// The From address (default: the store's `mail_from`).
    pub sender: Option<&'a str>,
    /// One-click unsubscribe links, when the network has a public URL.
    pub unsubscribe: Option<&'a Unsubscribe>,
}

impl Store {
    /// Sends the emails due at `at`, marking each sent once the server takes it
    /// (in batches of up to 64). A server that fails leaves the rest unsent
    /// for a later run; a second run never sends an email twice.
    pub fn dispatch(&self, delivery: &Delivery<'_>, at: Timestamp) -> Result<DispatchReport, Error> {
        let from = delivery.sender.unwrap_or(&self.options.mail_from);
        let mut mailer = Mailer::new(delivery.smtp_url, from, &self.database_id()?)?;
        let due = self.read(|m| m.due_emails(Some(at)))?;
        let mut report = DispatchReport::default();
        let mut sent: Vec<EmailId> = Vec::with_capacity(MARK_BATCH);
        for (i, id) in due.iter().enumerate() {
            let email = self.read(|m| {
                let link = delivery
                    .unsubscribe
                    .zip(m.email_recipient(*id))
                    .map(|(links, (member, kind))| unsubscribe_link(links, member, kind));
                m.email_with_link(*id, link.as_deref()).map(|e| (e, link))
            })??;
            let (email, link) = email;
            let outcome =
                mailer.message(&email, at, link.as_deref()).and_then(|message| mailer.send(&message));
            match outcome {
                Ok(()) => {
                    sent.push(*id);
                    if sent.len() >= MARK_BATCH {
                        report.sent += self.mark_emails_sent(&sent, at)?;
                        sent.clear();
                    }
                }
                Err(Refusal::Address(why)) => {
                    self.mark_emails_undeliverable(&[*id], at)?;
                    report.rejected.push((*id, why));
                }
                Err(Refusal::Server(why)) => {
                    report.deferred = (due.len() - i) as u64;
                    report.error = Some(why);
                    break;
                }
            }
        }
        if !sent.is_empty() {
            report.sent += self.mark_emails_sent(&sent, at)?;
        }
        Ok(report)
    }

    /// `dispatch_emails(smtp_url, sender, at)`: how many emails were sent. If
    /// the server failed, raises `MailError` saying how many were sent before it did.
    pub fn dispatch_emails(&self, smtp_url: &str, sender: Option<&str>, at: Timestamp) -> Result<u64, Error> {
        let report = self.dispatch(&Delivery { smtp_url, sender, unsubscribe: None }, at)?;
        match report.error {
            Some(e) => Err(Error::MailError(format!(
                "{e}; {} sent before the failure, {} left for a later dispatch",
                report.sent, report.deferred
            ))),
            None => Ok(report.sent),
        }
    }
}

//! Dispatching the outbox over SMTP: each email marked sent as soon as the
//! server takes it, so a second dispatch never sends one twice.

use crate::mail::Mailer;
use crate::store::Store;
use connreq_core::{EmailId, Error, Network, Timestamp};

/// What one `dispatch` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Emails handed to the server and marked sent.
    pub sent: u64,
    /// Emails the server refused for good (a bad address); they stay unsent.
    pub rejected: Vec<(EmailId, String)>,
    /// Emails due but not attempted because the server failed.
    pub deferred: u64,
    /// The failure that stopped the run, if any.
    pub error: Option<String>,
}

impl Store {
    /// Sends the emails due at `at` over SMTP (`smtp://HOST:PORT`), marking each
    /// sent as soon as the server takes it. A server that fails leaves the rest
    /// unsent for a later run; a second run never sends an email twice.
    pub fn dispatch(&self, smtp_url: &str, at: Timestamp) -> Result<DispatchReport, Error> {
        let mailer = Mailer::new(smtp_url, &self.options.mail_from)?;
        let due = self.pending_emails(Some(at))?;
        let mut report = DispatchReport::default();
        for (i, email) in due.iter().enumerate() {
            match mailer.send(email) {
                Ok(()) => {
                    self.mark_emails_sent(&[email.id], at)?;
                    report.sent += 1;
                }
                Err(Error::InvalidInput(why)) => report.rejected.push((email.id, why)),
                Err(e) => {
                    report.deferred = (due.len() - i) as u64;
                    report.error = Some(e.to_string());
                    break;
                }
            }
        }
        Ok(report)
    }

    /// `dispatch_emails(smtp_url, at)`: how many emails were sent. If the server
    /// failed, raises `MailError` saying how many were sent before it did.
    pub fn dispatch_emails(&self, smtp_url: &str, at: Timestamp) -> Result<u64, Error> {
        let report = self.dispatch(smtp_url, at)?;
        match report.error {
            Some(e) => Err(Error::MailError(format!(
                "{e}; {} sent before the failure, {} left for a later dispatch",
                report.sent, report.deferred
            ))),
            None => Ok(report.sent),
        }
    }
}

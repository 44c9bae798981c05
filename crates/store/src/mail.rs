//! SMTP delivery of the outbox with lettre: one RFC 5322 message per email.

use connreq_core::{Email, Error};
use lettre::Transport;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::SmtpTransport;
use std::time::Duration;

/// A parsed `smtp://HOST:PORT` address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpUrl {
    /// Host name or address.
    pub host: String,
    /// Port (25 when not given).
    pub port: u16,
}

impl SmtpUrl {
    /// Parses `smtp://HOST[:PORT]`. Only plain SMTP to a relay is supported.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::InvalidInput(format!("SMTP address {url:?} {why}"));
        let rest = url.strip_prefix("smtp://").ok_or_else(|| bad("must start with smtp://"))?;
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains(['/', '@', '?', ' ']) {
            return Err(bad("must be smtp://HOST:PORT"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port =
                    p.parse::<u16>().map_err(|_| bad("has a port that is not a number from 1 to 65535"))?;
                if port == 0 {
                    return Err(bad("has port 0"));
                }
                (h.trim_start_matches('[').trim_end_matches(']').to_owned(), port)
            }
            _ => (rest.to_owned(), 25),
        };
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        Ok(Self { host, port })
    }
}

/// A connection to an SMTP relay.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    url: String,
}

impl Mailer {
    /// A mailer for `url`, sending from `from`.
    pub fn new(url: &str, from: &str) -> Result<Self, Error> {
        let parsed = SmtpUrl::parse(url)?;
        let from: Mailbox = from
            .parse()
            .map_err(|e| Error::InvalidInput(format!("mail_from {from:?} is not an address: {e}")))?;
        let transport = SmtpTransport::builder_dangerous(parsed.host)
            .port(parsed.port)
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Self { transport, from, url: url.to_owned() })
    }

    /// Builds the RFC 5322 message for one email.
    pub fn message(&self, email: &Email) -> Result<Message, Error> {
        let to: Mailbox = email
            .address
            .parse()
            .map_err(|e| Error::InvalidInput(format!("{} has an address SMTP refuses: {e}", email.id)))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(format!("<email-{}@connreq>", email.id.0)))
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())
            .map_err(|e| Error::InvalidInput(format!("{} cannot be built: {e}", email.id)))
    }

    /// Hands one email to the relay.
    pub fn send(&self, email: &Email) -> Result<(), Error> {
        let message = self.message(email)?;
        self.transport.send(&message).map(drop).map_err(|e| {
            Error::MailError(format!("the mail server at {} did not take {}: {e}", self.url, email.id))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_parse_or_say_what_is_wrong() {
        assert_eq!(
            SmtpUrl::parse("smtp://127.0.0.1:2525").unwrap(),
            SmtpUrl { host: "127.0.0.1".into(), port: 2525 }
        );
        assert_eq!(SmtpUrl::parse("smtp://mail.local").unwrap().port, 25);
        assert_eq!(SmtpUrl::parse("smtp://[::1]:26").unwrap().host, "::1");
        for bad in ["http://x:1", "smtp://", "smtp://host:notaport", "smtp://host:0", "smtp://u@h:1"] {
            assert!(matches!(SmtpUrl::parse(bad), Err(Error::InvalidInput(_))), "{bad}");
        }
    }
}

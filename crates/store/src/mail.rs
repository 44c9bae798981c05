//! SMTP delivery of the outbox with lettre: each email a
//! `multipart/alternative` message (plain text as written, HTML escaped) with
//! the headers large mailbox providers require of senders (SPEC §10), over
//! one pooled connection, with STARTTLS, implicit TLS and AUTH taken from the
//! server's address.

use crate::unsubscribe::Unsubscribe;
use connreq_core::{Email, EmailKind, Error, MemberId, PreferenceKind, Timestamp};
use lettre::Transport;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{PoolConfig, SmtpTransport};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How to reach the mail server: `smtp://[USER:PASSWORD@]HOST[:PORT]` (STARTTLS
/// when the server offers it, and always before a password is sent) or
/// `smtps://...` (TLS from the first byte). Certificates are checked against
/// the system's trusted ones (`SSL_CERT_FILE` names another bundle).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// Host name or address.
    pub host: String,
    /// Port (25 for `smtp://`, 465 for `smtps://` when not given).
    pub port: u16,
    /// TLS from the first byte (`smtps://`).
    pub implicit_tls: bool,
    /// User and password, percent-decoded.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpUrl {
    // The password never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("implicit_tls", &self.implicit_tls)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish()
    }
}

impl SmtpUrl {
    /// Parses an SMTP address; the error says what is wrong, never the password.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let shown = redact(text);
        let bad = |why: &str| Error::InvalidInput(format!("SMTP address {shown:?} {why}"));
        let url = url::Url::parse(text).map_err(|e| bad(&format!("cannot be read ({e})")))?;
        let implicit_tls = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err(bad("must start with smtp:// or smtps://")),
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => return Err(bad("has no host")),
        };
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("must be smtp://[USER:PASSWORD@]HOST[:PORT] (no path or options)"));
        }
        let port = url.port().unwrap_or(if implicit_tls { 465 } else { 25 });
        if port == 0 {
            return Err(bad("has port 0"));
        }
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) if !user.is_empty() => Some((decode(user), decode(password))),
            _ => return Err(bad("must give both a user and a password, or neither")),
        };
        Ok(Self { host, port, implicit_tls, credentials })
    }
}

/// `url` with any password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// A connection to an SMTP server, kept open across the emails of a dispatch.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    /// The address as shown in messages (no password).
    shown: String,
    /// The domain of Message-IDs: the sender's.
    domain: String,
    /// The database the emails come from (in Message-IDs).
    database: String,
}

/// Why an email did not go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The server refused this address for good (or it has none): the email
    /// can never be delivered.
    Address(String),
    /// The server (or the way to it) failed: later, every email may go.
    Server(String),
}

impl Mailer {
    /// A mailer for `url`, sending from `from`, for the database with id `database`.
    pub fn new(url: &str, from: &str, database: &[u8; 16]) -> Result<Self, Error> {
        let parsed = SmtpUrl::parse(url)?;
        let from: Mailbox = from
            .parse()
            .map_err(|e| Error::InvalidInput(format!("the sender {from:?} is not an address: {e}")))?;
        let domain = from.email.domain().to_owned();
        let shown = redact(url);
        let tls_error = |e: lettre::transport::smtp::Error| {
            Error::MailError(format!("cannot set up TLS for the mail server at {shown}: {e}"))
        };
        let params = || TlsParameters::new(parsed.host.clone()).map_err(tls_error);
        let tls = match (parsed.implicit_tls, &parsed.credentials) {
            (true, _) => Tls::Wrapper(params()?),
            // A password is only ever sent encrypted.
            (false, Some(_)) => Tls::Required(params()?),
            (false, None) => Tls::Opportunistic(params()?),
        };
        let mut builder = SmtpTransport::builder_dangerous(parsed.host.clone())
            .port(parsed.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(20)))
            .pool_config(PoolConfig::new().max_size(1));
        if let Some((user, password)) = &parsed.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let database = database.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self { transport: builder.build(), from, shown, domain, database })
    }

    /// The Message-ID of email `id`: the same for every attempt to send it, and
    /// different in every database.
    pub fn message_id(&self, email: &Email) -> String {
        format!("<{}.{}@{}>", email.id.0, self.database, self.domain)
    }

    /// Builds the message for one email, dated `at`, with one-click unsubscribe
    /// headers when `unsubscribe` gives the link.
    pub fn message(
        &self,
        email: &Email,
        at: Timestamp,
        unsubscribe: Option<&str>,
    ) -> Result<Message, Refusal> {
        if email.address.is_empty() {
            return Err(Refusal::Address(format!("{} has no address", email.member)));
        }
        let to: Mailbox = email.address.parse().map_err(|e| {
            Refusal::Address(format!("{:?} is not an address SMTP takes: {e}", email.address))
        })?;
        let header =
            |name: &'static str, value: String| HeaderValue::new(HeaderName::new_from_ascii_str(name), value);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(self.message_id(email)))
            .date(system_time(at))
            .raw_header(header("Auto-Submitted", "auto-generated".to_owned()));
        if let Some(url) = unsubscribe {
            builder = builder
                .raw_header(header("List-Unsubscribe", format!("<{url}>")))
                .raw_header(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_owned()));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(email.body.clone(), email.html.clone()))
            .map_err(|e| Refusal::Address(format!("{} cannot be built: {e}", email.id)))
    }

    /// Hands one built message to the server.
    pub fn send(&self, message: &Message) -> Result<(), Refusal> {
        self.transport.send(message).map(drop).map_err(|e| {
            let text = format!("the mail server at {} did not take it: {e}", self.shown);
            // Mailbox unavailable, not local, name not allowed, bad address syntax:
            // that address will never take mail. Any other refusal is the server's.
            match e.status().map(|c| c.to_string()) {
                Some(code) if e.is_permanent() && ["550", "551", "553", "501"].contains(&code.as_str()) => {
                    Refusal::Address(text)
                }
                _ => Refusal::Server(text),
            }
        })
    }
}

/// The unsubscribe link for an email of `kind` to `member`, when the network
/// has a public URL: a reminder's switches reminders off, a digest's all email.
pub fn unsubscribe_link(links: &Unsubscribe, member: MemberId, kind: EmailKind) -> String {
    links.url(member, PreferenceKind::governing(kind).unwrap_or(PreferenceKind::All))
}

fn system_time(at: Timestamp) -> SystemTime {
    let ms = at.millis();
    let magnitude = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        UNIX_EPOCH.checked_add(magnitude).unwrap_or(UNIX_EPOCH)
    } else {
        UNIX_EPOCH.checked_sub(magnitude).unwrap_or(UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_addresses_parse_or_say_what_is_wrong_without_the_password() {
        let plain = SmtpUrl::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.implicit_tls, plain.credentials),
            ("127.0.0.1", 2525, false, None)
        );
        assert_eq!(SmtpUrl::parse("smtp://mail.local").unwrap().port, 25);
        assert_eq!(SmtpUrl::parse("smtps://mail.local").unwrap().port, 465);
        assert_eq!(SmtpUrl::parse("smtp://[::1]:26").unwrap().host, "::1");
        let auth = SmtpUrl::parse("smtps://ada%40example.com:p%40ss%2Fw+rd@mail.example.com:4650").unwrap();
        assert_eq!(auth.credentials, Some(("ada@example.com".into(), "p@ss/w+rd".into())));
        assert!(!format!("{auth:?}").contains("p@ss"), "{auth:?}");
        for bad in [
            "http://x:1",
            "smtp://",
            "smtp://host:notaport",
            "smtp://host:0",
            "smtp://u@h:1",
            "smtp://h/x",
            "smtp://h?tls=no",
        ] {
            assert!(matches!(SmtpUrl::parse(bad), Err(Error::InvalidInput(_))), "{bad}");
        }
        let err = SmtpUrl::parse("smtp://user:secret@host:1/path").unwrap_err().to_string();
        assert!(!err.contains("secret") && err.contains("***"), "{err}");
    }

    #[test]
    fn dates_before_1970_are_still_dates() {
        assert_eq!(system_time(Timestamp(-1_000)), UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(system_time(Timestamp(1_000)), UNIX_EPOCH + Duration::from_secs(1));
    }
}

//! SMTP delivery of the outbox with lettre: each email a
//! `multipart/alternative` message (plain text as written, HTML escaped) with
//! the headers large mailbox providers require of senders (SPEC §10), over
//! one kept-open connection, with STARTTLS, implicit TLS and AUTH taken from
//! the server's address.
//!
//! The connection is lettre's `SmtpConnection`, driven here command by
//! command rather than through `SmtpTransport`, for one reason: the
//! transport writes a message's content and its closing `<CRLF>.<CRLF>` in
//! two writes, and with Nagle's algorithm on (lettre offers no way to turn it
//! off) the second waits for the server's delayed acknowledgement of the
//! first, 40 ms on Linux, capping a connection at about 25 emails a second.
//! Here the dot-stuffed content and its end go out in one write.

use crate::unsubscribe::Unsubscribe;
use connreq_core::{Email, EmailKind, Error, MemberId, PreferenceKind, Timestamp};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use std::fmt;
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

/// How long to wait on the mail server before giving up on it.
const TIMEOUT: Duration = Duration::from_secs(20);

/// A connection to an SMTP server, opened on the first email and kept open
/// across the emails of a dispatch (reopened after a failure).
pub struct Mailer {
    url: SmtpUrl,
    tls: Option<TlsParameters>,
    connection: Option<SmtpConnection>,
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

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Address(why) | Refusal::Server(why) => f.write_str(why),
        }
    }
}

/// A message's content, dot-stuffed, with the line that ends it: one write.
struct Content<'a>(&'a str);

impl fmt::Display for Content<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 5321 4.5.2: a line that starts with a period gets another.
        for (i, line) in self.0.split("\r\n").enumerate() {
            if i > 0 {
                f.write_str("\r\n")?;
            }
            if line.starts_with('.') {
                f.write_str(".")?;
            }
            f.write_str(line)?;
        }
        if !self.0.ends_with("\r\n") {
            f.write_str("\r\n")?;
        }
        f.write_str(".\r\n")
    }
}

impl Mailer {
    /// A mailer for `url`, sending from `from`, for the database with id `database`.
    /// Nothing is connected until the first email.
    pub fn new(url: &str, from: &str, database: &[u8; 16]) -> Result<Self, Error> {
        let parsed = SmtpUrl::parse(url)?;
        let from: Mailbox = from
            .parse()
            .map_err(|e| Error::InvalidInput(format!("the sender {from:?} is not an address: {e}")))?;
        let domain = from.email.domain().to_owned();
        let shown = redact(url);
        let tls = TlsParameters::new(parsed.host.clone()).map_err(|e| {
            Error::MailError(format!("cannot set up TLS for the mail server at {shown}: {e}"))
        })?;
        let database = database.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self { url: parsed, tls: Some(tls), connection: None, from, shown, domain, database })
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

    /// Opens the connection: TLS from the first byte, or STARTTLS when the
    /// server offers it (and always before a password), then AUTH.
    fn connect(&self) -> Result<SmtpConnection, lettre::transport::smtp::Error> {
        let wrapper = if self.url.implicit_tls { self.tls.as_ref() } else { None };
        let hello = ClientId::default();
        let address = (self.url.host.as_str(), self.url.port);
        let mut conn = SmtpConnection::connect(address, Some(TIMEOUT), &hello, wrapper, None)?;
        if let Some(params) = self.tls.as_ref().filter(|_| !self.url.implicit_tls)
            && (conn.can_starttls() || self.url.credentials.is_some())
        {
            conn.starttls(params, &hello)?;
        }
        if let Some((user, password)) = &self.url.credentials {
            conn.auth(DEFAULT_MECHANISMS, &Credentials::new(user.clone(), password.clone()))?;
        }
        Ok(conn)
    }

    /// Hands one built message to the server over the kept-open connection.
    pub fn send(&mut self, message: &Message) -> Result<(), Refusal> {
        let server = |e: lettre::transport::smtp::Error| {
            Refusal::Server(format!("the mail server at {} did not take it: {e}", self.shown))
        };
        let mut conn = match self.connection.take() {
            Some(c) if !c.has_broken() => c,
            _ => self.connect().map_err(server)?,
        };
        let envelope = message.envelope();
        let bytes = message.formatted();
        let mut options = Vec::new();
        if !bytes.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        conn.command(Mail::new(envelope.from().cloned(), options)).map_err(server)?;
        for to in envelope.to() {
            if let Err(e) = conn.command(Rcpt::new(to.clone(), Vec::new())) {
                // That address will never take mail (mailbox unavailable, not local,
                // name not allowed, bad syntax...): a refusal for good of this email
                // only. The transaction is reset and the connection kept.
                if e.is_permanent() {
                    let kept = conn.command(Rset).is_ok();
                    self.connection = kept.then_some(conn);
                    return Err(Refusal::Address(format!(
                        "the mail server at {} refused {to} for good: {e}",
                        self.shown
                    )));
                }
                return Err(server(e));
            }
        }
        conn.command(Data).map_err(server)?;
        conn.command(Content(&String::from_utf8_lossy(&bytes))).map_err(server)?;
        self.connection = Some(conn);
        Ok(())
    }
}

impl Drop for Mailer {
    fn drop(&mut self) {
        if let Some(mut conn) = self.connection.take() {
            let _ = conn.quit();
        }
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
    fn content_is_dot_stuffed_and_ends_with_its_line() {
        assert_eq!(Content("a\r\n.b\r\n..c").to_string(), "a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(Content(".\r\n").to_string(), "..\r\n.\r\n");
        assert_eq!(Content("x\r\n").to_string(), "x\r\n.\r\n");
    }

    #[test]
    fn dates_before_1970_are_still_dates() {
        assert_eq!(system_time(Timestamp(-1_000)), UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(system_time(Timestamp(1_000)), UNIX_EPOCH + Duration::from_secs(1));
    }
}

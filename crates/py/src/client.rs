//! `Client`: the methods of `Network` that make sense over a network,
//! against a running `connreq serve` (SPEC §13). It returns the same record
//! classes and raises the same exception classes, so code written against
//! `Network` runs against a server unchanged. Calls release the interpreter;
//! one client is safe to share between threads and keeps its connections alive.

use crate::convert::{At, Delta, Id, Limit, Text, opt_str, timestamp};
use crate::errors::{by_name, invalid};
use crate::records::{Email, Event, Flag, Invitation, Notification, Request, Suggestion};
use connreq_core::{EventRecord, MemberId, RequestId, Seq, Timestamp};
use connreq_server::{Client, ClientError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A connreq network served by ``connreq serve``, over HTTP.
///
/// ``Client(base_url, *, api_key=None, token=None, timeout=10.0)``: give the
/// service key (it may act as any member and call every method) or a member
/// token (it acts only as its member and reads only that member's views).
/// The methods are those of ``Network`` that make sense over a network; they
/// return the same records and raise the same exceptions. Safe to share
/// between threads; connections are kept alive. Use it as a context manager
/// to close it at the end of the block.
#[pyclass(frozen, module = "connreq", name = "Client")]
pub struct PyClient {
    client: Client,
    closed: AtomicBool,
}

fn to_pyerr(e: ClientError) -> PyErr {
    by_name(&e.name, e.message)
}

fn at(at: Option<At>) -> Option<Timestamp> {
    at.map(|a| a.0)
}

fn list<T, U>(py: Python<'_>, items: Vec<T>) -> PyResult<Vec<Py<U>>>
where
    U: From<T> + pyo3::PyClass + Into<pyo3::PyClassInitializer<U>>,
{
    items.into_iter().map(|item| Py::new(py, U::from(item))).collect()
}

impl PyClient {
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Client) -> Result<T, ClientError> + Send,
    ) -> PyResult<T> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(by_name("StorageError", "the client is closed".into()));
        }
        let client = &self.client;
        py.detach(|| f(client)).map_err(to_pyerr)
    }
}

/// An event kind as the `&'static str` records hold: each distinct kind a
/// server names is kept once (there are a few dozen).
fn intern(kind: &str) -> PyResult<&'static str> {
    static KINDS: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut kinds = KINDS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(k) = kinds.iter().find(|k| **k == kind) {
        return Ok(k);
    }
    if kinds.len() >= 256 || kind.len() > 64 {
        return Err(invalid(format!("the server named an unknown event kind {kind:?}")));
    }
    let k: &'static str = Box::leak(kind.to_owned().into_boxed_str());
    kinds.push(k);
    Ok(k)
}

/// A word of one of the core's vocabularies, checked here so that a typo is
/// `InvalidInput` naming the choices, as on `Network`.
fn word<W: Vocabulary>(s: &Text) -> PyResult<&str> {
    W::check(s.as_str()).map_err(invalid)?;
    Ok(s.as_str())
}

/// The vocabularies `word` checks.
trait Vocabulary {
    fn check(text: &str) -> Result<(), String>;
}

macro_rules! vocabulary {
    ($($t:ty),*) => {$(
        impl Vocabulary for $t {
            fn check(text: &str) -> Result<(), String> {
                <$t>::parse(text).map(drop).map_err(|w| w.0)
            }
        }
    )*};
}

vocabulary!(connreq_core::Locale, connreq_core::PreferenceKind, connreq_core::EmailFrequency);

fn setting_word(s: &Text) -> PyResult<&str> {
    connreq_core::InvitationSetting::parse(s.as_str()).map_err(|w| invalid(w.0))?;
    Ok(s.as_str())
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (base_url, *, api_key = None, token = None, timeout = 10.0))]
    fn new(base_url: Text, api_key: Option<Text>, token: Option<Text>, timeout: f64) -> PyResult<Self> {
        if api_key.is_some() && token.is_some() {
            return Err(invalid("give api_key or token, not both"));
        }
        if !(timeout.is_finite() && timeout > 0.0) {
            return Err(invalid(format!("timeout must be a positive number of seconds, not {timeout}")));
        }
        let url = base_url.as_str();
        if !url.starts_with("http://") {
            return Err(invalid(format!("base_url must be http://HOST:PORT, not {url:?}")));
        }
        let credential = api_key.as_ref().or(token.as_ref()).map(Text::as_str);
        Ok(Self {
            client: Client::new(url, credential, Duration::from_secs_f64(timeout)),
            closed: AtomicBool::new(false),
        })
    }

    /// The server's address.
    #[getter]
    fn base_url(&self) -> &str {
        self.client.base_url()
    }

    fn __repr__(&self) -> String {
        format!("Client({:?})", self.client.base_url())
    }

    /// Returns the client itself, for ``with Client(url, api_key=...) as net:``.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the client at the end of a ``with`` block; never swallows the block's exception.
    #[pyo3(signature = (exc_type, exc_value, traceback))]
    fn __exit__(
        &self,
        exc_type: Option<&Bound<'_, PyType>>,
        exc_value: Option<&Bound<'_, PyAny>>,
        traceback: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        let _ = (exc_type, exc_value, traceback);
        self.close();
        false
    }

    /// Closes the client: later calls raise ``StorageError``. Closing twice is fine.
    fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    /// Registers a member.
    #[pyo3(signature = (member, *, email = None, name = None, locale = None, at = None))]
    fn register(
        &self,
        py: Python<'_>,
        member: Id,
        email: Option<Text>,
        name: Option<Text>,
        locale: Option<Text>,
        at: Option<At>,
    ) -> PyResult<()> {
        let locale = locale.as_ref().map(word::<connreq_core::Locale>).transpose()?;
        self.run(py, |c| c.register(member.0, opt_str(&email), opt_str(&name), locale, self::at(at)))
    }

    /// Switches a kind of email (or ``"all"``) on or off for the member.
    #[pyo3(signature = (member, kind, enabled, *, at = None))]
    fn set_email_preference(
        &self,
        py: Python<'_>,
        member: Id,
        kind: Text,
        enabled: bool,
        at: Option<At>,
    ) -> PyResult<()> {
        let kind = word::<connreq_core::PreferenceKind>(&kind)?;
        self.run(py, |c| c.set_email_preference(member.0, kind, enabled, self::at(at)))
    }

    /// Each kind of email the member can switch, and whether it is on.
    fn email_preferences<'py>(
        &self,
        py: Python<'py>,
        member: Id,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let p = self.run(py, |c| c.email_preferences(member.0))?;
        let dict = pyo3::types::PyDict::new(py);
        for kind in connreq_core::PreferenceKind::EACH {
            if let Some(on) = p.preferences.get(kind.as_str()) {
                dict.set_item(kind.as_str(), *on)?;
            }
        }
        Ok(dict)
    }

    /// Sets how often the member gets email: ``"immediate"`` or ``"daily"``.
    #[pyo3(signature = (member, frequency, *, at = None))]
    fn set_email_frequency(
        &self,
        py: Python<'_>,
        member: Id,
        frequency: Text,
        at: Option<At>,
    ) -> PyResult<()> {
        let frequency = word::<connreq_core::EmailFrequency>(&frequency)?;
        self.run(py, |c| c.set_email_frequency(member.0, frequency, self::at(at)))
    }

    /// How often the member gets email.
    fn email_frequency(&self, py: Python<'_>, member: Id) -> PyResult<String> {
        self.run(py, |c| c.email_preferences(member.0)).map(|p| p.frequency)
    }

    /// Sets the language of the member's texts.
    #[pyo3(signature = (member, locale, *, at = None))]
    fn set_locale(&self, py: Python<'_>, member: Id, locale: Text, at: Option<At>) -> PyResult<()> {
        let locale = word::<connreq_core::Locale>(&locale)?;
        self.run(py, |c| c.set_locale(member.0, locale, self::at(at)))
    }

    /// The language of the member's texts.
    fn locale(&self, py: Python<'_>, member: Id) -> PyResult<String> {
        self.run(py, |c| c.email_preferences(member.0)).map(|p| p.locale)
    }

    /// The languages texts can be written in.
    #[staticmethod]
    fn locales() -> Vec<&'static str> {
        connreq_core::Locale::ALL.iter().map(|l| l.as_str()).collect()
    }

    /// Sets who may invite the member.
    #[pyo3(signature = (member, setting, *, at = None))]
    fn set_invitation_setting(
        &self,
        py: Python<'_>,
        member: Id,
        setting: Text,
        at: Option<At>,
    ) -> PyResult<()> {
        let word = setting_word(&setting)?;
        self.run(py, |c| c.set_invitation_setting(member.0, word, self::at(at)))
    }

    /// Adds email addresses to the member's imported contacts.
    #[pyo3(signature = (member, emails, *, at = None))]
    fn import_contacts(&self, py: Python<'_>, member: Id, emails: Vec<Text>, at: Option<At>) -> PyResult<()> {
        let emails: Vec<String> = emails.into_iter().map(|t| t.0).collect();
        self.run(py, |c| c.import_contacts(member.0, &emails, self::at(at)))
    }

    /// Sends a connection request and returns its id.
    #[pyo3(signature = (sender, recipient, note = None, *, email = None, at = None))]
    fn send(
        &self,
        py: Python<'_>,
        sender: Id,
        recipient: Id,
        note: Option<Text>,
        email: Option<Text>,
        at: Option<At>,
    ) -> PyResult<u64> {
        let r = self.run(py, |c| {
            c.send(Some(sender.0), recipient.0, opt_str(&note), opt_str(&email), self::at(at))
        })?;
        Ok(r.id.0)
    }

    /// The recipient accepts a pending or ignored request.
    #[pyo3(signature = (recipient, rid, *, at = None))]
    fn accept(&self, py: Python<'_>, recipient: Id, rid: Id, at: Option<At>) -> PyResult<()> {
        self.run(py, |c| c.respond("accept", Some(recipient.0), rid.0, self::at(at))).map(drop)
    }

    /// The recipient archives a pending request.
    #[pyo3(signature = (recipient, rid, *, at = None))]
    fn ignore(&self, py: Python<'_>, recipient: Id, rid: Id, at: Option<At>) -> PyResult<()> {
        self.run(py, |c| c.respond("ignore", Some(recipient.0), rid.0, self::at(at))).map(drop)
    }

    /// The recipient declines, with an optional message.
    #[pyo3(signature = (recipient, rid, message = None, *, at = None))]
    fn decline(
        &self,
        py: Python<'_>,
        recipient: Id,
        rid: Id,
        message: Option<Text>,
        at: Option<At>,
    ) -> PyResult<()> {
        self.run(py, |c| c.decline(Some(recipient.0), rid.0, opt_str(&message), self::at(at))).map(drop)
    }

    /// The sender withdraws, with an optional message.
    #[pyo3(signature = (sender, rid, message = None, *, at = None))]
    fn withdraw(
        &self,
        py: Python<'_>,
        sender: Id,
        rid: Id,
        message: Option<Text>,
        at: Option<At>,
    ) -> PyResult<()> {
        self.run(py, |c| c.withdraw(Some(sender.0), rid.0, opt_str(&message), self::at(at))).map(drop)
    }

    /// The request with this id: the true state for the service key or a
    /// moderator, the member's own view for a member token.
    fn request(&self, py: Python<'_>, rid: Id) -> PyResult<Request> {
        self.run(py, |c| c.request(rid.0)).map(Request::from)
    }

    /// Every request the member sent, oldest first, as the sender sees them.
    #[pyo3(signature = (member, *, state = None))]
    fn sent(&self, py: Python<'_>, member: Id, state: Option<Text>) -> PyResult<Vec<Py<Request>>> {
        let items = self.run(py, |c| c.sent(member.0, opt_str(&state)))?;
        list(py, items)
    }

    /// Every request the member received, oldest first, as the recipient sees them.
    #[pyo3(signature = (member, *, state = None))]
    fn received(&self, py: Python<'_>, member: Id, state: Option<Text>) -> PyResult<Vec<Py<Request>>> {
        let items = self.run(py, |c| c.received(member.0, opt_str(&state)))?;
        list(py, items)
    }

    /// The member's connections, sorted by id.
    fn connections(&self, py: Python<'_>, member: Id) -> PyResult<Vec<u64>> {
        self.run(py, |c| c.connections(member.0))
    }

    /// How many connections the member has.
    fn connection_count(&self, py: Python<'_>, member: Id) -> PyResult<u64> {
        self.run(py, |c| c.public_profile(member.0)).map(|p| p.connection_count)
    }

    /// Whether the two members are connected.
    fn are_connected(&self, py: Python<'_>, a: Id, b: Id) -> PyResult<bool> {
        let (list, _) = self.run(py, |c| Ok((c.connections(a.0)?, c.public_profile(b.0)?)))?;
        Ok(list.binary_search(&b.0).is_ok())
    }

    /// The members connected to both, sorted by id.
    fn mutual_connections(&self, py: Python<'_>, a: Id, b: Id) -> PyResult<Vec<u64>> {
        self.run(py, |c| c.mutual_connections(a.0, b.0))
    }

    /// Ends a connection.
    #[pyo3(signature = (member, other, *, at = None))]
    fn remove_connection(&self, py: Python<'_>, member: Id, other: Id, at: Option<At>) -> PyResult<()> {
        self.run(py, |c| c.remove_connection(member.0, other.0, self::at(at)))
    }

    /// Blocks a member.
    #[pyo3(signature = (blocker, blocked, *, at = None))]
    fn block(&self, py: Python<'_>, blocker: Id, blocked: Id, at: Option<At>) -> PyResult<()> {
        self.run(py, |c| c.block(blocker.0, blocked.0, self::at(at)))
    }

    /// Lifts a block.
    #[pyo3(signature = (blocker, blocked, *, at = None))]
    fn unblock(&self, py: Python<'_>, blocker: Id, blocked: Id, at: Option<At>) -> PyResult<()> {
        self.run(py, |c| c.unblock(blocker.0, blocked.0, self::at(at)))
    }

    /// Whether ``blocker`` has blocked ``blocked`` (directional).
    fn is_blocked(&self, py: Python<'_>, blocker: Id, blocked: Id) -> PyResult<bool> {
        self.run(py, |c| c.is_blocked(blocker.0, blocked.0))
    }

    /// Reports a member.
    #[pyo3(signature = (reporter, reported, reason, *, request_id = None, at = None))]
    fn report(
        &self,
        py: Python<'_>,
        reporter: Id,
        reported: Id,
        reason: Text,
        request_id: Option<Id>,
        at: Option<At>,
    ) -> PyResult<()> {
        connreq_core::ReportReason::parse(reason.as_str()).map_err(|w| invalid(w.0))?;
        self.run(py, |c| {
            c.report(Some(reporter.0), reported.0, reason.as_str(), request_id.map(|r| r.0), self::at(at))
        })
    }

    /// The member's in-app notifications, oldest first.
    #[pyo3(signature = (member, *, unread_only = false))]
    fn notifications(
        &self,
        py: Python<'_>,
        member: Id,
        unread_only: bool,
    ) -> PyResult<Vec<Py<Notification>>> {
        let items = self.run(py, |c| c.notifications(member.0, unread_only))?;
        list(py, items)
    }

    /// Marks the member's notifications with these ids as read.
    #[pyo3(signature = (member, ids, *, at = None))]
    fn mark_read(&self, py: Python<'_>, member: Id, ids: Vec<Id>, at: Option<At>) -> PyResult<()> {
        let ids: Vec<u64> = ids.into_iter().map(|i| i.0).collect();
        self.run(py, |c| c.mark_read(member.0, &ids, self::at(at)))
    }

    /// Unsent emails due at or before ``due_before`` (all unsent when ``None``).
    #[pyo3(signature = (*, due_before = None))]
    fn pending_emails(
        &self,
        py: Python<'_>,
        due_before: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Py<Email>>> {
        let due_before = due_before.map(|t| timestamp(t, "due_before")).transpose()?;
        let items = self.run(py, |c| c.pending_emails(due_before))?;
        list(py, items)
    }

    /// Records emails delivered by the caller; returns how many were newly marked.
    #[pyo3(signature = (ids, *, at = None))]
    fn mark_emails_sent(&self, py: Python<'_>, ids: Vec<Id>, at: Option<At>) -> PyResult<u64> {
        let ids: Vec<u64> = ids.into_iter().map(|i| i.0).collect();
        self.run(py, |c| c.mark_emails_sent(&ids, self::at(at)))
    }

    /// The member's open invitations, oldest first, with the connections each
    /// sender shares with the member.
    #[pyo3(signature = (member, *, include_ignored = false))]
    fn invitations(
        &self,
        py: Python<'_>,
        member: Id,
        include_ignored: bool,
    ) -> PyResult<Vec<Py<Invitation>>> {
        let items = self.run(py, |c| c.invitations(member.0, include_ignored))?;
        list(py, items)
    }

    /// Up to ``limit`` members the member may know, best first, as of ``at``
    /// (default the server's now).
    #[pyo3(signature = (member, *, limit = Limit(10), at = None), text_signature = "($self, member, *, limit=10, at=None)")]
    fn suggestions(
        &self,
        py: Python<'_>,
        member: Id,
        limit: Limit,
        at: Option<At>,
    ) -> PyResult<Vec<Py<Suggestion>>> {
        let items = self.run(py, |c| c.suggestions(member.0, limit.0, self::at(at)))?;
        list(py, items)
    }

    /// Withdraws every open request the sender sent (only those at least
    /// ``older_than`` old, when given); returns how many.
    #[pyo3(signature = (sender, *, older_than = None, message = None, at = None))]
    fn withdraw_all(
        &self,
        py: Python<'_>,
        sender: Id,
        older_than: Option<Delta>,
        message: Option<Text>,
        at: Option<At>,
    ) -> PyResult<u64> {
        self.run(py, |c| c.withdraw_all(sender.0, older_than.map(|d| d.0), opt_str(&message), self::at(at)))
    }

    /// Changes the member's address or name; ``None`` removes it, a field left out stays.
    #[pyo3(signature = (member, *, at = None, **fields), text_signature = "($self, member, *, email=..., name=..., at=None)")]
    fn update_member(
        &self,
        py: Python<'_>,
        member: Id,
        at: Option<At>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let mut email: Option<Option<Text>> = None;
        let mut name: Option<Option<Text>> = None;
        if let Some(fields) = fields {
            for (key, value) in fields.iter() {
                let key: String = key.extract()?;
                let value: Option<Text> = if value.is_none() { None } else { Some(value.extract()?) };
                match key.as_str() {
                    "email" => email = Some(value),
                    "name" => name = Some(value),
                    other => {
                        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                            "update_member() got an unexpected keyword argument {other:?}"
                        )));
                    }
                }
            }
        }
        self.run(py, |c| {
            let email = email.as_ref().map(|e| e.as_ref().map(Text::as_str));
            let name = name.as_ref().map(|n| n.as_ref().map(Text::as_str));
            c.update_member(member.0, email, name, self::at(at))
        })
    }

    /// Everything stored about the member as they may see it, as JSON-ready data.
    fn export_member<'py>(&self, py: Python<'py>, member: Id) -> PyResult<Bound<'py, PyAny>> {
        let value = self.run(py, |c| c.export_member(member.0))?;
        py.import("json")?.call_method1("loads", (value.to_string(),))
    }

    /// Erases the member (their texts leave every file of the database; the id stays as a tombstone).
    #[pyo3(signature = (member, *, at = None))]
    fn erase_member(&self, py: Python<'_>, member: Id, at: Option<At>) -> PyResult<()> {
        self.run(py, |c| c.erase_member(member.0, self::at(at)))
    }

    /// Records emails whose address the caller's provider refused for good; returns how many were newly skipped.
    #[pyo3(signature = (ids, *, at = None))]
    fn mark_emails_undeliverable(&self, py: Python<'_>, ids: Vec<Id>, at: Option<At>) -> PyResult<u64> {
        let ids: Vec<u64> = ids.into_iter().map(|i| i.0).collect();
        self.run(py, |c| c.mark_emails_undeliverable(&ids, self::at(at)))
    }

    /// The email with this id, whatever its status.
    fn email(&self, py: Python<'_>, email_id: Id) -> PyResult<Py<Email>> {
        let e = self.run(py, |c| c.email(email_id.0))?;
        Py::new(py, Email::from(e))
    }

    /// Expires open requests older than the policy's ``pending_ttl``; returns how many.
    #[pyo3(signature = (*, at = None))]
    fn expire(&self, py: Python<'_>, at: Option<At>) -> PyResult<u64> {
        self.run(py, |c| c.expire(self::at(at)))
    }

    /// The member's moderation standing (service key or moderator).
    fn standing(&self, py: Python<'_>, member: Id) -> PyResult<&'static str> {
        let s = self.run(py, |c| c.standing(member.0))?;
        connreq_core::Standing::parse(&s).map(|s| s.as_str()).map_err(|w| invalid(w.0))
    }

    /// The open moderation flags, oldest first (service key or moderator).
    fn review_queue(&self, py: Python<'_>) -> PyResult<Vec<Py<Flag>>> {
        let items = self.run(py, |c| c.flags("open"))?;
        list(py, items)
    }

    /// Decides an open flag: ``clear`` or ``restrict``; the moderator and
    /// their note are kept on the flag (under a moderator token, the moderator
    /// is the token's member).
    #[pyo3(signature = (flag_id, decision, *, moderator = None, note = None, at = None))]
    fn resolve_flag(
        &self,
        py: Python<'_>,
        flag_id: Id,
        decision: Text,
        moderator: Option<Id>,
        note: Option<Text>,
        at: Option<At>,
    ) -> PyResult<()> {
        connreq_core::Decision::parse(decision.as_str()).map_err(|w| invalid(w.0))?;
        let moderator = moderator.map(|m| m.0);
        self.run(py, |c| {
            c.resolve_flag(flag_id.0, decision.as_str(), moderator, opt_str(&note), self::at(at))
        })
        .map(drop)
    }

    /// Lifts a restriction a moderator decided on.
    #[pyo3(signature = (member, *, moderator = None, note = None, at = None))]
    fn lift_restriction(
        &self,
        py: Python<'_>,
        member: Id,
        moderator: Option<Id>,
        note: Option<Text>,
        at: Option<At>,
    ) -> PyResult<()> {
        let moderator = moderator.map(|m| m.0);
        self.run(py, |c| c.lift_restriction(member.0, moderator, opt_str(&note), self::at(at)))
    }

    /// The flag with this id, open or resolved.
    fn flag(&self, py: Python<'_>, flag_id: Id) -> PyResult<Py<Flag>> {
        let f = self.run(py, |c| c.flag(flag_id.0))?;
        Py::new(py, Flag::from(f))
    }

    /// The events behind a flag's evidence, in log order.
    fn flag_events(&self, py: Python<'_>, flag_id: Id) -> PyResult<Vec<Py<Event>>> {
        let items = self.run(py, |c| c.flag_events(flag_id.0))?;
        let mut out = Vec::with_capacity(items.len());
        for e in items {
            let record = e.into_core().map_err(invalid)?;
            out.push(Py::new(py, Event::from(record))?);
        }
        Ok(out)
    }

    /// What anyone may see of a member: ``{"member", "name", "connection_count"}``.
    fn public_profile<'py>(&self, py: Python<'py>, member: Id) -> PyResult<Bound<'py, PyDict>> {
        let p = self.run(py, |c| c.public_profile(member.0))?;
        let d = PyDict::new(py);
        d.set_item("member", p.member.0)?;
        d.set_item("name", p.name)?;
        d.set_item("connection_count", p.connection_count)?;
        Ok(d)
    }

    /// The events with ``seq > since``, oldest first, at most ``limit`` (service key or moderator).
    #[pyo3(signature = (*, since = Id(0), limit = None), text_signature = "($self, *, since=0, limit=None)")]
    fn events(&self, py: Python<'_>, since: Id, limit: Option<Limit>) -> PyResult<Vec<Py<Event>>> {
        let limit = limit.map(|l| u64::try_from(l.0).unwrap_or(u64::MAX));
        if limit == Some(0) {
            return Ok(Vec::new());
        }
        let items = self.run(py, |c| c.events(since.0, limit))?;
        let mut out = Vec::with_capacity(items.len());
        for e in items {
            let record = EventRecord {
                seq: Seq(e.seq),
                at: connreq_server::time::parse_at(&e.at).map_err(invalid)?,
                kind: intern(&e.kind)?,
                actor: e.actor.map(MemberId),
                subject: e.subject.map(MemberId),
                request_id: e.request_id.map(RequestId),
                detail: e.detail,
            };
            out.push(Py::new(py, Event::from(record))?);
        }
        Ok(out)
    }

    /// Counts: ``requests`` by state, ``connections``, ``members`` by standing,
    /// ``open_flags``, ``unsent_emails`` and ``events`` (service key or moderator).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let st = self.run(py, |c| c.stats())?;
        let d = PyDict::new(py);
        d.set_item("requests", st.requests)?;
        d.set_item("connections", st.connections)?;
        d.set_item("members", st.members)?;
        d.set_item("open_flags", st.open_flags)?;
        d.set_item("unsent_emails", st.unsent_emails)?;
        d.set_item("events", st.events)?;
        Ok(d)
    }
}

/// Mints a member token for ``connreq serve`` (SPEC §12): a JWT signed
/// with ``secret`` (the server's ``CONNREQ_TOKEN_SECRET``), naming ``member``,
/// valid for ``ttl``, with the moderator role when ``moderator``.
#[pyfunction]
#[pyo3(signature = (secret, member, *, ttl = Delta(Duration::from_secs(3600)), moderator = false),
       text_signature = "(secret, member, *, ttl=datetime.timedelta(seconds=3600), moderator=False)")]
pub fn member_token(secret: Text, member: Id, ttl: Delta, moderator: bool) -> PyResult<String> {
    let ttl = ttl.0;
    if ttl.is_zero() {
        return Err(invalid("ttl must be more than zero"));
    }
    if secret.as_str().is_empty() {
        return Err(invalid("the secret must not be empty"));
    }
    let now = connreq_server::token::now_secs();
    connreq_server::token::mint(secret.as_str(), MemberId(member.0), ttl, moderator, now).map_err(invalid)
}

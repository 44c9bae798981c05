//! `Network`: the whole SPEC §8 API on a `connreq_store::Store`. Every call
//! releases the interpreter while the store works, so one network can be
//! shared by many Python threads.

use crate::arrow::EventStream;
use crate::convert::{At, Delta, Id, Limit, Text, at_or_now, opt_str, timestamp};
use crate::errors::to_pyerr;
use crate::policy::PyPolicy;
use crate::records::{Email, Event, Flag, Invitation, Notification, Request, Suggestion};
use connreq_core::{
    Decision, EmailFrequency, EmailId, Error, FlagId, InvitationSetting, Locale, MemberId, Network as _,
    NotificationId, Policy, PreferenceKind, ReportReason, RequestId, RequestState, Seq,
};
use connreq_store::{Durability, OpenOptions, Store};
use pyo3::exceptions::PyRuntimeWarning;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyType};
use std::ffi::CString;
use std::path::PathBuf;
use std::sync::Arc;

/// A connection-request network stored in an embedded database.
///
/// Make one with ``Network.open(path)`` or ``Network.temporary()``. Use it as a
/// context manager to flush and close it at the end of the block. All methods
/// are safe to call from several threads at once: commands are applied one at
/// a time, each atomically, and queries see a consistent state.
///
/// Every command takes a keyword-only ``at``: an aware ``datetime`` or integer
/// epoch milliseconds (default: now). Errors are subclasses of ``ConnreqError``.
///
/// A network belongs to the process that opened it: after ``os.fork()`` every
/// call in the child raises ``StorageError``. Open one in each worker.
#[pyclass(frozen, module = "connreq", name = "Network")]
pub struct PyNetwork {
    store: Arc<Store>,
}

impl PyNetwork {
    /// The underlying store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Runs `f` on the store with the interpreter released.
    fn run<T, F>(&self, py: Python<'_>, f: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(&Store) -> Result<T, Error> + Send,
    {
        let store = &*self.store;
        py.detach(|| f(store)).map_err(to_pyerr)
    }
}

fn durability(name: &Text) -> PyResult<Durability> {
    Durability::parse(name.as_str()).map_err(to_pyerr)
}

/// Issues a ``RuntimeWarning`` when opening found the database damaged.
fn warn_if_damaged(py: Python<'_>, store: &Store) -> PyResult<()> {
    if let Some(damage) = store.damage().map_err(to_pyerr)? {
        let message = CString::new(damage.summary().replace('\0', " ")).unwrap_or_default();
        PyErr::warn(py, &py.get_type::<PyRuntimeWarning>(), &message, 2)?;
    }
    Ok(())
}

fn member(id: Id) -> MemberId {
    MemberId(id.0)
}

fn request(id: Id) -> RequestId {
    RequestId(id.0)
}

fn state_filter(state: Option<Text>) -> PyResult<Option<RequestState>> {
    state.as_ref().map(|s| RequestState::parse(s.as_str())).transpose().map_err(|w| to_pyerr(w.into()))
}

fn list<T, U>(py: Python<'_>, items: Vec<T>) -> PyResult<Vec<Py<U>>>
where
    U: From<T> + pyo3::PyClass + Into<pyo3::PyClassInitializer<U>>,
{
    items.into_iter().map(|item| Py::new(py, U::from(item))).collect()
}

#[pymethods]
impl PyNetwork {
    /// Opens the database at ``path``, creating it if it does not exist.
    ///
    /// ``policy=None`` keeps the database's own policy (the standard policy for
    /// a new database). A different policy is recorded in the event log and
    /// applies from then on. A path that is not a connreq database, a damaged
    /// one without a snapshot to trust, one of another format version or one
    /// open in another process raises ``StorageError``.
    ///
    /// ``durability`` says when a command's write reaches the disk:
    /// ``"command"`` (the default: before the command returns; commands from
    /// several threads share flushes), ``"background"`` (within 500 ms) or
    /// ``"manual"`` (only on ``flush()`` and ``close()``, for bulk loads).
    ///
    /// ``read_only=True`` opens an existing database for reading only: commands
    /// raise ``StorageError`` and nothing is written, not even on close.
    ///
    /// A database whose log is damaged behind its snapshot opens with a
    /// ``RuntimeWarning``: it serves the state it can trust (``damage`` says
    /// what is wrong) and refuses commands until ``repair()``.
    #[staticmethod]
    #[pyo3(signature = (path, policy = None, *, durability = None, read_only = false))]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        policy: Option<&PyPolicy>,
        durability: Option<Text>,
        read_only: bool,
    ) -> PyResult<Self> {
        let durability = durability.as_ref().map(self::durability).transpose()?.unwrap_or_default();
        let options = OpenOptions {
            policy: policy.map(|p| p.0.clone()),
            durability,
            read_only,
            ..OpenOptions::default()
        };
        let store = py.detach(|| Store::open_with(&path, options)).map_err(to_pyerr)?;
        warn_if_damaged(py, &store)?;
        Ok(Self { store: Arc::new(store) })
    }

    /// A throwaway network in a temporary database, deleted when it is closed
    /// or garbage-collected. ``policy=None`` is the standard policy;
    /// ``durability`` as for ``open``.
    #[staticmethod]
    #[pyo3(signature = (policy = None, *, durability = None))]
    fn temporary(py: Python<'_>, policy: Option<&PyPolicy>, durability: Option<Text>) -> PyResult<Self> {
        let durability = durability.as_ref().map(self::durability).transpose()?.unwrap_or_default();
        let policy = policy.map_or_else(Policy::standard, |p| p.0.clone());
        let options = OpenOptions { policy: Some(policy), durability, ..OpenOptions::default() };
        let store = py.detach(|| Store::temporary_with(options)).map_err(to_pyerr)?;
        Ok(Self { store: Arc::new(store) })
    }

    /// Returns the network itself, for ``with Network.open(path) as net:``.
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Flushes and closes the network at the end of a ``with`` block; never
    /// swallows the block's exception.
    #[pyo3(signature = (exc_type, exc_value, traceback))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        exc_value: Option<&Bound<'_, PyAny>>,
        traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let _ = (exc_type, exc_value, traceback);
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        match self.store.path() {
            Some(path) => {
                let shown = PyString::new(py, &path.display().to_string()).repr()?;
                Ok(format!("Network.open({shown})"))
            }
            None => Ok("Network.temporary()".to_owned()),
        }
    }

    /// The database directory, or ``None`` for a temporary network.
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.store.path().map(PathBuf::from)
    }

    /// The policy in force.
    #[getter]
    fn policy(&self, py: Python<'_>) -> PyResult<PyPolicy> {
        self.run(py, |s| s.policy()).map(PyPolicy)
    }

    /// When commands become durable: ``"command"``, ``"background"`` or ``"manual"``.
    #[getter]
    fn durability(&self) -> &'static str {
        self.store.durability().as_str()
    }

    /// Whether the network was opened with ``read_only=True``.
    #[getter]
    fn read_only(&self) -> bool {
        self.store.read_only()
    }

    /// What opening found wrong with the database, in words, or ``None``. A
    /// damaged network serves the state it can trust and refuses commands
    /// until ``repair()``; a server reports it as degraded.
    #[getter]
    fn damage(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(self.run(py, |s| s.damage())?.map(|d| d.summary()))
    }

    /// Rebuilds a damaged database from the state that can still be trusted
    /// and reopens it; commands run again afterwards. Returns what was found
    /// and lost: ``{"repaired", "problems", "kept_through", "history_lost",
    /// "commands_lost", "end_unknown", "damaged_copy", "summary"}``
    /// (``history_lost``: ranges of event numbers whose record is gone but whose
    /// effect the state keeps; ``commands_lost``: the range of events whose
    /// commands are lost, or ``None``). The damaged files are kept beside the
    /// database as ``<name>.damaged``. A sound database is left as it is.
    fn repair<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let report = self.run(py, Store::repair)?;
        let d = PyDict::new(py);
        d.set_item("repaired", report.repaired)?;
        d.set_item("problems", PyList::new(py, &report.problems)?)?;
        d.set_item("kept_through", report.kept_through.0)?;
        d.set_item("history_lost", report.history_lost.clone())?;
        d.set_item("commands_lost", report.commands_lost)?;
        d.set_item("end_unknown", report.end_unknown)?;
        d.set_item("damaged_copy", report.damaged_copy.clone())?;
        d.set_item("summary", report.summary())?;
        Ok(d)
    }

    /// Writes a consistent copy of the database to ``dest`` (a directory that
    /// must not exist or be empty) while the network keeps serving: other
    /// threads' queries run throughout, and their commands wait at most for
    /// the reading of one chunk of the log. The copy holds every command that
    /// returned before the call. Returns ``{"path", "through", "events"}``.
    fn backup<'py>(&self, py: Python<'py>, dest: PathBuf) -> PyResult<Bound<'py, PyDict>> {
        let report = self.run(py, |s| s.backup(&dest))?;
        let d = PyDict::new(py);
        d.set_item("path", report.path)?;
        d.set_item("through", report.through.0)?;
        d.set_item("events", report.events)?;
        Ok(d)
    }

    /// Makes every command that returned before this call durable on disk.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, Store::flush)
    }

    /// Merges the event log's last small records (one per command) into large
    /// ones. Writing merges them every few kilobytes on its own, so this only
    /// matters for the last few commands, or for a database written by an
    /// older connreq, which kept one record per command until closed.
    fn compact(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, Store::compact)
    }

    /// Flushes and closes the database, releasing its lock. Later calls raise
    /// ``StorageError``; closing twice is fine.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, Store::close)
    }

    /// Verifies every invariant and that the state rebuilt from the event log
    /// equals the live state. Returns the problems found (empty when sound).
    fn check(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.run(py, Store::check)
    }

    /// Registers a member. Raises ``MemberExists`` if the id is taken and
    /// ``InvalidInput`` for a malformed email or name, or a locale not in ``locales()``.
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
        let locale = locale.map(|l| parse_locale(&l)).transpose()?;
        let at = at_or_now(at);
        self.run(py, |s| s.register_in(self::member(member), opt_str(&email), opt_str(&name), locale, at))
    }

    /// Switches a kind of email on or off for the member: a notification kind
    /// that sends email, ``"invitation_reminder"``, or ``"all"``. Switching a
    /// kind off skips the member's unsent emails of that kind; the in-app
    /// notifications stay.
    #[pyo3(signature = (member, kind, enabled, *, at = None))]
    fn set_email_preference(
        &self,
        py: Python<'_>,
        member: Id,
        kind: Text,
        enabled: bool,
        at: Option<At>,
    ) -> PyResult<()> {
        let kind = PreferenceKind::parse(kind.as_str()).map_err(|w| to_pyerr(w.into()))?;
        let at = at_or_now(at);
        self.run(py, |s| s.set_email_preference(self::member(member), kind, enabled, at))
    }

    /// Each kind of email the member can switch, and whether it is on.
    fn email_preferences<'py>(&self, py: Python<'py>, member: Id) -> PyResult<Bound<'py, PyDict>> {
        let prefs = self.run(py, |s| s.email_preferences(self::member(member)))?;
        let dict = PyDict::new(py);
        for (kind, on) in prefs {
            dict.set_item(kind.as_str(), on)?;
        }
        Ok(dict)
    }

    /// Sets how often the member gets email: ``"immediate"`` (one per
    /// notification) or ``"daily"`` (one digest a day at the policy's ``digest_hour``).
    #[pyo3(signature = (member, frequency, *, at = None))]
    fn set_email_frequency(
        &self,
        py: Python<'_>,
        member: Id,
        frequency: Text,
        at: Option<At>,
    ) -> PyResult<()> {
        let frequency = EmailFrequency::parse(frequency.as_str()).map_err(|w| to_pyerr(w.into()))?;
        let at = at_or_now(at);
        self.run(py, |s| s.set_email_frequency(self::member(member), frequency, at))
    }

    /// How often the member gets email: ``"immediate"`` or ``"daily"``.
    fn email_frequency(&self, py: Python<'_>, member: Id) -> PyResult<&'static str> {
        self.run(py, |s| s.email_frequency(self::member(member))).map(EmailFrequency::as_str)
    }

    /// Sets the language of the member's texts (one of ``locales()``).
    #[pyo3(signature = (member, locale, *, at = None))]
    fn set_locale(&self, py: Python<'_>, member: Id, locale: Text, at: Option<At>) -> PyResult<()> {
        let locale = parse_locale(&locale)?;
        let at = at_or_now(at);
        self.run(py, |s| s.set_locale(self::member(member), locale, at))
    }

    /// The language of the member's texts.
    fn locale(&self, py: Python<'_>, member: Id) -> PyResult<&'static str> {
        self.run(py, |s| s.locale(self::member(member))).map(Locale::as_str)
    }

    /// The languages texts can be written in (``"en"`` first, the default).
    #[staticmethod]
    fn locales() -> Vec<&'static str> {
        Locale::ALL.iter().map(|l| l.as_str()).collect()
    }

    /// Sets who may invite the member: ``everyone``, ``email_or_contacts``,
    /// ``contacts`` or ``nobody``.
    #[pyo3(signature = (member, setting, *, at = None))]
    fn set_invitation_setting(
        &self,
        py: Python<'_>,
        member: Id,
        setting: Text,
        at: Option<At>,
    ) -> PyResult<()> {
        let setting = InvitationSetting::parse(setting.as_str()).map_err(|w| to_pyerr(w.into()))?;
        let at = at_or_now(at);
        self.run(py, |s| s.set_invitation_setting(self::member(member), setting, at))
    }

    /// Adds email addresses to the member's imported contacts.
    #[pyo3(signature = (member, emails, *, at = None))]
    fn import_contacts(&self, py: Python<'_>, member: Id, emails: Vec<Text>, at: Option<At>) -> PyResult<()> {
        let at = at_or_now(at);
        self.run(py, |s| {
            let emails: Vec<&str> = emails.iter().map(Text::as_str).collect();
            s.import_contacts(self::member(member), &emails, at)
        })
    }

    /// Sends a connection request and returns its id (or, under
    /// ``reverse_request="accept"``, the id of the request the other way, which
    /// it accepts). ``email`` is the recipient's address, when their setting
    /// asks for it.
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
        let at = at_or_now(at);
        self.run(py, |s| s.send(member(sender), member(recipient), opt_str(&note), opt_str(&email), at))
            .map(|r| r.0)
    }

    /// The recipient accepts a pending or ignored request; the two connect.
    #[pyo3(signature = (recipient, rid, *, at = None))]
    fn accept(&self, py: Python<'_>, recipient: Id, rid: Id, at: Option<At>) -> PyResult<()> {
        let at = at_or_now(at);
        self.run(py, |s| s.accept(member(recipient), request(rid), at))
    }

    /// The recipient archives a pending request; the sender still sees it pending.
    #[pyo3(signature = (recipient, rid, *, at = None))]
    fn ignore(&self, py: Python<'_>, recipient: Id, rid: Id, at: Option<At>) -> PyResult<()> {
        let at = at_or_now(at);
        self.run(py, |s| s.ignore(member(recipient), request(rid), at))
    }

    /// The recipient declines a pending or ignored request, with an optional message.
    #[pyo3(signature = (recipient, rid, message = None, *, at = None))]
    fn decline(
        &self,
        py: Python<'_>,
        recipient: Id,
        rid: Id,
        message: Option<Text>,
        at: Option<At>,
    ) -> PyResult<()> {
        let at = at_or_now(at);
        self.run(py, |s| s.decline(member(recipient), request(rid), opt_str(&message), at))
    }

    /// The sender withdraws a pending or ignored request, with an optional message.
    #[pyo3(signature = (sender, rid, message = None, *, at = None))]
    fn withdraw(
        &self,
        py: Python<'_>,
        sender: Id,
        rid: Id,
        message: Option<Text>,
        at: Option<At>,
    ) -> PyResult<()> {
        let at = at_or_now(at);
        self.run(py, |s| s.withdraw(member(sender), request(rid), opt_str(&message), at))
    }

    /// The request with this id, in its true state (the operator's view).
    fn request(&self, py: Python<'_>, rid: Id) -> PyResult<Request> {
        self.run(py, |s| s.request(request(rid))).map(Request::from)
    }

    /// Every request the member sent, oldest first, as the sender sees them
    /// (an ignored request shows as ``pending``). ``state`` filters by the
    /// state as shown.
    #[pyo3(signature = (member, *, state = None))]
    fn sent(&self, py: Python<'_>, member: Id, state: Option<Text>) -> PyResult<Vec<Py<Request>>> {
        let state = state_filter(state)?;
        let items = self.run(py, |s| s.sent(self::member(member), state))?;
        list(py, items)
    }

    /// Every request the member received, oldest first, as the recipient sees
    /// them. ``state`` filters by the state as shown.
    #[pyo3(signature = (member, *, state = None))]
    fn received(&self, py: Python<'_>, member: Id, state: Option<Text>) -> PyResult<Vec<Py<Request>>> {
        let state = state_filter(state)?;
        let items = self.run(py, |s| s.received(self::member(member), state))?;
        list(py, items)
    }

    /// The member's connections, sorted by id.
    fn connections(&self, py: Python<'_>, member: Id) -> PyResult<Vec<u64>> {
        let ids = self.run(py, |s| s.connections(self::member(member)))?;
        Ok(ids.into_iter().map(|m| m.0).collect())
    }

    /// How many connections the member has.
    fn connection_count(&self, py: Python<'_>, member: Id) -> PyResult<u64> {
        self.run(py, |s| s.connection_count(self::member(member)))
    }

    /// Whether the two members are connected.
    fn are_connected(&self, py: Python<'_>, a: Id, b: Id) -> PyResult<bool> {
        self.run(py, |s| s.are_connected(member(a), member(b)))
    }

    /// The members connected to both, sorted by id.
    fn mutual_connections(&self, py: Python<'_>, a: Id, b: Id) -> PyResult<Vec<u64>> {
        let ids = self.run(py, |s| s.mutual_connections(member(a), member(b)))?;
        Ok(ids.into_iter().map(|m| m.0).collect())
    }

    /// Ends a connection. No one is notified.
    #[pyo3(signature = (member, other, *, at = None))]
    fn remove_connection(&self, py: Python<'_>, member: Id, other: Id, at: Option<At>) -> PyResult<()> {
        let at = at_or_now(at);
        self.run(py, |s| s.remove_connection(self::member(member), self::member(other), at))
    }

    /// Blocks a member: cancels open requests both ways, removes a connection
    /// and refuses sends both ways until ``unblock``. The blocked member is not told.
    #[pyo3(signature = (blocker, blocked, *, at = None))]
    fn block(&self, py: Python<'_>, blocker: Id, blocked: Id, at: Option<At>) -> PyResult<()> {
        let at = at_or_now(at);
        self.run(py, |s| s.block(member(blocker), member(blocked), at))
    }

    /// Lifts a block. Nothing the block ended is restored.
    #[pyo3(signature = (blocker, blocked, *, at = None))]
    fn unblock(&self, py: Python<'_>, blocker: Id, blocked: Id, at: Option<At>) -> PyResult<()> {
        let at = at_or_now(at);
        self.run(py, |s| s.unblock(member(blocker), member(blocked), at))
    }

    /// Whether ``blocker`` has blocked ``blocked`` (directional).
    fn is_blocked(&self, py: Python<'_>, blocker: Id, blocked: Id) -> PyResult<bool> {
        self.run(py, |s| s.is_blocked(member(blocker), member(blocked)))
    }

    /// Reports a member: ``reason`` is ``spam``, ``harassment`` or
    /// ``dont_know``. ``request_id`` must name a request from the reported
    /// member to the reporter.
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
        let reason = ReportReason::parse(reason.as_str()).map_err(|w| to_pyerr(w.into()))?;
        let at = at_or_now(at);
        self.run(py, |s| s.report(member(reporter), member(reported), reason, request_id.map(request), at))
    }

    /// The member's in-app notifications, oldest first.
    #[pyo3(signature = (member, *, unread_only = false))]
    fn notifications(
        &self,
        py: Python<'_>,
        member: Id,
        unread_only: bool,
    ) -> PyResult<Vec<Py<Notification>>> {
        let items = self.run(py, |s| s.notifications(self::member(member), unread_only))?;
        list(py, items)
    }

    /// Marks the member's notifications with these ids as read.
    #[pyo3(signature = (member, ids, *, at = None))]
    fn mark_read(&self, py: Python<'_>, member: Id, ids: Vec<Id>, at: Option<At>) -> PyResult<()> {
        let ids: Vec<NotificationId> = ids.into_iter().map(|i| NotificationId(i.0)).collect();
        let at = at_or_now(at);
        self.run(py, |s| s.mark_read(self::member(member), &ids, at))
    }

    /// Unsent emails due at or before ``due_before`` (all unsent when ``None``), by due time.
    #[pyo3(signature = (*, due_before = None))]
    fn pending_emails(
        &self,
        py: Python<'_>,
        due_before: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Py<Email>>> {
        let due_before = due_before.map(|t| timestamp(t, "due_before")).transpose()?;
        let items = self.run(py, |s| s.pending_emails(due_before))?;
        list(py, items)
    }

    /// The email with this id, whatever its status. ``NotFound`` if there is none.
    fn email(&self, py: Python<'_>, email_id: Id) -> PyResult<Py<Email>> {
        let e = self.run(py, |s| s.email(EmailId(email_id.0)))?;
        Py::new(py, Email::from(e))
    }

    /// Sends the emails due at ``at`` over SMTP and returns how many it sent.
    /// ``smtp_url`` is ``smtp://[USER:PASSWORD@]HOST[:PORT]`` (STARTTLS when the
    /// server offers it, and always before a password is sent) or
    /// ``smtps://...`` (TLS from the first byte); certificates are checked
    /// against the system's (``SSL_CERT_FILE`` names another bundle). One
    /// connection carries them all; each is marked sent once the server takes
    /// it, so a second dispatch never sends one twice. An address the server
    /// refuses for good is skipped (``invalid_address``). If the server fails,
    /// raises ``MailError``; the emails not sent stay for a later dispatch.
    #[pyo3(signature = (smtp_url, *, sender = None, at = None))]
    fn dispatch_emails(
        &self,
        py: Python<'_>,
        smtp_url: Text,
        sender: Option<Text>,
        at: Option<At>,
    ) -> PyResult<u64> {
        let at = at_or_now(at);
        self.run(py, |s| s.dispatch_emails(smtp_url.as_str(), opt_str(&sender), at))
    }

    /// Records emails the caller delivered itself (through a provider's HTTP
    /// API, say); returns how many were newly marked. Sent or skipped ones
    /// count nothing. ``NotFound`` for an id that is no email.
    #[pyo3(signature = (ids, *, at = None))]
    fn mark_emails_sent(&self, py: Python<'_>, ids: Vec<Id>, at: Option<At>) -> PyResult<u64> {
        let ids: Vec<EmailId> = ids.into_iter().map(|i| EmailId(i.0)).collect();
        let at = at_or_now(at);
        self.run(py, |s| s.mark_emails_sent(&ids, at))
    }

    /// Records emails whose address the caller's provider refused for good:
    /// they are skipped (``invalid_address``). Returns how many were newly skipped.
    #[pyo3(signature = (ids, *, at = None))]
    fn mark_emails_undeliverable(&self, py: Python<'_>, ids: Vec<Id>, at: Option<At>) -> PyResult<u64> {
        let ids: Vec<EmailId> = ids.into_iter().map(|i| EmailId(i.0)).collect();
        let at = at_or_now(at);
        self.run(py, |s| s.mark_emails_undeliverable(&ids, at))
    }

    /// Expires every open request older than the policy's ``pending_ttl``;
    /// returns how many expired.
    #[pyo3(signature = (*, at = None))]
    fn expire(&self, py: Python<'_>, at: Option<At>) -> PyResult<u64> {
        let at = at_or_now(at);
        self.run(py, |s| s.expire(at))
    }

    /// The member's moderation standing: ``good``, ``under_review`` or ``restricted``.
    fn standing(&self, py: Python<'_>, member: Id) -> PyResult<&'static str> {
        self.run(py, |s| s.standing(self::member(member))).map(|st| st.as_str())
    }

    /// The open moderation flags, oldest first.
    fn review_queue(&self, py: Python<'_>) -> PyResult<Vec<Py<Flag>>> {
        let items = self.run(py, |s| s.review_queue())?;
        list(py, items)
    }

    /// Decides an open flag: ``clear`` (back to good standing) or ``restrict``;
    /// the moderator (a member id) and their note are kept on the flag.
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
        let decision = Decision::parse(decision.as_str()).map_err(|w| to_pyerr(w.into()))?;
        let at = at_or_now(at);
        let moderator = moderator.map(self::member);
        let note = note.as_ref().map(Text::as_str);
        self.run(py, |s| s.resolve_flag_by(FlagId(flag_id.0), decision, moderator, note, at))
    }

    /// Lifts a restriction a moderator decided on: the member's standing then
    /// follows from their open flags (``good`` when none is open).
    #[pyo3(signature = (member, *, moderator = None, note = None, at = None))]
    fn lift_restriction(
        &self,
        py: Python<'_>,
        member: Id,
        moderator: Option<Id>,
        note: Option<Text>,
        at: Option<At>,
    ) -> PyResult<()> {
        let at = at_or_now(at);
        let moderator = moderator.map(self::member);
        let note = note.as_ref().map(Text::as_str);
        self.run(py, |s| s.lift_restriction(self::member(member), moderator, note, at))
    }

    /// The flag with this id, open or resolved: ``resolved_by``,
    /// ``resolution_note`` and ``resolved_at`` say who decided, why and when.
    fn flag(&self, py: Python<'_>, flag_id: Id) -> PyResult<Py<Flag>> {
        let f = self.run(py, |s| s.flag(FlagId(flag_id.0)))?;
        Py::new(py, Flag::from(f))
    }

    /// The events behind a flag's evidence, in log order.
    fn flag_events(&self, py: Python<'_>, flag_id: Id) -> PyResult<Vec<Py<Event>>> {
        let items = self.run(py, |s| s.flag_events(FlagId(flag_id.0)))?;
        list(py, items)
    }

    /// What anyone may see of a member: ``{"member", "name", "connection_count"}``.
    fn public_profile<'py>(&self, py: Python<'py>, member: Id) -> PyResult<Bound<'py, PyDict>> {
        let p = self.run(py, |s| s.public_profile(self::member(member)))?;
        let d = PyDict::new(py);
        d.set_item("member", p.member.0)?;
        d.set_item("name", p.name)?;
        d.set_item("connection_count", p.connection_count)?;
        Ok(d)
    }

    /// The events with ``seq > since``, oldest first, at most ``limit`` of them.
    #[pyo3(signature = (*, since = Id(0), limit = None), text_signature = "($self, *, since=0, limit=None)")]
    fn events(&self, py: Python<'_>, since: Id, limit: Option<Limit>) -> PyResult<Vec<Py<Event>>> {
        let items = self.run(py, |s| s.events(Seq(since.0), limit.map(|l| l.0)))?;
        list(py, items)
    }

    /// The events with ``seq > since`` (up to the last one now), as an object
    /// with ``__arrow_c_stream__``: ``pyarrow.table(x)``, ``polars.DataFrame(x)``
    /// and ``duckdb`` read it without Python objects per event.
    #[pyo3(signature = (*, since = Id(0)), text_signature = "($self, *, since=0)")]
    fn events_arrow(&self, py: Python<'_>, since: Id) -> PyResult<EventStream> {
        let end = self.run(py, |s| s.stats())?.events;
        Ok(EventStream::new(self.store.clone(), since.0, end))
    }

    /// The member's open received invitations, oldest first, as they see
    /// them (``ignored`` ones too with ``include_ignored=True``), each with
    /// how many connections its sender and the member share and up to three of them.
    #[pyo3(signature = (member, *, include_ignored = false))]
    fn invitations(
        &self,
        py: Python<'_>,
        member: Id,
        include_ignored: bool,
    ) -> PyResult<Vec<Py<Invitation>>> {
        let items = self.run(py, |s| s.invitations(self::member(member), include_ignored))?;
        list(py, items)
    }

    /// Up to ``limit`` members the member may know, best first (most mutual
    /// connections, then imported contacts who are members), as of ``at``
    /// (default now: cooldowns and recent declines depend on it). Never the
    /// member, a connection, anyone with an open or recently ended request
    /// between them, anyone blocked either way, or anyone who could not be invited.
    #[pyo3(signature = (member, *, limit = Limit(10), at = None), text_signature = "($self, member, *, limit=10, at=None)")]
    fn suggestions(
        &self,
        py: Python<'_>,
        member: Id,
        limit: Limit,
        at: Option<At>,
    ) -> PyResult<Vec<Py<Suggestion>>> {
        let at = at_or_now(at);
        let items = self.run(py, |s| s.suggestions(self::member(member), limit.0, at))?;
        list(py, items)
    }

    /// Withdraws every open request the sender sent (only those at least
    /// ``older_than`` old, a ``timedelta``, when given), each an ordinary
    /// withdrawal with its notifications; returns how many.
    #[pyo3(signature = (sender, *, older_than = None, message = None, at = None))]
    fn withdraw_all(
        &self,
        py: Python<'_>,
        sender: Id,
        older_than: Option<Delta>,
        message: Option<Text>,
        at: Option<At>,
    ) -> PyResult<u64> {
        let at = at_or_now(at);
        self.run(py, |s| s.withdraw_all(member(sender), older_than.map(|d| d.0), opt_str(&message), at))
    }

    /// Changes the member's address or name, checked as ``register`` checks
    /// them; ``None`` removes it, a field left out stays. Texts shown later
    /// use the new name; unsent emails go to the new address.
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
        let at = at_or_now(at);
        self.run(py, |s| {
            let email = email.as_ref().map(|e| e.as_ref().map(Text::as_str));
            let name = name.as_ref().map(|n| n.as_ref().map(Text::as_str));
            s.update_member(self::member(member), email, name, at)
        })
    }

    /// Everything the network keeps about the member, as they may see it, as
    /// a JSON-ready dict: profile, settings, contacts, requests sent and
    /// received, connections, notifications, emails, the blocks and reports
    /// they made, standing. Never who reported them.
    fn export_member<'py>(&self, py: Python<'py>, member: Id) -> PyResult<Bound<'py, PyAny>> {
        let value = self.run(py, |s| s.export_member(self::member(member)))?;
        let text = value.to_string();
        py.import("json")?.call_method1("loads", (text,))
    }

    /// Erases the member: their name, address, contacts and every note and
    /// message they wrote leave every file of the database; their open
    /// requests are cancelled and connections ended; the id stays as a
    /// tombstone ("a former member" in texts) and raises ``UnknownMember``.
    /// Durable when it returns.
    #[pyo3(signature = (member, *, at = None))]
    fn erase_member(&self, py: Python<'_>, member: Id, at: Option<At>) -> PyResult<()> {
        let at = at_or_now(at);
        self.run(py, |s| s.erase_member(self::member(member), at))
    }

    /// Counts: ``requests`` by state, ``connections``, ``members`` by standing,
    /// ``open_flags``, ``unsent_emails`` and ``events``.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let st = self.run(py, |s| s.stats())?;
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

/// A locale from Python, or `InvalidInput` naming the ones there are.
fn parse_locale(locale: &Text) -> PyResult<Locale> {
    Locale::parse(locale.as_str()).map_err(|w| to_pyerr(w.into()))
}

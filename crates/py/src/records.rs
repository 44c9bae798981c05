//! The immutable records queries return: `Request`, `Notification`, `Email`,
//! `Flag` and `Event` (SPEC §8). Each compares and hashes by value; times are
//! shown as aware UTC datetimes.

use crate::convert::to_datetime;
use connreq_core::{EventRecord, Timestamp, views};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// `Name(field=repr, ...)` for any object with those attributes.
pub fn repr_of<T>(obj: &Bound<'_, T>, name: &str, fields: &[&str]) -> PyResult<String> {
    let obj = obj.as_any();
    let mut parts = Vec::with_capacity(fields.len());
    for field in fields {
        let value = obj.getattr(PyString::intern(obj.py(), field))?;
        parts.push(format!("{field}={}", value.repr()?));
    }
    Ok(format!("{name}({})", parts.join(", ")))
}

fn time(py: Python<'_>, ms: i64) -> PyResult<Bound<'_, PyAny>> {
    to_datetime(py, Timestamp(ms))
}

/// A connection request, as one viewer sees it.
#[pyclass(frozen, eq, hash, module = "connreq")]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// The request's id.
    #[pyo3(get)]
    id: u64,
    /// The member who sent it.
    #[pyo3(get)]
    sender: u64,
    /// The member who received it.
    #[pyo3(get)]
    recipient: u64,
    /// The note sent with it, if any.
    #[pyo3(get)]
    note: Option<String>,
    /// Its state as this view shows it: ``pending``, ``ignored``, ``accepted``,
    /// ``declined``, ``withdrawn``, ``expired`` or ``cancelled``.
    #[pyo3(get)]
    state: &'static str,
    created_at_ms: i64,
    updated_at_ms: i64,
    /// The message given with a withdrawal or decline, if any.
    #[pyo3(get)]
    message: Option<String>,
}

impl From<views::Request> for Request {
    fn from(r: views::Request) -> Self {
        Self {
            id: r.id.0,
            sender: r.sender.0,
            recipient: r.recipient.0,
            note: r.note,
            state: r.state.as_str(),
            created_at_ms: r.created_at.0,
            updated_at_ms: r.updated_at.0,
            message: r.message,
        }
    }
}

#[pymethods]
impl Request {
    /// When it was sent (aware, UTC).
    #[getter]
    fn created_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time(py, self.created_at_ms)
    }

    /// When its state last changed, as this view shows it (aware, UTC).
    #[getter]
    fn updated_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time(py, self.updated_at_ms)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(
            slf,
            "Request",
            &["id", "sender", "recipient", "note", "state", "created_at", "updated_at", "message"],
        )
    }
}

/// An in-app notification.
#[pyclass(frozen, eq, hash, module = "connreq")]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Notification {
    /// The notification's id.
    #[pyo3(get)]
    id: u64,
    /// Whose inbox it is in.
    #[pyo3(get)]
    member: u64,
    /// ``invitation_received``, ``invitation_accepted``, ``invitation_declined``,
    /// ``invitation_withdrawn`` or ``invitation_expired``.
    #[pyo3(get)]
    kind: &'static str,
    /// The request it is about.
    #[pyo3(get)]
    request_id: u64,
    /// The other member.
    #[pyo3(get)]
    actor: u64,
    created_at_ms: i64,
    /// The text shown to the member.
    #[pyo3(get)]
    text: String,
    /// Whether the member has read it.
    #[pyo3(get)]
    read: bool,
}

impl From<views::Notification> for Notification {
    fn from(n: views::Notification) -> Self {
        Self {
            id: n.id.0,
            member: n.member.0,
            kind: n.kind.as_str(),
            request_id: n.request_id.0,
            actor: n.actor.0,
            created_at_ms: n.created_at.0,
            text: n.text,
            read: n.read,
        }
    }
}

#[pymethods]
impl Notification {
    /// When it was created (aware, UTC).
    #[getter]
    fn created_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time(py, self.created_at_ms)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(
            slf,
            "Notification",
            &["id", "member", "kind", "request_id", "actor", "created_at", "text", "read"],
        )
    }
}

/// An email in the outbox: queued, sent or skipped.
#[pyclass(frozen, eq, hash, module = "connreq")]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email {
    /// The email's id (the id of the notification it carries, or its own).
    #[pyo3(get)]
    id: u64,
    /// The member it is for.
    #[pyo3(get)]
    member: u64,
    /// Their email address (as it is now).
    #[pyo3(get)]
    address: String,
    /// What it is: a notification kind, ``"invitation_reminder"`` or ``"digest"``.
    #[pyo3(get)]
    kind: &'static str,
    /// The subject line (member text as written).
    #[pyo3(get)]
    subject: String,
    /// The plain-text body (member text as written).
    #[pyo3(get)]
    body: String,
    /// The HTML body (member text escaped).
    #[pyo3(get)]
    html: String,
    /// ``"queued"``, ``"sent"`` or ``"skipped"``.
    #[pyo3(get)]
    status: &'static str,
    /// Why it was skipped: ``"stale"``, ``"blocked"``, ``"preference"`` or
    /// ``"invalid_address"``; ``None`` unless skipped.
    #[pyo3(get)]
    skip_reason: Option<&'static str>,
    /// The notification it carries (``None`` for a reminder or a digest).
    #[pyo3(get)]
    notification_id: Option<u64>,
    /// The request it is about (``None`` for a digest).
    #[pyo3(get)]
    request_id: Option<u64>,
    due_at_ms: i64,
    sent_at_ms: Option<i64>,
}

impl From<views::Email> for Email {
    fn from(e: views::Email) -> Self {
        Self {
            id: e.id.0,
            member: e.member.0,
            address: e.address,
            kind: e.kind.as_str(),
            subject: e.subject,
            body: e.body,
            html: e.html,
            status: e.status.as_str(),
            skip_reason: e.skip_reason.map(|r| r.as_str()),
            notification_id: e.notification.map(|n| n.0),
            request_id: e.request_id.map(|r| r.0),
            due_at_ms: e.due_at.0,
            sent_at_ms: e.sent_at.map(|t| t.0),
        }
    }
}

#[pymethods]
impl Email {
    /// When it is due to be sent (aware, UTC).
    #[getter]
    fn due_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time(py, self.due_at_ms)
    }

    /// When it was handed to a mail server, or ``None`` while unsent.
    #[getter]
    fn sent_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.sent_at_ms.map(|ms| time(py, ms)).transpose()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(
            slf,
            "Email",
            &[
                "id",
                "member",
                "address",
                "kind",
                "status",
                "skip_reason",
                "subject",
                "body",
                "html",
                "due_at",
                "sent_at",
                "notification_id",
                "request_id",
            ],
        )
    }
}

/// A moderation flag.
#[pyclass(frozen, eq, hash, module = "connreq")]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Flag {
    /// The flag's id.
    #[pyo3(get)]
    id: u64,
    /// The member flagged.
    #[pyo3(get)]
    member: u64,
    /// ``repeated_withdrawals``, ``reported``, ``low_acceptance``, ``burst`` or ``repeated_resends``.
    #[pyo3(get)]
    rule: &'static str,
    /// The sequence numbers of the events behind it, in order.
    #[pyo3(get)]
    evidence: Vec<u64>,
    created_at_ms: i64,
    /// ``open``, ``cleared`` or ``restricted``.
    #[pyo3(get)]
    status: &'static str,
    /// The moderator who resolved it, when one was named.
    #[pyo3(get)]
    resolved_by: Option<u64>,
    /// The moderator's reason, when given.
    #[pyo3(get)]
    resolution_note: Option<String>,
    resolved_at_ms: Option<i64>,
}

impl From<views::Flag> for Flag {
    fn from(f: views::Flag) -> Self {
        Self {
            id: f.id.0,
            member: f.member.0,
            rule: f.rule.as_str(),
            evidence: f.evidence.iter().map(|s| s.0).collect(),
            created_at_ms: f.created_at.0,
            status: f.status.as_str(),
            resolved_by: f.resolved_by.map(|m| m.0),
            resolution_note: f.resolution_note,
            resolved_at_ms: f.resolved_at.map(|t| t.0),
        }
    }
}

#[pymethods]
impl Flag {
    /// When it was opened (aware, UTC).
    #[getter]
    fn created_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time(py, self.created_at_ms)
    }

    /// When it was resolved (aware, UTC); ``None`` while it is open.
    #[getter]
    fn resolved_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.resolved_at_ms.map(|ms| time(py, ms)).transpose()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let fields = [
            "id",
            "member",
            "rule",
            "evidence",
            "created_at",
            "status",
            "resolved_by",
            "resolution_note",
            "resolved_at",
        ];
        repr_of(slf, "Flag", &fields)
    }
}

/// One entry of the append-only event log.
#[pyclass(frozen, eq, hash, module = "connreq")]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    /// Its position in the log: gapless, from 1.
    #[pyo3(get)]
    seq: u64,
    at_ms: i64,
    /// What happened, e.g. ``invitation_sent``.
    #[pyo3(get)]
    kind: &'static str,
    /// The member who acted, if one did.
    #[pyo3(get)]
    actor: Option<u64>,
    /// The member acted upon, if any.
    #[pyo3(get)]
    subject: Option<u64>,
    /// The request concerned, if any.
    #[pyo3(get)]
    request_id: Option<u64>,
    /// A JSON object, as text, with what the other fields do not hold.
    #[pyo3(get)]
    detail: String,
}

impl From<EventRecord> for Event {
    fn from(e: EventRecord) -> Self {
        Self {
            seq: e.seq.0,
            at_ms: e.at.0,
            kind: e.kind,
            actor: e.actor.map(|m| m.0),
            subject: e.subject.map(|m| m.0),
            request_id: e.request_id.map(|r| r.0),
            detail: e.detail,
        }
    }
}

#[pymethods]
impl Event {
    /// When it happened (aware, UTC).
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time(py, self.at_ms)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf, "Event", &["seq", "at", "kind", "actor", "subject", "request_id", "detail"])
    }
}

/// An open invitation as its recipient sees it, with the mutual connections.
#[pyclass(frozen, eq, hash, module = "connreq")]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Invitation {
    /// The request, as the recipient sees it.
    #[pyo3(get)]
    request: Request,
    /// How many connections the sender and the recipient have in common.
    #[pyo3(get)]
    mutual_count: u64,
    /// Up to three of them (the lowest ids), sorted.
    #[pyo3(get)]
    mutuals: Vec<u64>,
}

impl From<connreq_core::Invitation> for Invitation {
    fn from(i: connreq_core::Invitation) -> Self {
        Self {
            request: Request::from(i.request),
            mutual_count: i.mutual_count,
            mutuals: i.mutuals.iter().map(|m| m.0).collect(),
        }
    }
}

#[pymethods]
impl Invitation {
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf, "Invitation", &["request", "mutual_count", "mutuals"])
    }
}

/// Someone a member may know.
#[pyclass(frozen, eq, hash, module = "connreq")]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Suggestion {
    /// Who.
    #[pyo3(get)]
    member: u64,
    /// How many connections they share with the member.
    #[pyo3(get)]
    mutual_count: u64,
    /// ``contact`` (among the member's imported contacts) or ``mutual_connections``.
    #[pyo3(get)]
    reason: &'static str,
}

impl From<connreq_core::Suggestion> for Suggestion {
    fn from(s: connreq_core::Suggestion) -> Self {
        Self { member: s.member.0, mutual_count: s.mutual_count, reason: s.reason.as_str() }
    }
}

#[pymethods]
impl Suggestion {
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf, "Suggestion", &["member", "mutual_count", "reason"])
    }
}

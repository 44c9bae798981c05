//! `Policy`: the rules a network runs by (SPEC §6), with keyword overrides.

use crate::convert::{Count, Delta, Text, to_timedelta};
use crate::errors::to_pyerr;
use connreq_core::{Policy, ReverseRequest};
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::time::Duration;

/// The rules a network runs by (SPEC §6).
///
/// ``Policy()`` is the standard policy; every field can be overridden by
/// keyword, e.g. ``Policy(weekly_invite_limit=50, pending_ttl=timedelta(days=30))``.
/// Durations are ``datetime.timedelta``; ``None`` turns an optional rule off.
/// Invalid values raise ``InvalidInput`` naming the field. Policies are
/// immutable and compare by value.
#[pyclass(frozen, eq, module = "connreq", name = "Policy")]
#[derive(Clone, Debug, PartialEq)]
pub struct PyPolicy(pub Policy);

fn opt_count(v: Option<Count>) -> Option<u32> {
    v.map(|c| c.0)
}

fn opt_delta(v: Option<Delta>) -> Option<Duration> {
    v.map(|d| d.0)
}

#[pymethods]
impl PyPolicy {
    /// A policy: the standard one, with the given fields overridden.
    #[new]
    #[pyo3(signature = (
        *,
        max_note_chars = Count(300),
        notify_on_withdraw = true,
        notify_on_decline = true,
        email_delay = Delta(Duration::from_secs(120)),
        date_context_after = Delta(Duration::from_secs(7 * 86_400)),
        reverse_request = Text("error".to_owned()),
        weekly_invite_limit = None,
        resend_cooldown = None,
        max_connections = Count(30_000),
        pending_ttl = None,
        review_withdrawals_same_person = Some(Count(3)),
        review_window = Delta(Duration::from_secs(90 * 86_400)),
        review_after_reports = Some(Count(3)),
        restrict_after_reports = Some(Count(5)),
        review_report_share = Policy::standard().review_report_share,
        review_resends_same_person = Policy::standard().review_resends_same_person.map(Count),
        review_resends_after_harassment = Policy::standard().review_resends_after_harassment.map(Count),
        low_acceptance_min_resolved = None,
        low_acceptance_max_rate = None,
        burst_per_hour = None,
        max_outstanding = None,
        digest_hour = 8,
        invitation_reminders = Vec::new(),
    ), text_signature = "(*, max_note_chars=300, notify_on_withdraw=True, notify_on_decline=True, \
        email_delay=..., date_context_after=..., reverse_request='error', weekly_invite_limit=None, \
        resend_cooldown=None, max_connections=30000, pending_ttl=None, review_withdrawals_same_person=3, \
        review_window=..., review_after_reports=3, restrict_after_reports=5, \
        review_report_share=0.06, review_resends_same_person=3, review_resends_after_harassment=1, \
        low_acceptance_min_resolved=None, low_acceptance_max_rate=None, burst_per_hour=None, \
        max_outstanding=None, digest_hour=8, invitation_reminders=())")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        max_note_chars: Count,
        notify_on_withdraw: bool,
        notify_on_decline: bool,
        email_delay: Delta,
        date_context_after: Delta,
        reverse_request: Text,
        weekly_invite_limit: Option<Count>,
        resend_cooldown: Option<Delta>,
        max_connections: Count,
        pending_ttl: Option<Delta>,
        review_withdrawals_same_person: Option<Count>,
        review_window: Delta,
        review_after_reports: Option<Count>,
        restrict_after_reports: Option<Count>,
        review_report_share: Option<f64>,
        review_resends_same_person: Option<Count>,
        review_resends_after_harassment: Option<Count>,
        low_acceptance_min_resolved: Option<Count>,
        low_acceptance_max_rate: Option<f64>,
        burst_per_hour: Option<Count>,
        max_outstanding: Option<Count>,
        digest_hour: i64,
        invitation_reminders: Vec<Delta>,
    ) -> PyResult<Self> {
        let digest_hour = u8::try_from(digest_hour).map_err(|_| {
            to_pyerr(connreq_core::Error::InvalidInput(
                "policy digest_hour must be an hour from 0 to 23".into(),
            ))
        })?;
        let policy = Policy {
            max_note_chars: max_note_chars.0,
            notify_on_withdraw,
            notify_on_decline,
            email_delay: email_delay.0,
            date_context_after: date_context_after.0,
            reverse_request: ReverseRequest::parse(reverse_request.as_str()).map_err(to_pyerr)?,
            weekly_invite_limit: opt_count(weekly_invite_limit),
            resend_cooldown: opt_delta(resend_cooldown),
            max_connections: max_connections.0,
            pending_ttl: opt_delta(pending_ttl),
            review_withdrawals_same_person: opt_count(review_withdrawals_same_person),
            review_window: review_window.0,
            review_after_reports: opt_count(review_after_reports),
            restrict_after_reports: opt_count(restrict_after_reports),
            review_report_share,
            review_resends_same_person: opt_count(review_resends_same_person),
            review_resends_after_harassment: opt_count(review_resends_after_harassment),
            low_acceptance_min_resolved: opt_count(low_acceptance_min_resolved),
            low_acceptance_max_rate,
            burst_per_hour: opt_count(burst_per_hour),
            max_outstanding: opt_count(max_outstanding),
            digest_hour,
            invitation_reminders: invitation_reminders.into_iter().map(|d| d.0).collect(),
        };
        policy.validate().map_err(to_pyerr)?;
        Ok(Self(policy))
    }

    /// The standard policy (the same as ``Policy()``): no private withdrawal, no rate limits.
    #[classmethod]
    fn standard(_cls: &Bound<'_, PyType>) -> Self {
        Self(Policy::standard())
    }

    /// What LinkedIn's help pages describe: silent withdrawals, 100 invitations a
    /// week, a 21-day cooldown and expiry after 183 days.
    #[classmethod]
    fn linkedin(_cls: &Bound<'_, PyType>) -> Self {
        Self(Policy::linkedin())
    }

    /// Longest note (and withdraw/decline message), in Unicode characters.
    #[getter]
    fn max_note_chars(&self) -> u32 {
        self.0.max_note_chars
    }

    /// Whether the recipient is told of a withdrawal.
    #[getter]
    fn notify_on_withdraw(&self) -> bool {
        self.0.notify_on_withdraw
    }

    /// Whether the sender is told of a decline.
    #[getter]
    fn notify_on_decline(&self) -> bool {
        self.0.notify_on_decline
    }

    /// An email is due this long after its notification.
    #[getter]
    fn email_delay<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_timedelta(py, self.0.email_delay)
    }

    /// Notifications about requests older than this name the date the request was sent.
    #[getter]
    fn date_context_after<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_timedelta(py, self.0.date_context_after)
    }

    /// ``"error"`` (raise ``ReversePending``) or ``"accept"`` (accept the request the other way).
    #[getter]
    fn reverse_request(&self) -> &'static str {
        self.0.reverse_request.as_str()
    }

    /// Most sends in any 7-day window; ``None`` for no limit.
    #[getter]
    fn weekly_invite_limit(&self) -> Option<u32> {
        self.0.weekly_invite_limit
    }

    /// Wait after a withdrawn or declined request before inviting the same member again.
    #[getter]
    fn resend_cooldown<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.resend_cooldown.map(|d| to_timedelta(py, d)).transpose()
    }

    /// Most connections per member.
    #[getter]
    fn max_connections(&self) -> u32 {
        self.0.max_connections
    }

    /// Open requests older than this expire; ``None`` for never.
    #[getter]
    fn pending_ttl<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.pending_ttl.map(|d| to_timedelta(py, d)).transpose()
    }

    /// Withdrawals to one member within the window that flag the sender; ``None`` switches the rule off.
    #[getter]
    fn review_withdrawals_same_person(&self) -> Option<u32> {
        self.0.review_withdrawals_same_person
    }

    /// The window of every moderation rule.
    #[getter]
    fn review_window<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_timedelta(py, self.0.review_window)
    }

    /// Distinct reporters within the window that put a member under review; ``None``: never.
    #[getter]
    fn review_after_reports(&self) -> Option<u32> {
        self.0.review_after_reports
    }

    /// Distinct reporters within the window that restrict a member automatically; ``None``: never.
    #[getter]
    fn restrict_after_reports(&self) -> Option<u32> {
        self.0.restrict_after_reports
    }

    /// The share (0 to 1) of the distinct members the reported member invited
    /// within the window that the reporters must also make up (a member who
    /// invited nobody counts as 100%); ``None``: the count alone decides.
    #[getter]
    fn review_report_share(&self) -> Option<f64> {
        self.0.review_report_share
    }

    /// Earlier requests to one member that ended declined, withdrawn or
    /// ignored within the window, after which one more send to them flags the
    /// sender ``repeated_resends``; ``None`` switches the rule off.
    #[getter]
    fn review_resends_same_person(&self) -> Option<u32> {
        self.0.review_resends_same_person
    }

    /// Earlier declined requests that, with a ``harassment`` report by that
    /// member and a send after them, flag the sender ``repeated_resends``;
    /// ``None`` switches this combination off.
    #[getter]
    fn review_resends_after_harassment(&self) -> Option<u32> {
        self.0.review_resends_after_harassment
    }

    /// Optional rule: how many of the sender's last resolved invitations to look at.
    #[getter]
    fn low_acceptance_min_resolved(&self) -> Option<u32> {
        self.0.low_acceptance_min_resolved
    }

    /// Optional rule: flag when the accepted share of those is below this fraction (0 to 1).
    #[getter]
    fn low_acceptance_max_rate(&self) -> Option<f64> {
        self.0.low_acceptance_max_rate
    }

    /// Optional rule: flag a member who sends more than this many invitations in an hour.
    #[getter]
    fn burst_per_hour(&self) -> Option<u32> {
        self.0.burst_per_hour
    }

    /// Most open invitations a sender may have; a send beyond raises ``OutstandingLimit``.
    #[getter]
    fn max_outstanding(&self) -> Option<u32> {
        self.0.max_outstanding
    }

    /// The hour of the day (UTC, 0 to 23) members who chose a daily digest get it.
    #[getter]
    fn digest_hour(&self) -> u8 {
        self.0.digest_hour
    }

    /// When a recipient is reminded of an invitation still pending: durations
    /// after it was sent, shortest first.
    #[getter]
    fn invitation_reminders<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.0.invitation_reminders.iter().map(|d| to_timedelta(py, *d)).collect()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        crate::records::repr_of(slf, "Policy", FIELDS)
    }
}

/// The field names, in SPEC order (also the keywords of ``Policy()``).
pub const FIELDS: &[&str] = &[
    "max_note_chars",
    "notify_on_withdraw",
    "notify_on_decline",
    "email_delay",
    "date_context_after",
    "reverse_request",
    "weekly_invite_limit",
    "resend_cooldown",
    "max_connections",
    "pending_ttl",
    "review_withdrawals_same_person",
    "review_window",
    "review_after_reports",
    "restrict_after_reports",
    "review_report_share",
    "review_resends_same_person",
    "review_resends_after_harassment",
    "low_acceptance_min_resolved",
    "low_acceptance_max_rate",
    "burst_per_hour",
    "max_outstanding",
    "digest_hour",
    "invitation_reminders",
];

//! The events of formats 1 and 2, exactly as they were encoded, for reading
//! an older database once to upgrade it (`upgrade`). Formats 1 and 2 shared
//! the event encoding; format 1 had no tail.
//!
//! Those events did not say who was told of what: notifications and emails
//! were derived from the policy while applying them. Their shape here is
//! frozen, field for field; nothing else may use them.

use connreq_core::{
    Decision, EmailAddress, EmailId, FlagId, FlagRule, InvitationSetting, MemberId, NotificationId, Policy,
    ReportReason, RequestId, ReverseRequest, Seq, Standing, Timestamp,
};
use serde::Deserialize;
use std::time::Duration;

/// One event of formats 1 and 2.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Event {
    pub(crate) seq: Seq,
    pub(crate) at: Timestamp,
    pub(crate) body: Body,
}

/// The bodies of formats 1 and 2, in their order (the encoding names a variant by its position).
#[derive(Clone, Debug, Deserialize)]
pub(crate) enum Body {
    MemberRegistered {
        member: MemberId,
        email: Option<EmailAddress>,
        name: Option<String>,
    },
    InvitationSettingChanged {
        member: MemberId,
        setting: InvitationSetting,
    },
    ContactsImported {
        member: MemberId,
        emails: Vec<EmailAddress>,
    },
    InvitationSent {
        request: RequestId,
        sender: MemberId,
        recipient: MemberId,
        note: Option<String>,
    },
    InvitationAccepted {
        request: RequestId,
    },
    InvitationIgnored {
        request: RequestId,
    },
    InvitationDeclined {
        request: RequestId,
        message: Option<String>,
    },
    InvitationWithdrawn {
        request: RequestId,
        message: Option<String>,
    },
    InvitationExpired {
        request: RequestId,
    },
    InvitationCancelled {
        request: RequestId,
        blocker: MemberId,
    },
    ConnectionRemoved {
        member: MemberId,
        other: MemberId,
    },
    MemberBlocked {
        blocker: MemberId,
        blocked: MemberId,
    },
    MemberUnblocked {
        blocker: MemberId,
        blocked: MemberId,
    },
    MemberReported {
        reporter: MemberId,
        reported: MemberId,
        reason: ReportReason,
        request: Option<RequestId>,
    },
    AccountFlagged {
        flag: FlagId,
        member: MemberId,
        rule: FlagRule,
        evidence: Vec<Seq>,
    },
    FlagEvidenceAdded {
        flag: FlagId,
        member: MemberId,
        evidence: Vec<Seq>,
    },
    FlagResolved {
        flag: FlagId,
        member: MemberId,
        decision: Decision,
    },
    StandingChanged {
        member: MemberId,
        from: Standing,
        to: Standing,
        automatic: bool,
    },
    NotificationsRead {
        member: MemberId,
        ids: Vec<NotificationId>,
    },
    EmailSent {
        email: EmailId,
        member: MemberId,
    },
    PolicyChanged {
        policy: Box<PolicyV2>,
    },
}

/// The policy as formats 1 and 2 encoded it inside an event: its fields in order.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PolicyV2 {
    max_note_chars: u32,
    notify_on_withdraw: bool,
    notify_on_decline: bool,
    email_delay: Duration,
    date_context_after: Duration,
    reverse_request: ReverseRequest,
    weekly_invite_limit: Option<u32>,
    resend_cooldown: Option<Duration>,
    max_connections: u32,
    pending_ttl: Option<Duration>,
    review_withdrawals_same_person: u32,
    review_window: Duration,
    review_after_reports: u32,
    restrict_after_reports: u32,
    low_acceptance_min_resolved: Option<u32>,
    low_acceptance_max_rate: Option<f64>,
    burst_per_hour: Option<u32>,
}

/// A policy of formats 1 and 2 had none of SPEC §15's fields: they take their
/// defaults, as a policy stored as JSON before them does.
impl From<PolicyV2> for Policy {
    fn from(p: PolicyV2) -> Self {
        let later = Policy::standard();
        Policy {
            max_note_chars: p.max_note_chars,
            notify_on_withdraw: p.notify_on_withdraw,
            notify_on_decline: p.notify_on_decline,
            email_delay: p.email_delay,
            date_context_after: p.date_context_after,
            reverse_request: p.reverse_request,
            weekly_invite_limit: p.weekly_invite_limit,
            resend_cooldown: p.resend_cooldown,
            max_connections: p.max_connections,
            pending_ttl: p.pending_ttl,
            review_withdrawals_same_person: Some(p.review_withdrawals_same_person),
            review_window: p.review_window,
            review_after_reports: Some(p.review_after_reports),
            restrict_after_reports: Some(p.restrict_after_reports),
            review_report_share: later.review_report_share,
            review_resends_same_person: later.review_resends_same_person,
            review_resends_after_harassment: later.review_resends_after_harassment,
            low_acceptance_min_resolved: p.low_acceptance_min_resolved,
            low_acceptance_max_rate: p.low_acceptance_max_rate,
            burst_per_hour: p.burst_per_hour,
            ..Policy::standard()
        }
    }
}

/// Decodes a record of formats 1 and 2 (its events, numbered from its key).
pub(crate) fn decode(key: &[u8], value: &[u8]) -> Result<Vec<Event>, connreq_core::Error> {
    let first = crate::codec::seq_of(key)?;
    let events: Vec<Event> = postcard::from_bytes(value).map_err(|e| {
        connreq_core::Error::StorageError(format!("damaged event record at {first} (format 2): {e}"))
    })?;
    crate::codec::check_numbering(first, events.iter().map(|e| e.seq))?;
    Ok(events)
}

//! The events of format 3, exactly as they were encoded, for reading a
//! database of format 3 once to upgrade it (`upgrade`). Format 4 changed how a
//! notice says how its email goes (an email of its own, a place in a digest, or
//! none), and added a member's locale and an invitation's reminders; every
//! other event is the same. Their shape here is frozen, field for field;
//! nothing else may use them.

use connreq_core::{
    Decision, EmailAddress, EmailId, EmailPlan, EventBody, FlagId, FlagRule, InvitationSetting, MemberId,
    Notice, NotificationId, OutcomeWindow, Party, Policy, ReportReason, RequestId, RequestState, Seq,
    Standing, StandingCause, Timestamp,
};

use serde::Deserialize;

/// One event of format 3.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Event {
    pub(crate) seq: Seq,
    pub(crate) at: Timestamp,
    pub(crate) body: Body,
}

/// How format 3 said an email carried a notification: due this many
/// milliseconds after it, or none.
#[derive(Clone, Copy, Debug, Deserialize)]
pub(crate) struct Notice3 {
    email_after_ms: Option<u64>,
}

impl From<Notice3> for Notice {
    fn from(n: Notice3) -> Self {
        Notice { email: n.email_after_ms.map_or(EmailPlan::None, EmailPlan::After) }
    }
}

/// The bodies of format 3, in their order (the encoding names a variant by its position).
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
        notice: Notice3,
    },
    InvitationAccepted {
        request: RequestId,
        notice: Notice3,
        window: Option<OutcomeWindow>,
    },
    InvitationIgnored {
        request: RequestId,
        window: Option<OutcomeWindow>,
    },
    InvitationDeclined {
        request: RequestId,
        message: Option<String>,
        notice: Option<Notice3>,
        window: Option<OutcomeWindow>,
    },
    InvitationWithdrawn {
        request: RequestId,
        message: Option<String>,
        notice: Option<Notice3>,
    },
    InvitationExpired {
        request: RequestId,
        notice: Notice3,
        window: Option<OutcomeWindow>,
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
        moderator: Option<MemberId>,
        note: Option<String>,
    },
    StandingChanged {
        member: MemberId,
        from: Standing,
        to: Standing,
        cause: StandingCause,
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
        #[serde(with = "connreq_core::policy::as_json")]
        policy: Box<Policy>,
    },
    ViewChanged {
        request: RequestId,
        party: Party,
        state: RequestState,
        message: Option<String>,
        notice: Option<Notice3>,
    },
    InvitationRestored {
        request: RequestId,
        state: RequestState,
    },
    ViewRestored {
        request: RequestId,
        party: Party,
    },
    ViewExpiredBehindBlock {
        request: RequestId,
        party: Party,
    },
    WrongAddressGiven {
        sender: MemberId,
        recipient: MemberId,
    },
}

impl From<Body> for EventBody {
    fn from(body: Body) -> Self {
        match body {
            Body::MemberRegistered { member, email, name } => {
                EventBody::MemberRegistered { member, email, name, locale: None }
            }
            Body::InvitationSettingChanged { member, setting } => {
                EventBody::InvitationSettingChanged { member, setting }
            }
            Body::ContactsImported { member, emails } => EventBody::ContactsImported { member, emails },
            Body::InvitationSent { request, sender, recipient, note, notice } => EventBody::InvitationSent {
                request,
                sender,
                recipient,
                note,
                notice: notice.into(),
                reminders: Vec::new(),
            },
            Body::InvitationAccepted { request, notice, window } => {
                EventBody::InvitationAccepted { request, notice: notice.into(), window }
            }
            Body::InvitationIgnored { request, window } => EventBody::InvitationIgnored { request, window },
            Body::InvitationDeclined { request, message, notice, window } => {
                EventBody::InvitationDeclined { request, message, notice: notice.map(Notice::from), window }
            }
            Body::InvitationWithdrawn { request, message, notice } => {
                EventBody::InvitationWithdrawn { request, message, notice: notice.map(Notice::from) }
            }
            Body::InvitationExpired { request, notice, window } => {
                EventBody::InvitationExpired { request, notice: notice.into(), window }
            }
            Body::InvitationCancelled { request, blocker } => {
                EventBody::InvitationCancelled { request, blocker }
            }
            Body::ConnectionRemoved { member, other } => EventBody::ConnectionRemoved { member, other },
            Body::MemberBlocked { blocker, blocked } => EventBody::MemberBlocked { blocker, blocked },
            Body::MemberUnblocked { blocker, blocked } => EventBody::MemberUnblocked { blocker, blocked },
            Body::MemberReported { reporter, reported, reason, request } => {
                EventBody::MemberReported { reporter, reported, reason, request }
            }
            Body::AccountFlagged { flag, member, rule, evidence } => {
                EventBody::AccountFlagged { flag, member, rule, evidence }
            }
            Body::FlagEvidenceAdded { flag, member, evidence } => {
                EventBody::FlagEvidenceAdded { flag, member, evidence }
            }
            Body::FlagResolved { flag, member, decision, moderator, note } => {
                EventBody::FlagResolved { flag, member, decision, moderator, note }
            }
            Body::StandingChanged { member, from, to, cause } => {
                EventBody::StandingChanged { member, from, to, cause }
            }
            Body::NotificationsRead { member, ids } => EventBody::NotificationsRead { member, ids },
            Body::EmailSent { email, member } => EventBody::EmailSent { email, member },
            Body::PolicyChanged { policy } => EventBody::PolicyChanged { policy },
            Body::ViewChanged { request, party, state, message, notice } => {
                EventBody::ViewChanged { request, party, state, message, notice: notice.map(Notice::from) }
            }
            Body::InvitationRestored { request, state } => EventBody::InvitationRestored { request, state },
            Body::ViewRestored { request, party } => EventBody::ViewRestored { request, party },
            Body::ViewExpiredBehindBlock { request, party } => {
                EventBody::ViewExpiredBehindBlock { request, party }
            }
            Body::WrongAddressGiven { sender, recipient } => {
                EventBody::WrongAddressGiven { sender, recipient }
            }
        }
    }
}

/// Decodes a record of format 3 (its events, numbered from its key) into today's events.
pub(crate) fn decode(key: &[u8], value: &[u8]) -> Result<Vec<connreq_core::Event>, connreq_core::Error> {
    let first = crate::codec::seq_of(key)?;
    let events: Vec<Event> = postcard::from_bytes(value).map_err(|e| {
        connreq_core::Error::StorageError(format!("damaged event record at {first} (format 3): {e}"))
    })?;
    crate::codec::check_numbering(first, events.iter().map(|e| e.seq))?;
    Ok(events
        .into_iter()
        .map(|e| connreq_core::Event { seq: e.seq, at: e.at, body: e.body.into() })
        .collect())
}

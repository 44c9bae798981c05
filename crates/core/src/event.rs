//! Events: the facts of the append-only log (SPEC §5). Every state change is
//! one; the whole state can be rebuilt from them.

use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId, Seq};
use crate::kinds::{Decision, FlagRule, InvitationSetting, ReportReason, Standing};
use crate::policy::Policy;
use crate::text::EmailAddress;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One fact in the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log: gapless, from 1.
    pub seq: Seq,
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    pub body: EventBody,
}

/// What happened, with everything needed to replay it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EventBody {
    /// A member joined.
    MemberRegistered {
        /// The new member.
        member: MemberId,
        /// Their address for emails.
        email: Option<EmailAddress>,
        /// Their display name.
        name: Option<String>,
    },
    /// A member changed who may invite them.
    InvitationSettingChanged {
        /// The member.
        member: MemberId,
        /// The new setting.
        setting: InvitationSetting,
    },
    /// A member imported contacts.
    ContactsImported {
        /// The member.
        member: MemberId,
        /// The addresses added.
        emails: Vec<EmailAddress>,
    },
    /// A request was sent.
    InvitationSent {
        /// The new request.
        request: RequestId,
        /// Who sent it.
        sender: MemberId,
        /// Who received it.
        recipient: MemberId,
        /// The optional note.
        note: Option<String>,
    },
    /// The recipient accepted; a connection formed.
    InvitationAccepted {
        /// The request.
        request: RequestId,
    },
    /// The recipient archived the request.
    InvitationIgnored {
        /// The request.
        request: RequestId,
    },
    /// The recipient declined.
    InvitationDeclined {
        /// The request.
        request: RequestId,
        /// The optional message to the sender.
        message: Option<String>,
    },
    /// The sender withdrew.
    InvitationWithdrawn {
        /// The request.
        request: RequestId,
        /// The optional message to the recipient.
        message: Option<String>,
    },
    /// The request was open longer than `pending_ttl`.
    InvitationExpired {
        /// The request.
        request: RequestId,
    },
    /// A block ended the request.
    InvitationCancelled {
        /// The request.
        request: RequestId,
        /// Who blocked.
        blocker: MemberId,
    },
    /// A connection ended.
    ConnectionRemoved {
        /// Who ended it.
        member: MemberId,
        /// The other member.
        other: MemberId,
    },
    /// A member blocked another.
    MemberBlocked {
        /// Who blocked.
        blocker: MemberId,
        /// Who is blocked.
        blocked: MemberId,
    },
    /// A member lifted a block.
    MemberUnblocked {
        /// Who had blocked.
        blocker: MemberId,
        /// Who was blocked.
        blocked: MemberId,
    },
    /// A member reported another.
    MemberReported {
        /// Who reported.
        reporter: MemberId,
        /// Who is reported.
        reported: MemberId,
        /// Why.
        reason: ReportReason,
        /// The request the report is about.
        request: Option<RequestId>,
    },
    /// A moderation rule opened a flag.
    AccountFlagged {
        /// The new flag.
        flag: FlagId,
        /// The member flagged.
        member: MemberId,
        /// The rule.
        rule: FlagRule,
        /// The events behind it.
        evidence: Vec<Seq>,
    },
    /// More evidence for an open flag.
    FlagEvidenceAdded {
        /// The flag.
        flag: FlagId,
        /// The member flagged.
        member: MemberId,
        /// The new events behind it.
        evidence: Vec<Seq>,
    },
    /// A moderator decided a flag.
    FlagResolved {
        /// The flag.
        flag: FlagId,
        /// The member flagged.
        member: MemberId,
        /// The decision.
        decision: Decision,
    },
    /// A member's standing changed.
    StandingChanged {
        /// The member.
        member: MemberId,
        /// Before.
        from: Standing,
        /// After.
        to: Standing,
        /// The moderation rule that restricted the member automatically, if any.
        automatic: bool,
    },
    /// A member read notifications.
    NotificationsRead {
        /// The member.
        member: MemberId,
        /// The notifications now read.
        ids: Vec<NotificationId>,
    },
    /// An email was handed to the mail server.
    EmailSent {
        /// The email.
        email: EmailId,
        /// Its recipient.
        member: MemberId,
    },
    /// The database was opened with a different policy; it applies from here on.
    PolicyChanged {
        /// The new policy.
        policy: Box<Policy>,
    },
}

impl EventBody {
    /// The SPEC kind, lowercase.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::MemberRegistered { .. } => "member_registered",
            EventBody::InvitationSettingChanged { .. } => "invitation_setting_changed",
            EventBody::ContactsImported { .. } => "contacts_imported",
            EventBody::InvitationSent { .. } => "invitation_sent",
            EventBody::InvitationAccepted { .. } => "invitation_accepted",
            EventBody::InvitationIgnored { .. } => "invitation_ignored",
            EventBody::InvitationDeclined { .. } => "invitation_declined",
            EventBody::InvitationWithdrawn { .. } => "invitation_withdrawn",
            EventBody::InvitationExpired { .. } => "invitation_expired",
            EventBody::InvitationCancelled { .. } => "invitation_cancelled",
            EventBody::ConnectionRemoved { .. } => "connection_removed",
            EventBody::MemberBlocked { .. } => "member_blocked",
            EventBody::MemberUnblocked { .. } => "member_unblocked",
            EventBody::MemberReported { .. } => "member_reported",
            EventBody::AccountFlagged { .. } => "account_flagged",
            EventBody::FlagEvidenceAdded { .. } => "flag_evidence_added",
            EventBody::FlagResolved { .. } => "flag_resolved",
            EventBody::StandingChanged { .. } => "standing_changed",
            EventBody::NotificationsRead { .. } => "notifications_read",
            EventBody::EmailSent { .. } => "email_sent",
            EventBody::PolicyChanged { .. } => "policy_changed",
        }
    }
}

/// The public shape of an event (SPEC §5): who acted, on whom, on which request,
/// and a JSON object with the rest. Request-level fields are filled in from the
/// model, since request events carry only the request id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// Position in the log.
    pub seq: Seq,
    /// When it happened.
    pub at: Timestamp,
    /// The kind, lowercase.
    pub kind: &'static str,
    /// The member who acted, if one did.
    pub actor: Option<MemberId>,
    /// The member acted upon, if any.
    pub subject: Option<MemberId>,
    /// The request concerned, if any.
    pub request_id: Option<RequestId>,
    /// A JSON object, as text, with what the other fields do not hold.
    pub detail: String,
}

/// Writes a JSON object field by field into a byte buffer: exporting millions
/// of events writes one of these per event, with no map or value in between.
struct Detail<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl Detail<'_> {
    fn put<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.out.push(if self.empty { b'{' } else { b',' });
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        // Writing into a Vec cannot fail, and these types always serialize.
        let _ = serde_json::to_writer(&mut *self.out, value);
    }

    fn finish(self) {
        if self.empty {
            self.out.push(b'{');
        }
        self.out.push(b'}');
    }
}

/// The public fields of an event besides its number and time: (kind, actor, subject, request).
pub type Described = (&'static str, Option<MemberId>, Option<MemberId>, Option<RequestId>);

impl Event {
    /// The SPEC §5 record of this event. `parties` gives a request's
    /// (sender, recipient).
    pub fn record(&self, parties: impl Fn(RequestId) -> (MemberId, MemberId)) -> EventRecord {
        let mut detail = Vec::with_capacity(32);
        let (kind, actor, subject, request_id) = self.describe(parties, &mut detail);
        EventRecord {
            seq: self.seq,
            at: self.at,
            kind,
            actor,
            subject,
            request_id,
            detail: String::from_utf8(detail).unwrap_or_default(),
        }
    }

    /// Writes the `detail` JSON object into `out` and returns the other fields:
    /// the allocation-free core of [`Event::record`], for bulk export.
    pub fn describe(
        &self,
        parties: impl Fn(RequestId) -> (MemberId, MemberId),
        out: &mut Vec<u8>,
    ) -> Described {
        let mut d = Detail { out, empty: true };
        use EventBody as B;
        let (actor, subject, request_id) = match &self.body {
            B::MemberRegistered { member, email, name } => {
                if let Some(n) = name {
                    d.put("name", n);
                }
                d.put("has_email", &email.is_some());
                (Some(*member), None, None)
            }
            B::InvitationSettingChanged { member, setting } => {
                d.put("setting", setting.as_str());
                (Some(*member), None, None)
            }
            B::ContactsImported { member, emails } => {
                d.put("count", &emails.len());
                (Some(*member), None, None)
            }
            B::InvitationSent { request, sender, recipient, note } => {
                if let Some(n) = note {
                    d.put("note", n);
                }
                (Some(*sender), Some(*recipient), Some(*request))
            }
            B::InvitationAccepted { request }
            | B::InvitationIgnored { request }
            | B::InvitationExpired { request } => {
                let (s, r) = parties(*request);
                if matches!(self.body, B::InvitationExpired { .. }) {
                    (None, Some(s), Some(*request))
                } else {
                    (Some(r), Some(s), Some(*request))
                }
            }
            B::InvitationDeclined { request, message } => {
                if let Some(m) = message {
                    d.put("message", m);
                }
                let (s, r) = parties(*request);
                (Some(r), Some(s), Some(*request))
            }
            B::InvitationWithdrawn { request, message } => {
                if let Some(m) = message {
                    d.put("message", m);
                }
                let (s, r) = parties(*request);
                (Some(s), Some(r), Some(*request))
            }
            B::InvitationCancelled { request, blocker } => {
                let (s, r) = parties(*request);
                let other = if *blocker == s { r } else { s };
                (Some(*blocker), Some(other), Some(*request))
            }
            B::ConnectionRemoved { member, other } => (Some(*member), Some(*other), None),
            B::MemberBlocked { blocker, blocked } | B::MemberUnblocked { blocker, blocked } => {
                (Some(*blocker), Some(*blocked), None)
            }
            B::MemberReported { reporter, reported, reason, request } => {
                d.put("reason", reason.as_str());
                (Some(*reporter), Some(*reported), *request)
            }
            B::AccountFlagged { flag, member, rule, evidence } => {
                d.put("flag", &flag.0);
                d.put("rule", rule.as_str());
                d.put("evidence", &evidence[..]);
                (None, Some(*member), None)
            }
            B::FlagEvidenceAdded { flag, member, evidence } => {
                d.put("flag", &flag.0);
                d.put("evidence", &evidence[..]);
                (None, Some(*member), None)
            }
            B::FlagResolved { flag, member, decision } => {
                d.put("flag", &flag.0);
                d.put("decision", decision.as_str());
                (None, Some(*member), None)
            }
            B::StandingChanged { member, from, to, automatic } => {
                d.put("from", from.as_str());
                d.put("to", to.as_str());
                d.put("automatic", automatic);
                (None, Some(*member), None)
            }
            B::NotificationsRead { member, ids } => {
                d.put("notifications", &ids[..]);
                (Some(*member), None, None)
            }
            B::EmailSent { email, member } => {
                d.put("email", &email.0);
                (None, Some(*member), None)
            }
            B::PolicyChanged { policy } => {
                d.put("policy", &**policy);
                (None, None, None)
            }
        };
        d.finish();
        (self.body.kind(), actor, subject, request_id)
    }
}

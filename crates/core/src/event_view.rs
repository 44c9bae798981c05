//! The public shape of events (SPEC §5): who acted, on whom, on which
//! request, and a `detail` JSON object with the rest; and `EventView`, an
//! event borrowed from its stored bytes, so bulk export reads the log
//! without allocating per event.

#[cfg(test)]
use crate::event::EmailPlan;
use crate::event::{Event, EventBody, Notice, OutcomeWindow, StandingCause};
use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId, Seq};
use crate::kinds::{
    Decision, EmailFrequency, FlagRule, InvitationSetting, Locale, PreferenceKind, ReportReason,
    RequestState, SkipReason, Standing,
};
use crate::records::Party;
use crate::text::EmailAddress;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

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

    /// Writes `json`, already JSON text, as the value of `key`.
    fn put_json(&mut self, key: &str, json: &str) {
        self.out.push(if self.empty { b'{' } else { b',' });
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out.extend_from_slice(json.as_bytes());
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

/// An event borrowed rather than owned: strings point into the bytes it was
/// decoded from (or into an [`Event`]), and lists the export does not print are
/// only counted. Its serde layout is [`Event`]'s, so a stored record decodes
/// into `Vec<EventView>` without allocating per event: bulk export reads the
/// log this way.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct EventView<'a> {
    /// Position in the log.
    pub seq: Seq,
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    #[serde(borrow)]
    pub body: BodyView<'a>,
}

/// How many strings a list holds; decodes the list without keeping it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count(pub usize);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Counter;
        impl<'de> serde::de::Visitor<'de> for Counter {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence of strings")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                // Borrowed: postcard cannot skip a value it does not know the type of.
                while seq.next_element::<&'de str>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }
        d.deserialize_seq(Counter)
    }
}

/// [`EventBody`] borrowed: the same variants and fields in the same order (the
/// stored encoding depends on it), strings as `&str`.
#[allow(missing_docs)] // the fields are those of `EventBody`
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub enum BodyView<'a> {
    MemberRegistered {
        member: MemberId,
        email: Option<&'a str>,
        name: Option<&'a str>,
        locale: Option<Locale>,
    },
    InvitationSettingChanged {
        member: MemberId,
        setting: InvitationSetting,
    },
    ContactsImported {
        member: MemberId,
        emails: Count,
    },
    InvitationSent {
        request: RequestId,
        sender: MemberId,
        recipient: MemberId,
        note: Option<&'a str>,
        notice: Notice,
        reminders: Cow<'a, [Timestamp]>,
    },
    InvitationAccepted {
        request: RequestId,
        notice: Notice,
        window: Option<OutcomeWindow>,
    },
    InvitationIgnored {
        request: RequestId,
        window: Option<OutcomeWindow>,
    },
    InvitationDeclined {
        request: RequestId,
        message: Option<&'a str>,
        notice: Option<Notice>,
        window: Option<OutcomeWindow>,
    },
    InvitationWithdrawn {
        request: RequestId,
        message: Option<&'a str>,
        notice: Option<Notice>,
    },
    InvitationExpired {
        request: RequestId,
        notice: Notice,
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
        evidence: Cow<'a, [Seq]>,
    },
    FlagEvidenceAdded {
        flag: FlagId,
        member: MemberId,
        evidence: Cow<'a, [Seq]>,
    },
    FlagResolved {
        flag: FlagId,
        member: MemberId,
        decision: Decision,
        moderator: Option<MemberId>,
        note: Option<&'a str>,
    },
    StandingChanged {
        member: MemberId,
        from: Standing,
        to: Standing,
        cause: StandingCause,
    },
    NotificationsRead {
        member: MemberId,
        ids: Cow<'a, [NotificationId]>,
    },
    EmailSent {
        email: EmailId,
        member: MemberId,
    },
    PolicyChanged {
        /// The policy's JSON text, as stored.
        #[serde(borrow)]
        policy: Cow<'a, str>,
    },
    ViewChanged {
        request: RequestId,
        party: Party,
        state: RequestState,
        message: Option<&'a str>,
        notice: Option<Notice>,
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
    EmailPreferenceChanged {
        member: MemberId,
        kind: PreferenceKind,
        enabled: bool,
    },
    EmailFrequencyChanged {
        member: MemberId,
        frequency: EmailFrequency,
    },
    LocaleChanged {
        member: MemberId,
        locale: Locale,
    },
    EmailsSkipped {
        emails: Cow<'a, [EmailId]>,
        reason: SkipReason,
    },
    MemberUpdated {
        member: MemberId,
        email: Option<Option<&'a str>>,
        name: Option<Option<&'a str>>,
    },
    MemberErased {
        member: MemberId,
        scrub_contacts: bool,
    },
    RestrictionLifted {
        member: MemberId,
        moderator: Option<MemberId>,
        note: Option<&'a str>,
    },
}

impl Event {
    /// The SPEC §5 record of this event. `parties` gives a request's
    /// (sender, recipient); a request it does not know leaves actor and subject empty.
    pub fn record(&self, parties: impl Fn(RequestId) -> Option<(MemberId, MemberId)>) -> EventRecord {
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
        parties: impl Fn(RequestId) -> Option<(MemberId, MemberId)>,
        out: &mut Vec<u8>,
    ) -> Described {
        self.view().describe(parties, out)
    }

    /// This event, borrowed.
    pub fn view(&self) -> EventView<'_> {
        EventView { seq: self.seq, at: self.at, body: self.body.view() }
    }
}

impl EventBody {
    /// The SPEC kind, lowercase.
    pub fn kind(&self) -> &'static str {
        self.view().kind()
    }

    /// This body, borrowed.
    pub fn view(&self) -> BodyView<'_> {
        use BodyView as V;
        use EventBody as B;
        match self {
            B::MemberRegistered { member, email, name, locale } => V::MemberRegistered {
                member: *member,
                email: email.as_ref().map(EmailAddress::as_str),
                name: name.as_deref(),
                locale: *locale,
            },
            B::InvitationSettingChanged { member, setting } => {
                V::InvitationSettingChanged { member: *member, setting: *setting }
            }
            B::ContactsImported { member, emails } => {
                V::ContactsImported { member: *member, emails: Count(emails.len()) }
            }
            B::InvitationSent { request, sender, recipient, note, notice, reminders } => V::InvitationSent {
                request: *request,
                sender: *sender,
                recipient: *recipient,
                note: note.as_deref(),
                notice: *notice,
                reminders: Cow::Borrowed(reminders),
            },
            B::InvitationAccepted { request, notice, window } => {
                V::InvitationAccepted { request: *request, notice: *notice, window: *window }
            }
            B::InvitationIgnored { request, window } => {
                V::InvitationIgnored { request: *request, window: *window }
            }
            B::InvitationDeclined { request, message, notice, window } => V::InvitationDeclined {
                request: *request,
                message: message.as_deref(),
                notice: *notice,
                window: *window,
            },
            B::InvitationWithdrawn { request, message, notice } => {
                V::InvitationWithdrawn { request: *request, message: message.as_deref(), notice: *notice }
            }
            B::InvitationExpired { request, notice, window } => {
                V::InvitationExpired { request: *request, notice: *notice, window: *window }
            }
            B::InvitationCancelled { request, blocker } => {
                V::InvitationCancelled { request: *request, blocker: *blocker }
            }
            B::ConnectionRemoved { member, other } => V::ConnectionRemoved { member: *member, other: *other },
            B::MemberBlocked { blocker, blocked } => {
                V::MemberBlocked { blocker: *blocker, blocked: *blocked }
            }
            B::MemberUnblocked { blocker, blocked } => {
                V::MemberUnblocked { blocker: *blocker, blocked: *blocked }
            }
            B::MemberReported { reporter, reported, reason, request } => V::MemberReported {
                reporter: *reporter,
                reported: *reported,
                reason: *reason,
                request: *request,
            },
            B::AccountFlagged { flag, member, rule, evidence } => V::AccountFlagged {
                flag: *flag,
                member: *member,
                rule: *rule,
                evidence: Cow::Borrowed(evidence),
            },
            B::FlagEvidenceAdded { flag, member, evidence } => {
                V::FlagEvidenceAdded { flag: *flag, member: *member, evidence: Cow::Borrowed(evidence) }
            }
            B::FlagResolved { flag, member, decision, moderator, note } => V::FlagResolved {
                flag: *flag,
                member: *member,
                decision: *decision,
                moderator: *moderator,
                note: note.as_deref(),
            },
            B::StandingChanged { member, from, to, cause } => {
                V::StandingChanged { member: *member, from: *from, to: *to, cause: *cause }
            }
            B::NotificationsRead { member, ids } => {
                V::NotificationsRead { member: *member, ids: Cow::Borrowed(ids) }
            }
            B::EmailSent { email, member } => V::EmailSent { email: *email, member: *member },
            B::PolicyChanged { policy } => {
                V::PolicyChanged { policy: Cow::Owned(serde_json::to_string(policy).unwrap_or_default()) }
            }
            B::ViewChanged { request, party, state, message, notice } => V::ViewChanged {
                request: *request,
                party: *party,
                state: *state,
                message: message.as_deref(),
                notice: *notice,
            },
            B::InvitationRestored { request, state } => {
                V::InvitationRestored { request: *request, state: *state }
            }
            B::ViewRestored { request, party } => V::ViewRestored { request: *request, party: *party },
            B::ViewExpiredBehindBlock { request, party } => {
                V::ViewExpiredBehindBlock { request: *request, party: *party }
            }
            B::WrongAddressGiven { sender, recipient } => {
                V::WrongAddressGiven { sender: *sender, recipient: *recipient }
            }
            B::EmailPreferenceChanged { member, kind, enabled } => {
                V::EmailPreferenceChanged { member: *member, kind: *kind, enabled: *enabled }
            }
            B::EmailFrequencyChanged { member, frequency } => {
                V::EmailFrequencyChanged { member: *member, frequency: *frequency }
            }
            B::LocaleChanged { member, locale } => V::LocaleChanged { member: *member, locale: *locale },
            B::EmailsSkipped { emails, reason } => {
                V::EmailsSkipped { emails: Cow::Borrowed(emails), reason: *reason }
            }
            B::MemberUpdated { member, email, name } => V::MemberUpdated {
                member: *member,
                email: email.as_ref().map(|e| e.as_ref().map(EmailAddress::as_str)),
                name: name.as_ref().map(|n| n.as_deref()),
            },
            B::MemberErased { member, scrub_contacts } => {
                V::MemberErased { member: *member, scrub_contacts: *scrub_contacts }
            }
            B::RestrictionLifted { member, moderator, note } => {
                V::RestrictionLifted { member: *member, moderator: *moderator, note: note.as_deref() }
            }
        }
    }
}

impl EventView<'_> {
    /// Writes the `detail` JSON object into `out` and returns the other fields
    /// (see [`Event::record`]). `parties` gives a request's (sender, recipient), if known.
    pub fn describe(
        &self,
        parties: impl Fn(RequestId) -> Option<(MemberId, MemberId)>,
        out: &mut Vec<u8>,
    ) -> Described {
        let mut d = Detail { out, empty: true };
        use BodyView as B;
        let (actor, subject, request_id) = match &self.body {
            B::MemberRegistered { member, email, name, locale } => {
                if let Some(n) = name {
                    d.put("name", n);
                }
                d.put("has_email", &email.is_some());
                if let Some(l) = locale {
                    d.put("locale", l.as_str());
                }
                (Some(*member), None, None)
            }
            B::InvitationSettingChanged { member, setting } => {
                d.put("setting", setting.as_str());
                (Some(*member), None, None)
            }
            B::ContactsImported { member, emails } => {
                d.put("count", &emails.0);
                (Some(*member), None, None)
            }
            B::InvitationSent { request, sender, recipient, note, reminders, .. } => {
                if let Some(n) = note {
                    d.put("note", n);
                }
                if !reminders.is_empty() {
                    d.put("reminders", &reminders.len());
                }
                (Some(*sender), Some(*recipient), Some(*request))
            }
            B::InvitationAccepted { request, .. } | B::InvitationIgnored { request, .. } => {
                let p = parties(*request);
                (p.map(|p| p.1), p.map(|p| p.0), Some(*request))
            }
            B::InvitationExpired { request, .. } => {
                let p = parties(*request);
                (None, p.map(|p| p.0), Some(*request))
            }
            B::InvitationDeclined { request, message, .. } => {
                if let Some(m) = message {
                    d.put("message", m);
                }
                let p = parties(*request);
                (p.map(|p| p.1), p.map(|p| p.0), Some(*request))
            }
            B::InvitationWithdrawn { request, message, .. } => {
                if let Some(m) = message {
                    d.put("message", m);
                }
                let p = parties(*request);
                (p.map(|p| p.0), p.map(|p| p.1), Some(*request))
            }
            B::InvitationCancelled { request, blocker } => {
                let other = parties(*request).map(|(s, r)| if *blocker == s { r } else { s });
                (Some(*blocker), other, Some(*request))
            }
            B::ConnectionRemoved { member, other } => (Some(*member), Some(*other), None),
            B::MemberBlocked { blocker, blocked } => (Some(*blocker), Some(*blocked), None),
            B::MemberUnblocked { blocker, blocked } => (Some(*blocker), Some(*blocked), None),
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
            B::FlagResolved { flag, member, decision, moderator, note } => {
                d.put("flag", &flag.0);
                d.put("decision", decision.as_str());
                if let Some(m) = moderator {
                    d.put("moderator", &m.0);
                }
                if let Some(n) = note {
                    d.put("note", n);
                }
                (*moderator, Some(*member), None)
            }
            B::StandingChanged { member, from, to, cause } => {
                d.put("from", from.as_str());
                d.put("to", to.as_str());
                d.put("automatic", &matches!(cause, StandingCause::AutomaticRestriction(_)));
                if matches!(cause, StandingCause::Lifted(_)) {
                    d.put("lifted", &true);
                }
                d.put("flag", &cause.flag().0);
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
                d.put_json("policy", policy);
                (None, None, None)
            }
            B::ViewChanged { request, party, state, message, .. } => {
                d.put("state", state.as_str());
                d.put("seen_by", party.as_str());
                if let Some(m) = message {
                    d.put("message", m);
                }
                let p = parties(*request);
                let (me, other) = match party {
                    Party::Sender => (p.map(|p| p.0), p.map(|p| p.1)),
                    Party::Recipient => (p.map(|p| p.1), p.map(|p| p.0)),
                };
                // An expiry is nobody's action.
                let actor = if *state == RequestState::Expired { None } else { me };
                (actor, if actor.is_some() { other } else { me }, Some(*request))
            }
            B::InvitationRestored { request, state } => {
                d.put("state", state.as_str());
                let p = parties(*request);
                (None, p.map(|p| p.0), Some(*request))
            }
            B::ViewRestored { request, party } | B::ViewExpiredBehindBlock { request, party } => {
                d.put("seen_by", party.as_str());
                let p = parties(*request);
                let me = p.map(|p| if *party == Party::Sender { p.0 } else { p.1 });
                (None, me, Some(*request))
            }
            B::WrongAddressGiven { sender, recipient } => (Some(*sender), Some(*recipient), None),
            B::EmailPreferenceChanged { member, kind, enabled } => {
                d.put("kind", kind.as_str());
                d.put("enabled", enabled);
                (Some(*member), None, None)
            }
            B::EmailFrequencyChanged { member, frequency } => {
                d.put("frequency", frequency.as_str());
                (Some(*member), None, None)
            }
            B::LocaleChanged { member, locale } => {
                d.put("locale", locale.as_str());
                (Some(*member), None, None)
            }
            B::EmailsSkipped { emails, reason } => {
                d.put("emails", &emails[..]);
                d.put("reason", reason.as_str());
                (None, None, None)
            }
            B::MemberUpdated { member, email, name } => {
                // Like a registration: the name, and whether there is an address.
                if let Some(n) = name {
                    d.put("name", n);
                }
                if let Some(e) = email {
                    d.put("has_email", &e.is_some());
                }
                (Some(*member), None, None)
            }
            B::MemberErased { member, .. } => (None, Some(*member), None),
            B::RestrictionLifted { member, moderator, note } => {
                if let Some(m) = moderator {
                    d.put("moderator", &m.0);
                }
                if let Some(n) = note {
                    d.put("note", n);
                }
                (*moderator, Some(*member), None)
            }
        };
        d.finish();
        (self.body.kind(), actor, subject, request_id)
    }
}

impl BodyView<'_> {
    /// Every kind an event can have, in the order of [`EventBody`]'s variants.
    pub const KINDS: &'static [&'static str] = &[
        "member_registered",
        "invitation_setting_changed",
        "contacts_imported",
        "invitation_sent",
        "invitation_accepted",
        "invitation_ignored",
        "invitation_declined",
        "invitation_withdrawn",
        "invitation_expired",
        "invitation_cancelled",
        "connection_removed",
        "member_blocked",
        "member_unblocked",
        "member_reported",
        "account_flagged",
        "flag_evidence_added",
        "flag_resolved",
        "standing_changed",
        "notifications_read",
        "email_sent",
        "policy_changed",
        "invitation_view_changed",
        "invitation_restored",
        "invitation_view_restored",
        "invitation_view_expired_behind_block",
        "wrong_address_given",
        "email_preference_changed",
        "email_frequency_changed",
        "locale_changed",
        "emails_skipped",
        "member_updated",
        "member_erased",
        "restriction_lifted",
    ];

    /// The SPEC kind, lowercase.
    pub fn kind(&self) -> &'static str {
        match self {
            BodyView::MemberRegistered { .. } => "member_registered",
            BodyView::InvitationSettingChanged { .. } => "invitation_setting_changed",
            BodyView::ContactsImported { .. } => "contacts_imported",
            BodyView::InvitationSent { .. } => "invitation_sent",
            BodyView::InvitationAccepted { .. } => "invitation_accepted",
            BodyView::InvitationIgnored { .. } => "invitation_ignored",
            BodyView::InvitationDeclined { .. } => "invitation_declined",
            BodyView::InvitationWithdrawn { .. } => "invitation_withdrawn",
            BodyView::InvitationExpired { .. } => "invitation_expired",
            BodyView::InvitationCancelled { .. } => "invitation_cancelled",
            BodyView::ConnectionRemoved { .. } => "connection_removed",
            BodyView::MemberBlocked { .. } => "member_blocked",
            BodyView::MemberUnblocked { .. } => "member_unblocked",
            BodyView::MemberReported { .. } => "member_reported",
            BodyView::AccountFlagged { .. } => "account_flagged",
            BodyView::FlagEvidenceAdded { .. } => "flag_evidence_added",
            BodyView::FlagResolved { .. } => "flag_resolved",
            BodyView::StandingChanged { .. } => "standing_changed",
            BodyView::NotificationsRead { .. } => "notifications_read",
            BodyView::EmailSent { .. } => "email_sent",
            BodyView::PolicyChanged { .. } => "policy_changed",
            BodyView::ViewChanged { .. } => "invitation_view_changed",
            BodyView::InvitationRestored { .. } => "invitation_restored",
            BodyView::ViewRestored { .. } => "invitation_view_restored",
            BodyView::ViewExpiredBehindBlock { .. } => "invitation_view_expired_behind_block",
            BodyView::WrongAddressGiven { .. } => "wrong_address_given",
            BodyView::EmailPreferenceChanged { .. } => "email_preference_changed",
            BodyView::EmailFrequencyChanged { .. } => "email_frequency_changed",
            BodyView::LocaleChanged { .. } => "locale_changed",
            BodyView::EmailsSkipped { .. } => "emails_skipped",
            BodyView::MemberUpdated { .. } => "member_updated",
            BodyView::MemberErased { .. } => "member_erased",
            BodyView::RestrictionLifted { .. } => "restriction_lifted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    /// One event of every kind, with every optional field both present and absent.
    fn every_kind() -> Vec<Event> {
        let m = MemberId;
        let r = RequestId(7);
        let email = || EmailAddress::parse("ada@example.com").unwrap();
        let bodies = vec![
            EventBody::MemberRegistered {
                member: m(1),
                email: Some(email()),
                name: Some("Ada \"A\" \u{e9}".into()),
                locale: Some(Locale::De),
            },
            EventBody::MemberRegistered { member: m(2), email: None, name: None, locale: None },
            EventBody::InvitationSettingChanged { member: m(1), setting: InvitationSetting::ALL[1] },
            EventBody::ContactsImported { member: m(1), emails: vec![email(), email(), email()] },
            EventBody::InvitationSent {
                request: r,
                sender: m(1),
                recipient: m(2),
                note: Some("hi\n".into()),
                notice: Notice::after_ms(120_000),
                reminders: vec![Timestamp(5), Timestamp(9)],
            },
            EventBody::InvitationSent {
                request: r,
                sender: m(1),
                recipient: m(2),
                note: None,
                notice: Notice { email: EmailPlan::Digest(Timestamp(86_400_000)) },
                reminders: vec![],
            },
            EventBody::InvitationAccepted {
                request: r,
                notice: Notice::default(),
                window: Some(OutcomeWindow { keep: 4 }),
            },
            EventBody::InvitationIgnored { request: r, window: None },
            EventBody::InvitationDeclined {
                request: r,
                message: Some("no".into()),
                notice: Some(Notice::after_ms(0)),
                window: None,
            },
            EventBody::InvitationDeclined {
                request: r,
                message: None,
                notice: None,
                window: Some(OutcomeWindow { keep: 2 }),
            },
            EventBody::InvitationWithdrawn { request: r, message: Some("oops".into()), notice: None },
            EventBody::InvitationWithdrawn { request: r, message: None, notice: Some(Notice::default()) },
            EventBody::InvitationExpired { request: r, notice: Notice::default(), window: None },
            EventBody::InvitationCancelled { request: r, blocker: m(2) },
            EventBody::ConnectionRemoved { member: m(1), other: m(2) },
            EventBody::MemberBlocked { blocker: m(1), blocked: m(2) },
            EventBody::MemberUnblocked { blocker: m(1), blocked: m(2) },
            EventBody::MemberReported {
                reporter: m(1),
                reported: m(2),
                reason: ReportReason::ALL[0],
                request: Some(r),
            },
            EventBody::MemberReported {
                reporter: m(1),
                reported: m(2),
                reason: ReportReason::ALL[1],
                request: None,
            },
            EventBody::AccountFlagged {
                flag: FlagId(3),
                member: m(2),
                rule: FlagRule::ALL[0],
                evidence: vec![Seq(1), Seq(9)],
            },
            EventBody::FlagEvidenceAdded { flag: FlagId(3), member: m(2), evidence: vec![Seq(10)] },
            EventBody::FlagResolved {
                flag: FlagId(3),
                member: m(2),
                decision: Decision::ALL[0],
                moderator: Some(m(4)),
                note: Some("looked at it".into()),
            },
            EventBody::FlagResolved {
                flag: FlagId(3),
                member: m(2),
                decision: Decision::ALL[1],
                moderator: None,
                note: None,
            },
            EventBody::StandingChanged {
                member: m(2),
                from: Standing::ALL[0],
                to: Standing::ALL[1],
                cause: StandingCause::AutomaticRestriction(FlagId(3)),
            },
            EventBody::StandingChanged {
                member: m(2),
                from: Standing::ALL[1],
                to: Standing::ALL[0],
                cause: StandingCause::Resolved(FlagId(3)),
            },
            EventBody::NotificationsRead { member: m(2), ids: vec![NotificationId(4), NotificationId(5)] },
            EventBody::EmailSent { email: EmailId(6), member: m(2) },
            EventBody::PolicyChanged { policy: Box::new(Policy::standard()) },
            EventBody::ViewChanged {
                request: r,
                party: Party::Sender,
                state: RequestState::Withdrawn,
                message: Some("sorry".into()),
                notice: None,
            },
            EventBody::ViewChanged {
                request: r,
                party: Party::Sender,
                state: RequestState::Expired,
                message: None,
                notice: Some(Notice::default()),
            },
            EventBody::InvitationRestored { request: r, state: RequestState::Ignored },
            EventBody::ViewRestored { request: r, party: Party::Recipient },
            EventBody::ViewExpiredBehindBlock { request: r, party: Party::Sender },
            EventBody::WrongAddressGiven { sender: m(1), recipient: m(2) },
            EventBody::EmailPreferenceChanged { member: m(1), kind: PreferenceKind::All, enabled: false },
            EventBody::EmailFrequencyChanged { member: m(1), frequency: EmailFrequency::Daily },
            EventBody::LocaleChanged { member: m(1), locale: Locale::Fr },
            EventBody::EmailsSkipped { emails: vec![EmailId(3), EmailId(4)], reason: SkipReason::Blocked },
            EventBody::MemberUpdated { member: m(1), email: Some(Some(email())), name: Some(None) },
            EventBody::MemberUpdated { member: m(1), email: Some(None), name: None },
            EventBody::MemberErased { member: m(1), scrub_contacts: true },
            EventBody::RestrictionLifted { member: m(2), moderator: Some(m(4)), note: Some("appeal".into()) },
            EventBody::RestrictionLifted { member: m(2), moderator: None, note: None },
            EventBody::StandingChanged {
                member: m(2),
                from: Standing::ALL[2],
                to: Standing::ALL[0],
                cause: StandingCause::Lifted(FlagId(3)),
            },
        ];
        bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| Event { seq: Seq(i as u64 + 1), at: Timestamp(1_000 + i as i64), body })
            .collect()
    }

    #[test]
    fn stored_events_decode_as_views_equal_to_the_events_own_views() {
        let events = every_kind();
        let kinds: std::collections::BTreeSet<_> = events.iter().map(|e| e.body.kind()).collect();
        assert_eq!(kinds.len(), 33, "every kind is covered");
        assert_eq!(kinds.len(), BodyView::KINDS.len());
        let bytes = postcard::to_allocvec(&events).unwrap();
        let views: Vec<EventView<'_>> = postcard::from_bytes(&bytes).unwrap();
        let expected: Vec<EventView<'_>> = events.iter().map(Event::view).collect();
        assert_eq!(views, expected);
        let parties = |_| Some((MemberId(1), MemberId(2)));
        for (view, event) in views.iter().zip(&events) {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            assert_eq!(view.describe(parties, &mut a), event.describe(parties, &mut b));
            assert_eq!(a, b);
            let detail: serde_json::Value = serde_json::from_slice(&a).unwrap();
            assert!(detail.is_object(), "{detail}");
        }
    }

    #[test]
    fn a_view_borrows_its_strings_from_the_stored_bytes() {
        let events = every_kind();
        let bytes = postcard::to_allocvec(&events[..1]).unwrap();
        let views: Vec<EventView<'_>> = postcard::from_bytes(&bytes).unwrap();
        let BodyView::MemberRegistered { name: Some(name), .. } = &views[0].body else { panic!("{views:?}") };
        assert!(bytes.as_ptr_range().contains(&name.as_ptr()));
    }
}

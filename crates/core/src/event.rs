//! Events: the facts of the append-only log (SPEC §5). Every state change is
//! one; the whole state can be rebuilt from them, and applying one decides
//! nothing: who is told and when their email is due are written in the event
//! by `decide`.

use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId, Seq};
use crate::kinds::{
    Decision, EmailFrequency, FlagRule, InvitationSetting, Locale, PreferenceKind, ReportReason,
    RequestState, SkipReason, Standing,
};
use crate::policy::Policy;
use crate::records::Party;
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

/// An in-app notification an event creates. Who is told and what about
/// follow from the event (an `invitation_sent` notifies its recipient of
/// `invitation_received`, and so on); the notice says how email carries it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The email that carries it.
    pub email: EmailPlan,
}

impl Notice {
    /// A notice whose email is due `ms` milliseconds after the notification.
    pub fn after_ms(ms: u64) -> Self {
        Self { email: EmailPlan::After(ms) }
    }
}

/// How a notification is emailed (SPEC §3, §10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmailPlan {
    /// Not at all: an expiry, a member without an address, or a kind the
    /// member switched off.
    #[default]
    None,
    /// By an email of its own, due this many milliseconds after it.
    After(u64),
    /// Listed in the member's daily digest: the one queued, or, when none
    /// is, a new one due at this time.
    Digest(Timestamp),
}

/// The sender's low-acceptance rule is on: this outcome counts, and the
/// sender's last `keep` outcomes are what the rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeWindow {
    /// How many of the sender's latest outcomes to remember.
    pub keep: u32,
}

/// What changed a member's standing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StandingCause {
    /// A flag was opened: the member is under review.
    Flagged(FlagId),
    /// The rule behind this open flag restricted the member automatically.
    AutomaticRestriction(FlagId),
    /// A moderator resolved this flag.
    Resolved(FlagId),
    /// A moderator lifted a restriction by decision; the flag is the one the
    /// restriction was decided on (the last flag resolved `restrict`).
    Lifted(FlagId),
}

impl StandingCause {
    /// The flag behind the change.
    pub fn flag(self) -> FlagId {
        match self {
            StandingCause::Flagged(f)
            | StandingCause::AutomaticRestriction(f)
            | StandingCause::Resolved(f)
            | StandingCause::Lifted(f) => f,
        }
    }
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
        /// The language of their texts, when not the default.
        locale: Option<Locale>,
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
        /// The recipient's `invitation_received` notification.
        notice: Notice,
        /// When reminder emails are due while it stays pending (SPEC §10),
        /// earliest first; empty under the default policies.
        reminders: Vec<Timestamp>,
    },
    /// The recipient accepted; a connection formed.
    InvitationAccepted {
        /// The request.
        request: RequestId,
        /// The sender's `invitation_accepted` notification.
        notice: Notice,
        /// Set when the outcome counts towards the sender's low-acceptance rule.
        window: Option<OutcomeWindow>,
    },
    /// The recipient archived the request.
    InvitationIgnored {
        /// The request.
        request: RequestId,
        /// Set when the outcome counts towards the sender's low-acceptance rule.
        window: Option<OutcomeWindow>,
    },
    /// The recipient declined. When the sender is not told (`notice` is
    /// `None`), their view keeps the request pending and never shows the message.
    InvitationDeclined {
        /// The request.
        request: RequestId,
        /// The optional message to the sender.
        message: Option<String>,
        /// The sender's `invitation_declined` notification, when the sender is told.
        notice: Option<Notice>,
        /// Set when the outcome counts towards the sender's low-acceptance rule.
        window: Option<OutcomeWindow>,
    },
    /// The sender withdrew. When the recipient is not told (`notice` is
    /// `None`), the request leaves the recipient's views.
    InvitationWithdrawn {
        /// The request.
        request: RequestId,
        /// The optional message to the recipient.
        message: Option<String>,
        /// The recipient's `invitation_withdrawn` notification, when the recipient is told.
        notice: Option<Notice>,
    },
    /// The request was open longer than `pending_ttl`.
    InvitationExpired {
        /// The request.
        request: RequestId,
        /// The sender's `invitation_expired` notification.
        notice: Notice,
        /// Set when the outcome counts towards the sender's low-acceptance rule.
        window: Option<OutcomeWindow>,
    },
    /// A block ended the request. The member the block was aimed at keeps
    /// seeing it as before, and it keeps evolving with their own actions.
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
        /// The moderator who decided, when one is named.
        moderator: Option<MemberId>,
        /// The moderator's reason, when given.
        note: Option<String>,
    },
    /// A member's standing changed.
    StandingChanged {
        /// The member.
        member: MemberId,
        /// Before.
        from: Standing,
        /// After.
        to: Standing,
        /// What changed it, naming the flag.
        cause: StandingCause,
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
        /// The new policy (stored as JSON text, see `policy::as_json`).
        #[serde(with = "crate::policy::as_json")]
        policy: Box<Policy>,
    },
    /// A request moved in one party's own view only (SPEC §18): a member a
    /// block was aimed at acted on it, or it expired as they see it, or the
    /// member blocked back (their view: cancelled). Nobody else is affected.
    ViewChanged {
        /// The request.
        request: RequestId,
        /// Whose view.
        party: Party,
        /// The state they now see.
        state: RequestState,
        /// The withdraw or decline message they gave, if any.
        message: Option<String>,
        /// The notification the party gets (an expiry, to its sender).
        notice: Option<Notice>,
    },
    /// A request a block cancelled comes back, in the state its blocked member
    /// still saw it in, once no block stands between the two (the member
    /// blocked never saw it end, SPEC §18).
    InvitationRestored {
        /// The request.
        request: RequestId,
        /// The state it is back in: the one its blocked member saw.
        state: RequestState,
    },
    /// A member lifted their block: a request they had cancelled by it while
    /// they saw it open (in a view of their own) is, for them, as it was
    /// before, as a request a block cancelled comes back (`InvitationRestored`).
    ViewRestored {
        /// The request.
        request: RequestId,
        /// Whose view.
        party: Party,
    },
    /// A request a member had cancelled by their own block while they saw it
    /// open reached its time to live: lifting the block no longer brings it
    /// back, as an expired request would not come back.
    ViewExpiredBehindBlock {
        /// The request.
        request: RequestId,
        /// Whose view.
        party: Party,
    },
    /// A sender gave an address that is not the recipient's in a send that
    /// needed it; the send was refused. Counted so that addresses cannot be
    /// guessed (SPEC §18).
    WrongAddressGiven {
        /// Who gave it.
        sender: MemberId,
        /// Whose address it was meant to be.
        recipient: MemberId,
    },
    /// A member switched a kind of email on or off (SPEC §10).
    EmailPreferenceChanged {
        /// The member.
        member: MemberId,
        /// The kind, or all of them.
        kind: PreferenceKind,
        /// On or off.
        enabled: bool,
    },
    /// A member chose how often they get email.
    EmailFrequencyChanged {
        /// The member.
        member: MemberId,
        /// How often.
        frequency: EmailFrequency,
    },
    /// A member chose the language of their texts.
    LocaleChanged {
        /// The member.
        member: MemberId,
        /// The language.
        locale: Locale,
    },
    /// Emails that will never be sent (or notifications left out of a digest), and why.
    EmailsSkipped {
        /// The emails (for a notification in a digest, its number).
        emails: Vec<EmailId>,
        /// Why.
        reason: SkipReason,
    },
    /// A member changed their address or name (SPEC §11). `None` leaves a
    /// field as it was; `Some(None)` removes it.
    MemberUpdated {
        /// The member.
        member: MemberId,
        /// The new address.
        email: Option<Option<EmailAddress>>,
        /// The new name.
        name: Option<Option<String>>,
    },
    /// A member was erased (SPEC §11): their name, address, contacts and every
    /// note and message they wrote leave the state (and, rewritten, the log),
    /// their open requests are cancelled, their connections end, their unsent
    /// emails are dropped, and the id stays as a tombstone.
    MemberErased {
        /// The member.
        member: MemberId,
        /// Whether their address also leaves other members' imported contacts
        /// (it does unless another member still has the same address).
        scrub_contacts: bool,
    },
    /// A moderator lifted the restriction they (or another moderator) had
    /// decided on (SPEC §15). Its standing change follows as its own event.
    /// (New events go last: the log stores events by their position.)
    RestrictionLifted {
        /// The member restricted.
        member: MemberId,
        /// The moderator who lifted it, when one is named.
        moderator: Option<MemberId>,
        /// The moderator's reason, when given.
        note: Option<String>,
    },
}

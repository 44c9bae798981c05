//! The records the state holds by the million: requests, notifications,
//! emails, flags, moderation memory, pair histories, and the open-pair index
//! entries. Each is laid out small, since a large network holds millions.

use crate::ids::{FlagId, MemberId, NotificationId, RequestId, Seq};
use crate::kinds::{
    EmailKind, FlagRule, FlagStatus, NotificationKind, ReportReason, RequestState, SkipReason,
};
use crate::thread::Link;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One side of a request: who sent it or who received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Party {
    /// The member who sent it.
    Sender,
    /// The member who received it.
    Recipient,
}

impl Party {
    /// The word for this side in messages (`"sender"`, `"recipient"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Sender => "sender",
            Party::Recipient => "recipient",
        }
    }

    /// The other side.
    pub fn other(self) -> Party {
        match self {
            Party::Sender => Party::Recipient,
            Party::Recipient => Party::Sender,
        }
    }
}

/// `state` as `party` sees it: the sender never sees `ignored` (it stays `pending`).
pub fn seen_as(state: RequestState, party: Party) -> RequestState {
    if party == Party::Sender && state == RequestState::Ignored { RequestState::Pending } else { state }
}

/// The index of a state in [`RequestState::ALL`].
pub fn state_index(s: RequestState) -> usize {
    RequestState::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// The note and the withdraw/decline message of a request, held beside the
/// requests (in `State::texts`) because most requests have neither.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestTexts {
    /// The optional note.
    pub note: Option<Box<str>>,
    /// The optional withdraw or decline message.
    pub message: Option<Box<str>>,
}

/// How one party sees a request when that differs from the truth, so that
/// they learn nothing they must not (SPEC §18): the member a block was aimed
/// at keeps seeing the request as before the block and it keeps evolving
/// with their own actions; a sender not told of a decline keeps seeing it
/// pending; a recipient not told of a withdrawal no longer sees it at all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartyView {
    /// Whose view it is.
    pub party: Party,
    /// The state they see; `None` when the request is not in their views at all.
    pub state: Option<RequestState>,
    /// When it last changed as they see it.
    pub since: Timestamp,
    /// The withdraw or decline message they see (their own, or none).
    pub message: Option<Box<str>>,
    /// When they cancelled it by a block of their own while they saw it open:
    /// the state (and time) they saw before, which comes back when they lift
    /// the block, as a request a block cancelled does.
    pub before_block: Option<(RequestState, Timestamp)>,
}

/// A stored request (64 bytes, aligned to a cache line so reading one is one
/// miss: millions are held in memory, and a member's lists are walked through
/// them). The state each party sees is [`RequestRecord::truth_seen_by`], or
/// their own view where they keep one (`State::seen_by`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[repr(align(64))]
pub struct RequestRecord {
    /// Who sent it.
    pub sender: MemberId,
    /// Who received it.
    pub recipient: MemberId,
    /// When it was sent.
    pub created_at: Timestamp,
    /// When its state last changed.
    pub updated_at: Timestamp,
    /// The `invitation_sent` event.
    pub seq: Seq,
    /// The sender's request three before this one (see [`crate::thread::Thread`]):
    /// a walk down the sender's list has three records in flight at once.
    pub back_by_sender: Link,
    /// The recipient's request three before this one.
    pub back_by_recipient: Link,
    /// The true state.
    pub state: RequestState,
    /// Whether one party sees it otherwise than it is (in `State::views`).
    pub has_view: bool,
    /// Whether it has a note or a message (in `State::texts`).
    pub has_texts: bool,
    /// The recipient's `invitation_received` notification.
    pub received: Link,
    /// The first of its reminder emails (the others follow it), if it has any.
    pub first_reminder: Link,
    /// How many reminder emails it has.
    pub reminders: u8,
    /// How many of them (from the first) were sent or skipped.
    pub reminders_done: u8,
    /// Whether the email carrying its `invitation_received` notification (or
    /// the digest listing it) may still be unsent: when the request ends, what
    /// is unsent of it is skipped, and this saves reading the notification to
    /// find out for the many requests whose email went out long before.
    pub received_unsent: bool,
}

impl RequestRecord {
    /// The member on `party`'s side.
    pub fn party(&self, party: Party) -> MemberId {
        match party {
            Party::Sender => self.sender,
            Party::Recipient => self.recipient,
        }
    }

    /// The party `member` is on, if they are one.
    pub fn party_of(&self, member: MemberId) -> Option<Party> {
        if member == self.sender {
            Some(Party::Sender)
        } else if member == self.recipient {
            Some(Party::Recipient)
        } else {
            None
        }
    }

    /// The true state as `party` sees it: the sender never sees `ignored`.
    /// (A party with a view of their own sees that instead: `State::seen_by`.)
    pub fn truth_seen_by(&self, party: Party) -> RequestState {
        seen_as(self.state, party)
    }
}

/// A stored in-app notification (24 bytes); its text is rendered when it is
/// read, and who it is for and about follow from its request and kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// The request concerned.
    pub request: RequestId,
    /// What about.
    pub kind: NotificationKind,
    /// Whether the member has read it.
    pub read: bool,
    /// What the record is: a notification, or an email of its own (a reminder,
    /// a digest) that is in no inbox and takes a notification's number so that
    /// every email is numbered in one sequence.
    pub(crate) carries: Carries,
    /// The email that carries it, if one was queued.
    pub(crate) mail: Mail,
    /// When its email was handed to a mail server (only meaningful once `mail` is `Sent`).
    pub(crate) sent_at: Timestamp,
    /// The previous notification in the same inbox.
    pub prev: Link,
}

/// Whether a notification is carried by an email, and whether it went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mail {
    /// No email (expiry, a member without an address, a kind switched off).
    None,
    /// Queued, not yet handed to a mail server.
    Unsent,
    /// Handed to a mail server.
    Sent,
    /// Never to be sent (or, for a notification in a digest, left out of it).
    Skipped(SkipReason),
    /// Listed in its member's digest instead of an email of its own.
    InDigest,
}

/// What a record in the notifications holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Carries {
    /// An in-app notification (with the email that carries it, if any).
    #[default]
    Notification,
    /// A reminder email about its request (SPEC §10), in no inbox.
    Reminder,
    /// A member's digest email (SPEC §10), in no inbox.
    Digest,
}

/// An email without a notification of its own (a reminder or a digest): who
/// gets it and when it is due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledEmail {
    /// Whose it is.
    pub member: MemberId,
    /// When it is due.
    pub due_at: Timestamp,
}

/// The digest a daily member has queued: the email, and the notifications it
/// lists (those in the member's inbox from `from` on marked `Mail::InDigest`
/// and still unread).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedDigest {
    /// The digest email's record.
    pub email: usize,
    /// The first notification it may list.
    pub from: usize,
    /// How many notifications it lists now (unread, not left out).
    pub items: u32,
}

impl NotificationRecord {
    /// (whose inbox, the other member) for a notification about request `r`.
    pub fn parties(&self, r: &RequestRecord) -> (MemberId, MemberId) {
        let told = self.told();
        (r.party(told), r.party(told.other()))
    }

    /// The party of the request whose inbox holds it.
    pub fn told(&self) -> Party {
        match self.kind {
            NotificationKind::InvitationReceived | NotificationKind::InvitationWithdrawn => Party::Recipient,
            NotificationKind::InvitationAccepted
            | NotificationKind::InvitationDeclined
            | NotificationKind::InvitationExpired => Party::Sender,
        }
    }

    /// Whether an email carries it, and whether it went out.
    pub fn mail(&self) -> Mail {
        self.mail
    }

    /// Whether it is an in-app notification (not a reminder or a digest).
    pub fn is_notification(&self) -> bool {
        self.carries == Carries::Notification
    }

    /// The kind of the email it is or carries.
    pub fn email_kind(&self) -> EmailKind {
        match self.carries {
            Carries::Notification => EmailKind::of(self.kind),
            Carries::Reminder => EmailKind::InvitationReminder,
            Carries::Digest => EmailKind::Digest,
        }
    }

    /// Whether its email waits to be sent on its own (not in a digest, not
    /// sent, not skipped).
    pub fn unsent(&self) -> bool {
        self.mail == Mail::Unsent
    }

    /// When its email was handed to a mail server, if it was.
    pub fn sent_at(&self) -> Option<Timestamp> {
        (self.mail == Mail::Sent).then_some(self.sent_at)
    }
}

/// An email: one carrying a notification has the notification's number; a
/// reminder or a digest has a number of its own in the same sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmailRecord {
    /// The record it is in the notifications (the same number as the email).
    pub notification: NotificationId,
    /// Who gets it.
    pub member: MemberId,
    /// What it is.
    pub kind: EmailKind,
    /// When it is due.
    pub due_at: Timestamp,
    /// When it was handed to a mail server.
    pub sent_at: Option<Timestamp>,
    /// Why it will never be sent, if so.
    pub skipped: Option<SkipReason>,
}

/// A stored moderation flag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlagRecord {
    /// The member flagged.
    pub member: MemberId,
    /// The rule.
    pub rule: FlagRule,
    /// The events behind it.
    pub evidence: Vec<Seq>,
    /// When it was opened.
    pub created_at: Timestamp,
    /// Where it is in review.
    pub status: FlagStatus,
    /// Whether it restricted the member automatically.
    pub automatic_restriction: bool,
    /// The moderator who resolved it, when one was named.
    pub resolved_by: Option<MemberId>,
    /// The moderator's reason, when given.
    pub resolution_note: Option<String>,
    /// When it was resolved.
    pub resolved_at: Option<Timestamp>,
}

/// Per-member moderation memory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModerationRecord {
    /// Open flags, one per rule at most.
    pub open: Vec<(FlagRule, FlagId)>,
    /// For each rule, the last event a resolved flag covered: evidence a
    /// moderator has decided on (cleared or restricted) is spent.
    pub cleared_through: Vec<(FlagRule, Seq)>,
    /// A moderator restricted the member.
    pub restricted_by_decision: bool,
    /// Reports received: (reporter, when, event, why).
    pub reports: Vec<(MemberId, Timestamp, Seq, ReportReason)>,
    /// Outcomes of the member's resolved invitations, oldest first: (request, accepted, event).
    pub outcomes: Vec<(RequestId, bool, Seq)>,
}

impl ModerationRecord {
    /// The open flag for `rule`, if any.
    pub fn open_flag(&self, rule: FlagRule) -> Option<FlagId> {
        self.open.iter().find(|(r, _)| *r == rule).map(|(_, f)| *f)
    }

    /// Events at or before this one are spent for `rule`.
    pub fn spent_through(&self, rule: FlagRule) -> Seq {
        self.cleared_through.iter().find(|(r, _)| *r == rule).map_or(Seq(0), |(_, s)| *s)
    }
}

/// How one of a sender's requests to a member ended, as the pair history keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ended {
    /// The sender withdrew it (in truth, or as far as they know).
    Withdrawn,
    /// The recipient declined it and the sender was told.
    Declined,
    /// The recipient ignored it and it expired.
    Ignored,
}

/// One ended request of a pair (24 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending {
    /// When it ended.
    pub at: Timestamp,
    /// The event that ended it.
    pub seq: Seq,
    /// The request (ids stay below 2^32, see [`crate::thread::MAX_RECORDS`]).
    pub request: u32,
    /// How.
    pub how: Ended,
}

impl Ending {
    /// The request.
    pub fn request(&self) -> RequestId {
        RequestId(u64::from(self.request))
    }
}

/// Per ordered pair (sender, recipient) whose requests were withdrawn,
/// declined, or ignored until they expired: what moderation and cooldowns
/// need. A large network holds millions, so it is kept small: 16 bytes, no
/// spare capacity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairHistory {
    /// How the pair's requests ended, oldest first.
    pub endings: Box<[Ending]>,
}

impl PairHistory {
    /// A history whose first ending is `ending`.
    pub fn of(ending: Ending) -> Self {
        Self { endings: Box::new([ending]) }
    }

    /// Records one more ending.
    pub fn ended(&mut self, ending: Ending) {
        self.endings = self.endings.iter().copied().chain([ending]).collect();
    }

    /// The last withdrawal or decline the sender was told of: the resend cooldown runs from it.
    pub fn last_closed(&self) -> Option<Timestamp> {
        self.endings.iter().rev().find(|e| e.how != Ended::Ignored).map(|e| e.at)
    }

    /// The withdrawals: (when, event), oldest first.
    pub fn withdrawals(&self) -> impl Iterator<Item = (Timestamp, Seq)> + '_ {
        self.endings.iter().filter(|e| e.how == Ended::Withdrawn).map(|e| (e.at, e.seq))
    }
}

/// An open request in the pair index: its id, and whether the member with the
/// lower id sent it (packed in one word: ids stay below 2^32, see [`crate::thread::MAX_RECORDS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest(u64);

impl OpenRequest {
    pub(crate) fn new(request: RequestId, lower_sent: bool) -> Self {
        Self(request.0 << 1 | u64::from(lower_sent))
    }

    /// The request.
    pub fn request(self) -> RequestId {
        RequestId(self.0 >> 1)
    }

    /// Whether the member with the lower id sent it.
    pub fn lower_sent(self) -> bool {
        self.0 & 1 == 1
    }
}

/// The open-pair index's key for two members: the unordered pair.
pub(crate) fn pair_key(a: MemberId, b: MemberId) -> (MemberId, MemberId) {
    (a.min(b), a.max(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    /// A network of a million members holds millions of each of these; their
    /// sizes are what docs/PERFORMANCE.md's memory figures assume.
    #[test]
    fn the_records_held_by_the_million_stay_small() {
        assert_eq!(size_of::<RequestRecord>(), 64);
        assert_eq!(align_of::<RequestRecord>(), 64);
        assert!(size_of::<NotificationRecord>() <= 24, "{}", size_of::<NotificationRecord>());
        assert!(size_of::<PairHistory>() <= 24, "{}", size_of::<PairHistory>());
        assert_eq!(size_of::<Ending>(), 24);
    }

    #[test]
    fn a_pair_history_keeps_every_ending_in_order_and_the_last_close() {
        let end = |at, seq, how| Ending { at: Timestamp(at), seq: Seq(seq), request: seq as u32, how };
        let mut pair = PairHistory::of(end(5, 2, Ended::Declined));
        assert_eq!(pair.withdrawals().count(), 0);
        assert_eq!(pair.last_closed(), Some(Timestamp(5)));
        pair.ended(end(7, 3, Ended::Withdrawn));
        pair.ended(end(9, 8, Ended::Withdrawn));
        pair.ended(end(11, 9, Ended::Ignored));
        let withdrawals: Vec<_> = pair.withdrawals().collect();
        assert_eq!(withdrawals, [(Timestamp(7), Seq(3)), (Timestamp(9), Seq(8))]);
        assert_eq!(pair.last_closed(), Some(Timestamp(9)), "an expiry after an ignore is no close");
        assert_eq!(pair.endings.len(), 4);
        assert_eq!(PairHistory::of(end(1, 1, Ended::Ignored)).last_closed(), None);
    }
}

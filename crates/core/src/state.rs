//! The state the events imply, and `apply`, the one function that changes it.

use crate::chunked::Chunked;
use crate::event::{Event, EventBody};
use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId, Seq};
pub use crate::kinds::RequestState;
use crate::kinds::{
    Decision, FlagRule, FlagStatus, InvitationSetting, NotificationKind, ReportReason, Standing,
};
use crate::members::MemberTable;
use crate::policy::Policy;
use crate::text::EmailAddress;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The hash map of the state: foldhash, several times faster than SipHash on
/// small keys, still seeded per process.
pub type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
/// The hash set of the state.
pub type Set<K> = HashSet<K, foldhash::fast::RandomState>;

/// The most requests, and the most notifications, one network holds: the
/// lists threaded through them link by 32-bit positions (see [`Link`]).
pub const MAX_RECORDS: usize = u32::MAX as usize;

/// A position in the requests or the notifications: index + 1, or 0 for none.
/// A member's requests and inbox are lists threaded through those records, each
/// record linking to the previous one of the list, so adding to a list touches
/// no memory beyond the member and the new record, and allocates nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Link(u32);

impl Link {
    /// The end of a list.
    pub const NONE: Link = Link(0);

    /// The link to the record at `index` (below [`MAX_RECORDS`]: `Model::decide`
    /// refuses any command that would go beyond it).
    pub fn to(index: usize) -> Link {
        debug_assert!(index < MAX_RECORDS);
        Link(u32::try_from(index + 1).unwrap_or(0))
    }

    /// The index it names, if any.
    pub fn index(self) -> Option<usize> {
        (self.0 as usize).checked_sub(1)
    }
}

/// A one-word summary of a connection list: bit `h(id)` set for every
/// connection. A clear bit means "not connected" for certain; a set bit means
/// "look in the list" (with a typical handful of connections, rarely needed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionBits(u32);

impl ConnectionBits {
    fn bit(id: MemberId) -> u32 {
        // Fibonacci hashing: the top five bits of the id times 2^64/φ.
        1 << (id.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 59)
    }

    /// The summary of `connections`.
    pub fn of(connections: &[MemberId]) -> Self {
        Self(connections.iter().fold(0, |bits, id| bits | Self::bit(*id)))
    }

    /// Adds a connection.
    pub fn add(&mut self, id: MemberId) {
        self.0 |= Self::bit(id);
    }

    /// False when `id` is certainly not a connection.
    pub fn may_contain(self, id: MemberId) -> bool {
        self.0 & Self::bit(id) != 0
    }
}

/// What a member rarely needs on the way to a decision: address, name and
/// imported contacts (held beside the members, in [`State::profiles`], so the
/// member record itself stays one cache line).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Address for emails.
    pub email: Option<EmailAddress>,
    /// Display name.
    pub name: Option<Box<str>>,
    /// Lowercased imported contact addresses.
    pub contacts: Option<Box<Set<String>>>,
}

/// A registered member: 64 bytes, one cache line, since nearly every command
/// reads one or two of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[repr(align(64))]
pub struct Member {
    /// Connections, sorted by id.
    pub connections: Vec<MemberId>,
    /// How many of the member's notifications are unread (at most
    /// [`MAX_RECORDS`], so 32 bits hold it).
    pub unread: u32,
    /// A 32-bit Bloom filter of the connections: most "are these two
    /// connected?" checks are answered here, without reading the list.
    pub connection_bits: ConnectionBits,
    /// The three newest requests the member sent, newest first; each request
    /// links to the sender's request three before it.
    pub sent: [Link; 3],
    /// The three newest requests the member received, newest first.
    pub received: [Link; 3],
    /// The newest notification in the member's inbox; each links to the one before.
    pub last_notification: Link,
    /// Who may invite this member.
    pub setting: InvitationSetting,
    /// Moderation standing.
    pub standing: Standing,
    /// Whether the member's profile holds an address (read on every notification).
    pub has_email: bool,
}

impl Member {
    /// Whether two members (each with its id) are connected, looked up in the
    /// shorter of their two connection lists (connections are symmetric): a
    /// busy member's list spans many cache lines, a typical one a single line;
    /// most answers come from the shorter list's summary alone.
    pub fn connected((a, ma): (MemberId, &Member), (b, mb): (MemberId, &Member)) -> bool {
        let (m, other) = if ma.connections.len() <= mb.connections.len() { (ma, b) } else { (mb, a) };
        m.connection_bits.may_contain(other) && m.connections.binary_search(&other).is_ok()
    }
}

impl Profile {
    /// A profile with this address and name, if there is either.
    fn new(email: Option<EmailAddress>, name: Option<Box<str>>) -> Option<Self> {
        (email.is_some() || name.is_some()).then_some(Self { email, name, contacts: None })
    }
}

/// A list threaded through records, newest first. Each record links to the
/// one `span` places before it in the list, and the walk starts knowing the
/// first `span` records, so it always knows the next `span` records before it
/// reads them: that many cache misses are in flight at a time instead of one.
/// It only ever moves to earlier records, so a damaged link ends it instead of
/// looping.
pub struct Thread<'a, T, B> {
    records: &'a Chunked<T>,
    /// The next records of the list, newest first (`Link::NONE` past its end);
    /// only the first `span` are used.
    ahead: [Link; 3],
    span: usize,
    /// A record's link to the record `span` places before it.
    back: B,
}

impl<'a, T, B: Fn(&T) -> Link> Thread<'a, T, B> {
    /// A walk from the list's newest records `first` (newest first, up to `span` of them).
    fn new(records: &'a Chunked<T>, first: [Link; 3], span: usize, back: B) -> Self {
        let mut ahead = [Link::NONE; 3];
        for k in 0..span.min(3) {
            // Each must be older than the one before it, or the list ends there.
            if k == 0 || (ahead[k - 1] != Link::NONE && first[k] < ahead[k - 1]) {
                ahead[k] = first[k];
            }
        }
        Self { records, ahead, span: span.clamp(1, 3), back }
    }
}

impl<'a, T, B: Fn(&T) -> Link> Iterator for Thread<'a, T, B> {
    type Item = (usize, &'a T);
    fn next(&mut self) -> Option<Self::Item> {
        let index = self.ahead[0].index()?;
        let record = self.records.get(index)?;
        let last = self.ahead[self.span - 1];
        let back = (self.back)(record);
        let next = if last != Link::NONE && back < last { back } else { Link::NONE };
        self.ahead.copy_within(1..self.span, 0);
        self.ahead[self.span - 1] = next;
        Some((index, record))
    }
}

#[allow(clippy::derivable_impls)] // the enum is declared by a macro shared with types that have no default
impl Default for InvitationSetting {
    fn default() -> Self {
        InvitationSetting::Everyone
    }
}

#[allow(clippy::derivable_impls)]
impl Default for Standing {
    fn default() -> Self {
        Standing::Good
    }
}

/// The note and the withdraw/decline message of a request, held beside the
/// requests (in [`State::texts`]) because most requests have neither.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestTexts {
    /// The optional note.
    pub note: Option<Box<str>>,
    /// The optional withdraw or decline message.
    pub message: Option<Box<str>>,
}

/// How a block cancelled a request: the state before it, and whether the
/// sender was the member blocked. Packed in a byte (0: not cancelled by a block).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelMark(u8);

impl CancelMark {
    fn new(before: RequestState, sender_blocked: bool) -> Self {
        Self(1 + ((state_index(before) as u8) << 1 | u8::from(sender_blocked)))
    }

    /// The state before the block and whether the sender was blocked, if a block cancelled it.
    pub fn get(self) -> Option<(RequestState, bool)> {
        let v = self.0.checked_sub(1)?;
        // A byte read back from a damaged snapshot may name no state: treat it as no mark.
        Some((*RequestState::ALL.get(usize::from(v >> 1))?, v & 1 == 1))
    }
}

/// A stored request (64 bytes, aligned to a cache line so reading one is one
/// miss: millions are held in memory, and a member's lists are walked through
/// them). The state shown to each party is derived by [`RequestRecord::shown_to`].
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
    /// The sender's request three before this one (see [`Thread`]): a walk
    /// down the sender's list has three records in flight at once.
    pub back_by_sender: Link,
    /// The recipient's request three before this one.
    pub back_by_recipient: Link,
    /// The true state.
    pub state: RequestState,
    /// Set when a block cancelled it.
    pub cancelled: CancelMark,
    /// Whether it has a note or a message (in [`State::texts`]).
    pub has_texts: bool,
}

impl RequestRecord {
    /// The state as the sender (`as_sender`) or the recipient sees it: the sender
    /// never sees `ignored`, and the member a block was aimed at sees the state the
    /// request had before the block.
    pub fn shown_to(&self, as_sender: bool) -> RequestState {
        let mut state = self.state;
        if let (RequestState::Cancelled, Some((before, sender_blocked))) = (state, self.cancelled.get())
            && sender_blocked == as_sender
        {
            state = before;
        }
        if as_sender && state == RequestState::Ignored { RequestState::Pending } else { state }
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
    /// The email that carries it, if one was queued.
    pub mail: Mail,
    /// When its email was handed to a mail server (meaningful when `mail` is `Sent`).
    pub sent_at: Timestamp,
    /// The previous notification in the same inbox.
    pub prev: Link,
}

/// Whether a notification is carried by an email, and whether it went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mail {
    /// No email (expiry, or a member without an address).
    None,
    /// Queued, not yet handed to a mail server.
    Unsent,
    /// Handed to a mail server.
    Sent,
}

impl NotificationRecord {
    /// (whose inbox, the other member) for a notification about request `r`.
    pub fn parties(&self, r: &RequestRecord) -> (MemberId, MemberId) {
        match self.kind {
            NotificationKind::InvitationReceived | NotificationKind::InvitationWithdrawn => {
                (r.recipient, r.sender)
            }
            NotificationKind::InvitationAccepted
            | NotificationKind::InvitationDeclined
            | NotificationKind::InvitationExpired => (r.sender, r.recipient),
        }
    }

    /// When it was created: a request's notifications are made when it is sent
    /// and when it closes (accepted, declined, withdrawn, expired), and a
    /// closed request never changes again.
    pub fn created_at(&self, r: &RequestRecord) -> Timestamp {
        match self.kind {
            NotificationKind::InvitationReceived => r.created_at,
            _ => r.updated_at,
        }
    }
}

/// A queued email. An email carries exactly one notification and has its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmailRecord {
    /// The notification it carries (the same number as the email).
    pub notification: NotificationId,
    /// When it is due.
    pub due_at: Timestamp,
    /// When it was handed to a mail server.
    pub sent_at: Option<Timestamp>,
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
}

/// Per-member moderation memory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModerationRecord {
    /// Open flags, one per rule at most.
    pub open: Vec<(FlagRule, FlagId)>,
    /// For each rule, the last event a cleared flag covered: evidence up to it is spent.
    pub cleared_through: Vec<(FlagRule, Seq)>,
    /// A moderator restricted the member.
    pub restricted_by_decision: bool,
    /// Reports received: (reporter, when, event).
    pub reports: Vec<(MemberId, Timestamp, Seq)>,
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

/// Per ordered pair (sender, recipient) whose requests were withdrawn or
/// declined: what moderation and cooldowns need. A large network holds
/// millions, so it is kept small: 24 bytes, no spare capacity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairHistory {
    /// Withdrawals: (when, event), oldest first.
    pub withdrawals: Box<[(Timestamp, Seq)]>,
    /// The last withdrawal or decline (there is one: a pair has a history
    /// only from its first).
    pub last_closed: Timestamp,
}

impl PairHistory {
    /// A history whose first withdrawal or decline was at `at`.
    pub fn closed_at(at: Timestamp) -> Self {
        Self { withdrawals: Box::new([]), last_closed: at }
    }

    /// Records a withdrawal at `at` (event `seq`).
    pub fn withdrawn(&mut self, at: Timestamp, seq: Seq) {
        self.withdrawals = self.withdrawals.iter().copied().chain([(at, seq)]).collect();
        self.last_closed = at;
    }
}

/// An open request in the pair index: its id, and whether the member with the
/// lower id sent it (packed in one word: ids stay below 2^32, see [`MAX_RECORDS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest(u64);

impl OpenRequest {
    fn new(request: RequestId, lower_sent: bool) -> Self {
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

/// The pair index's key for two members.
fn pair_key(a: MemberId, b: MemberId) -> (MemberId, MemberId) {
    (a.min(b), a.max(b))
}

/// Deserializes a map at its full size at once: a snapshot's maps hold
/// millions of entries, and growing them by doubling rehashes each entry
/// several times. The length comes from a snapshot whose checksum was verified.
pub(crate) fn sized_map<'de, D, K, V>(deserializer: D) -> Result<Map<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Deserialize<'de> + Eq + std::hash::Hash,
    V: Deserialize<'de>,
{
    struct Entries<K, V>(std::marker::PhantomData<(K, V)>);
    impl<'de, K: Deserialize<'de> + Eq + std::hash::Hash, V: Deserialize<'de>> serde::de::Visitor<'de>
        for Entries<K, V>
    {
        type Value = Map<K, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Map<K, V>, A::Error> {
            // Bounded: a snapshot changed in a way its checksum misses must fail to
            // decode, not reserve whatever memory its length field names.
            let capacity = access.size_hint().unwrap_or(0).min(1 << 24);
            let mut map = Map::with_capacity_and_hasher(capacity, Default::default());
            while let Some((k, v)) = access.next_entry()? {
                map.insert(k, v);
            }
            Ok(map)
        }
    }
    deserializer.deserialize_map(Entries(std::marker::PhantomData))
}

/// The time of the last event; before any event, the earliest time there is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LogClock(pub Timestamp);

impl Default for LogClock {
    fn default() -> Self {
        Self(Timestamp(i64::MIN))
    }
}

/// Everything the events imply. Rebuilt exactly by replaying them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The last event's sequence number.
    pub last_seq: Seq,
    /// The last event's time: the log's clock never runs backwards.
    pub last_at: LogClock,
    /// Members by id.
    pub members: MemberTable,
    /// Requests; request `n` is at index `n - 1`.
    pub requests: Chunked<RequestRecord>,
    /// The open request between two members, by (lower id, higher id): there is
    /// at most one either way (SPEC §2 send, rules 5 and 6), so one probe
    /// answers for both directions. See [`State::open_between`].
    #[serde(deserialize_with = "sized_map")]
    pub open_pairs: Map<(MemberId, MemberId), OpenRequest>,
    /// Index (0-based) of the oldest request that may still be open: every
    /// request before it is closed. Ids follow creation time (the log's clock
    /// never runs backwards), so expiry scans forward from here.
    pub oldest_open: usize,
    /// Blocks: (blocker, blocked).
    pub blocks: Set<(MemberId, MemberId)>,
    /// "I don't know this person" reports: (reporter, reported).
    pub dont_know: Set<(MemberId, MemberId)>,
    /// Address, name and contacts of the members that have any.
    #[serde(deserialize_with = "sized_map")]
    pub profiles: Map<MemberId, Profile>,
    /// Notes and messages of the requests that have any.
    #[serde(deserialize_with = "sized_map")]
    pub texts: Map<RequestId, RequestTexts>,
    /// Withdrawal and decline history by (sender, recipient).
    #[serde(deserialize_with = "sized_map")]
    pub pairs: Map<(MemberId, MemberId), PairHistory>,
    /// Notifications; notification `n` is at index `n - 1`.
    pub notifications: Chunked<NotificationRecord>,
    /// The email delay in force from each notification index on (an entry is
    /// added when the policy's delay changes), so due times can be derived.
    pub email_delays: Vec<(usize, std::time::Duration)>,
    /// Update times from before a block, for requests a block cancelled: the
    /// blocked member's views keep showing them.
    #[serde(deserialize_with = "sized_map")]
    pub before_block: Map<RequestId, Timestamp>,
    /// Index (0-based) of the oldest notification whose email may be unsent:
    /// every email before it was sent.
    pub oldest_unsent: usize,
    /// How many emails are unsent.
    pub unsent: u64,
    /// Flags; flag `n` is at index `n - 1`.
    pub flags: Vec<FlagRecord>,
    /// Open flags, in the order they were opened.
    pub open_flags: BTreeSet<FlagId>,
    /// Moderation memory by member.
    #[serde(deserialize_with = "sized_map")]
    pub moderation: Map<MemberId, ModerationRecord>,
    /// Number of connections (each pair once).
    pub connection_pairs: u64,
    /// Requests by true state, indexed like [`RequestState::ALL`].
    pub by_state: [u64; 7],
    /// Members by standing, indexed like [`Standing::ALL`].
    pub by_standing: [u64; 3],
}

/// The index of a state in [`RequestState::ALL`].
pub fn state_index(s: RequestState) -> usize {
    RequestState::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// The index of a standing in [`Standing::ALL`].
pub fn standing_index(s: Standing) -> usize {
    Standing::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

impl State {
    /// The requests `m` sent (`as_sender`) or received, newest first, with their indexes.
    pub fn requests_of(&self, m: &Member, as_sender: bool) -> impl Iterator<Item = (usize, &RequestRecord)> {
        let first = if as_sender { m.sent } else { m.received };
        let back = move |r: &RequestRecord| if as_sender { r.back_by_sender } else { r.back_by_recipient };
        Thread::new(&self.requests, first, 3, back)
    }

    /// The notifications in `m`'s inbox, newest first, with their indexes.
    pub fn inbox_of(&self, m: &Member) -> impl Iterator<Item = (usize, &NotificationRecord)> {
        let first = [m.last_notification, Link::NONE, Link::NONE];
        Thread::new(&self.notifications, first, 1, |n: &NotificationRecord| n.prev)
    }

    /// The address, name and contacts of member `id`, if it has any.
    pub fn profile(&self, id: MemberId) -> Option<&Profile> {
        self.profiles.get(&id)
    }

    /// The address of member `id`.
    pub fn email_of(&self, id: MemberId) -> Option<&EmailAddress> {
        self.profile(id)?.email.as_ref()
    }

    /// The display name of member `id`.
    pub fn name_of(&self, id: MemberId) -> Option<&str> {
        self.profile(id)?.name.as_deref()
    }

    /// The note and message of request `id` (record `r`), if it has any.
    pub fn texts_of(&self, id: RequestId, r: &RequestRecord) -> Option<&RequestTexts> {
        if r.has_texts { self.texts.get(&id) } else { None }
    }

    /// The open request between `a` and `b`, either way, with its sender.
    pub fn open_between(&self, a: MemberId, b: MemberId) -> Option<(RequestId, MemberId)> {
        let open = self.open_pairs.get(&pair_key(a, b))?;
        Some((open.request(), if open.lower_sent() { a.min(b) } else { a.max(b) }))
    }

    /// The open request from `sender` to `recipient`.
    pub fn open_request(&self, sender: MemberId, recipient: MemberId) -> Option<RequestId> {
        self.open_between(sender, recipient).filter(|(_, s)| *s == sender).map(|(id, _)| id)
    }

    /// The request with this id.
    pub fn request(&self, id: RequestId) -> Option<&RequestRecord> {
        usize::try_from(id.0).ok()?.checked_sub(1).and_then(|i| self.requests.get(i))
    }

    fn request_mut(&mut self, id: RequestId) -> &mut RequestRecord {
        &mut self.requests[id.0 as usize - 1]
    }

    /// (whose inbox, the other member) of a notification.
    pub fn notified(&self, n: &NotificationRecord) -> (MemberId, MemberId) {
        self.request(n.request).map_or((MemberId(0), MemberId(0)), |r| n.parties(r))
    }

    /// When request `id` last changed as the sender (`as_sender`) or the recipient sees it.
    pub fn updated_seen_by(&self, id: RequestId, as_sender: bool) -> Timestamp {
        let Some(r) = self.request(id) else { return Timestamp(0) };
        self.updated_seen_in(id, r, r.shown_to(as_sender), as_sender)
    }

    /// [`State::updated_seen_by`] for record `r` of request `id`, shown in state `shown`.
    pub fn updated_seen_in(
        &self,
        id: RequestId,
        r: &RequestRecord,
        shown: RequestState,
        as_sender: bool,
    ) -> Timestamp {
        if as_sender && shown == RequestState::Pending {
            return r.created_at;
        }
        if shown != r.state
            && let Some(before) = self.before_block.get(&id)
        {
            return *before;
        }
        r.updated_at
    }

    /// The flag with this id.
    pub fn flag(&self, id: FlagId) -> Option<&FlagRecord> {
        usize::try_from(id.0).ok()?.checked_sub(1).and_then(|i| self.flags.get(i))
    }

    /// The notification with this id.
    pub fn notification(&self, id: NotificationId) -> Option<&NotificationRecord> {
        usize::try_from(id.0).ok()?.checked_sub(1).and_then(|i| self.notifications.get(i))
    }

    /// The email with this id (the id of the notification it carries).
    pub fn email(&self, id: EmailId) -> Option<EmailRecord> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        let n = self.notifications.get(index)?;
        if n.mail == Mail::None {
            return None;
        }
        let delay = self
            .email_delays
            .iter()
            .rev()
            .find(|(from, _)| *from <= index)
            .map_or(Default::default(), |d| d.1);
        Some(EmailRecord {
            notification: NotificationId(id.0),
            due_at: self.request(n.request).map_or(Timestamp(0), |r| n.created_at(r)).plus(delay),
            sent_at: (n.mail == Mail::Sent).then_some(n.sent_at),
        })
    }

    /// Whether `a` and `b` are connected.
    pub fn connected(&self, a: MemberId, b: MemberId) -> bool {
        match (self.members.get(&a), self.members.get(&b)) {
            (Some(ma), Some(mb)) => Member::connected((a, ma), (b, mb)),
            _ => false,
        }
    }

    /// Whether a block stands in either direction.
    pub fn blocked_either_way(&self, a: MemberId, b: MemberId) -> bool {
        self.blocks.contains(&(a, b)) || self.blocks.contains(&(b, a))
    }

    /// The standing a member's moderation record implies.
    pub fn derived_standing(&self, member: MemberId) -> Standing {
        let Some(m) = self.moderation.get(&member) else {
            return Standing::Good;
        };
        let auto = m.open.iter().any(|(_, f)| self.flag(*f).is_some_and(|f| f.automatic_restriction));
        if m.restricted_by_decision || auto {
            Standing::Restricted
        } else if !m.open.is_empty() {
            Standing::UnderReview
        } else {
            Standing::Good
        }
    }

    fn set_request_state(&mut self, id: RequestId, to: RequestState, at: Timestamp) {
        let r = self.request_mut(id);
        let from = r.state;
        let (sender, recipient) = (r.sender, r.recipient);
        r.state = to;
        r.updated_at = at;
        self.by_state[state_index(from)] -= 1;
        self.by_state[state_index(to)] += 1;
        if from.is_open() && !to.is_open() {
            self.open_pairs.remove(&pair_key(sender, recipient));
            while self.requests.get(self.oldest_open).is_some_and(|r| !r.state.is_open()) {
                self.oldest_open += 1;
            }
        }
    }

    fn connect(&mut self, a: MemberId, b: MemberId) {
        for (x, y) in [(a, b), (b, a)] {
            if let Some(m) = self.members.get_mut(&x)
                && let Err(pos) = m.connections.binary_search(&y)
            {
                let list = &mut m.connections;
                if list.len() == list.capacity() {
                    // Grow into a fresh allocation rather than `realloc`, whose try at
                    // growing in place reads the next heap block (a cache miss of its own).
                    let mut grown = Vec::with_capacity((list.len() * 2).max(4));
                    grown.extend_from_slice(list);
                    *list = grown;
                }
                list.insert(pos, y);
                m.connection_bits.add(y);
            }
        }
        self.connection_pairs += 1;
    }

    fn disconnect(&mut self, a: MemberId, b: MemberId) {
        for (x, y) in [(a, b), (b, a)] {
            if let Some(m) = self.members.get_mut(&x)
                && let Ok(pos) = m.connections.binary_search(&y)
            {
                m.connections.remove(pos);
                m.connection_bits = ConnectionBits::of(&m.connections);
            }
        }
        self.connection_pairs -= 1;
    }

    fn notify(
        &mut self,
        policy: &Policy,
        member: MemberId,
        kind: NotificationKind,
        request: RequestId,
        at: Timestamp,
    ) {
        let index = self.notifications.len();
        let Some(m) = self.members.get_mut(&member) else {
            return;
        };
        let record = NotificationRecord {
            request,
            kind,
            read: false,
            mail: Mail::None,
            sent_at: Timestamp(0),
            prev: m.last_notification,
        };
        m.last_notification = Link::to(index);
        m.unread += 1;
        let mailed = kind != NotificationKind::InvitationExpired && m.has_email;
        self.notifications.push(record);
        debug_assert!(self.request(request).is_some_and(|r| self.notifications[index].created_at(r) == at));
        if mailed {
            if self.email_delays.last().is_none_or(|(_, d)| *d != policy.email_delay) {
                self.email_delays.push((index, policy.email_delay));
            }
            self.notifications[index].mail = Mail::Unsent;
            self.unsent += 1;
        }
    }

    /// Remembers how one of a sender's invitations ended, for the optional
    /// low-acceptance rule (kept only while the policy has that rule, and only the
    /// last `low_acceptance_min_resolved`).
    fn record_outcome(
        &mut self,
        policy: &Policy,
        request: RequestId,
        accepted: bool,
        was_ignored: bool,
        seq: Seq,
    ) {
        let Some(keep) = policy.low_acceptance_min_resolved else {
            return;
        };
        let sender = self.requests[request.0 as usize - 1].sender;
        let outcomes = &mut self.moderation.entry(sender).or_default().outcomes;
        // An ignored request was counted when it was ignored; a later accept,
        // decline or expiry updates that outcome instead of counting twice.
        let earlier = if was_ignored { outcomes.iter_mut().rev().find(|o| o.0 == request) } else { None };
        match earlier {
            Some(o) => *o = (request, accepted, seq),
            None => outcomes.push((request, accepted, seq)),
        }
        let keep = keep as usize;
        if outcomes.len() > keep {
            outcomes.drain(..outcomes.len() - keep);
        }
    }

    /// Applies one event. Events come from `Model::decide`, which has checked
    /// every rule, so this cannot fail.
    pub fn apply(&mut self, policy: &mut Policy, event: &Event) {
        let at = event.at;
        let seq = event.seq;
        self.last_seq = seq;
        self.last_at = LogClock(self.last_at.0.max(at));
        match &event.body {
            EventBody::MemberRegistered { member, email, name } => {
                self.by_standing[standing_index(Standing::Good)] += 1;
                let has_email = email.is_some();
                self.members.insert(*member, Member { has_email, ..Member::default() });
                if let Some(profile) = Profile::new(email.clone(), name.as_deref().map(Box::from)) {
                    self.profiles.insert(*member, profile);
                }
            }
            EventBody::InvitationSettingChanged { member, setting } => {
                if let Some(m) = self.members.get_mut(member) {
                    m.setting = *setting;
                }
            }
            EventBody::ContactsImported { member, emails } => {
                if self.members.contains_key(member) {
                    let profile = self.profiles.entry(*member).or_default();
                    let contacts = profile.contacts.get_or_insert_with(Default::default);
                    contacts.extend(emails.iter().map(EmailAddress::key));
                }
            }
            EventBody::InvitationSent { request, sender, recipient, note } => {
                let index = self.requests.len();
                // The new request goes first in each list; the one that was third
                // is now three before it.
                let push = |newest: &mut [Link; 3]| {
                    let back = newest[2];
                    *newest = [Link::to(index), newest[0], newest[1]];
                    back
                };
                let back_by_sender = self.members.get_mut(sender).map_or(Link::NONE, |m| push(&mut m.sent));
                let back_by_recipient =
                    self.members.get_mut(recipient).map_or(Link::NONE, |m| push(&mut m.received));
                if let Some(n) = note {
                    self.texts
                        .insert(*request, RequestTexts { note: Some(n.as_str().into()), message: None });
                }
                self.requests.push(RequestRecord {
                    back_by_sender,
                    back_by_recipient,
                    has_texts: note.is_some(),
                    sender: *sender,
                    recipient: *recipient,
                    state: RequestState::Pending,
                    cancelled: CancelMark::default(),
                    created_at: at,
                    updated_at: at,
                    seq,
                });
                self.by_state[state_index(RequestState::Pending)] += 1;
                self.open_pairs
                    .insert(pair_key(*sender, *recipient), OpenRequest::new(*request, sender < recipient));
                self.notify(policy, *recipient, NotificationKind::InvitationReceived, *request, at);
            }
            EventBody::InvitationAccepted { request } => {
                let was_ignored = self.requests[request.0 as usize - 1].state == RequestState::Ignored;
                self.set_request_state(*request, RequestState::Accepted, at);
                let r = &self.requests[request.0 as usize - 1];
                let (s, rc) = (r.sender, r.recipient);
                self.connect(s, rc);
                self.record_outcome(policy, *request, true, was_ignored, seq);
                self.notify(policy, s, NotificationKind::InvitationAccepted, *request, at);
            }
            EventBody::InvitationIgnored { request } => {
                self.set_request_state(*request, RequestState::Ignored, at);
                self.record_outcome(policy, *request, false, false, seq);
            }
            EventBody::InvitationDeclined { request, message } => {
                let was_ignored = self.requests[request.0 as usize - 1].state == RequestState::Ignored;
                self.set_request_state(*request, RequestState::Declined, at);
                let r = self.request_mut(*request);
                r.has_texts |= message.is_some();
                let (s, rc) = (r.sender, r.recipient);
                if let Some(m) = message {
                    self.texts.entry(*request).or_default().message = Some(m.as_str().into());
                }
                self.pairs.entry((s, rc)).or_insert_with(|| PairHistory::closed_at(at)).last_closed = at;
                self.record_outcome(policy, *request, false, was_ignored, seq);
                if policy.notify_on_decline {
                    self.notify(policy, s, NotificationKind::InvitationDeclined, *request, at);
                }
            }
            EventBody::InvitationWithdrawn { request, message } => {
                self.set_request_state(*request, RequestState::Withdrawn, at);
                let r = self.request_mut(*request);
                r.has_texts |= message.is_some();
                let (s, rc) = (r.sender, r.recipient);
                if let Some(m) = message {
                    self.texts.entry(*request).or_default().message = Some(m.as_str().into());
                }
                self.pairs.entry((s, rc)).or_insert_with(|| PairHistory::closed_at(at)).withdrawn(at, seq);
                if policy.notify_on_withdraw {
                    self.notify(policy, rc, NotificationKind::InvitationWithdrawn, *request, at);
                }
            }
            EventBody::InvitationExpired { request } => {
                let was_ignored = self.requests[request.0 as usize - 1].state == RequestState::Ignored;
                self.set_request_state(*request, RequestState::Expired, at);
                self.record_outcome(policy, *request, false, was_ignored, seq);
                let r = &self.requests[request.0 as usize - 1];
                let s = r.sender;
                self.notify(policy, s, NotificationKind::InvitationExpired, *request, at);
            }
            EventBody::InvitationCancelled { request, blocker } => {
                let r = &self.requests[request.0 as usize - 1];
                let (before, before_at) = (r.state, r.updated_at);
                self.set_request_state(*request, RequestState::Cancelled, at);
                let r = self.request_mut(*request);
                let sender_blocked = r.recipient == *blocker;
                r.cancelled = CancelMark::new(before, sender_blocked);
                self.before_block.insert(*request, before_at);
            }
            EventBody::ConnectionRemoved { member, other } => self.disconnect(*member, *other),
            EventBody::MemberBlocked { blocker, blocked } => {
                self.blocks.insert((*blocker, *blocked));
            }
            EventBody::MemberUnblocked { blocker, blocked } => {
                self.blocks.remove(&(*blocker, *blocked));
            }
            EventBody::MemberReported { reporter, reported, reason, .. } => {
                if *reason == ReportReason::DontKnow {
                    self.dont_know.insert((*reporter, *reported));
                }
                self.moderation.entry(*reported).or_default().reports.push((*reporter, at, seq));
            }
            EventBody::AccountFlagged { flag, member, rule, evidence } => {
                debug_assert_eq!(flag.0 as usize, self.flags.len() + 1);
                self.flags.push(FlagRecord {
                    member: *member,
                    rule: *rule,
                    evidence: evidence.clone(),
                    created_at: at,
                    status: FlagStatus::Open,
                    automatic_restriction: false,
                });
                self.open_flags.insert(*flag);
                self.moderation.entry(*member).or_default().open.push((*rule, *flag));
            }
            EventBody::FlagEvidenceAdded { flag, evidence, .. } => {
                if let Some(f) = self.flags.get_mut(flag.0 as usize - 1) {
                    f.evidence.extend_from_slice(evidence);
                }
            }
            EventBody::FlagResolved { flag, member, decision } => {
                let f = &mut self.flags[flag.0 as usize - 1];
                f.status = match decision {
                    Decision::Clear => FlagStatus::Cleared,
                    Decision::Restrict => FlagStatus::Restricted,
                };
                let rule = f.rule;
                let through = f.evidence.iter().copied().max().unwrap_or(Seq(0));
                self.open_flags.remove(flag);
                let m = self.moderation.entry(*member).or_default();
                m.open.retain(|(_, f)| f != flag);
                match decision {
                    Decision::Clear => {
                        m.cleared_through.retain(|(r, _)| *r != rule);
                        m.cleared_through.push((rule, through.max(seq)));
                    }
                    Decision::Restrict => m.restricted_by_decision = true,
                }
            }
            EventBody::StandingChanged { member, to, automatic, .. } => {
                if *automatic
                    && let Some(m) = self.moderation.get(member)
                    && let Some(f) = m.open_flag(FlagRule::Reported)
                {
                    self.flags[f.0 as usize - 1].automatic_restriction = true;
                }
                if let Some(m) = self.members.get_mut(member) {
                    self.by_standing[standing_index(m.standing)] -= 1;
                    self.by_standing[standing_index(*to)] += 1;
                    m.standing = *to;
                }
            }
            EventBody::NotificationsRead { member, ids } => {
                let mut read = 0;
                for id in ids {
                    if let Some(n) = self.notifications.get_mut(id.0 as usize - 1) {
                        read += u32::from(!n.read);
                        n.read = true;
                    }
                }
                if let Some(m) = self.members.get_mut(member) {
                    m.unread -= read;
                }
            }
            EventBody::EmailSent { email, .. } => {
                if let Some(n) = self.notifications.get_mut(email.0 as usize - 1)
                    && n.mail == Mail::Unsent
                {
                    n.mail = Mail::Sent;
                    n.sent_at = at;
                    self.unsent -= 1;
                    while self.notifications.get(self.oldest_unsent).is_some_and(|n| n.mail != Mail::Unsent) {
                        self.oldest_unsent += 1;
                    }
                }
            }
            EventBody::PolicyChanged { policy: new } => {
                *policy = (**new).clone();
            }
        }
    }
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
        assert_eq!(size_of::<Member>(), 64);
        assert_eq!(size_of::<Option<Member>>(), 64);
        assert!(size_of::<PairHistory>() <= 24, "{}", size_of::<PairHistory>());
    }

    /// Records that are only their link back.
    fn records(links: &[u32]) -> Chunked<Link> {
        let mut c = Chunked::default();
        for l in links {
            c.push(Link(*l));
        }
        c
    }

    fn walk(c: &Chunked<Link>, first: [u32; 3], span: usize) -> Vec<usize> {
        Thread::new(c, first.map(Link), span, |l: &Link| *l).map(|(i, _)| i).collect()
    }

    #[test]
    fn a_thread_runs_newest_first_and_a_damaged_link_ends_it_instead_of_looping() {
        // One step back: 1 <- 3 <- 4 <- 6 (1-based); 2 and 5 belong to another list.
        let c = records(&[0, 0, 1, 3, 0, 4]);
        assert_eq!(walk(&c, [6, 0, 0], 1), vec![5, 3, 2, 0]);
        assert_eq!(walk(&c, [0, 0, 0], 1), Vec::<usize>::new());
        // Three steps back: the list 9, 8, 6, 5, 3, 2, 1 (1-based), each record
        // naming the one three places before it; the walk starts from 9, 8, 6.
        let c = records(&[0, 0, 0, 0, 1, 2, 0, 3, 5]);
        assert_eq!(walk(&c, [9, 8, 6], 3), vec![8, 7, 5, 4, 2, 1, 0]);
        // Shorter than three.
        assert_eq!(walk(&c, [8, 6, 0], 3), vec![7, 5]);
        // A link to itself, forwards, or past the end.
        assert_eq!(walk(&records(&[1]), [1, 0, 0], 1), vec![0]);
        assert_eq!(walk(&records(&[0, 2]), [2, 0, 0], 1), vec![1]);
        assert_eq!(walk(&records(&[0, 5]), [2, 0, 0], 1), vec![1]);
        assert_eq!(walk(&records(&[0]), [9, 0, 0], 1), Vec::<usize>::new());
        assert_eq!(walk(&records(&[0, 0, 9, 9]), [4, 3, 2], 3), vec![3, 2, 1]);
        // Starting links out of order end the list where the order breaks.
        assert_eq!(walk(&records(&[0, 0, 0, 0]), [3, 4, 1], 3), vec![2]);
        assert_eq!(Link::to(0), Link(1));
        assert_eq!(Link::to(6).index(), Some(6));
        assert_eq!(Link::NONE.index(), None);
    }

    #[test]
    fn connection_bits_never_deny_a_connection_and_deny_most_others() {
        let list: Vec<MemberId> = (1..=4).map(|i| MemberId(i * 7_919)).collect();
        let bits = ConnectionBits::of(&list);
        assert!(list.iter().all(|id| bits.may_contain(*id)));
        let mut grown = ConnectionBits::default();
        list.iter().for_each(|id| grown.add(*id));
        assert_eq!(grown, bits);
        let denied = (100_000..110_000).map(MemberId).filter(|id| !bits.may_contain(*id)).count();
        assert!(denied > 8_000, "four connections should leave most ids denied, got {denied} of 10,000");
        assert!(!ConnectionBits::default().may_contain(MemberId(1)));
    }

    #[test]
    fn a_pair_history_keeps_every_withdrawal_in_order_and_the_last_close() {
        let mut pair = PairHistory::closed_at(Timestamp(5));
        assert!(pair.withdrawals.is_empty());
        pair.withdrawn(Timestamp(7), Seq(3));
        pair.withdrawn(Timestamp(9), Seq(8));
        assert_eq!(&*pair.withdrawals, &[(Timestamp(7), Seq(3)), (Timestamp(9), Seq(8))]);
        assert_eq!(pair.last_closed, Timestamp(9));
    }
}

//! The state the events imply, and `apply`, the one function that changes it.

use crate::chunked::Chunked;
use crate::event::{Event, EventBody};
use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId, Seq};
pub use crate::kinds::RequestState;
use crate::kinds::{
    Decision, FlagRule, FlagStatus, InvitationSetting, NotificationKind, ReportReason, Standing,
};
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

/// A registered member.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Address for emails.
    pub email: Option<EmailAddress>,
    /// Display name.
    pub name: Option<Box<str>>,
    /// Who may invite this member.
    pub setting: InvitationSetting,
    /// Lowercased imported contact addresses.
    pub contacts: Option<Box<Set<String>>>,
    /// Moderation standing.
    pub standing: Standing,
    /// Connections, sorted by id.
    pub connections: Vec<MemberId>,
    /// Requests sent, oldest first.
    pub sent: Vec<RequestId>,
    /// Requests received, oldest first.
    pub received: Vec<RequestId>,
    /// In-app notifications, oldest first.
    pub notifications: Vec<NotificationId>,
    /// How many of them are unread.
    pub unread: u64,
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

/// The note and the withdraw/decline message of a request, boxed because most
/// requests have neither.
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

/// A stored request (56 bytes: millions are held in memory). The state shown to
/// each party is derived by [`RequestRecord::shown_to`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// Note and message, when there are any.
    pub texts: Option<Box<RequestTexts>>,
    /// The true state.
    pub state: RequestState,
    /// Set when a block cancelled it.
    pub cancelled: CancelMark,
}

impl RequestRecord {
    /// The optional note.
    pub fn note(&self) -> Option<&str> {
        self.texts.as_ref().and_then(|t| t.note.as_deref())
    }

    /// The optional withdraw or decline message.
    pub fn message(&self) -> Option<&str> {
        self.texts.as_ref().and_then(|t| t.message.as_deref())
    }

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
        let mut all = std::mem::take(&mut self.withdrawals).into_vec();
        all.push((at, seq));
        self.withdrawals = all.into_boxed_slice();
        self.last_closed = at;
    }
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
    #[serde(deserialize_with = "sized_map")]
    pub members: Map<MemberId, Box<Member>>,
    /// Requests; request `n` is at index `n - 1`.
    pub requests: Chunked<RequestRecord>,
    /// Open requests by (sender, recipient).
    #[serde(deserialize_with = "sized_map")]
    pub open_pairs: Map<(MemberId, MemberId), RequestId>,
    /// Index (0-based) of the oldest request that may still be open: every
    /// request before it is closed. Ids follow creation time (the log's clock
    /// never runs backwards), so expiry scans forward from here.
    pub oldest_open: usize,
    /// Blocks: (blocker, blocked).
    pub blocks: Set<(MemberId, MemberId)>,
    /// "I don't know this person" reports: (reporter, reported).
    pub dont_know: Set<(MemberId, MemberId)>,
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
        let shown = r.shown_to(as_sender);
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
        self.members.get(&a).is_some_and(|m| m.connections.binary_search(&b).is_ok())
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
            self.open_pairs.remove(&(sender, recipient));
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
                m.connections.insert(pos, y);
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
        let id = NotificationId(self.notifications.len() as u64 + 1);
        let index = self.notifications.len();
        self.notifications.push(NotificationRecord {
            request,
            kind,
            read: false,
            mail: Mail::None,
            sent_at: Timestamp(0),
        });
        debug_assert!(self.request(request).is_some_and(|r| self.notifications[index].created_at(r) == at));
        let Some(m) = self.members.get_mut(&member) else {
            return;
        };
        m.notifications.push(id);
        m.unread += 1;
        if kind != NotificationKind::InvitationExpired && m.email.is_some() {
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
                self.members.insert(
                    *member,
                    Box::new(Member {
                        email: email.clone(),
                        name: name.as_deref().map(Box::from),
                        ..Member::default()
                    }),
                );
            }
            EventBody::InvitationSettingChanged { member, setting } => {
                if let Some(m) = self.members.get_mut(member) {
                    m.setting = *setting;
                }
            }
            EventBody::ContactsImported { member, emails } => {
                if let Some(m) = self.members.get_mut(member) {
                    let contacts = m.contacts.get_or_insert_with(Default::default);
                    contacts.extend(emails.iter().map(EmailAddress::key));
                }
            }
            EventBody::InvitationSent { request, sender, recipient, note } => {
                self.requests.push(RequestRecord {
                    sender: *sender,
                    recipient: *recipient,
                    state: RequestState::Pending,
                    cancelled: CancelMark::default(),
                    created_at: at,
                    updated_at: at,
                    texts: note
                        .as_deref()
                        .map(|n| Box::new(RequestTexts { note: Some(n.into()), message: None })),
                    seq,
                });
                self.by_state[state_index(RequestState::Pending)] += 1;
                self.open_pairs.insert((*sender, *recipient), *request);
                if let Some(m) = self.members.get_mut(sender) {
                    m.sent.push(*request);
                }
                if let Some(m) = self.members.get_mut(recipient) {
                    m.received.push(*request);
                }
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
                if let Some(m) = message {
                    r.texts.get_or_insert_with(Default::default).message = Some(m.as_str().into());
                }
                let (s, rc) = (r.sender, r.recipient);
                self.pairs.entry((s, rc)).or_insert_with(|| PairHistory::closed_at(at)).last_closed = at;
                self.record_outcome(policy, *request, false, was_ignored, seq);
                if policy.notify_on_decline {
                    self.notify(policy, s, NotificationKind::InvitationDeclined, *request, at);
                }
            }
            EventBody::InvitationWithdrawn { request, message } => {
                self.set_request_state(*request, RequestState::Withdrawn, at);
                let r = self.request_mut(*request);
                if let Some(m) = message {
                    r.texts.get_or_insert_with(Default::default).message = Some(m.as_str().into());
                }
                let (s, rc) = (r.sender, r.recipient);
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
                        read += u64::from(!n.read);
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
        assert!(size_of::<RequestRecord>() <= 56, "{}", size_of::<RequestRecord>());
        assert!(size_of::<NotificationRecord>() <= 24, "{}", size_of::<NotificationRecord>());
        assert!(size_of::<PairHistory>() <= 24, "{}", size_of::<PairHistory>());
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

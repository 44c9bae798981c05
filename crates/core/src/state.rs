//! The state the events imply: every record and index the rules and the
//! queries read, and the lookups on them. Only `evolve` changes it.

use crate::chunked::Chunked;
use crate::collections::{Map, Set, sized_map};
use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId, Seq};
use crate::kinds::{
    EmailKind, Locale, NotificationKind, PreferenceKind, ReportReason, RequestState, Standing,
};
use crate::members::{Member, MemberTable, Profile};
use crate::records::{
    EmailRecord, FlagRecord, Mail, ModerationRecord, NotificationRecord, OpenRequest, PairHistory, Party,
    PartyView, QueuedDigest, RequestRecord, RequestTexts, ScheduledEmail, pair_key, seen_as,
};
use crate::text::EmailAddress;
use crate::thread::{Link, Thread};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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
    /// How one party sees a request, for the requests a party sees otherwise
    /// than they are (a block, a silent decline or withdrawal; see `PartyView`).
    #[serde(deserialize_with = "sized_map")]
    pub views: Map<RequestId, PartyView>,
    /// For each pair with a request that is open only in one party's view (not
    /// in truth), or that they cancelled by a block while they saw it open,
    /// that request: at most one per pair, like the truly open ones.
    #[serde(deserialize_with = "sized_map")]
    pub live_views: Map<(MemberId, MemberId), RequestId>,
    /// Wrong addresses each sender gave in `send(..., email=...)`, with when:
    /// the last day's, oldest first (SPEC §18).
    #[serde(deserialize_with = "sized_map")]
    pub wrong_addresses: Map<MemberId, Vec<Timestamp>>,
    /// Index (0-based) of the oldest notification whose email may be unsent:
    /// every email before it was sent.
    pub oldest_unsent: usize,
    /// How many emails are unsent.
    pub unsent: u64,
    /// Reminders and digests (emails without a notification of their own),
    /// by record: whose, and when due.
    #[serde(deserialize_with = "sized_map")]
    pub scheduled: Map<usize, ScheduledEmail>,
    /// The unsent reminders and digests by due time (the emails of
    /// notifications are found from `oldest_unsent`).
    pub due: BTreeSet<(Timestamp, usize)>,
    /// The digest each daily member has queued.
    #[serde(deserialize_with = "sized_map")]
    pub digests: Map<MemberId, QueuedDigest>,
    /// The kinds of email each member switched off (bits of `PreferenceKind::bits`),
    /// for the members who switched any off.
    #[serde(deserialize_with = "sized_map")]
    pub email_off: Map<MemberId, u8>,
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
    /// Members by standing, indexed like [`Standing::ALL`] (erased members not counted).
    pub by_standing: [u64; 3],
    /// Members by address: [`address_hash`] of the address's key to the member
    /// with the lowest id that has it (others in `by_email_more`), so that
    /// imported contacts who are members are found without a scan.
    #[serde(deserialize_with = "sized_map")]
    pub by_email: Map<u64, MemberId>,
    /// Further members with an address of the same hash, sorted by id.
    #[serde(deserialize_with = "sized_map")]
    pub by_email_more: Map<u64, Vec<MemberId>>,
    /// The reports each member made: (reported, reason, when), oldest first
    /// (a member's own, for `export_member`).
    #[serde(deserialize_with = "sized_map")]
    pub reports_made: Map<MemberId, Vec<(MemberId, ReportReason, Timestamp)>>,
}

/// A fixed 64-bit hash of an address's key (FNV-1a): the same in every
/// process and version, as the index it keys is saved in snapshots.
pub fn address_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A request as one party sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen<'a> {
    /// The state they see.
    pub state: RequestState,
    /// When it last changed as they see it.
    pub since: Timestamp,
    /// The withdraw or decline message their own view holds, replacing the
    /// request's (`None`: they see the request's own).
    pub own_message: Option<Option<&'a str>>,
}

/// The index of a standing in [`Standing::ALL`].
pub fn standing_index(s: Standing) -> usize {
    Standing::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

impl State {
    /// The requests `m` sent or received (as `party`), newest first, with their indexes.
    pub fn requests_of(&self, m: &Member, party: Party) -> impl Iterator<Item = (usize, &RequestRecord)> {
        let first = match party {
            Party::Sender => m.sent,
            Party::Recipient => m.received,
        };
        let back = move |r: &RequestRecord| match party {
            Party::Sender => r.back_by_sender,
            Party::Recipient => r.back_by_recipient,
        };
        Thread::new(&self.requests, first, 3, back)
    }

    /// The requests `m` sent after `since`, newest first (the log's clock never
    /// runs backwards, so a member's sends are ordered by creation time).
    pub fn sends_since<'a>(
        &'a self,
        m: &Member,
        since: Timestamp,
    ) -> impl Iterator<Item = &'a RequestRecord> {
        self.requests_of(m, Party::Sender).map(|(_, r)| r).take_while(move |r| r.created_at > since)
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

    /// (whose inbox, the other member) of a notification, when its request exists.
    pub fn notified(&self, n: &NotificationRecord) -> Option<(MemberId, MemberId)> {
        self.request(n.request).map(|r| n.parties(r))
    }

    /// The view of its own `party` holds of request `id` (record `r`), when it
    /// differs from the truth.
    pub fn view_of(&self, id: RequestId, r: &RequestRecord, party: Party) -> Option<&PartyView> {
        if !r.has_view {
            return None;
        }
        self.views.get(&id).filter(|v| v.party == party)
    }

    /// Request `id` (record `r`) as `party` sees it: its state, when that last
    /// changed, and, when their view holds one of its own, the withdraw or
    /// decline message they see instead of the request's; `None` when it is
    /// not in their views at all.
    pub fn seen_by<'a>(&'a self, id: RequestId, r: &'a RequestRecord, party: Party) -> Option<Seen<'a>> {
        if let Some(v) = self.view_of(id, r, party) {
            let state = seen_as(v.state?, party);
            let since =
                if party == Party::Sender && state == RequestState::Pending { r.created_at } else { v.since };
            return Some(Seen { state, since, own_message: Some(v.message.as_deref()) });
        }
        let state = r.truth_seen_by(party);
        // The sender never learns of an ignore: a pending request changed when it was sent.
        let since = if party == Party::Sender && state == RequestState::Pending {
            r.created_at
        } else {
            r.updated_at
        };
        Some(Seen { state, since, own_message: None })
    }

    /// When notification `n` was made: a request's notifications are made when it
    /// is sent and when it closes (as the member told sees it), and a closed
    /// request never changes again.
    pub fn notified_at(&self, n: &NotificationRecord) -> Option<Timestamp> {
        let r = self.request(n.request)?;
        if n.kind == NotificationKind::InvitationReceived {
            return Some(r.created_at);
        }
        match self.view_of(n.request, r, n.told()) {
            Some(v) => Some(v.since),
            None => Some(r.updated_at),
        }
    }

    /// A request between `a` and `b` open in one party's view only, if any.
    pub fn open_in_view_between(&self, a: MemberId, b: MemberId) -> Option<RequestId> {
        let id = self.live_view_between(a, b)?;
        let r = self.request(id)?;
        self.views.get(&id).filter(|_| r.has_view).and_then(|v| v.state).filter(|s| s.is_open()).map(|_| id)
    }

    /// A request between `a` and `b` with a view that still matters: open in
    /// it, or cancelled by its party's own block (see `PartyView::before_block`).
    pub fn live_view_between(&self, a: MemberId, b: MemberId) -> Option<RequestId> {
        self.live_views.get(&pair_key(a, b)).copied()
    }

    /// The flag with this id.
    pub fn flag(&self, id: FlagId) -> Option<&FlagRecord> {
        usize::try_from(id.0).ok()?.checked_sub(1).and_then(|i| self.flags.get(i))
    }

    /// The notification with this id.
    pub fn notification(&self, id: NotificationId) -> Option<&NotificationRecord> {
        usize::try_from(id.0).ok()?.checked_sub(1).and_then(|i| self.notifications.get(i))
    }

    /// The email with this id (the id of the notification it carries, or of
    /// the reminder's or the digest's own record).
    pub fn email(&self, id: EmailId) -> Option<EmailRecord> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        let n = self.notifications.get(index)?;
        let skipped = match n.mail {
            Mail::None | Mail::InDigest => return None,
            Mail::Skipped(reason) => Some(reason),
            Mail::Unsent | Mail::Sent => None,
        };
        let (member, due_at) = match self.scheduled.get(&index) {
            Some(e) => (e.member, e.due_at),
            None => {
                let delay = self
                    .email_delays
                    .iter()
                    .rev()
                    .find(|(from, _)| *from <= index)
                    .map_or(Default::default(), |d| d.1);
                (self.notified(n)?.0, self.notified_at(n)?.plus(delay))
            }
        };
        Some(EmailRecord {
            notification: NotificationId(id.0),
            member,
            kind: n.email_kind(),
            due_at,
            sent_at: n.sent_at(),
            skipped,
        })
    }

    /// The kinds of email `member` (record `m`) switched off, as bits of `PreferenceKind::bits`.
    pub fn email_off_of(&self, member: MemberId, m: &Member) -> u8 {
        if m.mail.some_off() { self.email_off.get(&member).copied().unwrap_or(0) } else { 0 }
    }

    /// Whether `member` (record `m`) gets emails of `kind`.
    pub fn wants_email(&self, member: MemberId, m: &Member, kind: EmailKind) -> bool {
        PreferenceKind::governing(kind).is_none_or(|p| self.email_off_of(member, m) & p.bits() == 0)
    }

    /// The language of member `id`'s texts.
    pub fn locale_of(&self, id: MemberId) -> Locale {
        self.profile(id).map(|p| p.locale).unwrap_or_default()
    }

    /// The notifications `member`'s queued digest lists now, newest first:
    /// in their inbox from the digest's first on, listed in it and unread.
    pub fn digest_items(&self, member: MemberId) -> Vec<(usize, &NotificationRecord)> {
        let (Some(m), Some(d)) = (self.members.get(&member), self.digests.get(&member)) else {
            return Vec::new();
        };
        self.inbox_of(m)
            .take_while(|(i, _)| *i >= d.from)
            .filter(|(_, n)| n.mail == Mail::InDigest && !n.read)
            .collect()
    }

    /// The unsent emails about request `r` (its `invitation_received` email,
    /// or its place in a queued digest, and its reminders), when it ends:
    /// `reminders_only` for an ignore, which ends the reminders only.
    pub fn unsent_about(&self, r: &RequestRecord, reminders_only: bool) -> Vec<EmailId> {
        let mut out = Vec::new();
        let id = |i: usize| EmailId(i as u64 + 1);
        if r.received_unsent
            && !reminders_only
            && let Some(i) = r.received.index()
            && let Some(n) = self.notifications.get(i)
        {
            let in_digest = n.mail == Mail::InDigest
                && self.digests.get(&r.recipient).is_some_and(|d| d.from <= i)
                && !n.read;
            if n.mail == Mail::Unsent || in_digest {
                out.push(id(i));
            }
        }
        if let Some(first) = r.first_reminder.index() {
            out.extend((first + r.reminders_done as usize..first + r.reminders as usize).map(id));
        }
        out
    }

    /// Whether `a` and `b` are connected.
    pub fn connected(&self, a: MemberId, b: MemberId) -> bool {
        match (self.members.get(&a), self.members.get(&b)) {
            (Some(ma), Some(mb)) => Member::connected((a, ma), (b, mb)),
            _ => false,
        }
    }

    /// The members whose address has this key (erased members have none).
    pub fn members_with_address(&self, key: &str) -> Vec<MemberId> {
        let h = address_hash(key);
        let first = self.by_email.get(&h).copied();
        let more = self.by_email_more.get(&h).map(Vec::as_slice).unwrap_or_default();
        first
            .into_iter()
            .chain(more.iter().copied())
            .filter(|m| self.email_of(*m).is_some_and(|e| e.key() == key))
            .collect()
    }

    /// The registered member `id`, unless erased.
    pub fn live_member(&self, id: MemberId) -> Option<&Member> {
        self.members.get(&id).filter(|m| !m.erased)
    }

    /// How many of the requests member `m` sent they see open, counting up to
    /// `at_most`: what SPEC §11's outstanding cap compares. Only requests from
    /// the expiry scan's start on can be open (in truth or in a view), so the
    /// walk stops there; it is run only under a policy with a cap.
    pub fn open_sent_by(&self, m: &Member, at_most: usize) -> usize {
        let from = self.oldest_open;
        self.requests_of(m, Party::Sender)
            .take_while(|(i, _)| *i >= from)
            .filter(|(i, r)| {
                self.seen_by(RequestId(*i as u64 + 1), r, Party::Sender).is_some_and(|s| s.state.is_open())
            })
            .take(at_most)
            .count()
    }

    /// Whether a block stands in either direction.
    pub fn blocked_either_way(&self, a: MemberId, b: MemberId) -> bool {
        self.blocks.contains(&(a, b)) || self.blocks.contains(&(b, a))
    }
}

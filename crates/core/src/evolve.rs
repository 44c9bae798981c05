//! `evolve`: applies one event to the state. Events come from `decide`,
//! which checked every rule and wrote into each event everything that follows
//! from it (who is told, when their email is due, which flag changed a
//! standing), so applying one decides nothing and reads no policy.

use crate::event::{Event, EventBody, Notice, OutcomeWindow, StandingCause};
use crate::ids::{MemberId, RequestId, Seq};
use crate::kinds::{Decision, FlagStatus, NotificationKind, ReportReason, RequestState, Standing};
use crate::members::{ConnectionBits, Member, Profile};
use crate::records::{
    Ended, Ending, FlagRecord, Mail, NotificationRecord, OpenRequest, PairHistory, Party, PartyView,
    RequestRecord, RequestTexts, pair_key, state_index,
};
use crate::state::{LogClock, State, standing_index};
use crate::text::EmailAddress;
use crate::thread::Link;
use crate::time::Timestamp;
use std::time::Duration;

impl State {
    /// Applies one event (everything but a policy change, which the model
    /// applies to its policy). This cannot fail: `decide` checked the rules.
    pub(crate) fn evolve(&mut self, event: &Event) {
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
            EventBody::InvitationSent { request, sender, recipient, note, notice } => {
                self.add_request(*request, *sender, *recipient, note.as_deref(), at, seq);
                self.notify(*recipient, NotificationKind::InvitationReceived, *request, at, *notice);
            }
            EventBody::InvitationAccepted { request, notice, window } => {
                let was_ignored = self.request_at(*request).state == RequestState::Ignored;
                // Accepting a request open only in its sender's view ends that view too.
                self.set_view(*request, None);
                self.set_request_state(*request, RequestState::Accepted, at);
                let (s, r) = self.parties_of(*request);
                self.connect(s, r);
                self.record_outcome(*window, *request, true, was_ignored, seq);
                self.notify(s, NotificationKind::InvitationAccepted, *request, at, *notice);
            }
            EventBody::InvitationIgnored { request, window } => {
                self.set_request_state(*request, RequestState::Ignored, at);
                self.record_outcome(*window, *request, false, false, seq);
            }
            EventBody::InvitationDeclined { request, message, notice, window } => {
                let was_ignored = self.request_at(*request).state == RequestState::Ignored;
                self.set_request_state(*request, RequestState::Declined, at);
                self.set_message(*request, message.as_deref());
                let (s, r) = self.parties_of(*request);
                self.record_outcome(*window, *request, false, was_ignored, seq);
                match notice {
                    Some(notice) => {
                        // A decline the sender is told of closes the pair for the cooldown.
                        self.ended((s, r), *request, Ended::Declined, at, seq);
                        self.notify(s, NotificationKind::InvitationDeclined, *request, at, *notice);
                    }
                    None => {
                        // Not told: the sender's view keeps it pending, without the message.
                        let since = self.request_at(*request).created_at;
                        let view = PartyView {
                            party: Party::Sender,
                            state: Some(RequestState::Pending),
                            since,
                            message: None,
                            before_block: None,
                        };
                        self.set_view(*request, Some(view));
                    }
                }
            }
            EventBody::InvitationWithdrawn { request, message, notice } => {
                self.set_request_state(*request, RequestState::Withdrawn, at);
                self.set_message(*request, message.as_deref());
                let (s, r) = self.parties_of(*request);
                self.ended((s, r), *request, Ended::Withdrawn, at, seq);
                match notice {
                    Some(notice) => {
                        self.notify(r, NotificationKind::InvitationWithdrawn, *request, at, *notice)
                    }
                    // Not told: the request leaves the recipient's views.
                    None => {
                        let view = PartyView {
                            party: Party::Recipient,
                            state: None,
                            since: at,
                            message: None,
                            before_block: None,
                        };
                        self.set_view(*request, Some(view));
                    }
                }
            }
            EventBody::InvitationExpired { request, notice, window } => {
                let was_ignored = self.request_at(*request).state == RequestState::Ignored;
                self.set_request_state(*request, RequestState::Expired, at);
                self.record_outcome(*window, *request, false, was_ignored, seq);
                let (s, r) = self.parties_of(*request);
                if was_ignored {
                    self.ended((s, r), *request, Ended::Ignored, at, seq);
                }
                self.notify(s, NotificationKind::InvitationExpired, *request, at, *notice);
            }
            EventBody::InvitationCancelled { request, blocker } => {
                // The member the block was aimed at keeps seeing it as it was
                // (the state kept is the true one: the sender still sees an
                // ignored request as pending, and a restored one is as it was).
                let r = self.request_at(*request);
                let blocked = if r.recipient == *blocker { Party::Sender } else { Party::Recipient };
                let kept = PartyView {
                    party: blocked,
                    state: Some(r.state),
                    since: r.updated_at,
                    message: None,
                    before_block: None,
                };
                self.set_request_state(*request, RequestState::Cancelled, at);
                self.set_view(*request, Some(kept));
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
                self.moderation.entry(*reported).or_default().reports.push((*reporter, at, seq, *reason));
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
                    resolved_by: None,
                    resolution_note: None,
                    resolved_at: None,
                });
                self.open_flags.insert(*flag);
                self.moderation.entry(*member).or_default().open.push((*rule, *flag));
            }
            EventBody::FlagEvidenceAdded { flag, evidence, .. } => {
                if let Some(f) = self.flags.get_mut(flag.0 as usize - 1) {
                    f.evidence.extend_from_slice(evidence);
                }
            }
            EventBody::FlagResolved { flag, member, decision, moderator, note } => {
                let f = &mut self.flags[flag.0 as usize - 1];
                f.status = match decision {
                    Decision::Clear => FlagStatus::Cleared,
                    Decision::Restrict => FlagStatus::Restricted,
                };
                f.resolved_by = *moderator;
                f.resolution_note = note.clone();
                f.resolved_at = Some(at);
                let rule = f.rule;
                let through = f.evidence.iter().copied().max().unwrap_or(Seq(0));
                self.open_flags.remove(flag);
                let m = self.moderation.entry(*member).or_default();
                m.open.retain(|(_, f)| f != flag);
                // Evidence a moderator decided on is spent either way: a
                // restriction lifted later does not bring it back.
                m.cleared_through.retain(|(r, _)| *r != rule);
                m.cleared_through.push((rule, through.max(seq)));
                if *decision == Decision::Restrict {
                    m.restricted_by_decision = true;
                }
            }
            EventBody::RestrictionLifted { member, .. } => {
                self.moderation.entry(*member).or_default().restricted_by_decision = false;
            }
            EventBody::StandingChanged { member, to, cause, .. } => {
                if let StandingCause::AutomaticRestriction(flag) = cause
                    && let Some(f) = self.flags.get_mut(flag.0 as usize - 1)
                {
                    f.automatic_restriction = true;
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
            // The model applies a policy change to its policy; the state has none.
            EventBody::PolicyChanged { .. } => {}
            EventBody::ViewChanged { request, party, state, message, notice } => {
                let r = self.request_at(*request);
                let (truth, truth_since) = (r.state, r.updated_at);
                let previous = self.view_of(*request, r, *party).and_then(|v| Some((v.state?, v.since)));
                // Cancelled by their own block while they saw it open: what they saw comes back when they lift it.
                let before_block = previous.filter(|(s, _)| *state == RequestState::Cancelled && s.is_open());
                let view = PartyView {
                    party: *party,
                    state: Some(*state),
                    since: at,
                    message: message.as_deref().map(Box::from),
                    before_block,
                };
                // A view that has come back to the truth is no view of its own.
                let same =
                    *state == truth && at == truth_since && message.is_none() && before_block.is_none();
                self.set_view(*request, (!same).then_some(view));
                let (s, r) = self.parties_of(*request);
                if *party == Party::Sender && *state == RequestState::Withdrawn {
                    // The sender withdrew, as far as they know: for moderation and cooldowns, it counts.
                    self.ended((s, r), *request, Ended::Withdrawn, at, seq);
                }
                if let Some(notice) = notice {
                    self.notify(s, NotificationKind::InvitationExpired, *request, at, *notice);
                }
            }
            EventBody::ViewRestored { request, party } => {
                let r = self.request_at(*request);
                if let Some(PartyView { before_block: Some((state, since)), .. }) =
                    self.view_of(*request, r, *party).cloned()
                {
                    let view = PartyView {
                        party: *party,
                        state: Some(state),
                        since,
                        message: None,
                        before_block: None,
                    };
                    self.set_view(*request, Some(view));
                }
            }
            EventBody::ViewExpiredBehindBlock { request, party } => {
                let r = self.request_at(*request);
                if let Some(mut view) = self.view_of(*request, r, *party).cloned() {
                    view.before_block = None;
                    self.set_view(*request, Some(view));
                }
            }
            EventBody::InvitationRestored { request, state } => {
                let r = self.request_at(*request);
                let view = self.views.get(request).filter(|_| r.has_view).cloned();
                if let Some(PartyView { since, .. }) = view {
                    let state = *state;
                    let (sender, recipient) = (r.sender, r.recipient);
                    self.set_view(*request, None);
                    self.set_request_state(*request, state, since);
                    self.open_pairs
                        .insert(pair_key(sender, recipient), OpenRequest::new(*request, sender < recipient));
                }
            }
            EventBody::WrongAddressGiven { sender, .. } => {
                let list = self.wrong_addresses.entry(*sender).or_default();
                // Only the last day's count; older ones are dropped to keep this small.
                list.retain(|t| t.0 > at.0 - crate::time::DAY_MS);
                list.push(at);
            }
        }
        if let EventBody::InvitationRestored { request, .. } | EventBody::ViewRestored { request, .. } =
            &event.body
        {
            // Open again: the expiry scan must start at it at the latest.
            self.oldest_open = self.oldest_open.min(request.0 as usize - 1);
        }
        if matches!(
            event.body,
            EventBody::InvitationAccepted { .. }
                | EventBody::InvitationDeclined { .. }
                | EventBody::InvitationWithdrawn { .. }
                | EventBody::InvitationExpired { .. }
                | EventBody::InvitationCancelled { .. }
                | EventBody::ViewChanged { .. }
                | EventBody::ViewExpiredBehindBlock { .. }
        ) {
            self.advance_oldest_open();
        }
    }

    /// Records in the pair's history that `request` ended.
    fn ended(&mut self, pair: (MemberId, MemberId), request: RequestId, how: Ended, at: Timestamp, seq: Seq) {
        // Request ids stay below 2^32 (`MAX_RECORDS`).
        let ending = Ending { at, seq, request: request.0 as u32, how };
        match self.pairs.get_mut(&pair) {
            Some(p) => p.ended(ending),
            None => {
                self.pairs.insert(pair, PairHistory::of(ending));
            }
        }
    }

    /// Sets (or, with `None`, removes) the view one party has of request `id`
    /// of its own, keeping the flag on the request and the index of requests
    /// open only in a view.
    fn set_view(&mut self, id: RequestId, view: Option<PartyView>) {
        let r = self.request_at(id);
        let key = pair_key(r.sender, r.recipient);
        let had = r.has_view;
        let live = view
            .as_ref()
            .is_some_and(|v| v.state.is_some_and(RequestState::is_open) || v.before_block.is_some());
        if live {
            self.live_views.insert(key, id);
        } else if had && self.live_views.get(&key) == Some(&id) {
            self.live_views.remove(&key);
        }
        self.request_mut(id).has_view = view.is_some();
        match view {
            Some(v) => {
                self.views.insert(id, v);
            }
            None if had => {
                self.views.remove(&id);
            }
            None => {}
        }
    }

    /// Whether request `index` is open in truth or in a party's view.
    fn open_anywhere(&self, index: usize) -> bool {
        self.requests.get(index).is_some_and(|r| {
            r.state.is_open()
                || (r.has_view
                    && self.views.get(&RequestId(index as u64 + 1)).is_some_and(|v| {
                        v.state.is_some_and(RequestState::is_open)
                            || v.before_block.is_some_and(|(s, _)| s.is_open())
                    }))
        })
    }

    /// Moves the expiry scan's start past requests open nowhere.
    fn advance_oldest_open(&mut self) {
        while self.oldest_open < self.requests.len() && !self.open_anywhere(self.oldest_open) {
            self.oldest_open += 1;
        }
    }

    fn request_at(&self, id: RequestId) -> &RequestRecord {
        &self.requests[id.0 as usize - 1]
    }

    fn request_mut(&mut self, id: RequestId) -> &mut RequestRecord {
        &mut self.requests[id.0 as usize - 1]
    }

    fn parties_of(&self, id: RequestId) -> (MemberId, MemberId) {
        let r = self.request_at(id);
        (r.sender, r.recipient)
    }

    fn add_request(
        &mut self,
        request: RequestId,
        sender: MemberId,
        recipient: MemberId,
        note: Option<&str>,
        at: Timestamp,
        seq: Seq,
    ) {
        let index = self.requests.len();
        // The new request goes first in each list; the one that was third
        // is now three before it.
        let push = |newest: &mut [Link; 3]| {
            let back = newest[2];
            *newest = [Link::to(index), newest[0], newest[1]];
            back
        };
        let back_by_sender = self.members.get_mut(&sender).map_or(Link::NONE, |m| push(&mut m.sent));
        let back_by_recipient =
            self.members.get_mut(&recipient).map_or(Link::NONE, |m| push(&mut m.received));
        if let Some(n) = note {
            self.texts.insert(request, RequestTexts { note: Some(n.into()), message: None });
        }
        self.requests.push(RequestRecord {
            back_by_sender,
            back_by_recipient,
            has_texts: note.is_some(),
            sender,
            recipient,
            state: RequestState::Pending,
            has_view: false,
            created_at: at,
            updated_at: at,
            seq,
        });
        self.by_state[state_index(RequestState::Pending)] += 1;
        self.open_pairs.insert(pair_key(sender, recipient), OpenRequest::new(request, sender < recipient));
    }

    fn set_message(&mut self, id: RequestId, message: Option<&str>) {
        if let Some(m) = message {
            self.request_mut(id).has_texts = true;
            self.texts.entry(id).or_default().message = Some(m.into());
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

    /// Puts a notification in `member`'s inbox and, when the notice says so,
    /// queues the email that carries it.
    fn notify(
        &mut self,
        member: MemberId,
        kind: NotificationKind,
        request: RequestId,
        at: Timestamp,
        notice: Notice,
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
        self.notifications.push(record);
        debug_assert_eq!(self.notified_at(&self.notifications[index]), Some(at));
        if let Some(after) = notice.email_after_ms {
            // Due times are kept as the delay in force from a notification on,
            // which changes only when the policy's does.
            if self.email_delays.last().is_none_or(|(_, d)| u64::try_from(d.as_millis()).ok() != Some(after))
            {
                self.email_delays.push((index, Duration::from_millis(after)));
            }
            self.notifications[index].mail = Mail::Unsent;
            self.unsent += 1;
        }
    }

    /// Remembers how one of a sender's invitations ended, for the optional
    /// low-acceptance rule (only while the rule is on, and only the last
    /// `window.keep`).
    fn record_outcome(
        &mut self,
        window: Option<OutcomeWindow>,
        request: RequestId,
        accepted: bool,
        was_ignored: bool,
        seq: Seq,
    ) {
        let Some(OutcomeWindow { keep }) = window else {
            return;
        };
        let sender = self.request_at(request).sender;
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
}

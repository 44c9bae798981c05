//! `evolve`: applies one event to the state. Events come from `decide`,
//! which checked every rule and wrote into each event everything that follows
//! from it (who is told, when their email is due, which flag changed a
//! standing), so applying one decides nothing and reads no policy.

use crate::event::{Event, EventBody, Notice, OutcomeWindow, StandingCause};
use crate::ids::{MemberId, RequestId, Seq};
use crate::kinds::{Decision, FlagStatus, NotificationKind, ReportReason, RequestState, Standing};
use crate::members::{ConnectionBits, Member, Profile};
use crate::records::{
    CancelMark, FlagRecord, Mail, NotificationRecord, OpenRequest, PairHistory, Party, RequestRecord,
    RequestTexts, pair_key, state_index,
};
use crate::state::{LogClock, State, standing_index};
use crate::text::EmailAddress;
use crate::thread::Link;
use crate::time::{Timestamp, duration_ms};
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
                self.pairs.entry((s, r)).or_insert_with(|| PairHistory::closed_at(at)).last_closed = at;
                self.record_outcome(*window, *request, false, was_ignored, seq);
                if let Some(notice) = notice {
                    self.notify(s, NotificationKind::InvitationDeclined, *request, at, *notice);
                }
            }
            EventBody::InvitationWithdrawn { request, message, notice } => {
                self.set_request_state(*request, RequestState::Withdrawn, at);
                self.set_message(*request, message.as_deref());
                let (s, r) = self.parties_of(*request);
                self.pairs.entry((s, r)).or_insert_with(|| PairHistory::closed_at(at)).withdrawn(at, seq);
                if let Some(notice) = notice {
                    self.notify(r, NotificationKind::InvitationWithdrawn, *request, at, *notice);
                }
            }
            EventBody::InvitationExpired { request, notice, window } => {
                let was_ignored = self.request_at(*request).state == RequestState::Ignored;
                self.set_request_state(*request, RequestState::Expired, at);
                self.record_outcome(*window, *request, false, was_ignored, seq);
                let (s, _) = self.parties_of(*request);
                self.notify(s, NotificationKind::InvitationExpired, *request, at, *notice);
            }
            EventBody::InvitationCancelled { request, blocker } => {
                let r = self.request_at(*request);
                let (before, before_at) = (r.state, r.updated_at);
                self.set_request_state(*request, RequestState::Cancelled, at);
                let r = self.request_mut(*request);
                let blocked = if r.recipient == *blocker { Party::Sender } else { Party::Recipient };
                r.cancelled = CancelMark::new(before, blocked);
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
            EventBody::FlagResolved { flag, member, decision, .. } => {
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
            cancelled: CancelMark::default(),
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
        debug_assert!(self.request(request).is_some_and(|r| self.notifications[index].created_at(r) == at));
        if let Some(after) = notice.email_after_ms {
            // Due times are kept as the delay in force from a notification on,
            // which changes only when the policy's does.
            let delay = Duration::from_millis(after);
            if self.email_delays.last().is_none_or(|(_, d)| duration_ms(*d) != duration_ms(delay)) {
                self.email_delays.push((index, delay));
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

//! `evolve`: applies one event to the state. Events come from `decide`,
//! which checked every rule and wrote into each event everything that follows
//! from it (who is told, when their email is due, which flag changed a
//! standing), so applying one decides nothing and reads no policy.

use crate::event::{EmailPlan, Event, EventBody, Notice, OutcomeWindow, StandingCause};
use crate::ids::{MemberId, RequestId, Seq};
use crate::kinds::{
    Decision, EmailFrequency, FlagStatus, Locale, NotificationKind, ReportReason, RequestState, SkipReason,
    Standing,
};
use crate::members::{ConnectionBits, MailFlags, Member, Profile};
use crate::records::{
    Carries, Ended, Ending, FlagRecord, Mail, NotificationRecord, OpenRequest, PairHistory, Party, PartyView,
    QueuedDigest, RequestRecord, RequestTexts, ScheduledEmail, pair_key, state_index,
};
use crate::state::{LogClock, State, address_hash, standing_index};
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
            EventBody::MemberRegistered { member, email, name, locale } => {
                self.by_standing[standing_index(Standing::Good)] += 1;
                let mail = MailFlags::default().with_email(email.is_some());
                self.members.insert(*member, Member { mail, ..Member::default() });
                if let Some(e) = email {
                    self.index_email(*member, &e.key());
                }
                let locale = locale.unwrap_or_default();
                if let Some(profile) = Profile::new(email.clone(), name.as_deref().map(Box::from), locale) {
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
            EventBody::InvitationSent { request, sender, recipient, note, notice, reminders } => {
                self.add_request(*request, *sender, *recipient, note.as_deref(), at, seq);
                if let Some(index) =
                    self.notify(*recipient, NotificationKind::InvitationReceived, *request, at, *notice)
                {
                    let r = self.request_mut(*request);
                    r.received = Link::to(index);
                    r.received_unsent = notice.email != EmailPlan::None;
                }
                self.schedule_reminders(*request, *recipient, reminders);
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
                        self.notify(r, NotificationKind::InvitationWithdrawn, *request, at, *notice);
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
                self.reports_made.entry(*reporter).or_default().push((*reported, *reason, at));
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
                    // An erased member is counted under no standing.
                    if !m.erased {
                        self.by_standing[standing_index(m.standing)] -= 1;
                        self.by_standing[standing_index(*to)] += 1;
                    }
                    m.standing = *to;
                }
            }
            EventBody::NotificationsRead { member, ids } => {
                let mut read = 0;
                let mut left_digest = 0;
                let digest_from = self.digests.get(member).map(|d| d.from);
                for id in ids {
                    let index = id.0 as usize - 1;
                    if let Some(n) = self.notifications.get_mut(index) {
                        let was_unread = !n.read;
                        read += u32::from(was_unread);
                        n.read = true;
                        let listed = n.mail == Mail::InDigest && digest_from.is_some_and(|f| f <= index);
                        left_digest += u32::from(was_unread && listed);
                    }
                }
                if let Some(m) = self.members.get_mut(member) {
                    m.unread -= read;
                }
                if let Some(d) = self.digests.get_mut(member) {
                    d.items = d.items.saturating_sub(left_digest);
                }
            }
            EventBody::EmailSent { email, .. } => {
                let index = email.0 as usize - 1;
                if let Some(n) = self.notifications.get_mut(index)
                    && n.mail == Mail::Unsent
                {
                    n.mail = Mail::Sent;
                    n.sent_at = at;
                    self.settle(index);
                }
            }
            EventBody::EmailsSkipped { emails, reason } => {
                for email in emails {
                    self.skip_email(email.0 as usize - 1, *reason);
                }
            }
            EventBody::EmailPreferenceChanged { member, kind, enabled } => {
                let off = self.email_off.get(member).copied().unwrap_or(0);
                let off = if *enabled { off & !kind.bits() } else { off | kind.bits() };
                if off == 0 {
                    self.email_off.remove(member);
                } else {
                    self.email_off.insert(*member, off);
                }
                if let Some(m) = self.members.get_mut(member) {
                    m.mail = m.mail.with_some_off(off != 0);
                }
            }
            EventBody::EmailFrequencyChanged { member, frequency } => {
                if let Some(m) = self.members.get_mut(member) {
                    m.mail = m.mail.with_daily(*frequency == EmailFrequency::Daily);
                }
            }
            EventBody::LocaleChanged { member, locale } => {
                if self.members.contains_key(member) {
                    self.profiles.entry(*member).or_default().locale = *locale;
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
            EventBody::MemberUpdated { member, email, name } => {
                self.update_member(*member, email.as_ref(), name.as_ref());
            }
            EventBody::MemberErased { member, scrub_contacts } => {
                self.erase_member(*member, *scrub_contacts, at)
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
            received: Link::NONE,
            first_reminder: Link::NONE,
            reminders: 0,
            reminders_done: 0,
            received_unsent: false,
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

    /// Puts a notification in `member`'s inbox and queues the email that
    /// carries it, or lists it in their digest, as the notice says. Returns
    /// its index.
    fn notify(
        &mut self,
        member: MemberId,
        kind: NotificationKind,
        request: RequestId,
        at: Timestamp,
        notice: Notice,
    ) -> Option<usize> {
        let index = self.notifications.len();
        let m = self.members.get_mut(&member)?;
        let record = NotificationRecord {
            request,
            kind,
            read: false,
            carries: Carries::Notification,
            mail: Mail::None,
            sent_at: Timestamp(0),
            prev: m.last_notification,
        };
        m.last_notification = Link::to(index);
        m.unread += 1;
        self.notifications.push(record);
        debug_assert_eq!(self.notified_at(&self.notifications[index]), Some(at));
        match notice.email {
            EmailPlan::None => {}
            EmailPlan::After(after) => {
                // Due times are kept as the delay in force from a notification on,
                // which changes only when the policy's does.
                if self
                    .email_delays
                    .last()
                    .is_none_or(|(_, d)| u64::try_from(d.as_millis()).ok() != Some(after))
                {
                    self.email_delays.push((index, Duration::from_millis(after)));
                }
                self.notifications[index].mail = Mail::Unsent;
                self.unsent += 1;
            }
            EmailPlan::Digest(due_at) => {
                self.notifications[index].mail = Mail::InDigest;
                match self.digests.get_mut(&member) {
                    Some(d) => d.items += 1,
                    None => {
                        let email = self.add_scheduled(member, RequestId(0), Carries::Digest, due_at);
                        self.digests.insert(member, QueuedDigest { email, from: index, items: 1 });
                    }
                }
            }
        }
        Some(index)
    }

    /// Queues an email of its own (a reminder about `request`, or a digest)
    /// for `member`, due at `due_at`; returns its record's index.
    fn add_scheduled(
        &mut self,
        member: MemberId,
        request: RequestId,
        carries: Carries,
        due_at: Timestamp,
    ) -> usize {
        let index = self.notifications.len();
        self.notifications.push(NotificationRecord {
            request,
            kind: NotificationKind::InvitationReceived,
            read: true,
            carries,
            mail: Mail::Unsent,
            sent_at: Timestamp(0),
            prev: Link::NONE,
        });
        self.scheduled.insert(index, ScheduledEmail { member, due_at });
        self.due.insert((due_at, index));
        self.unsent += 1;
        index
    }

    /// Queues the reminders of a new request, at the times its event gives.
    fn schedule_reminders(&mut self, request: RequestId, recipient: MemberId, due: &[Timestamp]) {
        if due.is_empty() || !self.members.contains_key(&recipient) {
            return;
        }
        let first = self.notifications.len();
        for at in due {
            self.add_scheduled(recipient, request, Carries::Reminder, *at);
        }
        let r = self.request_mut(request);
        r.first_reminder = Link::to(first);
        r.reminders = u8::try_from(due.len()).unwrap_or(u8::MAX);
    }

    /// Bookkeeping once the email at `index` is no longer unsent (sent or skipped).
    fn settle(&mut self, index: usize) {
        self.unsent -= 1;
        let n = &self.notifications[index];
        let (carries, request) = (n.carries, n.request);
        match carries {
            Carries::Notification => {
                if n.kind == NotificationKind::InvitationReceived
                    && let Some(r) = self.request(request)
                    && r.received == Link::to(index)
                {
                    self.request_mut(request).received_unsent = false;
                }
                while self
                    .notifications
                    .get(self.oldest_unsent)
                    .is_some_and(|n| n.mail != Mail::Unsent || n.carries != Carries::Notification)
                {
                    self.oldest_unsent += 1;
                }
            }
            Carries::Reminder | Carries::Digest => {
                if let Some(e) = self.scheduled.get(&index) {
                    let (member, due_at) = (e.member, e.due_at);
                    self.due.remove(&(due_at, index));
                    if carries == Carries::Digest
                        && self.digests.get(&member).is_some_and(|d| d.email == index)
                    {
                        self.digests.remove(&member);
                    }
                }
                if carries == Carries::Reminder
                    && let Some(first) = self.request(request).and_then(|r| r.first_reminder.index())
                {
                    let done = u8::try_from(index + 1 - first).unwrap_or(u8::MAX);
                    let r = self.request_mut(request);
                    r.reminders_done = r.reminders_done.max(done);
                }
            }
        }
    }

    /// The email at `index` (or its place in a digest) will never be sent.
    fn skip_email(&mut self, index: usize, reason: SkipReason) {
        let Some(n) = self.notifications.get_mut(index) else { return };
        match n.mail {
            Mail::Unsent => {
                n.mail = Mail::Skipped(reason);
                self.settle(index);
            }
            Mail::InDigest => {
                n.mail = Mail::Skipped(reason);
                let was_unread = !n.read;
                self.left_digest(index, was_unread);
            }
            Mail::None | Mail::Sent | Mail::Skipped(_) => {}
        }
    }

    /// A notification at `index` listed in a digest was left out of it.
    fn left_digest(&mut self, index: usize, was_unread: bool) {
        let n = &self.notifications[index];
        let request = n.request;
        if n.kind == NotificationKind::InvitationReceived
            && let Some(r) = self.request(request)
            && r.received == Link::to(index)
        {
            self.request_mut(request).received_unsent = false;
        }
        let Some(member) = self.notified(&self.notifications[index]).map(|(m, _)| m) else { return };
        if let Some(d) = self.digests.get_mut(&member)
            && d.from <= index
            && was_unread
        {
            d.items = d.items.saturating_sub(1);
        }
    }

    /// Indexes `member` under the address with key `key`.
    fn index_email(&mut self, member: MemberId, key: &str) {
        let h = address_hash(key);
        match self.by_email.get(&h).copied() {
            None => {
                self.by_email.insert(h, member);
            }
            Some(first) if first == member => {}
            Some(first) => {
                self.by_email.insert(h, first.min(member));
                let more = self.by_email_more.entry(h).or_default();
                if let Err(pos) = more.binary_search(&first.max(member)) {
                    more.insert(pos, first.max(member));
                }
            }
        }
    }

    /// Removes `member` from the index under the address with key `key`.
    fn unindex_email(&mut self, member: MemberId, key: &str) {
        let h = address_hash(key);
        if self.by_email.get(&h) == Some(&member) {
            let next = self.by_email_more.get_mut(&h).filter(|v| !v.is_empty()).map(|v| v.remove(0));
            match next {
                Some(next) => {
                    self.by_email.insert(h, next);
                }
                None => {
                    self.by_email.remove(&h);
                }
            }
        } else if let Some(more) = self.by_email_more.get_mut(&h) {
            more.retain(|m| *m != member);
        }
        if self.by_email_more.get(&h).is_some_and(Vec::is_empty) {
            self.by_email_more.remove(&h);
        }
    }

    /// A new address or name (`Some(None)` removes it); a profile left empty goes.
    fn update_member(
        &mut self,
        member: MemberId,
        email: Option<&Option<EmailAddress>>,
        name: Option<&Option<String>>,
    ) {
        if let Some(email) = email {
            if let Some(old) = self.email_of(member).map(EmailAddress::key) {
                self.unindex_email(member, &old);
            }
            if let Some(e) = email {
                self.index_email(member, &e.key());
            }
        }
        let profile = self.profiles.entry(member).or_default();
        if let Some(e) = email {
            profile.email = e.clone();
        }
        if let Some(n) = name {
            profile.name = n.as_deref().map(Box::from);
        }
        let has_email = profile.email.is_some();
        if profile.email.is_none()
            && profile.name.is_none()
            && profile.contacts.is_none()
            && profile.locale == Locale::default()
        {
            self.profiles.remove(&member);
        }
        if let Some(m) = self.members.get_mut(&member) {
            m.mail = m.mail.with_email(has_email);
        }
    }

    /// Erases `member` (SPEC §11): their open requests are cancelled (and a
    /// view the other party holds of one ends, cancelled now), their own views
    /// and connections end, their unsent emails leave the outbox, their texts
    /// go (`remove_texts_of`), and the record stays as a tombstone, counted
    /// under no standing.
    fn erase_member(&mut self, member: MemberId, scrub_contacts: bool, at: Timestamp) {
        let Some(m) = self.members.get(&member) else { return };
        let mut ids: Vec<RequestId> = [Party::Sender, Party::Recipient]
            .into_iter()
            .flat_map(|party| self.requests_of(m, party).map(|(i, _)| RequestId(i as u64 + 1)))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let inbox: Vec<usize> = self.inbox_of(m).map(|(i, _)| i).collect();
        let connections = m.connections.clone();
        let mut cancelled = Vec::new();
        for id in ids {
            let r = self.request_at(id);
            let mine = r.party_of(member);
            if r.state.is_open() {
                self.set_request_state(id, RequestState::Cancelled, at);
                cancelled.push(id);
            }
            let view = self.views.get(&id).filter(|_| self.request_at(id).has_view).cloned();
            match view {
                Some(v) if Some(v.party) == mine => self.set_view(id, None),
                Some(v) if v.state.is_some_and(RequestState::is_open) || v.before_block.is_some() => {
                    let ended = PartyView {
                        state: Some(RequestState::Cancelled),
                        since: at,
                        before_block: None,
                        ..v
                    };
                    self.set_view(id, Some(ended));
                }
                _ => {}
            }
        }
        for other in connections {
            self.disconnect(member, other);
        }
        // Their mail has nowhere to go (their digest and reminders too), and
        // the invitation emails of the requests cancelled here are stale.
        for index in inbox {
            self.skip_email(index, SkipReason::InvalidAddress);
        }
        let scheduled: Vec<usize> =
            self.scheduled.iter().filter(|(_, e)| e.member == member).map(|(i, _)| *i).collect();
        for index in scheduled {
            self.skip_email(index, SkipReason::InvalidAddress);
        }
        for id in cancelled {
            let r = self.request_at(id).clone();
            for email in self.unsent_about(&r, false) {
                self.skip_email(email.0 as usize - 1, SkipReason::Stale);
            }
        }
        // A digest left with nothing to list goes nowhere.
        let empty: Vec<usize> = self.digests.values().filter(|d| d.items == 0).map(|d| d.email).collect();
        for index in empty {
            self.skip_email(index, SkipReason::Stale);
        }
        let scrub = if scrub_contacts { self.email_of(member).map(EmailAddress::key) } else { None };
        self.remove_texts_of(member, scrub.as_deref());
        if let Some(m) = self.members.get_mut(&member) {
            self.by_standing[standing_index(m.standing)] -= 1;
            m.erased = true;
            m.mail = MailFlags::default();
        }
        self.wrong_addresses.remove(&member);
        self.reports_made.remove(&member);
        self.advance_oldest_open();
    }

    /// Removes what `member` wrote or gave from the state: their address,
    /// name and contacts, the notes of the requests they sent, the messages
    /// they gave (a withdrawal's on a request they sent, a decline's on one
    /// they received, any in a view of their own), and the address with key
    /// `scrub` (theirs) from every member's imported contacts. Erasing
    /// applies it; so does rewriting a saved state (a base) that predates an
    /// erasure.
    pub(crate) fn remove_texts_of(&mut self, member: MemberId, scrub: Option<&str>) {
        if let Some(k) = self.email_of(member).map(EmailAddress::key) {
            self.unindex_email(member, &k);
        }
        self.profiles.remove(&member);
        if let Some(k) = scrub {
            for profile in self.profiles.values_mut() {
                if let Some(c) = profile.contacts.as_mut() {
                    c.remove(k);
                }
            }
        }
        let Some(m) = self.members.get(&member) else { return };
        let mine: Vec<(RequestId, Party)> = [Party::Sender, Party::Recipient]
            .into_iter()
            .flat_map(|party| self.requests_of(m, party).map(move |(i, _)| (RequestId(i as u64 + 1), party)))
            .collect();
        for (id, party) in mine {
            let r = self.request_at(id);
            // A message is a withdrawal's (the sender's) or a decline's (the
            // recipient's); a decline the sender was not told of can still be
            // accepted as the sender sees it (SPEC §18), and keeps its message.
            let wrote_message = match party {
                Party::Sender => r.state == RequestState::Withdrawn,
                Party::Recipient => matches!(r.state, RequestState::Declined | RequestState::Accepted),
            };
            if r.has_texts
                && let Some(t) = self.texts.get_mut(&id)
            {
                if party == Party::Sender {
                    t.note = None;
                }
                if wrote_message {
                    t.message = None;
                }
                if t.note.is_none() && t.message.is_none() {
                    self.texts.remove(&id);
                    self.request_mut(id).has_texts = false;
                }
            }
            if self.request_at(id).has_view
                && let Some(v) = self.views.get_mut(&id)
                && v.party == party
            {
                v.message = None;
            }
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

//! The decider: `Model::decide` checks every rule of SPEC §2–4 in the order SPEC
//! gives and returns the events a command implies; `Model::apply` folds them
//! into the state. Nothing else in connreq decides anything.

use crate::command::{Command, Outcome};
use crate::error::Error;
use crate::event::{Event, EventBody};
use crate::ids::{EmailId, FlagId, MemberId, RequestId, Seq};
use crate::kinds::{InvitationSetting, ReportReason, RequestState, Standing};
use crate::moderation;
use crate::policy::{Policy, ReverseRequest};
use crate::state::{MAX_RECORDS, Member, RequestRecord, State};
use crate::text::{EmailAddress, check_name, check_note};
use crate::time::{DAY_MS, Timestamp};
use std::time::Duration;

/// The events a command implies and what it returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Decided {
    /// The events, numbered from the model's next sequence number.
    pub events: Vec<Event>,
    /// The command's return value.
    pub outcome: Outcome,
}

/// Collects the events of one command, numbering them as they come.
pub(crate) struct Batch {
    next: u64,
    pub(crate) at: Timestamp,
    pub(crate) events: Vec<Event>,
    pub(crate) next_flag: u64,
    /// What this batch already decided about moderation, so one command that
    /// touches a member twice (an expiry run) sees its own earlier decisions.
    pub(crate) overlay: moderation::Overlay,
}

impl Batch {
    /// Appends an event and returns its sequence number.
    pub(crate) fn push(&mut self, body: EventBody) -> Seq {
        let seq = Seq(self.next);
        self.next += 1;
        self.events.push(Event { seq, at: self.at, body });
        seq
    }
}

/// A policy and the state its events imply: the whole network, in memory.
/// Serializable, so a store can save a snapshot and reopen without replaying.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Model {
    policy: Policy,
    state: State,
}

const WEEK: Duration = Duration::from_millis(7 * DAY_MS as u64);

/// Refuses a command whose `events` could take the requests or the
/// notifications past `max` (each event adds at most one of either).
fn room_for(events: usize, requests: usize, notifications: usize, max: usize) -> Result<(), Error> {
    if requests.saturating_add(events) > max || notifications.saturating_add(events) > max {
        return Err(Error::StorageError(format!(
            "the network holds as many requests and notifications as it can ({max} of each)"
        )));
    }
    Ok(())
}

impl Model {
    /// An empty network under `policy`.
    pub fn new(policy: Policy) -> Result<Self, Error> {
        policy.validate()?;
        Ok(Self { policy, state: State::default() })
    }

    /// A network from its policy and a state saved earlier (see `parts`).
    pub fn from_parts(policy: Policy, state: State) -> Result<Self, Error> {
        policy.validate()?;
        Ok(Self { policy, state })
    }

    /// Rebuilds a network from its log. `policy` is the one it was created with;
    /// `policy_changed` events in the log take effect where they stand.
    pub fn replay<'a>(policy: Policy, events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut model = Self { policy, state: State::default() };
        for e in events {
            model.state.apply(&mut model.policy, e);
        }
        model
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The state, for queries.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The time a command given at `at` is recorded at: the log's clock never
    /// runs backwards, so an earlier time is recorded as the last event's time.
    pub fn effective_time(&self, at: Timestamp) -> Timestamp {
        at.max(self.state.last_at.0)
    }

    /// Decides a command without changing anything.
    pub fn decide(&self, command: &Command, at: Timestamp) -> Result<Decided, Error> {
        let mut b = Batch {
            next: self.state.last_seq.0 + 1,
            at: self.effective_time(at),
            // Most commands make one or two events.
            events: Vec::with_capacity(2),
            next_flag: self.state.flags.len() as u64 + 1,
            overlay: moderation::Overlay::default(),
        };
        let outcome = self.decide_into(command, &mut b)?;
        room_for(b.events.len(), self.state.requests.len(), self.state.notifications.len(), MAX_RECORDS)?;
        Ok(Decided { events: b.events, outcome })
    }

    /// Applies events that `decide` produced (or that a log holds).
    pub fn apply(&mut self, events: &[Event]) {
        for e in events {
            self.state.apply(&mut self.policy, e);
        }
    }

    /// Decides and applies a command; returns what it returns and its events.
    pub fn execute(&mut self, command: &Command, at: Timestamp) -> Result<(Outcome, Vec<Event>), Error> {
        let d = self.decide(command, at)?;
        self.apply(&d.events);
        Ok((d.outcome, d.events))
    }

    pub(crate) fn member(&self, id: MemberId) -> Result<&Member, Error> {
        self.state.members.get(&id).ok_or(Error::UnknownMember(id))
    }

    pub(crate) fn request_of(&self, id: RequestId) -> Result<&RequestRecord, Error> {
        self.state.request(id).ok_or_else(|| Error::NotFound(id.to_string()))
    }

    fn decide_into(&self, command: &Command, b: &mut Batch) -> Result<Outcome, Error> {
        match command {
            Command::Register { member, email, name } => {
                if self.state.members.contains_key(member) {
                    return Err(Error::MemberExists(*member));
                }
                let email = email.as_deref().map(EmailAddress::parse).transpose()?;
                if let Some(n) = name {
                    check_name(n)?;
                }
                b.push(EventBody::MemberRegistered { member: *member, email, name: name.clone() });
                Ok(Outcome::Done)
            }
            Command::SetInvitationSetting { member, setting } => {
                self.member(*member)?;
                b.push(EventBody::InvitationSettingChanged { member: *member, setting: *setting });
                Ok(Outcome::Done)
            }
            Command::ImportContacts { member, emails } => {
                self.member(*member)?;
                let emails = emails.iter().map(|e| EmailAddress::parse(e)).collect::<Result<Vec<_>, _>>()?;
                if !emails.is_empty() {
                    b.push(EventBody::ContactsImported { member: *member, emails });
                }
                Ok(Outcome::Done)
            }
            Command::Send { sender, recipient, note, email } => {
                self.decide_send(*sender, *recipient, note.as_deref(), email.as_deref(), b)
            }
            Command::Accept { recipient, request } => {
                let r = self.acting_on(*recipient, *request, false, "accept")?;
                self.check_transition(*request, r, false, "accepted", RequestState::is_open)?;
                self.check_connection_limits(r.sender, r.recipient)?;
                let seq = b.push(EventBody::InvitationAccepted { request: *request });
                moderation::after_outcome(self, b, r.sender, *request, true, seq);
                Ok(Outcome::Done)
            }
            Command::Ignore { recipient, request } => {
                let r = self.acting_on(*recipient, *request, false, "ignore")?;
                self.check_transition(*request, r, false, "ignored", |s| s == RequestState::Pending)?;
                let seq = b.push(EventBody::InvitationIgnored { request: *request });
                moderation::after_outcome(self, b, r.sender, *request, false, seq);
                Ok(Outcome::Done)
            }
            Command::Decline { recipient, request, message } => {
                let r = self.acting_on(*recipient, *request, false, "decline")?;
                self.check_transition(*request, r, false, "declined", RequestState::is_open)?;
                self.check_message(message.as_deref())?;
                let seq =
                    b.push(EventBody::InvitationDeclined { request: *request, message: message.clone() });
                moderation::after_outcome(self, b, r.sender, *request, false, seq);
                Ok(Outcome::Done)
            }
            Command::Withdraw { sender, request, message } => {
                let r = self.acting_on(*sender, *request, true, "withdraw")?;
                self.check_transition(*request, r, true, "withdrawn", RequestState::is_open)?;
                self.check_message(message.as_deref())?;
                let seq =
                    b.push(EventBody::InvitationWithdrawn { request: *request, message: message.clone() });
                moderation::after_withdrawal(self, b, r.sender, r.recipient, seq);
                Ok(Outcome::Done)
            }
            Command::RemoveConnection { member, other } => {
                self.member(*member)?;
                self.member(*other)?;
                if !self.state.connected(*member, *other) {
                    return Err(Error::NotFound(format!("a connection between {member} and {other}")));
                }
                b.push(EventBody::ConnectionRemoved { member: *member, other: *other });
                Ok(Outcome::Done)
            }
            Command::Block { blocker, blocked } => {
                self.member(*blocker)?;
                self.member(*blocked)?;
                if blocker == blocked {
                    return Err(Error::InvalidInput("a member cannot block themselves".into()));
                }
                if self.state.blocks.contains(&(*blocker, *blocked)) {
                    return Ok(Outcome::Done);
                }
                b.push(EventBody::MemberBlocked { blocker: *blocker, blocked: *blocked });
                if let Some((request, _)) = self.state.open_between(*blocker, *blocked) {
                    b.push(EventBody::InvitationCancelled { request, blocker: *blocker });
                }
                if self.state.connected(*blocker, *blocked) {
                    b.push(EventBody::ConnectionRemoved { member: *blocker, other: *blocked });
                }
                Ok(Outcome::Done)
            }
            Command::Unblock { blocker, blocked } => {
                self.member(*blocker)?;
                self.member(*blocked)?;
                if self.state.blocks.contains(&(*blocker, *blocked)) {
                    b.push(EventBody::MemberUnblocked { blocker: *blocker, blocked: *blocked });
                }
                Ok(Outcome::Done)
            }
            Command::Report { reporter, reported, reason, request } => {
                self.decide_report(*reporter, *reported, *reason, *request, b)
            }
            Command::MarkRead { member, ids } => {
                self.member(*member)?;
                let mut unread = Vec::new();
                for id in ids {
                    match self.state.notification(*id) {
                        Some(n) if self.state.notified(n).0 == *member => {
                            if !n.read && !unread.contains(id) {
                                unread.push(*id);
                            }
                        }
                        _ => return Err(Error::NotFound(id.to_string())),
                    }
                }
                if !unread.is_empty() {
                    b.push(EventBody::NotificationsRead { member: *member, ids: unread });
                }
                Ok(Outcome::Done)
            }
            Command::MarkEmailsSent { ids } => {
                let mut marked: Vec<EmailId> = Vec::new();
                for id in ids {
                    let e = self.state.email(*id).ok_or_else(|| Error::NotFound(id.to_string()))?;
                    if e.sent_at.is_none() && !marked.contains(id) {
                        marked.push(*id);
                    }
                }
                for id in &marked {
                    let member = self.state.notified(&self.state.notifications[id.0 as usize - 1]).0;
                    b.push(EventBody::EmailSent { email: *id, member });
                }
                Ok(Outcome::Count(marked.len() as u64))
            }
            Command::Expire => {
                let Some(ttl) = self.policy.pending_ttl else {
                    return Ok(Outcome::Count(0));
                };
                let cutoff = b.at.minus(ttl);
                let mut n = 0;
                let from = self.state.oldest_open;
                for (i, r) in self.state.requests.iter_from(from) {
                    let request = &RequestId(i as u64 + 1);
                    if r.created_at >= cutoff {
                        break;
                    }
                    if !r.state.is_open() {
                        continue;
                    }
                    let seq = b.push(EventBody::InvitationExpired { request: *request });
                    moderation::after_outcome(self, b, r.sender, *request, false, seq);
                    n += 1;
                }
                Ok(Outcome::Count(n))
            }
            Command::ResolveFlag { flag, decision } => {
                let f = self.state.flag(*flag).ok_or_else(|| Error::NotFound(flag.to_string()))?;
                if !self.state.open_flags.contains(flag) {
                    return Err(Error::InvalidInput(format!("{flag} was already resolved ({})", f.status)));
                }
                b.push(EventBody::FlagResolved { flag: *flag, member: f.member, decision: *decision });
                let to = moderation::standing_after_resolution(self, f.member, *flag, *decision);
                moderation::change_standing(self, b, f.member, to, false);
                Ok(Outcome::Done)
            }
            Command::ChangePolicy { policy } => {
                policy.validate()?;
                if *policy != self.policy {
                    b.push(EventBody::PolicyChanged { policy: Box::new(policy.clone()) });
                }
                Ok(Outcome::Done)
            }
        }
    }

    /// The request `id`, after checking the actor is registered and plays the
    /// role the command needs (`as_sender`: the sender; else the recipient).
    fn acting_on(
        &self,
        actor: MemberId,
        id: RequestId,
        as_sender: bool,
        action: &'static str,
    ) -> Result<&RequestRecord, Error> {
        self.member(actor)?;
        let r = self.request_of(id)?;
        let party = if as_sender { r.sender } else { r.recipient };
        if party != actor {
            return Err(Error::NotAuthorized {
                request: id,
                role: if as_sender { "sender" } else { "recipient" },
                action,
            });
        }
        Ok(r)
    }

    /// Refuses a transition the request's true state does not allow. The error
    /// names the state as the actor sees it, so it reveals nothing they could
    /// not see (an ignore, a block).
    fn check_transition(
        &self,
        id: RequestId,
        r: &RequestRecord,
        as_sender: bool,
        action: &'static str,
        allowed: impl Fn(RequestState) -> bool,
    ) -> Result<(), Error> {
        if allowed(r.state) {
            Ok(())
        } else {
            Err(Error::InvalidTransition { request: id, state: r.shown_to(as_sender), action })
        }
    }

    fn check_message(&self, message: Option<&str>) -> Result<(), Error> {
        match message {
            Some(m) => check_note("message", m, self.policy.max_note_chars as usize),
            None => Ok(()),
        }
    }

    fn check_connection_limits(&self, a: MemberId, b: MemberId) -> Result<(), Error> {
        self.check_limits_of([(a, self.member(a)?), (b, self.member(b)?)])
    }

    /// [`Model::check_connection_limits`] for members already at hand.
    fn check_limits_of(&self, members: [(MemberId, &Member); 2]) -> Result<(), Error> {
        let max = self.policy.max_connections;
        match members.into_iter().find(|(_, m)| m.connections.len() >= max as usize) {
            Some((member, _)) => Err(Error::ConnectionLimit { member, max }),
            None => Ok(()),
        }
    }

    /// Whether `recipient`'s invitation setting lets `sender` invite them.
    fn setting_allows(&self, sender: MemberId, recipient: MemberId, r: &Member, email: Option<&str>) -> bool {
        let state = &self.state;
        let in_contacts = || {
            let contacts = state.profile(recipient).and_then(|p| p.contacts.as_deref());
            match (state.email_of(sender), contacts) {
                (Some(e), Some(c)) => c.contains(&e.key()),
                _ => false,
            }
        };
        match r.setting {
            InvitationSetting::Everyone => true,
            InvitationSetting::Nobody => false,
            InvitationSetting::Contacts => in_contacts(),
            InvitationSetting::EmailOrContacts => {
                let knows_email = match (email, state.email_of(recipient)) {
                    (Some(given), Some(theirs)) => given.to_lowercase() == theirs.key(),
                    _ => false,
                };
                knows_email || in_contacts()
            }
        }
    }

    fn decide_send(
        &self,
        sender: MemberId,
        recipient: MemberId,
        note: Option<&str>,
        email: Option<&str>,
        b: &mut Batch,
    ) -> Result<Outcome, Error> {
        // 1. registered, not oneself
        let s = self.member(sender)?;
        let r = self.member(recipient)?;
        if sender == recipient {
            return Err(Error::SelfRequest);
        }
        // 2. standing
        if s.standing == Standing::Restricted {
            return Err(Error::AccountRestricted);
        }
        // 3. blocks, the recipient's setting, "I don't know this person" — one error for all
        if self.state.blocked_either_way(sender, recipient)
            || !self.setting_allows(sender, recipient, r, email)
            || self.state.dont_know.contains(&(recipient, sender))
        {
            return Err(Error::InvitationNotAllowed(recipient));
        }
        // 4. connected (from the two members already at hand)
        if Member::connected((sender, s), (recipient, r)) {
            return Err(Error::AlreadyConnected(recipient));
        }
        // 5. an open request this way, 6. an open request the other way
        match self.state.open_between(sender, recipient) {
            Some((request, from)) if from == sender => {
                return Err(Error::AlreadyPending { recipient, request });
            }
            Some((request, _)) => {
                return match self.policy.reverse_request {
                    ReverseRequest::Error => Err(Error::ReversePending { sender: recipient, request }),
                    ReverseRequest::Accept => {
                        self.check_connection_limits(recipient, sender)?;
                        let seq = b.push(EventBody::InvitationAccepted { request });
                        moderation::after_outcome(self, b, recipient, request, true, seq);
                        Ok(Outcome::Request(request))
                    }
                };
            }
            None => {}
        }
        // 7. the note, and the email address given
        if let Some(n) = note {
            check_note("note", n, self.policy.max_note_chars as usize)?;
        }
        if let Some(e) = email {
            EmailAddress::parse(e)?;
        }
        // 8. policy limits
        if let Some(limit) = self.policy.weekly_invite_limit {
            // The `limit`-th newest send in the window, if there are that many: it
            // must leave the window before one more fits in it (not always the
            // oldest in it: the policy may have lowered the limit since).
            if let Some(blocking) = self.sends_since(s, b.at.minus(WEEK)).nth(limit as usize - 1) {
                return Err(Error::RateLimited { limit, until: blocking.created_at.plus(WEEK) });
            }
        }
        if let Some(cooldown) = self.policy.resend_cooldown
            && let Some(closed) = self.state.pairs.get(&(sender, recipient)).map(|p| p.last_closed)
        {
            let until = closed.plus(cooldown);
            if b.at < until {
                return Err(Error::CooldownActive { recipient, until });
            }
        }
        self.check_limits_of([(sender, s), (recipient, r)])?;
        let request = RequestId(self.state.requests.len() as u64 + 1);
        let seq =
            b.push(EventBody::InvitationSent { request, sender, recipient, note: note.map(str::to_owned) });
        moderation::after_send(self, b, sender, seq);
        Ok(Outcome::Request(request))
    }

    /// The member's sends created after `since`, newest first (the log's clock
    /// is monotonic, so a member's sends are ordered by creation time).
    pub(crate) fn sends_since<'a>(
        &'a self,
        m: &Member,
        since: Timestamp,
    ) -> impl Iterator<Item = &'a RequestRecord> {
        self.state.requests_of(m, true).map(|(_, r)| r).take_while(move |r| r.created_at > since)
    }

    fn decide_report(
        &self,
        reporter: MemberId,
        reported: MemberId,
        reason: ReportReason,
        request: Option<RequestId>,
        b: &mut Batch,
    ) -> Result<Outcome, Error> {
        self.member(reporter)?;
        self.member(reported)?;
        if reporter == reported {
            return Err(Error::InvalidInput("a member cannot report themselves".into()));
        }
        if let Some(id) = request {
            match self.state.request(id) {
                Some(r) if r.sender == reported && r.recipient == reporter => {}
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "{id} is not a request from {reported} to {reporter}"
                    )));
                }
            }
        }
        let seq = b.push(EventBody::MemberReported { reporter, reported, reason, request });
        if reason == ReportReason::DontKnow {
            // "I don't know this person" archives the open invitation it is about.
            let target = request.or_else(|| self.state.open_request(reported, reporter));
            if let Some(id) = target
                && self.state.requests[id.0 as usize - 1].state == RequestState::Pending
            {
                let s = b.push(EventBody::InvitationIgnored { request: id });
                moderation::after_outcome(self, b, reported, id, false, s);
            }
        }
        moderation::after_report(self, b, reporter, reported, seq);
        Ok(Outcome::Done)
    }

    /// The flag id the next `account_flagged` event in `b` gets.
    pub(crate) fn take_flag_id(b: &mut Batch) -> FlagId {
        let id = FlagId(b.next_flag);
        b.next_flag += 1;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_that_could_pass_the_most_records_a_network_holds_is_refused() {
        assert!(room_for(2, 8, 8, 10).is_ok());
        assert!(room_for(2, 9, 0, 10).is_err());
        assert!(room_for(2, 0, 9, 10).is_err());
        assert!(room_for(1, usize::MAX, 0, MAX_RECORDS).is_err());
        let err = room_for(3, 0, 9, 10).unwrap_err();
        assert!(matches!(&err, Error::StorageError(m) if m.contains("10 of each")), "{err}");
    }
}

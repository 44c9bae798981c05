//! The SPEC API as one trait, and `MemoryNetwork`, its in-memory implementation.
//!
//! A backend provides three things: run a command, read the model, and read the
//! log. Every SPEC operation is written once, here, on top of them; the sled
//! store implements the same trait, so the two cannot drift apart.

use crate::chunked::Chunked;
use crate::command::{Command, Outcome};
use crate::erasure::Erasure;
use crate::error::Error;
use crate::event::Event;
use crate::event_view::EventRecord;
use crate::ids::{EmailId, FlagId, MemberId, NotificationId, RequestId, Seq};
use crate::invitations::Invitation;
use crate::kinds::{
    Decision, EmailFrequency, InvitationSetting, Locale, PreferenceKind, ReportReason, RequestState, Standing,
};
use crate::model::Model;
use crate::policy::Policy;
use crate::suggestions::Suggestion;
use crate::time::Timestamp;
use crate::views::{Email, Flag, Notification, PublicProfile, Request, Stats};
use std::sync::RwLock;
use std::time::Duration;

/// The connreq API of SPEC §2–5 and §11. Implemented by [`MemoryNetwork`] and by
/// `connreq_store::Store`.
pub trait Network {
    /// Decides and records a command at `at`.
    fn execute(&self, command: Command, at: Timestamp) -> Result<Outcome, Error>;

    /// Runs a read-only query against the current model.
    fn read<R>(&self, query: impl FnOnce(&Model) -> R) -> Result<R, Error>;

    /// The events with `seq > since`, oldest first, at most `limit` of them.
    fn events(&self, since: Seq, limit: Option<usize>) -> Result<Vec<EventRecord>, Error>;

    /// `register(member, email, name)`.
    fn register(
        &self,
        member: MemberId,
        email: Option<&str>,
        name: Option<&str>,
        at: Timestamp,
    ) -> Result<(), Error> {
        self.register_in(member, email, name, None, at)
    }

    /// `register(member, email, name, locale)`: a member whose texts are in `locale`.
    fn register_in(
        &self,
        member: MemberId,
        email: Option<&str>,
        name: Option<&str>,
        locale: Option<Locale>,
        at: Timestamp,
    ) -> Result<(), Error> {
        let (email, name) = (email.map(str::to_owned), name.map(str::to_owned));
        self.execute(Command::Register { member, email, name, locale }, at).map(drop)
    }

    /// `set_email_preference(member, kind, enabled)`.
    fn set_email_preference(
        &self,
        member: MemberId,
        kind: PreferenceKind,
        enabled: bool,
        at: Timestamp,
    ) -> Result<(), Error> {
        self.execute(Command::SetEmailPreference { member, kind, enabled }, at).map(drop)
    }

    /// `email_preferences(member)`: each kind a member can switch, on or off.
    fn email_preferences(&self, member: MemberId) -> Result<Vec<(PreferenceKind, bool)>, Error> {
        self.read(|m| m.email_preferences(member))?
    }

    /// `set_email_frequency(member, frequency)`.
    fn set_email_frequency(
        &self,
        member: MemberId,
        frequency: EmailFrequency,
        at: Timestamp,
    ) -> Result<(), Error> {
        self.execute(Command::SetEmailFrequency { member, frequency }, at).map(drop)
    }

    /// `email_frequency(member)`.
    fn email_frequency(&self, member: MemberId) -> Result<EmailFrequency, Error> {
        self.read(|m| m.email_frequency(member))?
    }

    /// `set_locale(member, locale)`.
    fn set_locale(&self, member: MemberId, locale: Locale, at: Timestamp) -> Result<(), Error> {
        self.execute(Command::SetLocale { member, locale }, at).map(drop)
    }

    /// `locale(member)`: the language of the member's texts.
    fn locale(&self, member: MemberId) -> Result<Locale, Error> {
        self.read(|m| m.locale(member))?
    }

    /// `set_invitation_setting(member, setting)`.
    fn set_invitation_setting(
        &self,
        member: MemberId,
        setting: InvitationSetting,
        at: Timestamp,
    ) -> Result<(), Error> {
        self.execute(Command::SetInvitationSetting { member, setting }, at).map(drop)
    }

    /// `import_contacts(member, emails)`.
    fn import_contacts(&self, member: MemberId, emails: &[&str], at: Timestamp) -> Result<(), Error> {
        let emails = emails.iter().map(|e| (*e).to_owned()).collect();
        self.execute(Command::ImportContacts { member, emails }, at).map(drop)
    }

    /// `send(sender, recipient, note, email)`: returns the new request's id (or,
    /// under `reverse_request = "accept"`, the id of the request accepted instead).
    fn send(
        &self,
        sender: MemberId,
        recipient: MemberId,
        note: Option<&str>,
        email: Option<&str>,
        at: Timestamp,
    ) -> Result<RequestId, Error> {
        let command = Command::Send {
            sender,
            recipient,
            note: note.map(str::to_owned),
            email: email.map(str::to_owned),
        };
        let outcome = self.execute(command, at)?;
        outcome.request().ok_or_else(|| Error::StorageError("send returned no request id".into()))
    }

    /// `accept(recipient, id)`.
    fn accept(&self, recipient: MemberId, request: RequestId, at: Timestamp) -> Result<(), Error> {
        self.execute(Command::Accept { recipient, request }, at).map(drop)
    }

    /// `ignore(recipient, id)`.
    fn ignore(&self, recipient: MemberId, request: RequestId, at: Timestamp) -> Result<(), Error> {
        self.execute(Command::Ignore { recipient, request }, at).map(drop)
    }

    /// `decline(recipient, id, message)`.
    fn decline(
        &self,
        recipient: MemberId,
        request: RequestId,
        message: Option<&str>,
        at: Timestamp,
    ) -> Result<(), Error> {
        let message = message.map(str::to_owned);
        self.execute(Command::Decline { recipient, request, message }, at).map(drop)
    }

    /// `withdraw(sender, id, message)`.
    fn withdraw(
        &self,
        sender: MemberId,
        request: RequestId,
        message: Option<&str>,
        at: Timestamp,
    ) -> Result<(), Error> {
        let message = message.map(str::to_owned);
        self.execute(Command::Withdraw { sender, request, message }, at).map(drop)
    }

    /// `remove_connection(member, other)`.
    fn remove_connection(&self, member: MemberId, other: MemberId, at: Timestamp) -> Result<(), Error> {
        self.execute(Command::RemoveConnection { member, other }, at).map(drop)
    }

    /// `block(blocker, blocked)`.
    fn block(&self, blocker: MemberId, blocked: MemberId, at: Timestamp) -> Result<(), Error> {
        self.execute(Command::Block { blocker, blocked }, at).map(drop)
    }

    /// `unblock(blocker, blocked)`.
    fn unblock(&self, blocker: MemberId, blocked: MemberId, at: Timestamp) -> Result<(), Error> {
        self.execute(Command::Unblock { blocker, blocked }, at).map(drop)
    }

    /// `report(reporter, reported, reason, request_id)`.
    fn report(
        &self,
        reporter: MemberId,
        reported: MemberId,
        reason: ReportReason,
        request: Option<RequestId>,
        at: Timestamp,
    ) -> Result<(), Error> {
        self.execute(Command::Report { reporter, reported, reason, request }, at).map(drop)
    }

    /// `mark_read(member, ids)`.
    fn mark_read(&self, member: MemberId, ids: &[NotificationId], at: Timestamp) -> Result<(), Error> {
        self.execute(Command::MarkRead { member, ids: ids.to_vec() }, at).map(drop)
    }

    /// Records that emails were handed to a mail server; returns how many were newly marked.
    fn mark_emails_sent(&self, ids: &[EmailId], at: Timestamp) -> Result<u64, Error> {
        self.execute(Command::MarkEmailsSent { ids: ids.to_vec() }, at).map(Outcome::count)
    }

    /// Records emails the mail server refused for good (skipped, `invalid_address`);
    /// returns how many were newly skipped.
    fn mark_emails_undeliverable(&self, ids: &[EmailId], at: Timestamp) -> Result<u64, Error> {
        self.execute(Command::MarkEmailsUndeliverable { ids: ids.to_vec() }, at).map(Outcome::count)
    }

    /// The email with this id, rendered, whatever its status.
    fn email(&self, id: EmailId) -> Result<Email, Error> {
        self.read(|m| m.email(id))?
    }

    /// `expire(at)`: returns how many requests expired.
    fn expire(&self, at: Timestamp) -> Result<u64, Error> {
        self.execute(Command::Expire, at).map(Outcome::count)
    }

    /// `resolve_flag(flag_id, decision)`, no moderator named.
    fn resolve_flag(&self, flag: FlagId, decision: Decision, at: Timestamp) -> Result<(), Error> {
        self.resolve_flag_by(flag, decision, None, None, at)
    }

    /// `resolve_flag(flag_id, decision, moderator=, note=)`: who decided and why
    /// are kept on the flag (`resolved_by`, `resolution_note`, `resolved_at`).
    fn resolve_flag_by(
        &self,
        flag: FlagId,
        decision: Decision,
        moderator: Option<MemberId>,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<(), Error> {
        let note = note.map(str::to_owned);
        self.execute(Command::ResolveFlag { flag, decision, moderator, note }, at).map(drop)
    }

    /// `lift_restriction(member, moderator=, note=)`: a member restricted by a
    /// moderator's decision is no longer; their standing follows from their open flags.
    fn lift_restriction(
        &self,
        member: MemberId,
        moderator: Option<MemberId>,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<(), Error> {
        let note = note.map(str::to_owned);
        self.execute(Command::LiftRestriction { member, moderator, note }, at).map(drop)
    }

    /// The flag with this id, open or resolved (who resolved it, why, when).
    fn flag(&self, flag: FlagId) -> Result<Flag, Error> {
        self.read(|m| m.flag(flag))?
    }

    /// `flag_events(flag_id)`: the events behind a flag's evidence, in log order.
    fn flag_events(&self, flag: FlagId) -> Result<Vec<EventRecord>, Error> {
        let mut evidence = self.flag(flag)?.evidence;
        evidence.sort_unstable();
        evidence.dedup();
        let mut out = Vec::with_capacity(evidence.len());
        for seq in evidence {
            out.extend(self.events(Seq(seq.0 - 1), Some(1))?.into_iter().filter(|e| e.seq == seq));
        }
        Ok(out)
    }

    /// `request(id)`: the operator's view.
    fn request(&self, id: RequestId) -> Result<Request, Error> {
        self.read(|m| m.request(id))?
    }

    /// `sent(member, state)`: the sender's view.
    fn sent(&self, member: MemberId, state: Option<RequestState>) -> Result<Vec<Request>, Error> {
        self.read(|m| m.sent(member, state))?
    }

    /// `received(member, state)`: the recipient's view.
    fn received(&self, member: MemberId, state: Option<RequestState>) -> Result<Vec<Request>, Error> {
        self.read(|m| m.received(member, state))?
    }

    /// `connections(member)`, sorted.
    fn connections(&self, member: MemberId) -> Result<Vec<MemberId>, Error> {
        self.read(|m| m.connections(member))?
    }

    /// `connection_count(member)`.
    fn connection_count(&self, member: MemberId) -> Result<u64, Error> {
        self.read(|m| m.connection_count(member))?
    }

    /// `are_connected(a, b)`.
    fn are_connected(&self, a: MemberId, b: MemberId) -> Result<bool, Error> {
        self.read(|m| m.are_connected(a, b))?
    }

    /// `mutual_connections(a, b)`, sorted.
    fn mutual_connections(&self, a: MemberId, b: MemberId) -> Result<Vec<MemberId>, Error> {
        self.read(|m| m.mutual_connections(a, b))?
    }

    /// `is_blocked(blocker, blocked)`.
    fn is_blocked(&self, blocker: MemberId, blocked: MemberId) -> Result<bool, Error> {
        self.read(|m| m.is_blocked(blocker, blocked))?
    }

    /// `notifications(member, unread_only)`.
    fn notifications(&self, member: MemberId, unread_only: bool) -> Result<Vec<Notification>, Error> {
        self.read(|m| m.notifications(member, unread_only))?
    }

    /// How many of a member's notifications are unread (the badge count).
    fn unread_count(&self, member: MemberId) -> Result<u64, Error> {
        self.read(|m| m.unread_count(member))?
    }

    /// `pending_emails(due_before)`.
    fn pending_emails(&self, due_before: Option<Timestamp>) -> Result<Vec<Email>, Error> {
        self.read(|m| m.pending_emails(due_before))
    }

    /// `standing(member)`.
    fn standing(&self, member: MemberId) -> Result<Standing, Error> {
        self.read(|m| m.standing(member))?
    }

    /// `review_queue()`.
    fn review_queue(&self) -> Result<Vec<Flag>, Error> {
        self.read(Model::review_queue)
    }

    /// `public_profile(member)`.
    fn public_profile(&self, member: MemberId) -> Result<PublicProfile, Error> {
        self.read(|m| m.public_profile(member))?
    }

    /// `stats()`.
    fn stats(&self) -> Result<Stats, Error> {
        self.read(Model::stats)
    }

    /// The policy in force.
    fn policy(&self) -> Result<Policy, Error> {
        self.read(|m| m.policy().clone())
    }

    /// `invitations(member, include_ignored)`: open received invitations,
    /// oldest first, with mutual connections (SPEC §11).
    fn invitations(&self, member: MemberId, include_ignored: bool) -> Result<Vec<Invitation>, Error> {
        self.read(|m| m.invitations(member, include_ignored))?
    }

    /// `suggestions(member, limit)` as of `at`: people the member may know, best first.
    fn suggestions(&self, member: MemberId, limit: usize, at: Timestamp) -> Result<Vec<Suggestion>, Error> {
        self.read(|m| m.suggestions(member, limit, at))?
    }

    /// `withdraw_all(sender, older_than, message)`: returns how many were withdrawn.
    fn withdraw_all(
        &self,
        sender: MemberId,
        older_than: Option<Duration>,
        message: Option<&str>,
        at: Timestamp,
    ) -> Result<u64, Error> {
        let message = message.map(str::to_owned);
        self.execute(Command::WithdrawAll { sender, older_than, message }, at).map(Outcome::count)
    }

    /// `update_member(member, email, name)`: `None` leaves a field, `Some(None)` removes it.
    fn update_member(
        &self,
        member: MemberId,
        email: Option<Option<&str>>,
        name: Option<Option<&str>>,
        at: Timestamp,
    ) -> Result<(), Error> {
        let email = email.map(|e| e.map(str::to_owned));
        let name = name.map(|n| n.map(str::to_owned));
        self.execute(Command::UpdateMember { member, email, name }, at).map(drop)
    }

    /// `export_member(member)`: everything kept about the member, as JSON.
    fn export_member(&self, member: MemberId) -> Result<serde_json::Value, Error> {
        self.read(|m| m.export_member(member))?
    }

    /// `erase_member(member)`: the member's personal data removed from
    /// everything the network keeps, the id left as a tombstone.
    fn erase_member(&self, member: MemberId, at: Timestamp) -> Result<(), Error> {
        self.execute(Command::EraseMember { member }, at).map(drop)
    }
}

/// The whole SPEC API in memory: the reference model the store is tested
/// against, and usable on its own (no persistence).
#[derive(Debug)]
pub struct MemoryNetwork {
    /// The model and the log; the log in chunks, so it grows without ever
    /// copying what it holds.
    inner: RwLock<(Model, Chunked<Event>)>,
}

impl MemoryNetwork {
    /// An empty network under `policy`.
    pub fn new(policy: Policy) -> Result<Self, Error> {
        Ok(Self { inner: RwLock::new((Model::new(policy)?, Chunked::default())) })
    }

    /// The raw event log (with typed bodies), for tests and replays.
    pub fn log(&self) -> Vec<Event> {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).1.iter().cloned().collect()
    }
}

/// An independent copy: the same model and log, diverging from here on.
impl Clone for MemoryNetwork {
    fn clone(&self) -> Self {
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        Self { inner: RwLock::new((guard.0.clone(), guard.1.clone())) }
    }
}

impl Network for MemoryNetwork {
    fn execute(&self, command: Command, at: Timestamp) -> Result<Outcome, Error> {
        let mut guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let (model, log) = &mut *guard;
        let decided = model.decide(&command, at)?;
        let erasure = Erasure::of(model, &decided.events);
        model.apply(&decided.events);
        if let Some(erasure) = erasure {
            // The log keeps nothing of what the member wrote (SPEC §11).
            for i in 0..log.len() {
                if let Some(e) = log.get_mut(i) {
                    erasure.redact(e, |id| model.parties(id));
                }
            }
        }
        let result = match decided.refused {
            Some(e) => Err(*e),
            None => Ok(decided.outcome),
        };
        for e in decided.events {
            log.push(e);
        }
        result
    }

    fn read<R>(&self, query: impl FnOnce(&Model) -> R) -> Result<R, Error> {
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        Ok(query(&guard.0))
    }

    fn events(&self, since: Seq, limit: Option<usize>) -> Result<Vec<EventRecord>, Error> {
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let (model, log) = &*guard;
        let start = usize::try_from(since.0).unwrap_or(usize::MAX).min(log.len());
        Ok(log
            .iter_from(start)
            .take(limit.unwrap_or(usize::MAX))
            .map(|(_, e)| e.record(|id| model.parties(id)))
            .collect())
    }
}

//! `decide`: checks a command against every rule, in the order SPEC gives,
//! and returns every event it implies — the change itself, who is told and
//! when their email is due, and the moderation that follows. It changes
//! nothing; `evolve` applies the events. One file per group of commands:
//!
//! | file | commands |
//! |---|---|
//! | `members.rs` | register, invitation setting, contacts, email preferences, frequency, locale, profile changes, erasure |
//! | `send.rs` | send (SPEC §2's rules in order) |
//! | `respond.rs` | accept, ignore, decline, withdraw, withdraw all |
//! | `relations.rs` | remove a connection, block, unblock, report |
//! | `inbox.rs` | mark notifications read, mark emails sent or undeliverable |
//! | `operator.rs` | expire, resolve a flag, lift a restriction, change the policy |
//! | `notices.rs` | who is told of what, how the email goes, which emails never will |
//! | `moderation/` | the moderation rules run after the events that trigger them |
//! | `standing.rs` | the standing a member's flags imply |

mod context;
mod inbox;
pub(crate) mod members;
pub(crate) mod moderation;
mod notices;
mod operator;
mod relations;
mod respond;
mod send;
pub(crate) mod standing;

use crate::command::{Command, Outcome};
use crate::error::Error;
use crate::event::Event;
use crate::policy::Policy;
use crate::state::State;
use crate::thread::MAX_RECORDS;
use crate::time::Timestamp;
pub(crate) use context::Ctx;

/// The events a command implies and what it returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Decided {
    /// The events, numbered from the model's next sequence number.
    pub events: Vec<Event>,
    /// The command's return value.
    pub outcome: Outcome,
    /// Set when the command is refused although its events are recorded
    /// (a wrong address given to a send is counted, and the send refused).
    pub refused: Option<Box<Error>>,
}

impl Decided {
    /// What the caller gets once the events are applied: the outcome, or the refusal.
    pub fn result(self) -> Result<Outcome, Error> {
        match self.refused {
            Some(e) => Err(*e),
            None => Ok(self.outcome),
        }
    }
}

/// How far before the last event a command may be dated and still be recorded
/// (at the last event's time): callers' clocks differ slightly.
pub const CLOCK_TOLERANCE_MS: i64 = 1_000;

/// The time a command given at `at` is recorded at. Times outside the years 1
/// to 9999 are refused; so is a time more than [`CLOCK_TOLERANCE_MS`] before
/// the last event (the log's clock never runs backwards, and moving the
/// command silently would move every window that depends on it). Within the
/// tolerance the command is recorded at the last event's time.
pub(crate) fn recorded_time(state: &State, at: Timestamp) -> Result<Timestamp, Error> {
    if !at.is_valid() {
        return Err(Error::InvalidInput(format!("the time {} is outside the years 1 to 9999", at.0)));
    }
    let last = state.last_at.0;
    if at.0 < last.0.saturating_sub(CLOCK_TOLERANCE_MS) {
        return Err(Error::InvalidInput(format!(
            "the time {at} is before the last event, at {last}; a command cannot be dated earlier"
        )));
    }
    Ok(at.max(last))
}

/// Decides `command` at `at` against `state` under `policy`.
pub(crate) fn decide(
    state: &State,
    policy: &Policy,
    command: &Command,
    at: Timestamp,
) -> Result<Decided, Error> {
    let mut cx = Ctx::new(state, policy, recorded_time(state, at)?);
    let outcome = match command {
        Command::Register { member, email, name, locale } => {
            members::register(&mut cx, *member, email.as_deref(), name.as_deref(), *locale)
        }
        Command::SetEmailPreference { member, kind, enabled } => {
            members::set_email_preference(&mut cx, *member, *kind, *enabled)
        }
        Command::SetEmailFrequency { member, frequency } => {
            members::set_email_frequency(&mut cx, *member, *frequency)
        }
        Command::SetLocale { member, locale } => members::set_locale(&mut cx, *member, *locale),
        Command::MarkEmailsUndeliverable { ids } => inbox::mark_emails_undeliverable(&mut cx, ids),
        Command::SetInvitationSetting { member, setting } => members::set_setting(&mut cx, *member, *setting),
        Command::ImportContacts { member, emails } => members::import_contacts(&mut cx, *member, emails),
        Command::Send { sender, recipient, note, email } => {
            send::send(&mut cx, *sender, *recipient, note.as_deref(), email.as_deref())
        }
        Command::Accept { recipient, request } => respond::accept(&mut cx, *recipient, *request),
        Command::Ignore { recipient, request } => respond::ignore(&mut cx, *recipient, *request),
        Command::Decline { recipient, request, message } => {
            respond::decline(&mut cx, *recipient, *request, message.as_deref())
        }
        Command::Withdraw { sender, request, message } => {
            respond::withdraw(&mut cx, *sender, *request, message.as_deref())
        }
        Command::RemoveConnection { member, other } => relations::remove_connection(&mut cx, *member, *other),
        Command::Block { blocker, blocked } => relations::block(&mut cx, *blocker, *blocked),
        Command::Unblock { blocker, blocked } => relations::unblock(&mut cx, *blocker, *blocked),
        Command::Report { reporter, reported, reason, request } => {
            relations::report(&mut cx, *reporter, *reported, *reason, *request)
        }
        Command::MarkRead { member, ids } => inbox::mark_read(&mut cx, *member, ids),
        Command::MarkEmailsSent { ids } => inbox::mark_emails_sent(&mut cx, ids),
        Command::Expire => operator::expire(&mut cx),
        Command::ResolveFlag { flag, decision, moderator, note } => {
            operator::resolve_flag(&mut cx, *flag, *decision, *moderator, note.as_deref())
        }
        Command::LiftRestriction { member, moderator, note } => {
            operator::lift_restriction(&mut cx, *member, *moderator, note.as_deref())
        }
        Command::ChangePolicy { policy } => operator::change_policy(&mut cx, policy),
        Command::WithdrawAll { sender, older_than, message } => {
            respond::withdraw_all(&mut cx, *sender, *older_than, message.as_deref())
        }
        Command::UpdateMember { member, email, name } => members::update_member(
            &mut cx,
            *member,
            email.as_ref().map(Option::as_deref),
            name.as_ref().map(Option::as_deref),
        ),
        Command::EraseMember { member } => members::erase_member(&mut cx, *member),
    }?;
    // An event adds at most one request, and at most one notification, one
    // digest and the reminders of one request.
    let records = cx.events.len() * (2 + crate::policy::MAX_REMINDERS);
    room_for(records, state.requests.len(), state.notifications.len(), MAX_RECORDS)?;
    Ok(Decided { events: cx.events, outcome, refused: cx.refused })
}

/// Refuses a command whose events could take the requests or the
/// notifications past `max` (they add at most `records` of either).
fn room_for(records: usize, requests: usize, notifications: usize, max: usize) -> Result<(), Error> {
    if requests.saturating_add(records) > max || notifications.saturating_add(records) > max {
        return Err(Error::StorageError(format!(
            "the network holds as many requests and notifications as it can ({max} of each)"
        )));
    }
    Ok(())
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

    #[test]
    fn a_time_before_the_last_event_is_refused_beyond_a_second_and_moved_within_it() {
        let mut state = State::default();
        assert_eq!(recorded_time(&state, Timestamp(5)), Ok(Timestamp(5)));
        state.last_at = crate::state::LogClock(Timestamp(10_000));
        assert_eq!(recorded_time(&state, Timestamp(10_500)), Ok(Timestamp(10_500)));
        assert_eq!(recorded_time(&state, Timestamp(9_000)), Ok(Timestamp(10_000)));
        let err = recorded_time(&state, Timestamp(8_999)).unwrap_err();
        assert!(matches!(&err, Error::InvalidInput(m) if m.contains("1970-01-01T00:00:10.000Z")), "{err}");
        for bad in [Timestamp(i64::MIN), Timestamp(Timestamp::LATEST.0 + 1)] {
            assert!(matches!(recorded_time(&State::default(), bad), Err(Error::InvalidInput(_))));
        }
    }
}

//! `Model`: a policy and the state its events imply — the whole network, in
//! memory. `decide` checks a command against every rule and returns its
//! events; `apply` folds events into the state (`evolve`) and the policy.

use crate::command::{Command, Outcome};
use crate::decide::{self, Decided};
use crate::error::Error;
use crate::event::{Event, EventBody};
use crate::ids::{MemberId, RequestId, Seq};
use crate::members::Member;
use crate::policy::Policy;
use crate::records::RequestRecord;
use crate::state::State;
use crate::time::Timestamp;

/// A policy and the state its events imply: the whole network, in memory.
/// Serializable in parts (see `parts`), so a store can save a snapshot and
/// reopen without replaying.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Model {
    policy: Policy,
    state: State,
}

impl Model {
    /// An empty network under `policy`.
    pub fn new(policy: Policy) -> Result<Self, Error> {
        policy.validate()?;
        Ok(Self { policy, state: State::default() })
    }

    /// A network from its policy and a state saved earlier (see `parts`).
    pub(crate) fn from_parts(policy: Policy, state: State) -> Result<Self, Error> {
        policy.validate()?;
        Ok(Self { policy, state })
    }

    /// Rebuilds a network from its log. `policy` is the one it was created with;
    /// `policy_changed` events in the log take effect where they stand.
    pub fn replay<'a>(policy: Policy, events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut model = Self { policy, state: State::default() };
        for e in events {
            model.apply_one(e);
        }
        model
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The state, for the crate's queries.
    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    /// The state, changed outside `apply` only to rewrite a saved state for an erasure.
    pub(crate) fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// The last event's sequence number (0 before any).
    pub fn last_seq(&self) -> Seq {
        self.state.last_seq
    }

    /// The time of the last event, if there is one: the log's clock, which a
    /// command may not go back from by more than a second.
    pub fn clock(&self) -> Option<Timestamp> {
        (self.state.last_seq.0 > 0).then_some(self.state.last_at.0)
    }

    /// (sender, recipient) of request `id`, if it exists.
    pub fn parties(&self, id: RequestId) -> Option<(MemberId, MemberId)> {
        self.state.request(id).map(|r| (r.sender, r.recipient))
    }

    /// Decides a command at `at` without changing anything: its events and
    /// what it returns, or the rule it breaks.
    pub fn decide(&self, command: &Command, at: Timestamp) -> Result<Decided, Error> {
        decide::decide(&self.state, &self.policy, command, at)
    }

    /// Applies events that `decide` produced (or that a log holds).
    pub fn apply(&mut self, events: &[Event]) {
        for e in events {
            self.apply_one(e);
        }
    }

    fn apply_one(&mut self, event: &Event) {
        if let EventBody::PolicyChanged { policy } = &event.body {
            self.policy = (**policy).clone();
        }
        self.state.evolve(event);
    }

    /// Decides and applies a command; returns its events, and what it returns
    /// (or the refusal of a command refused with events recorded).
    pub fn execute(
        &mut self,
        command: &Command,
        at: Timestamp,
    ) -> Result<(Result<Outcome, Error>, Vec<Event>), Error> {
        let Decided { events, outcome, refused } = self.decide(command, at)?;
        self.apply(&events);
        Ok((refused.map_or(Ok(outcome), |e| Err(*e)), events))
    }

    pub(crate) fn member(&self, id: MemberId) -> Result<&Member, Error> {
        self.state.live_member(id).ok_or(Error::UnknownMember(id))
    }

    pub(crate) fn request_of(&self, id: RequestId) -> Result<&RequestRecord, Error> {
        self.state.request(id).ok_or_else(|| Error::NotFound(id.to_string()))
    }
}

//! What a command is decided against and what it has decided so far: the
//! state and policy (read only), the command's time, and the events it
//! implies, numbered as they come.

use crate::error::Error;
use crate::event::{Event, EventBody};
use crate::ids::{FlagId, MemberId, RequestId, Seq};
use crate::kinds::{FlagRule, Standing};
use crate::members::Member;
use crate::policy::Policy;
use crate::records::RequestRecord;
use crate::state::State;
use crate::time::Timestamp;

/// One command being decided.
pub(crate) struct Ctx<'a> {
    /// The state before the command.
    pub(crate) state: &'a State,
    /// The policy in force.
    pub(crate) policy: &'a Policy,
    /// When the command happens (the time it is recorded at).
    pub(crate) at: Timestamp,
    /// The events decided so far.
    pub(crate) events: Vec<Event>,
    /// Set when the command is refused but its events are still recorded
    /// (a wrong address, counted).
    pub(crate) refused: Option<Box<Error>>,
    next: u64,
    next_flag: u64,
    /// What this command already decided about moderation, so one command
    /// that touches a member twice (an expiry run) sees its own decisions.
    pub(crate) overlay: Overlay,
}

impl<'a> Ctx<'a> {
    /// A command at `at` against `state` under `policy`.
    pub(crate) fn new(state: &'a State, policy: &'a Policy, at: Timestamp) -> Self {
        Self {
            state,
            policy,
            at,
            // Most commands make one or two events.
            events: Vec::with_capacity(2),
            refused: None,
            next: state.last_seq.0 + 1,
            next_flag: state.flags.len() as u64 + 1,
            overlay: Overlay::default(),
        }
    }

    /// Appends an event and returns its sequence number.
    pub(crate) fn push(&mut self, body: EventBody) -> Seq {
        let seq = Seq(self.next);
        self.next += 1;
        self.events.push(Event { seq, at: self.at, body });
        seq
    }

    /// Refuses the command with `error`, keeping the events decided so far.
    pub(crate) fn refuse(&mut self, error: Error) {
        self.refused = Some(Box::new(error));
    }

    /// The id the next flag this command opens gets.
    pub(crate) fn take_flag_id(&mut self) -> FlagId {
        let id = FlagId(self.next_flag);
        self.next_flag += 1;
        id
    }

    /// The registered member `id`, or `UnknownMember` (also for an erased one).
    pub(crate) fn member(&self, id: MemberId) -> Result<&'a Member, Error> {
        self.state.live_member(id).ok_or(Error::UnknownMember(id))
    }

    /// The request `id`, or `NotFound`.
    pub(crate) fn request(&self, id: RequestId) -> Result<&'a RequestRecord, Error> {
        self.state.request(id).ok_or_else(|| Error::NotFound(id.to_string()))
    }
}

/// Moderation decisions made earlier in the same command.
#[derive(Clone, Debug, Default)]
pub(crate) struct Overlay {
    /// Flags opened: (member, rule, flag).
    pub(crate) flags: Vec<(MemberId, FlagRule, FlagId)>,
    /// Standings changed, in order: (member, new standing).
    pub(crate) standing: Vec<(MemberId, Standing)>,
    /// Outcomes counted for the low-acceptance rule: (sender, request, accepted, event).
    pub(crate) outcomes: Vec<(MemberId, RequestId, bool, Seq)>,
    /// Queued digests this command touched: (member, notifications that left
    /// it, whether it was skipped).
    pub(crate) digests: Vec<(MemberId, u32, bool)>,
    /// Evidence given to flags: (flag, event).
    pub(crate) evidence: Vec<(FlagId, Seq)>,
}

impl Overlay {
    fn digest(&mut self, member: MemberId) -> &mut (MemberId, u32, bool) {
        let at = match self.digests.iter().position(|d| d.0 == member) {
            Some(at) => at,
            None => {
                self.digests.push((member, 0, false));
                self.digests.len() - 1
            }
        };
        &mut self.digests[at]
    }

    /// `count` more notifications left `member`'s digest; returns how many in all this command.
    pub(crate) fn digest_lost(&mut self, member: MemberId, count: u32) -> u32 {
        let d = self.digest(member);
        d.1 += count;
        d.1
    }

    /// Marks `member`'s digest skipped; returns whether it already was.
    pub(crate) fn digest_skipped(&mut self, member: MemberId) -> bool {
        std::mem::replace(&mut self.digest(member).2, true)
    }
}

//! The one rule for a member's standing: restricted while a moderator's
//! restriction stands or an open flag restricted them automatically; under
//! review while any flag is open; good otherwise.

use crate::ids::{FlagId, MemberId};
use crate::kinds::{Decision, Standing};
use crate::state::State;

/// The standing implied by a member's open flags and whether a moderator restricted them.
pub(crate) fn implied(state: &State, open: &[FlagId], restricted_by_decision: bool) -> Standing {
    let automatic = open.iter().any(|f| state.flag(*f).is_some_and(|f| f.automatic_restriction));
    if restricted_by_decision || automatic {
        Standing::Restricted
    } else if open.is_empty() {
        Standing::Good
    } else {
        Standing::UnderReview
    }
}

/// The standing `member`'s moderation record implies now.
pub(crate) fn of_member(state: &State, member: MemberId) -> Standing {
    match state.moderation.get(&member) {
        Some(m) => {
            let open: Vec<FlagId> = m.open.iter().map(|(_, f)| *f).collect();
            implied(state, &open, m.restricted_by_decision)
        }
        None => Standing::Good,
    }
}

/// The standing `member` has once `flag` is resolved with `decision`.
pub(crate) fn after_resolution(
    state: &State,
    member: MemberId,
    flag: FlagId,
    decision: Decision,
) -> Standing {
    let Some(m) = state.moderation.get(&member) else {
        return implied(state, &[], decision == Decision::Restrict);
    };
    let remaining: Vec<FlagId> = m.open.iter().map(|(_, f)| *f).filter(|f| *f != flag).collect();
    implied(state, &remaining, m.restricted_by_decision || decision == Decision::Restrict)
}

/// The standing `member` has once a restriction by decision is lifted: what
/// their open flags imply.
pub(crate) fn after_lift(state: &State, member: MemberId) -> Standing {
    match state.moderation.get(&member) {
        Some(m) => {
            let open: Vec<FlagId> = m.open.iter().map(|(_, f)| *f).collect();
            implied(state, &open, false)
        }
        None => Standing::Good,
    }
}

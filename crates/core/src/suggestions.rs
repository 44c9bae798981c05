//! `suggestions`: people a member may know (SPEC §11) — members their
//! connections are connected to, ranked by how many connections they share,
//! and members among their imported contacts — never anyone the member could
//! not or should not invite.
//!
//! Computed from the connection lists in memory: each connection's list is
//! walked once, counting into an array indexed by member id (ids are dense;
//! ids beyond the member table's array go to a map). Only the candidates
//! with the most mutual connections are then sorted and checked, a band of
//! counts at a time, until there are enough.
//!
//! What is never suggested, and why it cannot reveal anything: the member;
//! their connections; anyone with a request between them that the member
//! sees open, or sees declined or withdrawn within `review_window` (their own
//! views only); anyone in the member's cooldown; and, indistinguishably from
//! one another, anyone blocked either way, anyone who reported the member
//! `dont_know`, and anyone whose invitation setting would refuse the
//! member's invitation — the member learns only that someone is not suggested,
//! as a send to them would be refused with one error for all of these.

use crate::collections::{Map, Set};
use crate::error::Error;
use crate::ids::{MemberId, RequestId};
use crate::kinds::{InvitationSetting, RequestState};
use crate::members::Member;
use crate::model::Model;
use crate::records::Party;
use crate::state::State;
use crate::time::Timestamp;

/// Why someone is suggested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SuggestionReason {
    /// Shares connections with the member.
    MutualConnections,
    /// Is among the member's imported contacts.
    Contact,
}

impl SuggestionReason {
    /// The SPEC spelling: `"mutual_connections"` or `"contact"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionReason::MutualConnections => "mutual_connections",
            SuggestionReason::Contact => "contact",
        }
    }
}

/// Someone a member may know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    /// Who.
    pub member: MemberId,
    /// How many connections they share with the member.
    pub mutual_count: u64,
    /// `Contact` when they are among the member's imported contacts, else
    /// `MutualConnections`.
    pub reason: SuggestionReason,
}

/// Mutual-connection counts by member id: an array for the ids the member
/// table holds in its array, a map for the rest, and the ids counted.
struct Counts {
    dense: Vec<u32>,
    sparse: Map<MemberId, u32>,
    touched: Vec<MemberId>,
}

impl Counts {
    fn new(bound: usize) -> Self {
        Self { dense: vec![0; bound], sparse: Map::default(), touched: Vec::new() }
    }

    #[inline]
    fn add(&mut self, id: MemberId) {
        let slot = usize::try_from(id.0).ok().and_then(|i| self.dense.get_mut(i));
        let n = match slot {
            Some(n) => n,
            None => self.sparse.entry(id).or_default(),
        };
        if *n == 0 {
            self.touched.push(id);
        }
        *n += 1;
    }

    fn get(&self, id: MemberId) -> u32 {
        match usize::try_from(id.0).ok().and_then(|i| self.dense.get(i)) {
            Some(n) => *n,
            None => self.sparse.get(&id).copied().unwrap_or(0),
        }
    }

    fn clear(&mut self, id: MemberId) {
        match usize::try_from(id.0).ok().and_then(|i| self.dense.get_mut(i)) {
            Some(n) => *n = 0,
            None => {
                self.sparse.remove(&id);
            }
        }
    }
}

/// What the member sees of the members they have requests with: those it
/// rules out (open as they see it, or declined or withdrawn within the window).
fn ruled_out_by_views(state: &State, m: &Member, member: MemberId, since: Timestamp) -> Set<MemberId> {
    let mut out = Set::default();
    for party in [Party::Sender, Party::Recipient] {
        for (i, r) in state.requests_of(m, party) {
            let Some(seen) = state.seen_by(RequestId(i as u64 + 1), r, party) else { continue };
            let recent_end =
                matches!(seen.state, RequestState::Declined | RequestState::Withdrawn) && seen.since >= since;
            if seen.state.is_open() || recent_end {
                out.insert(if r.sender == member { r.recipient } else { r.sender });
            }
        }
    }
    out
}

impl Model {
    /// `suggestions(member, limit)` at time `at`: up to `limit` members the
    /// member may know, best first — most mutual connections, then contacts,
    /// then the lower id (see the module's notes for who is never suggested).
    pub fn suggestions(
        &self,
        member: MemberId,
        limit: usize,
        at: Timestamp,
    ) -> Result<Vec<Suggestion>, Error> {
        let m = self.member(member)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let state = self.state();
        let policy = self.policy();
        let mut counts = Counts::new(state.members.dense_bound());
        for c in &m.connections {
            let Some(theirs) = state.members.get(c) else { continue };
            for x in &theirs.connections {
                if *x != member {
                    counts.add(*x);
                }
            }
        }
        // Connections are never suggested: counted as none.
        for c in &m.connections {
            counts.clear(*c);
        }
        let my_address = state.email_of(member).map(|e| e.key());
        let contacts: Set<MemberId> = state
            .profile(member)
            .and_then(|p| p.contacts.as_deref())
            .into_iter()
            .flatten()
            .flat_map(|key| state.members_with_address(key))
            .filter(|x| *x != member && m.connections.binary_search(x).is_err())
            .collect();
        let ruled_out = ruled_out_by_views(state, m, member, at.minus(policy.review_window));
        let allowed = |x: MemberId, mutual: u32| -> bool {
            let Some(theirs) = state.live_member(x) else { return false };
            if ruled_out.contains(&x)
                || state.blocked_either_way(member, x)
                || state.dont_know.contains(&(x, member))
            {
                return false;
            }
            if let Some(cooldown) = policy.resend_cooldown
                && state
                    .pairs
                    .get(&(member, x))
                    .and_then(|p| p.last_closed())
                    .is_some_and(|c| at < c.plus(cooldown))
            {
                return false;
            }
            let in_contacts = || {
                let theirs = state.profile(x).and_then(|p| p.contacts.as_deref());
                matches!((&my_address, theirs), (Some(k), Some(c)) if c.contains(k))
            };
            match theirs.setting {
                InvitationSetting::Everyone => true,
                InvitationSetting::Nobody => false,
                InvitationSetting::Contacts | InvitationSetting::EmailOrContacts => in_contacts(),
                InvitationSetting::FriendsOfFriends => mutual > 0 || in_contacts(),
            }
        };
        // How many candidates have each count, to take the best a band at a time.
        let max = counts.touched.iter().map(|x| counts.get(*x)).max().unwrap_or(0) as usize;
        let mut by_count = vec![0usize; max + 1];
        for x in &counts.touched {
            by_count[counts.get(*x) as usize] += 1;
        }
        let mut out: Vec<Suggestion> = Vec::with_capacity(limit.min(1024));
        let take = |out: &mut Vec<Suggestion>, x: MemberId, c: u32, contact: bool| {
            if out.len() < limit && allowed(x, c) {
                let reason =
                    if contact { SuggestionReason::Contact } else { SuggestionReason::MutualConnections };
                out.push(Suggestion { member: x, mutual_count: u64::from(c), reason });
            }
        };
        // Bands of counts [low, high), from the highest down, each holding a
        // few more candidates than are still wanted (some are ruled out).
        let mut high = max + 1;
        while out.len() < limit && high > 1 {
            let want = (limit - out.len()) * 2 + 8;
            let mut low = high - 1;
            let mut n = by_count[low];
            while low > 1 && n < want {
                low -= 1;
                n += by_count[low];
            }
            let mut band: Vec<(u32, bool, MemberId)> = counts
                .touched
                .iter()
                .map(|x| (counts.get(*x), *x))
                .filter(|(c, _)| (low..high).contains(&(*c as usize)))
                .map(|(c, x)| (c, contacts.contains(&x), x))
                .collect();
            band.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
            for (c, contact, x) in band {
                take(&mut out, x, c, contact);
            }
            high = low;
        }
        // Then the contacts none of the member's connections knows.
        let mut unknown: Vec<MemberId> = contacts.iter().copied().filter(|x| counts.get(*x) == 0).collect();
        unknown.sort_unstable();
        for x in unknown {
            take(&mut out, x, 0, true);
        }
        Ok(out)
    }
}

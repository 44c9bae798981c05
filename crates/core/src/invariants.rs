//! The invariants every state must keep, checked from scratch. The store's
//! `check()` and the property tests use this.

use crate::ids::RequestId;
use crate::kinds::RequestState;
use crate::model::Model;
use crate::state::{standing_index, state_index};

impl Model {
    /// Every broken invariant, in words; empty when the state is sound.
    pub fn invariant_violations(&self) -> Vec<String> {
        let s = self.state();
        let mut problems = Vec::new();
        let mut say = |p: String| {
            if problems.len() < 100 {
                problems.push(p);
            }
        };
        let mut degree_sum = 0u64;
        let mut by_standing = [0u64; 3];
        for (id, m) in &s.members {
            degree_sum += m.connections.len() as u64;
            by_standing[standing_index(m.standing)] += 1;
            if !m.connections.windows(2).all(|w| w[0] < w[1]) {
                say(format!("{id}: connections are not sorted and unique"));
            }
            for other in &m.connections {
                if !s.connected(*other, *id) {
                    say(format!("{id} is connected to {other} but not the other way"));
                }
                if s.blocked_either_way(*id, *other) {
                    say(format!("{id} and {other} are connected across a block"));
                }
            }
            for (list, as_sender) in [(&m.sent, true), (&m.received, false)] {
                for rid in list {
                    match s.request(*rid) {
                        Some(r) if (if as_sender { r.sender } else { r.recipient }) == *id => {}
                        _ => say(format!("{id} lists {rid}, which is not theirs")),
                    }
                }
            }
            if s.derived_standing(*id) != m.standing {
                say(format!(
                    "{id} has standing {} but the moderation record implies {}",
                    m.standing,
                    s.derived_standing(*id)
                ));
            }
        }
        if degree_sum != 2 * s.connection_pairs {
            say(format!(
                "{} connections are counted but the members hold {} ends",
                s.connection_pairs, degree_sum
            ));
        }
        if by_standing != s.by_standing {
            say("members by standing do not match the counters".into());
        }
        let mut by_state = [0u64; 7];
        let mut open = 0usize;
        for (i, r) in s.requests.iter().enumerate() {
            let id = RequestId(i as u64 + 1);
            by_state[state_index(r.state)] += 1;
            if r.state.is_open() {
                open += 1;
                if s.open_pairs.get(&(r.sender, r.recipient)) != Some(&id) {
                    say(format!("{id} is open but not indexed as the open request of its pair"));
                }
                if i < s.oldest_open {
                    say(format!("{id} is open but the expiry scan starts after it"));
                }
                if s.connected(r.sender, r.recipient) {
                    say(format!("{id} is open between connected members"));
                }
                if s.blocked_either_way(r.sender, r.recipient) {
                    say(format!("{id} is open across a block"));
                }
            }
            if (r.state == RequestState::Cancelled) != r.cancelled.get().is_some() {
                say(format!("{id} is {} but its block record says otherwise", r.state));
            }
            if !s.members.contains_key(&r.sender) || !s.members.contains_key(&r.recipient) {
                say(format!("{id} names an unregistered member"));
            }
        }
        if by_state != s.by_state {
            say("requests by state do not match the counters".into());
        }
        if open != s.open_pairs.len() {
            say(format!("{open} requests are open but the pair index holds {}", s.open_pairs.len()));
        }
        if s.requests.get(s.oldest_open).is_some_and(|r| !r.state.is_open()) {
            say("the expiry scan starts at a closed request".into());
        }
        let unread: u64 = s.members.values().map(|m| m.unread).sum();
        if unread != s.notifications.iter().filter(|n| !n.read).count() as u64 {
            say("unread counts do not match the notifications".into());
        }
        let unsent = s.notifications.iter().filter(|n| n.mail == crate::state::Mail::Unsent).count();
        if unsent as u64 != s.unsent {
            say(format!("{unsent} emails are unsent but the outbox counts {}", s.unsent));
        }
        if s.notifications.iter().take(s.oldest_unsent).any(|n| n.mail == crate::state::Mail::Unsent) {
            say("an unsent email lies before the outbox scan".into());
        }
        for (i, n) in s.notifications.iter().enumerate() {
            if s.request(n.request).is_none() || !s.members.contains_key(&s.notified(n).0) {
                say(format!("notification {} points at nothing", i + 1));
            }
        }
        for f in &s.open_flags {
            match s.flag(*f) {
                Some(flag) if flag.status == crate::FlagStatus::Open => {}
                _ => say(format!("{f} is in the review queue but not open")),
            }
        }
        problems
    }
}

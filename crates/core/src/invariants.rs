//! The invariants every state must keep, checked from scratch. The store's
//! `check()` and the property tests use this.

use crate::ids::RequestId;
use crate::kinds::RequestState;
use crate::model::Model;
use crate::state::{ConnectionBits, Link, standing_index, state_index};

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
        let (mut listed_sent, mut listed_received, mut listed_inbox) = (0usize, 0usize, 0usize);
        let mut by_standing = [0u64; 3];
        for (id, m) in s.members.iter() {
            let id = &id;
            degree_sum += m.connections.len() as u64;
            by_standing[standing_index(m.standing)] += 1;
            if !m.connections.windows(2).all(|w| w[0] < w[1]) {
                say(format!("{id}: connections are not sorted and unique"));
            }
            for other in &m.connections {
                if s.members.get(other).is_none_or(|o| o.connections.binary_search(id).is_err()) {
                    say(format!("{id} is connected to {other} but not the other way"));
                }
                if s.blocked_either_way(*id, *other) {
                    say(format!("{id} and {other} are connected across a block"));
                }
            }
            for (as_sender, listed) in [(true, &mut listed_sent), (false, &mut listed_received)] {
                let mut walked = Vec::new();
                for (i, r) in s.requests_of(m, as_sender) {
                    walked.push(Link::to(i));
                    if (if as_sender { r.sender } else { r.recipient }) != *id {
                        say(format!("{id} lists {}, which is not theirs", RequestId(i as u64 + 1)));
                    }
                }
                *listed += walked.len();
                // The member names the newest three; each record the one three back.
                let first = if as_sender { m.sent } else { m.received };
                if (0..3).any(|k| walked.get(k).copied().unwrap_or(Link::NONE) != first[k]) {
                    say(format!("{id}: the newest of their requests are recorded wrongly"));
                }
                for (k, link) in walked.iter().enumerate() {
                    let r = link.index().and_then(|i| s.requests.get(i));
                    let back = r.map(|r| if as_sender { r.back_by_sender } else { r.back_by_recipient });
                    if back != Some(walked.get(k + 3).copied().unwrap_or(Link::NONE)) {
                        say(format!("{id}: a link in their requests is wrong"));
                    }
                }
            }
            for (i, n) in s.inbox_of(m) {
                listed_inbox += 1;
                if s.notified(n).0 != *id {
                    say(format!("{id}'s inbox holds notification {}, which is not theirs", i + 1));
                }
            }
            if m.connection_bits != ConnectionBits::of(&m.connections) {
                say(format!("{id}: the summary of their connections is wrong"));
            }
            if m.has_email != s.email_of(*id).is_some() {
                say(format!("{id}: whether they have an address is recorded wrongly"));
            }
            if s.derived_standing(*id) != m.standing {
                say(format!(
                    "{id} has standing {} but the moderation record implies {}",
                    m.standing,
                    s.derived_standing(*id)
                ));
            }
        }
        if listed_sent != s.requests.len() || listed_received != s.requests.len() {
            say(format!(
                "members list {listed_sent} sent and {listed_received} received requests of {}",
                s.requests.len()
            ));
        }
        if listed_inbox != s.notifications.len() {
            say(format!("inboxes hold {listed_inbox} of {} notifications", s.notifications.len()));
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
                if s.open_request(r.sender, r.recipient) != Some(id) {
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
            if r.has_texts != s.texts.contains_key(&id) {
                say(format!("{id}: whether it has a note or message is recorded wrongly"));
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
        let unread: u64 = s.members.values().map(|m| u64::from(m.unread)).sum();
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

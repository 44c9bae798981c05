//! The invariants every state must keep, checked from scratch. The store's
//! `check()` and the property tests use this.

use crate::decide::standing;
use crate::ids::RequestId;
use crate::kinds::{FlagStatus, RequestState};
use crate::members::ConnectionBits;
use crate::model::Model;
use crate::records::{Mail, Party, state_index};
use crate::state::standing_index;
use crate::thread::Link;

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
            if m.erased {
                if !m.connections.is_empty() || m.mail.has_email() || s.profile(*id).is_some() {
                    say(format!("{id} was erased but keeps connections or a profile"));
                }
            } else {
                by_standing[standing_index(m.standing)] += 1;
            }
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
            for (party, listed) in
                [(Party::Sender, &mut listed_sent), (Party::Recipient, &mut listed_received)]
            {
                let mut walked = Vec::new();
                for (i, r) in s.requests_of(m, party) {
                    walked.push(Link::to(i));
                    if r.party(party) != *id {
                        say(format!("{id} lists {}, which is not theirs", RequestId(i as u64 + 1)));
                    }
                }
                *listed += walked.len();
                // The member names the newest three; each record the one three back.
                let first = match party {
                    Party::Sender => m.sent,
                    Party::Recipient => m.received,
                };
                if (0..3).any(|k| walked.get(k).copied().unwrap_or(Link::NONE) != first[k]) {
                    say(format!("{id}: the newest of their requests are recorded wrongly"));
                }
                for (k, link) in walked.iter().enumerate() {
                    let r = link.index().and_then(|i| s.requests.get(i));
                    let back = r.map(|r| match party {
                        Party::Sender => r.back_by_sender,
                        Party::Recipient => r.back_by_recipient,
                    });
                    if back != Some(walked.get(k + 3).copied().unwrap_or(Link::NONE)) {
                        say(format!("{id}: a link in their requests is wrong"));
                    }
                }
            }
            for (i, n) in s.inbox_of(m) {
                listed_inbox += 1;
                if s.notified(n).is_none_or(|(told, _)| told != *id) {
                    say(format!("{id}'s inbox holds notification {}, which is not theirs", i + 1));
                }
            }
            if m.connection_bits != ConnectionBits::of(&m.connections) {
                say(format!("{id}: the summary of their connections is wrong"));
            }
            if m.mail.has_email() != s.email_of(*id).is_some() {
                say(format!("{id}: whether they have an address is recorded wrongly"));
            }
            let implied = standing::of_member(s, *id);
            if !m.erased && implied != m.standing {
                say(format!("{id} has standing {} but the moderation record implies {implied}", m.standing));
            }
        }
        if listed_sent != s.requests.len() || listed_received != s.requests.len() {
            say(format!(
                "members list {listed_sent} sent and {listed_received} received requests of {}",
                s.requests.len()
            ));
        }
        let notifications = s.notifications.iter().filter(|n| n.is_notification()).count();
        if listed_inbox != notifications {
            say(format!("inboxes hold {listed_inbox} of {notifications} notifications"));
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
            if r.has_view != s.views.contains_key(&id) {
                say(format!("{id}: whether a party sees it otherwise is recorded wrongly"));
            }
            if let Some(v) = s.views.get(&id).filter(|_| r.has_view) {
                if r.state.is_open() {
                    say(format!("{id} is open, yet {} sees it otherwise", v.party.as_str()));
                }
                let open_in_view = v.state.is_some_and(RequestState::is_open);
                let live = open_in_view || v.before_block.is_some();
                if live != (s.live_view_between(r.sender, r.recipient) == Some(id)) {
                    say(format!("{id}: whether its view still matters is indexed wrongly"));
                }
                if open_in_view && i < s.oldest_open {
                    say(format!("{id} is open in a view but the expiry scan starts after it"));
                }
            }
            if !s.members.contains_key(&r.sender) || !s.members.contains_key(&r.recipient) {
                say(format!("{id} names an unregistered member"));
            }
        }
        if by_state != s.by_state {
            say("requests by state do not match the counters".into());
        }
        for (i, r) in s.requests.iter().enumerate() {
            if r.state.is_open() && s.members.get(&r.sender).is_some_and(|m| m.erased) {
                say(format!("{} is open, but its sender was erased", RequestId(i as u64 + 1)));
            }
            if r.state.is_open() && s.members.get(&r.recipient).is_some_and(|m| m.erased) {
                say(format!("{} is open, but its recipient was erased", RequestId(i as u64 + 1)));
            }
        }
        let mut addresses = 0usize;
        for (id, p) in s.profiles.iter() {
            if let Some(e) = &p.email {
                addresses += 1;
                if !s.members_with_address(&e.key()).contains(id) {
                    say(format!("{id} is not found by their address"));
                }
            }
        }
        let indexed = s.by_email.len() + s.by_email_more.values().map(Vec::len).sum::<usize>();
        if indexed != addresses {
            say(format!("{indexed} members are indexed by address, {addresses} have one"));
        }
        if open != s.open_pairs.len() {
            say(format!("{open} requests are open but the pair index holds {}", s.open_pairs.len()));
        }
        let open_in_a_view = |i: usize, r: &crate::records::RequestRecord| {
            s.view_of(RequestId(i as u64 + 1), r, crate::records::Party::Sender)
                .or_else(|| s.view_of(RequestId(i as u64 + 1), r, crate::records::Party::Recipient))
                .is_some_and(|v| {
                    v.state.is_some_and(RequestState::is_open)
                        || v.before_block.is_some_and(|(s, _)| s.is_open())
                })
        };
        if s.requests
            .get(s.oldest_open)
            .is_some_and(|r| !r.state.is_open() && !open_in_a_view(s.oldest_open, r))
        {
            say("the expiry scan starts at a request open nowhere".into());
        }
        let unread: u64 = s.members.values().map(|m| u64::from(m.unread)).sum();
        if unread != s.notifications.iter().filter(|n| !n.read).count() as u64 {
            say("unread counts do not match the notifications".into());
        }
        let unsent = s.notifications.iter().filter(|n| n.mail() == Mail::Unsent).count();
        if unsent as u64 != s.unsent {
            say(format!("{unsent} emails are unsent but the outbox counts {}", s.unsent));
        }
        if s.notifications.iter().take(s.oldest_unsent).any(|n| n.unsent() && n.is_notification()) {
            say("an unsent email lies before the outbox scan".into());
        }
        for (i, n) in s.notifications.iter().enumerate() {
            let points_at_nothing = match s.scheduled.get(&i) {
                Some(e) => !s.members.contains_key(&e.member) || n.is_notification(),
                None => {
                    !n.is_notification()
                        || s.notified(n).is_none_or(|(told, _)| !s.members.contains_key(&told))
                }
            };
            if points_at_nothing {
                say(format!("notification {} points at nothing", i + 1));
            }
        }
        let due: std::collections::BTreeSet<(crate::time::Timestamp, usize)> = s
            .scheduled
            .iter()
            .filter(|(i, _)| s.notifications.get(**i).is_some_and(|n| n.unsent()))
            .map(|(i, e)| (e.due_at, *i))
            .collect();
        if due != s.due {
            say("the reminders and digests due do not match the outbox".into());
        }
        for (member, d) in &s.digests {
            let email_is_unsent =
                s.notifications.get(d.email).is_some_and(|n| n.unsent() && !n.is_notification());
            if !email_is_unsent || s.digest_items(*member).len() != d.items as usize {
                say(format!("the digest of {member} does not match its notifications"));
            }
        }
        for r in s.requests.iter() {
            let received_unsent = r.received.index().and_then(|i| s.notifications.get(i)).is_some_and(|n| {
                n.unsent() || n.mail() == Mail::InDigest && s.digests.contains_key(&r.recipient)
            });
            if received_unsent && !r.received_unsent {
                say(format!("an unsent email about a request from {} is not marked on it", r.sender));
            }
        }
        for f in &s.open_flags {
            match s.flag(*f) {
                Some(flag) if flag.status == FlagStatus::Open => {}
                _ => say(format!("{f} is in the review queue but not open")),
            }
        }
        problems
    }
}

impl Model {
    /// Where this model differs from `other`, in words, as `check()` reports a
    /// state rebuilt from the log (`self`) against the live one: empty when equal.
    pub fn differences(&self, other: &Model) -> Vec<String> {
        if self == other {
            return Vec::new();
        }
        let (a, b) = (self.state(), other.state());
        let mut out = Vec::new();
        let mut cmp = |name: &str, same: bool| {
            if !same {
                out.push(format!("the {name} rebuilt from the event log differ from the live state"));
            }
        };
        cmp("policy", self.policy() == other.policy());
        cmp("members", a.members == b.members && a.profiles == b.profiles);
        cmp("requests", a.requests == b.requests);
        cmp("texts", a.texts == b.texts);
        cmp("views", a.views == b.views && a.live_views == b.live_views);
        cmp("wrong addresses", a.wrong_addresses == b.wrong_addresses);
        cmp("members by address", a.by_email == b.by_email && a.by_email_more == b.by_email_more);
        cmp("reports made", a.reports_made == b.reports_made);
        cmp("open requests", a.open_pairs == b.open_pairs && a.oldest_open == b.oldest_open);
        cmp("blocks", a.blocks == b.blocks && a.dont_know == b.dont_know);
        cmp("notifications", a.notifications == b.notifications);
        cmp(
            "emails",
            a.email_delays == b.email_delays
                && a.unsent == b.unsent
                && a.oldest_unsent == b.oldest_unsent
                && a.scheduled == b.scheduled
                && a.due == b.due
                && a.digests == b.digests
                && a.email_off == b.email_off,
        );
        cmp("flags", a.flags == b.flags && a.open_flags == b.open_flags && a.moderation == b.moderation);
        cmp("pair histories", a.pairs == b.pairs);
        cmp("event numbers", a.last_seq == b.last_seq && a.last_at == b.last_at);
        if out.is_empty() {
            out.push("the state rebuilt from the event log differs from the live state".into());
        }
        out
    }
}

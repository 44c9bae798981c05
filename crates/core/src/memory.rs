//! What the model holds in memory, part by part: for sizing a deployment and
//! for the reopen benchmark. Heap bytes without the allocator's overhead.

use crate::collections::Map;
use crate::ids::MemberId;
use crate::model::Model;
use crate::records::{NotificationRecord, RequestRecord};
use std::mem::size_of;

/// Bytes a hash map's table takes (buckets of entries plus a control byte each).
fn table<K, V>(m: &Map<K, V>) -> usize {
    let buckets = if m.capacity() == 0 { 0 } else { (m.capacity() * 8 / 7).next_power_of_two() };
    buckets * (size_of::<(K, V)>() + 1)
}

impl Model {
    /// Approximate heap bytes of each part of the state, largest parts named
    /// as a person would look for them (allocator overhead not counted).
    pub fn memory_report(&self) -> Vec<(&'static str, usize)> {
        let s = self.state();
        let connections: usize =
            s.members.values().map(|m| m.connections.capacity() * size_of::<MemberId>()).sum();
        let profiles: usize = table(&s.profiles)
            + s.profiles
                .values()
                .map(|p| {
                    p.email.as_ref().map_or(0, |e| e.as_str().len())
                        + p.name.as_ref().map_or(0, |n| n.len())
                        + p.contacts.as_ref().map_or(0, |c| c.capacity() * 32)
                })
                .sum::<usize>();
        let texts: usize = s
            .texts
            .values()
            .map(|t| {
                size_of_val(t)
                    + t.note.as_ref().map_or(0, |n| n.len())
                    + t.message.as_ref().map_or(0, |m| m.len())
            })
            .sum::<usize>()
            + table(&s.texts);
        let endings: usize = s.pairs.values().map(|p| size_of_val(&*p.endings)).sum();
        let moderation: usize = s
            .moderation
            .values()
            .map(|r| {
                r.open.capacity() * 16
                    + r.cleared_through.capacity() * 16
                    + r.reports.capacity() * 32
                    + r.outcomes.capacity() * 24
            })
            .sum();
        vec![
            ("members: table and records", s.members.table_bytes()),
            ("members: profiles (address, name, contacts)", profiles),
            ("members: connection lists", connections),
            ("requests: records", s.requests.len() * size_of::<RequestRecord>()),
            ("requests: notes and messages", texts),
            ("open pairs: table", table(&s.open_pairs)),
            ("pair histories: table", table(&s.pairs)),
            ("pair histories: endings", endings),
            ("notifications: records", s.notifications.len() * size_of::<NotificationRecord>()),
            ("moderation: table", table(&s.moderation)),
            ("moderation: records", moderation),
            ("views of one party: table", table(&s.views)),
        ]
    }
}

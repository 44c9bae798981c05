//! Reopen timing: opens an existing database (for example one kept by
//! `load --keep`) a few times in this process and reports each open's time,
//! the RSS after it, and (with `--memory`) what the model's parts take.
//!
//! cargo run --release -p connreq-benches --bin reopen -- PATH [TIMES] [--memory] [--sled-only]
//!
//! `--sled-only` opens the database with sled alone (no model), to tell the
//! engine's memory from the model's.

use connreq_core::state::{Map, State};
use connreq_core::{Model, Network};
use connreq_store::{OpenOptions, Store};
use std::mem::size_of;
use std::time::Instant;

fn rss_gib() -> f64 {
    connreq_benches::rss_bytes() as f64 / (1u64 << 30) as f64
}

/// Bytes a hash map's table takes (buckets of entries plus a control byte each).
fn table<K, V>(m: &Map<K, V>) -> usize {
    let buckets = if m.capacity() == 0 { 0 } else { (m.capacity() * 8 / 7).next_power_of_two() };
    buckets * (size_of::<(K, V)>() + 1)
}

/// Bytes a vector's buffer takes.
fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * size_of::<T>()
}

/// Approximate heap bytes of each part of the state (allocator overhead not counted).
fn memory(s: &State) {
    let mb = |b: usize| b as f64 / 1e6;
    let connections: usize = s.members.values().map(|m| vec_bytes(&m.connections)).sum();
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
    let withdrawals: usize = s.pairs.values().map(|p| size_of_val(&*p.withdrawals)).sum();
    let moderation: usize = s
        .moderation
        .values()
        .map(|r| {
            r.open.capacity() * 16
                + r.cleared_through.capacity() * 16
                + r.reports.capacity() * 24
                + r.outcomes.capacity() * 24
        })
        .sum();
    let rows = [
        ("members: table and records", s.members.table_bytes()),
        ("members: profiles (address, name, contacts)", profiles),
        ("members: connection lists", connections),
        ("requests: records", s.requests.len() * size_of::<connreq_core::state::RequestRecord>()),
        ("requests: notes and messages", texts),
        ("open pairs: table", table(&s.open_pairs)),
        ("pair histories: table", table(&s.pairs)),
        ("pair histories: withdrawals", withdrawals),
        (
            "notifications: records",
            s.notifications.len() * size_of::<connreq_core::state::NotificationRecord>(),
        ),
        ("moderation: table", table(&s.moderation)),
        ("moderation: records", moderation),
        ("before-block times: table", table(&s.before_block)),
    ];
    let total: usize = rows.iter().map(|r| r.1).sum();
    for (name, bytes) in rows {
        println!("  {name:<55} {:>8.1} MB", mb(bytes));
    }
    println!("  {:<55} {:>8.1} MB", "total (approximate)", mb(total));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let show_memory = args.iter().any(|a| a == "--memory");
    let mut positional = args.iter().filter(|a| !a.starts_with("--"));
    let path = positional.next().expect("usage: reopen PATH [TIMES] [--memory]");
    let times: usize = positional.next().map_or(3, |t| t.parse().expect("TIMES is a number"));
    if args.iter().any(|a| a == "--sled-only") {
        let t = Instant::now();
        let db = sled::Config::new().path(path).cache_capacity(16 << 20).open().expect("sled opens");
        let log = db.open_tree("log").expect("the log");
        let opened = (t.elapsed().as_secs_f64(), rss_gib());
        println!(
            "sled alone: open {:.2} s, RSS {:.2} GiB; {} log records, RSS {:.2} GiB",
            opened.0,
            opened.1,
            log.len(),
            rss_gib()
        );
        return;
    }
    for i in 0..times {
        let t = Instant::now();
        // For reading only: opening reads and checks the same things, and
        // closing writes nothing.
        let store = Store::open_with(path, OpenOptions::read_only()).expect("the database opens");
        let secs = t.elapsed().as_secs_f64();
        let events = store.stats().expect("stats").events;
        println!("open {}: {secs:.2} s, {events} events, RSS {:.2} GiB", i + 1, rss_gib());
        if show_memory && i == 0 {
            store.read(|m: &Model| memory(m.state())).expect("readable");
        }
        store.close().expect("close");
    }
}

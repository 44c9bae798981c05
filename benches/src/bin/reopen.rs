//! Reopen timing: opens an existing database (for example one kept by
//! `load --keep`) a few times in this process and reports each open's time,
//! the RSS after it, and (with `--memory`) what the model's parts take.
//!
//! cargo run --release -p connreq-benches --bin reopen -- PATH [TIMES] [--memory] [--sled-only]
//!
//! `--sled-only` opens the database with sled alone (no model), to tell the
//! engine's memory from the model's.

use connreq_core::{Model, Network};
use connreq_store::{OpenOptions, Store};
use std::time::Instant;

fn rss_gib() -> f64 {
    connreq_benches::rss_bytes() as f64 / (1u64 << 30) as f64
}

/// Prints what each part of the model takes.
fn memory(model: &Model) {
    let mb = |b: usize| b as f64 / 1e6;
    let rows = model.memory_report();
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
            store.read(memory).expect("readable");
        }
        store.close().expect("close");
    }
}

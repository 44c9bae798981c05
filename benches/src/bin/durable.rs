//! Durable commands: the throughput of `Durability::Command` (every command
//! on disk before it returns) with several threads, where group commit lets
//! one flush serve every command written while the previous flush ran.
//!
//! cargo run --release -p connreq-benches --bin durable -- [--threads 8] [--each 4000] [--runs 5] [--dir PATH]
//!
//! Each run opens a fresh database, registers the members (manual durability,
//! flushed once), then times `--threads` threads each sending `--each`
//! invitations under the default durability. Prints every run, then the
//! median, the flushes each command took and, for comparison, one thread.

use connreq_core::{MemberId, Network, Policy, Timestamp};
use connreq_store::{Durability, OpenOptions, Store};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Instant;

const T: Timestamp = Timestamp(1_790_000_000_000);

struct Args {
    threads: u64,
    each: u64,
    runs: usize,
    dir: PathBuf,
}

fn args() -> Args {
    let mut a = Args { threads: 8, each: 4000, runs: 5, dir: std::env::temp_dir().join("connreq-durable") };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--threads" => a.threads = value().parse().expect("--threads N"),
            "--each" => a.each = value().parse().expect("--each N"),
            "--runs" => a.runs = value().parse().expect("--runs N"),
            "--dir" => a.dir = PathBuf::from(value()),
            other => panic!("unknown option {other}"),
        }
    }
    a
}

/// One run: commands per second and flushes per command.
fn run(path: &Path, threads: u64, each: u64) -> (f64, f64) {
    let _ = std::fs::remove_dir_all(path);
    let members = threads * (each + 1);
    {
        let options = OpenOptions {
            policy: Some(Policy::standard()),
            durability: Durability::Manual,
            ..OpenOptions::default()
        };
        let store = Store::open_with(path, options).unwrap();
        for m in 1..=members {
            store.register(MemberId(m), None, None, T).unwrap();
        }
        store.close().unwrap();
    }
    let store = Arc::new(Store::open_with(path, OpenOptions::default()).unwrap());
    assert_eq!(store.durability(), Durability::Command);
    let flushes_before = store.flushes().unwrap();
    let barrier = Arc::new(Barrier::new(threads as usize + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                let sender = MemberId(t + 1);
                let first = threads + 1 + t * each;
                barrier.wait();
                for i in 0..each {
                    store.send(sender, MemberId(first + i), None, None, T).unwrap();
                }
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let commands = (threads * each) as f64;
    let flushes = (store.flushes().unwrap() - flushes_before) as f64;
    assert_eq!(store.stats().unwrap().requests["pending"], threads * each);
    store.close().unwrap();
    (commands / seconds, flushes / commands)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let a = args();
    std::fs::create_dir_all(&a.dir).unwrap();
    let path = a.dir.join("db");
    let mut rates = Vec::new();
    let mut per_command = Vec::new();
    for r in 1..=a.runs {
        let (rate, flushes) = run(&path, a.threads, a.each);
        println!("run {r}: {rate:.0} commands/s, {flushes:.3} flushes per command ({} threads)", a.threads);
        rates.push(rate);
        per_command.push(flushes);
    }
    let single: Vec<f64> = (0..a.runs.min(3)).map(|_| run(&path, 1, a.each.min(2000)).0).collect();
    println!(
        "median of {}: {:.0} commands/s with {} threads (target >= 20,000), {:.3} flushes per command; \
         one thread: {:.0} commands/s",
        a.runs,
        median(rates),
        a.threads,
        median(per_command),
        median(single)
    );
    let _ = std::fs::remove_dir_all(&a.dir);
}

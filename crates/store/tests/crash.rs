//! Crash safety: a child process runs random commands on a database and
//! reports each point it knows to be durable; the test kills it with SIGKILL
//! at a random moment, reopens the database, runs `check()`, and verifies that
//! everything acknowledged as durable is there and that the log is exactly a
//! prefix of what the same commands produce in the reference model.
//!
//! A second test runs every command under `Durability::Command` (the
//! default) and has the child print `acked N` as soon as each command
//! returns; the kill follows the N-th acknowledgement at once, and all N
//! commands must be there after the reopen.
//!
//! `CONNREQ_CRASH_ROUNDS` sets the number of kill points of each test (default
//! 24 in CI; the full runs recorded in docs/RELIABILITY.md use 250).

use connreq_core::testing::{Scenario, scenario};
use connreq_core::{MemoryNetwork, Network, Seq};
use connreq_store::{Durability, OpenOptions, Store};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn scenario_for(seed: u64) -> Scenario {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    scenario(12, 4000).new_tree(&mut runner).unwrap().current()
}

fn durability(seed: u64) -> Durability {
    if seed.is_multiple_of(3) { Durability::Command } else { Durability::Background }
}

/// The child half: runs the scenario of `CONNREQ_CRASH_SEED` on the database in
/// `CONNREQ_CRASH_DIR`, printing `durable N` whenever event N is known durable.
#[test]
fn child_running_commands_until_killed() {
    let (Ok(dir), Ok(seed)) = (std::env::var("CONNREQ_CRASH_DIR"), std::env::var("CONNREQ_CRASH_SEED"))
    else {
        return;
    };
    let seed: u64 = seed.parse().unwrap();
    let skip: usize = std::env::var("CONNREQ_CRASH_SKIP").map_or(0, |v| v.parse().unwrap());
    let sc = scenario_for(seed);
    let options = OpenOptions {
        policy: Some(sc.policy.clone()),
        durability: durability(seed),
        flush_every_ms: 20,
        ..OpenOptions::default()
    };
    let store = Store::open_with(&dir, options).unwrap();
    let mut out = std::io::stdout().lock();
    let every_command = durability(seed) == Durability::Command;
    for (i, (step, at)) in sc.steps.iter().zip(sc.times()).enumerate().skip(skip) {
        let _ = store.execute(step.command.clone(), at);
        if every_command || i % 25 == 24 {
            if !every_command {
                store.flush().unwrap();
            }
            let last = store.stats().unwrap().events;
            writeln!(out, "durable {last}").unwrap();
            out.flush().unwrap();
        }
    }
    writeln!(out, "done").unwrap();
}

/// Runs one kill round; returns whether the child was killed before it finished.
fn run_round(seed: u64) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let sc = scenario_for(seed);
    // A random number of progress lines before the kill.
    let lines_before_kill = 1 + (seed.wrapping_mul(2_654_435_761) >> 7) % 40;
    // Every other round, the first steps run here and the store is closed, which
    // saves a snapshot: the child then continues a database that reopens from it.
    let skip = if seed.is_multiple_of(2) { (seed as usize * 37) % 900 } else { 0 };
    if skip > 0 {
        let options = OpenOptions {
            policy: Some(sc.policy.clone()),
            snapshot_after_events: 0,
            ..OpenOptions::default()
        };
        let store = Store::open_with(&path, options).unwrap();
        for (step, at) in sc.steps.iter().zip(sc.times()).take(skip) {
            let _ = store.execute(step.command.clone(), at);
        }
        store.close().unwrap();
        assert!(path.join("connreq.snapshot").exists(), "closing saved a snapshot");
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_running_commands_until_killed", "--nocapture", "--test-threads=1"])
        .env("CONNREQ_CRASH_DIR", &path)
        .env("CONNREQ_CRASH_SEED", seed.to_string())
        .env("CONNREQ_CRASH_SKIP", skip.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let (mut durable, mut seen) = (0u64, 0u64);
    let mut line = String::new();
    let mut finished = false;
    while seen < lines_before_kill {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 || line.starts_with("done") {
            finished = true;
            break;
        }
        if let Some(n) = line.trim().strip_prefix("durable ") {
            durable = n.parse().unwrap();
            seen += 1;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let store = Store::open_with(&path, OpenOptions::default())
        .unwrap_or_else(|e| panic!("seed {seed}: the database does not reopen after a kill: {e}"));
    assert_eq!(store.damage().unwrap(), None, "seed {seed}: a kill is not damage");
    assert_eq!(store.check().unwrap(), Vec::<String>::new(), "seed {seed}");
    let stored = store.raw_events(Seq(0), None).unwrap();
    assert!(
        stored.len() as u64 >= durable,
        "seed {seed}: {durable} events were durable but only {} survived",
        stored.len()
    );
    // What survived is exactly the start of what the commands produce.
    let memory = MemoryNetwork::new(sc.policy.clone()).unwrap();
    for (step, at) in sc.steps.iter().zip(sc.times()) {
        if memory.stats().unwrap().events >= stored.len() as u64 {
            break;
        }
        let _ = memory.execute(step.command.clone(), at);
    }
    let expected = memory.log();
    assert_eq!(&expected[..stored.len()], &stored[..], "seed {seed}: the surviving log is not a prefix");
    !finished
}

fn rounds() -> u64 {
    std::env::var("CONNREQ_CRASH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(24)
}

#[test]
fn a_killed_process_loses_nothing_it_flushed_and_leaves_a_sound_database() {
    let rounds = rounds();
    let killed = (1..=rounds).filter(|seed| run_round(*seed)).count() as u64;
    eprintln!("crash: {killed} of {rounds} children killed mid-run; every one reopened sound");
    assert!(killed * 2 >= rounds, "only {killed} of {rounds} children were killed mid-run");
}

/// The child half of the next test: runs the scenario of `CONNREQ_ACK_SEED`
/// on the database in `CONNREQ_ACK_DIR` with the default durability,
/// printing `acked N` (N: the events stored so far) as soon as each command
/// that stored something returns.
#[test]
fn child_acknowledging_each_command() {
    let (Ok(dir), Ok(seed)) = (std::env::var("CONNREQ_ACK_DIR"), std::env::var("CONNREQ_ACK_SEED")) else {
        return;
    };
    let sc = scenario_for(seed.parse().unwrap());
    let options = OpenOptions { policy: Some(sc.policy.clone()), ..OpenOptions::default() };
    assert_eq!(options.durability, Durability::Command, "the default");
    let store = Store::open_with(&dir, options).unwrap();
    let mut out = std::io::stdout().lock();
    let mut stored = store.stats().unwrap().events;
    for (step, at) in sc.steps.iter().zip(sc.times()) {
        if store.execute(step.command.clone(), at).is_ok() {
            let now = store.stats().unwrap().events;
            if now > stored {
                stored = now;
                writeln!(out, "acked {stored}").unwrap();
                out.flush().unwrap();
            }
        }
    }
    writeln!(out, "done").unwrap();
}

/// One round: kills the child right after its `lines`-th acknowledgement;
/// returns whether it was killed before it finished.
fn ack_round(seed: u64) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let lines = 1 + (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % 300;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_acknowledging_each_command", "--nocapture", "--test-threads=1"])
        .env("CONNREQ_ACK_DIR", &path)
        .env("CONNREQ_ACK_SEED", seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let (mut acked, mut seen, mut finished) = (0u64, 0u64, false);
    let mut line = String::new();
    while seen < lines {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 || line.starts_with("done") {
            finished = true;
            break;
        }
        if let Some(n) = line.trim().strip_prefix("acked ") {
            acked = n.parse().unwrap();
            seen += 1;
        }
    }
    // At once: no time for a background flush to help.
    child.kill().unwrap();
    child.wait().unwrap();
    let store = Store::open_with(&path, OpenOptions::default())
        .unwrap_or_else(|e| panic!("seed {seed}: the database does not reopen after a kill: {e}"));
    assert_eq!(store.damage().unwrap(), None, "seed {seed}");
    assert_eq!(store.check().unwrap(), Vec::<String>::new(), "seed {seed}");
    let stored = store.stats().unwrap().events;
    assert!(stored >= acked, "seed {seed}: {acked} events were acknowledged, {stored} survived");
    !finished
}

#[test]
fn every_command_acknowledged_under_command_durability_survives_a_kill() {
    let rounds = rounds();
    let killed = (1..=rounds).filter(|seed| ack_round(*seed)).count() as u64;
    eprintln!(
        "crash (command durability): {killed} of {rounds} children killed right after an \
         acknowledgement; every acknowledged command survived"
    );
    assert!(killed * 2 >= rounds, "only {killed} of {rounds} children were killed mid-run");
}

//! Erasure that really erases (SPEC §11): after `erase_member` and a close, a
//! byte scan of every file under the database directory finds none of the
//! member's texts; a crash in the middle leaves the old state or the erased
//! one, never a mix; the store and the in-memory model agree.

mod common;

use connreq_core::testing::scenario;
use connreq_core::{Error, MemberId, MemoryNetwork, Network, Policy, ReportReason, Seq, Timestamp};
use connreq_store::{Durability, OpenOptions, Store};
use proptest::prelude::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const T: Timestamp = Timestamp(1_790_000_000_000);
const M: MemberId = MemberId(7);
const NAME: &str = "Zyxquorth Erasable";
const RENAMED: &str = "Zyxquorth Renamedvale";
const ADDRESS: &str = "zyxquorth.secret@erase-me.example";
const CONTACT: &str = "contact.qq77@hidden-book.example";
const NOTE: &str = "NOTE-qwertyzx-we-met";
const DECLINE: &str = "DECLINE-plugh-no-thanks";
const WITHDRAW: &str = "WITHDRAW-xyzzy-sorry";
const SECRETS: &[&str] = &[NAME, RENAMED, ADDRESS, CONTACT, NOTE, DECLINE, WITHDRAW];

fn at(minutes: i64) -> Timestamp {
    Timestamp(T.0 + minutes * 60_000)
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() { out.extend(files(&p)) } else { out.push(p) }
    }
    out
}

/// The secrets found in the files under `dir`, with where.
fn found(dir: &Path) -> Vec<String> {
    let mut hits = Vec::new();
    for file in files(dir) {
        let bytes = std::fs::read(&file).unwrap();
        for s in SECRETS {
            if bytes.windows(s.len()).any(|w| w == s.as_bytes()) {
                hits.push(format!("{s:?} in {}", file.display()));
            }
        }
    }
    hits
}

/// A network where member 7 wrote every kind of text, over several sessions
/// (so the texts are in merged log records, the tail and a snapshot), and
/// `others` more members with some history of their own.
fn populate(path: &Path, others: u64) {
    let options =
        OpenOptions { durability: Durability::Manual, snapshot_after_events: 0, ..OpenOptions::default() };
    let store = Store::open_with(path, options.clone()).unwrap();
    for i in 1..=6 {
        store
            .register(MemberId(i), Some(&format!("m{i}@example.com")), Some(&format!("Member {i}")), T)
            .unwrap();
    }
    store.register(M, Some(ADDRESS), Some(NAME), T).unwrap();
    store.import_contacts(M, &[CONTACT, "m1@example.com"], T).unwrap();
    // Someone else has the member's address in their contacts.
    store.import_contacts(MemberId(2), &[ADDRESS], T).unwrap();
    let r = store.send(M, MemberId(1), Some(NOTE), None, at(1)).unwrap();
    store.accept(MemberId(1), r, at(2)).unwrap();
    let r = store.send(M, MemberId(2), Some(NOTE), None, at(3)).unwrap();
    store.withdraw(M, r, Some(WITHDRAW), at(4)).unwrap();
    let r = store.send(MemberId(3), M, Some("hello from three"), None, at(5)).unwrap();
    store.decline(M, r, Some(DECLINE), at(6)).unwrap();
    store.send(M, MemberId(4), Some(NOTE), None, at(7)).unwrap();
    store.send(MemberId(5), M, None, None, at(8)).unwrap();
    store.report(M, MemberId(6), ReportReason::Spam, None, at(9)).unwrap();
    store.close().unwrap();
    // A second session: the texts again, in the tail, after a snapshot.
    let store = Store::open_with(path, options).unwrap();
    store.update_member(M, None, Some(Some(RENAMED)), at(10)).unwrap();
    let r = store.send(M, MemberId(6), Some(NOTE), None, at(11)).unwrap();
    store.withdraw(M, r, Some(WITHDRAW), at(12)).unwrap();
    for i in 0..others {
        let id = MemberId(100 + i);
        store.register(id, Some(&format!("x{i}@example.com")), Some("Someone"), at(13)).unwrap();
        let r = store.send(id, MemberId(1 + i % 6), Some("a note of someone else"), None, at(13)).unwrap();
        if i % 2 == 0 {
            store.accept(MemberId(1 + i % 6), r, at(13)).unwrap();
        }
    }
    store.close().unwrap();
}

#[test]
fn after_an_erasure_no_file_of_the_database_holds_the_members_texts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    populate(&path, 300);
    // The scan finds them before: it is not looking in the wrong place.
    let before = found(&path);
    for s in SECRETS {
        assert!(before.iter().any(|h| h.starts_with(&format!("{s:?}"))), "{s} is not stored to begin with");
    }
    let store = Store::open(&path, Policy::standard()).unwrap();
    let stats_before = store.stats().unwrap();
    let events_before = store.stats().unwrap().events;
    store.erase_member(M, at(20)).unwrap();
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    // Counts and numbers stay consistent: the connection ends, open requests are cancelled.
    let stats = store.stats().unwrap();
    assert_eq!(stats.events, events_before + 1);
    assert_eq!(stats.connections, stats_before.connections - 1);
    assert_eq!(stats.members.values().sum::<u64>(), stats_before.members.values().sum::<u64>() - 1);
    assert_eq!(stats.requests["cancelled"], stats_before.requests["cancelled"] + 2);
    let events = store.events(Seq(0), None).unwrap();
    assert!(events.iter().enumerate().all(|(i, e)| e.seq.0 == i as u64 + 1));
    // The erased id is refused, by and to it; others see "a former member".
    assert_eq!(store.public_profile(M), Err(Error::UnknownMember(M)));
    assert!(matches!(store.send(MemberId(1), M, None, None, at(21)), Err(Error::UnknownMember(_))));
    assert!(matches!(store.send(M, MemberId(1), None, None, at(21)), Err(Error::UnknownMember(_))));
    assert!(matches!(store.register(M, None, None, at(21)), Err(Error::MemberExists(_))));
    assert!(!store.connections(MemberId(1)).unwrap().contains(&M));
    let texts: Vec<String> =
        store.notifications(MemberId(1), false).unwrap().into_iter().map(|n| n.text).collect();
    assert!(texts.iter().any(|t| t.starts_with("A former member")), "{texts:?}");
    store.close().unwrap();
    let left = found(&path);
    assert!(left.is_empty(), "after the erasure: {left:?}");
    for suffix in ["db.erasing", "db.erased"] {
        assert!(!dir.path().join(suffix).exists(), "{suffix} is left beside the database");
    }
    // It reopens, sound, and the other members' history is whole.
    let store = Store::open(&path, Policy::standard()).unwrap();
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    assert_eq!(store.stats().unwrap(), stats);
    assert_eq!(store.received(MemberId(1), None).unwrap().len(), 1 + 300 / 6);
}

#[test]
fn a_temporary_store_erases_too_and_agrees_with_the_model() {
    let memory = MemoryNetwork::new(Policy::standard()).unwrap();
    let store = Store::temporary(Policy::standard()).unwrap();
    for net in [&memory as &dyn Erasing, &store] {
        net.run();
    }
    assert_eq!(store.events(Seq(0), None).unwrap(), memory.events(Seq(0), None).unwrap());
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    let log = format!("{:?}", store.raw_events(Seq(0), None).unwrap());
    for s in SECRETS {
        assert!(!log.contains(s), "{s} is still in the log");
    }
}

trait Erasing {
    fn run(&self);
}

impl<N: Network> Erasing for N {
    fn run(&self) {
        self.register(M, Some(ADDRESS), Some(NAME), T).unwrap();
        self.register(MemberId(1), None, Some("One"), T).unwrap();
        let r = self.send(M, MemberId(1), Some(NOTE), None, T).unwrap();
        self.withdraw(M, r, Some(WITHDRAW), T).unwrap();
        self.send(M, MemberId(1), Some(NOTE), None, T).unwrap();
        self.erase_member(M, at(1)).unwrap();
    }
}

/// Builds the old and the erased database in two directories.
fn old_and_erased(dir: &Path) -> (PathBuf, PathBuf) {
    let old = dir.join("old");
    populate(&old, 20);
    let erased = dir.join("erased");
    copy_dir(&old, &erased);
    let store = Store::open(&erased, Policy::standard()).unwrap();
    store.erase_member(M, at(20)).unwrap();
    store.close().unwrap();
    (old, erased)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Whether the database at `path` holds the old state (the member is there)
/// or the erased one (gone from the API and from every file); panics on a mix.
fn old_or_erased(path: &Path) -> &'static str {
    let store = Store::open(path, Policy::standard()).unwrap();
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    let state = match store.public_profile(M) {
        Ok(p) => {
            assert_eq!(p.name.as_deref(), Some(RENAMED));
            "old"
        }
        Err(Error::UnknownMember(_)) => "erased",
        Err(e) => panic!("{e}"),
    };
    store.close().unwrap();
    if state == "erased" {
        assert_eq!(found(path), Vec::<String>::new(), "erased, yet texts are left");
    }
    for suffix in [".erasing", ".erased"] {
        let mut beside = path.as_os_str().to_owned();
        beside.push(suffix);
        assert!(!Path::new(&beside).exists(), "{suffix} is left beside the database");
    }
    state
}

#[test]
fn an_erasure_interrupted_between_its_two_renames_is_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let (old, erased) = old_and_erased(dir.path());
    let path = dir.path().join("net");
    // The old files moved aside, the complete new ones not yet in place.
    std::fs::rename(&old, dir.path().join("net.erased")).unwrap();
    std::fs::rename(&erased, dir.path().join("net.erasing")).unwrap();
    std::fs::write(dir.path().join("net.erasing/connreq.erasure-complete"), b"").unwrap();
    let read_only = OpenOptions { read_only: true, ..OpenOptions::default() };
    assert!(
        matches!(Store::open_with(&path, read_only), Err(Error::StorageError(m)) if m.contains("interrupted"))
    );
    assert_eq!(old_or_erased(&path), "erased");
}

#[test]
fn an_unfinished_rewrite_is_dropped_and_the_old_state_stays() {
    let dir = tempfile::tempdir().unwrap();
    let (old, erased) = old_and_erased(dir.path());
    let path = dir.path().join("net");
    std::fs::rename(&old, &path).unwrap();
    // The new database half-written: no completion mark.
    std::fs::rename(&erased, dir.path().join("net.erasing")).unwrap();
    assert_eq!(old_or_erased(&path), "old");
}

#[test]
fn old_files_left_aside_after_the_swap_are_deleted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let (old, erased) = old_and_erased(dir.path());
    let path = dir.path().join("net");
    std::fs::rename(&erased, &path).unwrap();
    std::fs::rename(&old, dir.path().join("net.erased")).unwrap();
    assert_eq!(old_or_erased(&path), "erased");
}

/// The child half of the crash test: erases member 7 of the database in
/// `CONNREQ_ERASE_DIR`, saying when it starts.
#[test]
fn child_erasing_until_killed() {
    let Ok(dir) = std::env::var("CONNREQ_ERASE_DIR") else { return };
    let store = Store::open(&dir, Policy::standard()).unwrap();
    println!("erasing");
    store.erase_member(M, at(20)).unwrap();
    println!("erased");
}

/// Kills the child erasing the database at `path` at stage `stage` of what it
/// shows on disk: as it starts, once the new files appear, once they are
/// complete, once the old ones are aside, or after it reports success.
fn kill_erasing_child(path: &Path, stage: u32) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_erasing_until_killed", "--nocapture", "--test-threads=1"])
        .env("CONNREQ_ERASE_DIR", path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("erasing") {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the child ended before erasing");
    }
    let beside = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    let reached = |stage: u32| match stage {
        1 => beside(".erasing").join("db").exists(),
        2 => beside(".erasing").join("connreq.erasure-complete").exists(),
        3 => beside(".erased").exists(),
        _ => true,
    };
    if stage == 4 {
        line.clear();
        let _ = reader.read_line(&mut line);
    } else {
        // Watches the files until the stage shows, or the child is done.
        while !reached(stage) && child.try_wait().unwrap().is_none() {
            std::hint::spin_loop();
        }
    }
    let _ = child.kill();
    child.wait().unwrap();
}

#[test]
fn a_crash_during_an_erasure_leaves_the_old_state_or_the_erased_one() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template");
    populate(&template, 3000);
    let mut outcomes = Vec::new();
    for stage in 0..=4 {
        let path = dir.path().join(format!("net{stage}"));
        copy_dir(&template, &path);
        kill_erasing_child(&path, stage);
        outcomes.push(old_or_erased(&path));
    }
    eprintln!("erasure crash: outcomes by kill stage {outcomes:?}");
    assert_eq!(outcomes[4], "erased", "an acknowledged erasure is lost");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random histories, then one member erased: the store's log and views
    /// are the model's, and the store's `check()` passes.
    #[test]
    fn the_store_and_the_model_agree_on_an_erasure(sc in scenario(6, 80), who in 1u64..=6) {
        let memory = MemoryNetwork::new(sc.policy.clone()).unwrap();
        let store = Store::temporary(sc.policy.clone()).unwrap();
        let mut last = Timestamp(0);
        for (step, at) in sc.steps.iter().zip(sc.times()) {
            prop_assert_eq!(store.execute(step.command.clone(), at), memory.execute(step.command.clone(), at));
            last = last.max(at);
        }
        let pool = common::pool(&sc);
        prop_assert_eq!(store.erase_member(MemberId(who), last), memory.erase_member(MemberId(who), last));
        prop_assert_eq!(common::views(&store, pool), common::views(&memory, pool));
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
    }
}

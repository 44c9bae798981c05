//! Damage: bytes overwritten at several places of every file of a database
//! (sled's `db`, `conf` and `snap.*`, connreq's snapshot). Opening either
//! warns (`Store::damage`, commands refused with `StorageError`, queries
//! served from the state that can be trusted) or refuses with a clean
//! `StorageError`, never panics and never silently serves less than was
//! stored; repair then gives a database that checks clean, holds only events
//! that were really stored, and takes commands again.

use connreq_core::{Error, Event, MemberId, Network, Policy, Seq, Timestamp};
use connreq_store::{Durability, OpenOptions, RepairReport, Store};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

const T: Timestamp = Timestamp(1_790_000_000_000);

/// Members joining in each session.
const PER: u64 = 1500;

/// Session `k` of a deterministic workload on the database at `path`:
/// members `PER k + 1..=PER (k + 1)` join, each invites the one before with
/// a note, and every other invitation is accepted.
fn session(path: &Path, k: u64, durability: Durability, snapshots: bool) -> Store {
    let options = OpenOptions {
        policy: Some(Policy::standard()),
        durability,
        snapshot_after_events: if snapshots { 0 } else { u64::MAX },
        ..OpenOptions::default()
    };
    let store = Store::open_with(path, options).unwrap();
    let at = |i: u64| Timestamp(T.0 + (k * 1000 + i) as i64 * 1000);
    for m in PER * k + 1..=PER * (k + 1) {
        store
            .register(MemberId(m), Some(&format!("m{m}@example.com")), Some(&format!("Member {m}")), at(m))
            .unwrap();
        if m > 1 {
            let id = store
                .send(MemberId(m), MemberId(m - 1), Some("We met at the conference"), None, at(m))
                .unwrap();
            if m % 2 == 0 {
                store.accept(MemberId(m - 1), id, at(m)).unwrap();
            }
        }
    }
    store
}

/// The child half of `build`: a last session that ends without closing (as
/// a crash would), so sled's recovery has work to do on the next open.
#[test]
fn child_writing_without_closing() {
    let Ok(path) = std::env::var("CONNREQ_DAMAGE_DB") else { return };
    let store = session(Path::new(&path), 3, Durability::Command, true);
    store.flush().unwrap();
    println!("events {}", store.stats().unwrap().events);
    std::io::stdout().flush().unwrap();
    std::process::exit(0);
}

/// How the database to damage was left.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Left {
    /// Closed after three sessions, each saving connreq's snapshot.
    Snapshotted,
    /// Closed after three sessions, without a snapshot.
    Closed,
    /// As `Snapshotted`, then a fourth session that ended without closing.
    Crashed,
}

/// Writes the database to damage.
fn build(path: &Path, left: Left) {
    for k in 0..3 {
        session(path, k, Durability::Manual, left != Left::Closed).close().unwrap();
    }
    if left != Left::Crashed {
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writing_without_closing", "--nocapture", "--test-threads=1"])
        .env("CONNREQ_DAMAGE_DB", path)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("events "), "{out:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// How a file is damaged: 64 bytes overwritten at `Spread(n)`: `n` places
/// spread evenly over it; `At(i, n)`: one place, `i` `n`ths into it.
#[derive(Clone, Copy, Debug)]
enum Places {
    Spread(usize),
    At(usize, usize),
}

fn overwrite(file: &Path, places: Places) {
    let mut bytes = std::fs::read(file).unwrap();
    let len = bytes.len();
    let starts: Vec<usize> = match places {
        Places::Spread(n) => (0..n).map(|i| len * (2 * i + 1) / (2 * n)).collect(),
        Places::At(i, n) => vec![len * i / n],
    };
    for at in starts {
        for b in &mut bytes[at..(at + 64).min(len)] {
            *b = 0x5a;
        }
    }
    std::fs::write(file, bytes).unwrap();
}

/// A message in words: no debug output of sled's.
fn words(message: &str) {
    for bad in ["Inline(", "backtrace", "Some(", "None", "Corruption {", "bt:"] {
        assert!(!message.contains(bad), "{message:?} holds {bad:?}");
    }
}

/// Every event `store` holds is the event of that number the intact
/// database held: nothing is made up.
fn only_real_events(store: &Store, reference: &[Event], case: &str) {
    for event in store.raw_events(Seq(0), None).unwrap() {
        let i = usize::try_from(event.seq.0 - 1).unwrap();
        assert_eq!(Some(&event), reference.get(i), "{case}: event {}", event.seq);
    }
}

/// After repair: sound, holding at most what was stored, taking commands.
fn repaired_and_sound(path: &Path, report: &RepairReport, reference: &[Event], case: &str) {
    words(&report.summary());
    let store = Store::open_with(path, OpenOptions::default()).unwrap();
    assert_eq!(store.damage().unwrap(), None, "{case}");
    assert_eq!(store.check().unwrap(), Vec::<String>::new(), "{case}");
    let last = store.stats().unwrap().events;
    assert_eq!(last, report.kept_through.0, "{case}");
    assert!(last <= reference.len() as u64, "{case}");
    only_real_events(&store, reference, case);
    // At the log's own time: a command may not be dated before the last event.
    let at = store.read(|m| m.clock()).unwrap().unwrap_or(T);
    store.register(MemberId(1_000_000), None, Some("after repair"), at).unwrap();
    store.close().unwrap();
    drop(store);
    let again = Store::open_with(path, OpenOptions::default()).unwrap();
    assert_eq!(again.stats().unwrap().events, last + 1, "{case}");
    assert_eq!(again.check().unwrap(), Vec::<String>::new(), "{case}");
}

#[derive(Default, Debug)]
struct Outcomes {
    intact: usize,
    /// Intact up to the last close; writes of the session that crashed after
    /// it dropped by sled's recovery.
    crash_tail_dropped: usize,
    warned: usize,
    refused: usize,
    history_only: usize,
    commands_lost: usize,
    /// Refused, and nothing to rebuild from (no snapshot, sled unreadable).
    unrepairable: usize,
}

/// Damages `file` of a copy of `pristine` at `places` places and checks what
/// follows. `closed_with`: how many events the database held when last
/// closed (all of them unless it crashed since).
fn one_case(
    pristine: &Path,
    work: &Path,
    (file, places): (&str, Places),
    reference: &[Event],
    closed_with: usize,
    seen: &mut Outcomes,
) {
    let case = format!("{file} overwritten at {places:?} ({closed_with} events at the last close)");
    copy_dir(pristine, work);
    overwrite(&work.join(file), places);
    let opened = catch_unwind(AssertUnwindSafe(|| Store::open_with(work, OpenOptions::default())))
        .unwrap_or_else(|_| panic!("{case}: opening panicked"));
    let report = match opened {
        Ok(store) => match store.damage().unwrap() {
            None => {
                // Nothing lost: then everything must be there.
                seen.intact += 1;
                // Nothing reported: then everything stored by the last close
                // is there (sled cannot tell damage to what it wrote after
                // that from a write torn by the crash; see RELIABILITY.md).
                let events = store.raw_events(Seq(0), None).unwrap();
                assert!(events.len() >= closed_with, "{case}: served {} events, silently", events.len());
                assert!(events[..] == reference[..events.len()], "{case}: served other events");
                if events.len() < reference.len() {
                    seen.crash_tail_dropped += 1;
                }
                assert_eq!(store.check().unwrap(), Vec::<String>::new(), "{case}");
                return;
            }
            Some(damage) => {
                seen.warned += 1;
                words(&damage.summary());
                match store.register(MemberId(1_000_001), None, None, T) {
                    Err(Error::StorageError(m)) => {
                        assert!(m.contains("damaged") && m.contains("repair"), "{case}: {m}");
                        words(&m);
                    }
                    other => panic!("{case}: a command on a damaged database gave {other:?}"),
                }
                assert!(store.stats().is_ok(), "{case}: queries are served");
                assert_eq!(store.stats().unwrap().events, damage.trusted_through.0, "{case}");
                let problems = store.check().unwrap();
                assert!(!problems.is_empty(), "{case}");
                problems.iter().for_each(|p| words(p));
                let report = store.repair().unwrap_or_else(|e| panic!("{case}: repair failed: {e}"));
                assert_eq!(store.damage().unwrap(), None, "{case}");
                assert_eq!(store.check().unwrap(), Vec::<String>::new(), "{case}");
                drop(store);
                report
            }
        },
        Err(Error::StorageError(m)) => {
            seen.refused += 1;
            words(&m);
            assert!(m.contains("repair"), "{case}: {m}");
            match Store::repair_at(work, OpenOptions::default()) {
                Ok(report) => report,
                // Without connreq's snapshot, a sled that cannot read its own
                // files leaves nothing to rebuild from; repair says so.
                Err(Error::StorageError(m)) if !pristine.join("connreq.snapshot").exists() => {
                    words(&m);
                    assert!(m.contains("no snapshot"), "{case}: {m}");
                    seen.unrepairable += 1;
                    return;
                }
                Err(e) => panic!("{case}: repair failed: {e}"),
            }
        }
        Err(other) => panic!("{case}: {other:?}"),
    };
    assert!(report.repaired, "{case}");
    assert!(report.damaged_copy.as_ref().is_some_and(|p| p.exists()), "{case}");
    if report.commands_lost.is_some() || report.end_unknown {
        seen.commands_lost += 1;
    } else {
        seen.history_only += 1;
    }
    repaired_and_sound(work, &report, reference, &case);
    std::fs::remove_dir_all(report.damaged_copy.as_ref().unwrap()).unwrap();
}

#[test]
fn overwritten_bytes_in_any_file_warn_or_refuse_and_repair_gives_a_sound_database() {
    let mut seen = Outcomes::default();
    for left in [Left::Snapshotted, Left::Closed, Left::Crashed] {
        let dir = tempfile::tempdir().unwrap();
        let pristine = dir.path().join("pristine");
        build(&pristine, left);
        let copy = dir.path().join("reference");
        copy_dir(&pristine, &copy);
        let store = Store::open_with(&copy, OpenOptions::read_only()).unwrap();
        assert_eq!(store.damage().unwrap(), None);
        let reference = store.raw_events(Seq(0), None).unwrap();
        drop(store);
        let closed_with = match left {
            // The three closed sessions: joins, invitations (one fewer), half of them accepted.
            Left::Crashed => (3 * PER + 3 * PER - 1 + 3 * PER / 2) as usize,
            _ => reference.len(),
        };
        let mut files: Vec<String> = std::fs::read_dir(&pristine)
            .unwrap()
            .filter_map(|e| {
                let e = e.unwrap();
                e.file_type().unwrap().is_file().then(|| e.file_name().into_string().unwrap())
            })
            .collect();
        files.sort();
        for expected in ["db", "conf", "connreq.sealed"] {
            assert!(files.iter().any(|f| f == expected), "{left:?}: {files:?}");
        }
        assert!(files.iter().any(|f| f.starts_with("snap.")), "{files:?}");
        assert_eq!(files.iter().any(|f| f == "connreq.snapshot"), left != Left::Closed, "{files:?}");
        for file in &files {
            let mut cases: Vec<Places> = [1, 3, 8, 40].map(Places::Spread).to_vec();
            if file == "db" && left == Left::Snapshotted {
                // One place at a time across the whole file: some hit pages
                // of the log that the snapshot covers.
                cases.extend((0..24).map(|i| Places::At(i, 24)));
            }
            for (n, places) in cases.into_iter().enumerate() {
                let work = dir.path().join(format!("{file}-{n}"));
                one_case(&pristine, &work, (file, places), &reference, closed_with, &mut seen);
                std::fs::remove_dir_all(&work).unwrap();
            }
            // Until a place in a page the snapshot covers is hit (sled's
            // layout varies a little from run to run), on a finer grid.
            let mut finer = (0..97).map(|i| Places::At(i, 97));
            while file == "db" && left == Left::Snapshotted && seen.warned == 0 {
                let Some(places) = finer.next() else { break };
                let work = dir.path().join(format!("{file}-finer"));
                one_case(&pristine, &work, (file, places), &reference, closed_with, &mut seen);
                std::fs::remove_dir_all(&work).unwrap();
            }
        }
    }
    eprintln!("damage: {seen:?}");
    assert!(seen.warned > 0 && seen.refused > 0, "{seen:?}");
}

#[test]
fn a_log_that_lost_events_behind_its_snapshot_opens_with_a_warning_and_repair_keeps_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let options = OpenOptions { snapshot_after_events: 0, ..OpenOptions::with_policy(Policy::standard()) };
    let store = Store::open_with(&path, options).unwrap();
    for m in 1..=30 {
        store.register(MemberId(m), None, None, T).unwrap();
    }
    for m in 2..=30 {
        store.send(MemberId(1), MemberId(m), Some("hello"), None, T).unwrap();
    }
    let before = store.stats().unwrap();
    store.close().unwrap();
    drop(store);
    // Events 10–20 vanish from the log (their records rewritten without them).
    {
        let db = sled::open(&path).unwrap();
        let mut kept: Vec<(sled::IVec, Vec<Event>)> = Vec::new();
        for name in db.tree_names() {
            if name.as_ref() == b"log" || name.starts_with(b"tail:") {
                let tree = db.open_tree(&name).unwrap();
                for item in tree.iter() {
                    let (k, v) = item.unwrap();
                    let events: Vec<Event> = postcard::from_bytes(&v).unwrap();
                    kept.push((name.clone(), events));
                    tree.remove(k).unwrap();
                }
            }
        }
        for (name, events) in kept {
            let tree = db.open_tree(&name).unwrap();
            for e in events.into_iter().filter(|e| !(10..=20).contains(&e.seq.0)) {
                tree.insert(e.seq.0.to_be_bytes(), postcard::to_allocvec(&vec![e]).unwrap()).unwrap();
            }
        }
        db.flush().unwrap();
    }
    let store = Store::open_with(&path, OpenOptions::default()).unwrap();
    let damage = store.damage().unwrap().expect("the damage is seen");
    assert_eq!(damage.trusted_through.0, before.events);
    assert!(damage.problems.iter().any(|p| p.contains("events 10–20")), "{:?}", damage.problems);
    // The state is the snapshot's: nothing a member sees is missing.
    assert_eq!(store.stats().unwrap(), before);
    let report = store.repair().unwrap();
    assert_eq!(report.history_lost, vec![(10, 20)]);
    assert_eq!(report.commands_lost, None);
    assert_eq!(report.kept_through.0, before.events);
    assert!(report.summary().contains("events 10–20"), "{}", report.summary());
    assert_eq!(store.stats().unwrap(), before);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    // The repaired database works, and keeps working after a close.
    let id = store.send(MemberId(2), MemberId(3), None, None, T).unwrap();
    store.close().unwrap();
    drop(store);
    let store = Store::open_with(&path, OpenOptions::default()).unwrap();
    assert_eq!(store.request(id).unwrap().sender, MemberId(2));
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    let events = store.raw_events(Seq(0), None).unwrap();
    assert!(events.iter().all(|e| !(10..=20).contains(&e.seq.0)));
    assert_eq!(events.len() as u64, before.events + 1 - 11);
    // A backup of the repaired database opens and checks clean too.
    let copy = dir.path().join("copy");
    store.backup(&copy).unwrap();
    let backup = Store::open_with(&copy, OpenOptions::default()).unwrap();
    assert_eq!(backup.stats().unwrap(), store.stats().unwrap());
    assert_eq!(backup.check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_sound_database_is_left_as_it_is_by_repair() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = Store::open(&path, Policy::standard()).unwrap();
    store.register(MemberId(1), None, None, T).unwrap();
    let report = store.repair().unwrap();
    assert!(!report.repaired, "{report:?}");
    assert_eq!(report.damaged_copy, None);
    store.register(MemberId(2), None, None, T).unwrap();
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    assert!(!path.with_file_name("db.damaged").exists());
}

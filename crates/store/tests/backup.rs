//! Online backup: a consistent copy written while the store keeps serving.
//! The copy opens, checks clean and holds every command acknowledged before
//! the backup began; commands and queries go on while it is written.

use connreq_core::{MemberId, Network, Policy, Seq, Timestamp};
use connreq_store::{Durability, OpenOptions, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const T: Timestamp = Timestamp(1_790_000_000_000);

fn filled(path: &std::path::Path, members: u64, durability: Durability) -> Arc<Store> {
    let options = OpenOptions { policy: Some(Policy::standard()), durability, ..OpenOptions::default() };
    let store = Store::open_with(path, options).unwrap();
    for m in 1..=members {
        store.register(MemberId(m), None, Some("a member"), T).unwrap();
        if m > 1 {
            store.send(MemberId(m), MemberId(m - 1), Some("hello"), None, T).unwrap();
        }
    }
    Arc::new(store)
}

#[test]
fn a_backup_taken_while_threads_write_and_read_holds_everything_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    // Enough for the copy to read the log in several chunks.
    let store = filled(&dir.path().join("db"), 15_000, Durability::Background);
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (store, stop, written) = (store.clone(), stop.clone(), written.clone());
        std::thread::spawn(move || {
            let mut m = 1_000_000;
            while !stop.load(Ordering::Relaxed) {
                store.register(MemberId(m), None, None, T).unwrap();
                written.fetch_add(1, Ordering::Relaxed);
                m += 1;
            }
        })
    };
    let reader = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut queries = 0u64;
            while !stop.load(Ordering::Relaxed) {
                store.connections(MemberId(2)).unwrap();
                store.stats().unwrap();
                queries += 1;
            }
            queries
        })
    };
    // Let the writer get going.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while written.load(Ordering::Relaxed) < 10 {
        assert!(std::time::Instant::now() < deadline && !writer.is_finished(), "the writer does not write");
        std::thread::yield_now();
    }
    let acknowledged = store.stats().unwrap().events;
    let before = written.load(Ordering::Relaxed);
    let report = store.backup(dir.path().join("copy")).unwrap();
    let during = written.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(reader.join().unwrap() > 0);
    assert!(report.through.0 >= acknowledged, "{report:?}, {acknowledged} acknowledged before");
    assert_eq!(report.events, report.through.0);
    assert!(during > 0, "commands waited for the whole copy");
    let copy = Store::open_with(&report.path, OpenOptions::default()).unwrap();
    assert_eq!(copy.check().unwrap(), Vec::<String>::new());
    let copied = copy.raw_events(Seq(0), None).unwrap();
    let original = store.raw_events(Seq(0), Some(copied.len())).unwrap();
    assert_eq!(copied.len() as u64, report.through.0);
    assert!(copied == original, "the copy holds other events");
    // The copy is a database of its own.
    copy.register(MemberId(5_000_000), None, None, T).unwrap();
    assert!(store.public_profile(MemberId(5_000_000)).is_err());
}

#[test]
fn a_destination_that_exists_and_is_not_empty_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled(&dir.path().join("db"), 3, Durability::Command);
    let busy = dir.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "mine").unwrap();
    for dest in [&busy, &file] {
        match store.backup(dest) {
            Err(connreq_core::Error::StorageError(m)) => assert!(m.contains("already exists"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(std::fs::read_to_string(busy.join("notes.txt")).unwrap(), "mine");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    // An empty directory is fine.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    store.backup(&empty).unwrap();
    assert_eq!(Store::open_with(&empty, OpenOptions::default()).unwrap().stats().unwrap().events, 5);
}

#[test]
fn a_temporary_store_and_a_policy_change_are_backed_up_too() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::temporary(Policy::standard()).unwrap();
    store.register(MemberId(1), None, None, T).unwrap();
    store.register(MemberId(2), None, None, T).unwrap();
    store.execute(connreq_core::Command::ChangePolicy { policy: Policy::linkedin() }, T).unwrap();
    store.send(MemberId(1), MemberId(2), None, None, T).unwrap();
    let report = store.backup(dir.path().join("copy")).unwrap();
    let copy = Store::open_with(&report.path, OpenOptions::default()).unwrap();
    assert_eq!(copy.policy().unwrap(), Policy::linkedin());
    assert_eq!(copy.stats().unwrap(), store.stats().unwrap());
    assert_eq!(copy.check().unwrap(), Vec::<String>::new());
}

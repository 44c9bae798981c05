//! A store opened for reading only writes nothing: every file of the
//! database but sled's page-table snapshots (`snap.*`) is byte for byte the
//! same after opening, querying and closing it.

use connreq_core::{Error, MemberId, Network, Policy, Seq, Timestamp};
use connreq_store::{OpenOptions, Store};
use std::collections::BTreeMap;
use std::path::Path;

const T: Timestamp = Timestamp(1_790_000_000_000);

/// Every file under `dir` but sled's `snap.*`, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let name = entry.path().strip_prefix(dir).unwrap().display().to_string();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else if !name.starts_with("snap.") {
                out.insert(name, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    out
}

fn written(path: &Path, snapshot: bool) {
    let options = OpenOptions {
        snapshot_after_events: if snapshot { 0 } else { u64::MAX },
        ..OpenOptions::with_policy(Policy::standard())
    };
    let store = Store::open_with(path, options).unwrap();
    for m in 1..=50 {
        store.register(MemberId(m), Some(&format!("m{m}@example.com")), None, T).unwrap();
    }
    for m in 2..=50 {
        let id = store.send(MemberId(1), MemberId(m), Some("hi"), None, T).unwrap();
        if m % 3 == 0 {
            store.accept(MemberId(m), id, T).unwrap();
        }
    }
    store.close().unwrap();
}

#[test]
fn opening_for_reading_only_querying_and_closing_change_no_file() {
    for snapshot in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        written(&path, snapshot);
        let before = files(&path);
        for _ in 0..2 {
            let store = Store::open_with(&path, OpenOptions::read_only()).unwrap();
            assert!(store.read_only());
            let stats = store.stats().unwrap();
            // Registrations, sends, accepts, and the invitation email each accept made stale.
            assert_eq!(stats.events, 50 + 49 + 16 + 16);
            store.sent(MemberId(1), None).unwrap();
            store.received(MemberId(2), None).unwrap();
            store.notifications(MemberId(2), false).unwrap();
            store.connections(MemberId(3)).unwrap();
            store.review_queue().unwrap();
            store.events(Seq(0), None).unwrap();
            store.event_columns(Seq(0), 1000).unwrap();
            assert_eq!(store.check().unwrap(), Vec::<String>::new());
            store.flush().unwrap();
            match store.register(MemberId(99), None, None, T) {
                Err(Error::StorageError(m)) => assert!(m.contains("reading only"), "{m}"),
                other => panic!("{other:?}"),
            }
            assert!(matches!(store.compact(), Err(Error::StorageError(_))));
            assert!(matches!(store.repair(), Err(Error::StorageError(_))));
            store.close().unwrap();
            drop(store);
            assert_eq!(files(&path), before, "snapshot {snapshot}");
        }
    }
}

#[test]
fn reading_only_refuses_a_policy_change_and_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    written(&path, false);
    let before = files(&path);
    let options = OpenOptions { policy: Some(Policy::linkedin()), ..OpenOptions::read_only() };
    match Store::open_with(&path, options) {
        Err(Error::InvalidInput(m)) => assert!(m.contains("policy"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Its own policy is fine.
    let options = OpenOptions { policy: Some(Policy::standard()), ..OpenOptions::read_only() };
    assert_eq!(Store::open_with(&path, options).unwrap().events(Seq(0), None).unwrap().len(), 131);
    assert_eq!(files(&path), before);
    let missing = dir.path().join("missing");
    match Store::open_with(&missing, OpenOptions::read_only()) {
        Err(Error::StorageError(m)) => assert!(m.contains("no database"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(!missing.exists());
}

//! Opening databases: new, reopened, and every kind of path that is not a
//! sound connreq database. Each gives `StorageError` naming what is wrong,
//! never a panic.

mod common;

use common::{populated, put_raw, storage_error};
use connreq_core::{Error, Event, EventBody, MemberId, Network, Policy, RequestId, Seq, Timestamp};
use connreq_store::{OpenOptions, Store};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const T: Timestamp = Timestamp(1_790_000_000_000);

#[test]
fn a_path_that_is_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    let message = storage_error(Store::open(&file, Policy::standard()));
    assert!(message.contains("is a file"), "{message}");
}

#[test]
fn a_directory_of_other_files_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("thesis.tex"), "chapter 1").unwrap();
    let message = storage_error(Store::open(dir.path(), Policy::standard()));
    assert!(message.contains("not a connreq database"), "{message}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_sled_database_of_another_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path()).unwrap();
    db.insert(b"some", b"thing").unwrap();
    drop(db);
    let message = storage_error(Store::open(dir.path(), Policy::standard()));
    assert!(message.contains("not a connreq database"), "{message}");
}

#[test]
fn another_format_version_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let db = sled::open(dir.path()).unwrap();
    db.insert(b"format", b"connreq-store/999".to_vec()).unwrap();
    drop(db);
    let message = storage_error(Store::open(dir.path(), Policy::standard()));
    assert!(message.contains("connreq-store/999") && message.contains(connreq_store::FORMAT), "{message}");
}

#[test]
fn a_damaged_log_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    put_raw(dir.path(), 4, b"\xff\xff\xff garbage");
    let message = storage_error(Store::open(dir.path(), Policy::standard()));
    assert!(message.contains("damaged event record"), "{message}");
}

#[test]
fn a_gap_in_the_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let event = Event {
        seq: Seq(9),
        at: T,
        body: EventBody::InvitationIgnored { request: RequestId(1), window: None },
    };
    put_raw(dir.path(), 9, &postcard::to_allocvec(&vec![event]).unwrap());
    let message = storage_error(Store::open(dir.path(), Policy::standard()));
    assert!(message.contains("expected event 4"), "{message}");
}

#[test]
fn a_record_that_contradicts_the_log_is_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let event = Event {
        seq: Seq(4),
        at: T,
        body: EventBody::InvitationAccepted {
            request: RequestId(77),
            notice: Default::default(),
            window: None,
        },
    };
    put_raw(dir.path(), 4, &postcard::to_allocvec(&vec![event]).unwrap());
    let message = storage_error(Store::open(dir.path(), Policy::standard()));
    assert!(message.contains("event 4 cannot be applied"), "{message}");
}

#[test]
fn damaged_database_files_give_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let db_file = dir.path().join("db");
    let mut bytes = std::fs::read(&db_file).unwrap();
    for (i, b) in bytes.iter_mut().enumerate() {
        if i % 7 == 3 {
            *b ^= 0x5a;
        }
    }
    std::fs::write(&db_file, bytes).unwrap();
    let message = storage_error(Store::open(dir.path(), Policy::standard()));
    assert!(!message.is_empty());
}

#[test]
fn everything_reads_back_after_close_and_open() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let store = Store::open(dir.path(), Policy::standard()).unwrap();
    let sent = store.sent(MemberId(1), None).unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].note.as_deref(), Some("hi"));
    assert_eq!(store.notifications(MemberId(2), false).unwrap().len(), 1);
    assert_eq!(store.events(Seq(0), None).unwrap().len(), 3);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_different_policy_is_recorded_as_a_policy_change() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let store = Store::open(dir.path(), Policy::linkedin()).unwrap();
    assert_eq!(store.policy().unwrap(), Policy::linkedin());
    let events = store.events(Seq(3), None).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "policy_changed");
    store.close().unwrap();
    // Opening without a policy keeps the database's own.
    let store = Store::open_with(dir.path(), OpenOptions::default()).unwrap();
    assert_eq!(store.policy().unwrap(), Policy::linkedin());
    assert_eq!(store.events(Seq(0), None).unwrap().len(), 4);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn the_same_policy_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let store = Store::open(dir.path(), Policy::standard()).unwrap();
    assert_eq!(store.events(Seq(0), None).unwrap().len(), 3);
}

#[test]
fn an_invalid_policy_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let bad = Policy { max_note_chars: 0, ..Policy::standard() };
    assert!(matches!(Store::open(&path, bad), Err(Error::InvalidInput(_))));
    let store = Store::open(&path, Policy::linkedin()).unwrap();
    assert_eq!(store.policy().unwrap(), Policy::linkedin());
}

#[test]
fn a_closed_store_says_so() {
    let store = Store::temporary(Policy::standard()).unwrap();
    store.close().unwrap();
    store.close().unwrap();
    match store.register(MemberId(1), None, None, T) {
        Err(Error::StorageError(m)) => assert!(m.contains("closed"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(store.stats(), Err(Error::StorageError(_))));
}

/// The child half of the next test: opens the database named by the
/// environment, says so, and holds it until its input closes.
#[test]
fn child_holding_a_database_open() {
    let Ok(path) = std::env::var("CONNREQ_HOLD_DB") else { return };
    let _store = Store::open(&path, Policy::standard()).unwrap();
    println!("opened");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[test]
fn a_database_open_in_another_process_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_holding_a_database_open", "--nocapture", "--test-threads=1"])
        .env("CONNREQ_HOLD_DB", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("opened") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the child exited before opening");
    }
    let message = storage_error(Store::open(dir.path(), Policy::standard()));
    assert!(message.contains("another process"), "{message}");
    drop(child.stdin.take());
    child.wait().unwrap();
    // Once it is gone, the database opens and is sound.
    let store = Store::open(dir.path(), Policy::standard()).unwrap();
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

fn snapshotting() -> OpenOptions {
    OpenOptions { policy: Some(Policy::standard()), snapshot_after_events: 0, ..OpenOptions::default() }
}

fn grow(store: &Store, from: u64, to: u64) {
    for m in from..to {
        store.register(MemberId(m), Some(&format!("m{m}@example.com")), None, T).unwrap();
        if m > 1 {
            let id = store.send(MemberId(m), MemberId(m - 1), Some("hello"), None, T).unwrap();
            if m % 2 == 0 {
                store.accept(MemberId(m - 1), id, T).unwrap();
            }
        }
    }
}

/// Opens the database at `dir`, which must read back as `before` with
/// `check()` finding nothing wrong.
fn reopens_as(dir: &std::path::Path, options: OpenOptions, before: &[String]) -> Store {
    let store = Store::open_with(dir, options).unwrap();
    assert_eq!(everything(&store), before);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    store
}

fn everything(store: &Store) -> Vec<String> {
    let mut out = vec![format!("{:?}", store.events(Seq(0), None)), format!("{:?}", store.stats())];
    for m in 1..60 {
        out.push(format!("{:?}", store.sent(MemberId(m), None)));
        out.push(format!("{:?}", store.notifications(MemberId(m), false)));
        out.push(format!("{:?}", store.connections(MemberId(m))));
    }
    out.push(format!("{:?}", store.pending_emails(None)));
    out
}

#[test]
fn closing_saves_a_snapshot_and_reopening_from_it_reads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(dir.path(), snapshotting()).unwrap();
    grow(&store, 1, 30);
    let before = everything(&store);
    store.close().unwrap();
    assert!(dir.path().join("connreq.snapshot").exists());
    let store = reopens_as(dir.path(), snapshotting(), &before);
    // It goes on from there, and the next reopen (a newer snapshot) agrees too.
    grow(&store, 30, 50);
    let before = everything(&store);
    store.close().unwrap();
    reopens_as(dir.path(), snapshotting(), &before);
}

#[test]
fn a_damaged_snapshot_is_ignored_and_the_log_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(dir.path(), snapshotting()).unwrap();
    grow(&store, 1, 30);
    let before = everything(&store);
    store.close().unwrap();
    let file = dir.path().join("connreq.snapshot");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&file, &bytes).unwrap();
    let store = reopens_as(dir.path(), snapshotting(), &before);
    store.close().unwrap();
    // A truncated one too.
    std::fs::write(&file, &bytes[..middle]).unwrap();
    reopens_as(dir.path(), snapshotting(), &before);
}

#[test]
fn another_databases_snapshot_is_ignored() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let store = Store::open_with(a.path(), snapshotting()).unwrap();
    grow(&store, 1, 20);
    store.close().unwrap();
    let store = Store::open_with(b.path(), snapshotting()).unwrap();
    grow(&store, 1, 10);
    let before = everything(&store);
    store.close().unwrap();
    std::fs::copy(a.path().join("connreq.snapshot"), b.path().join("connreq.snapshot")).unwrap();
    reopens_as(b.path(), snapshotting(), &before);
}

#[test]
fn writing_merges_the_log_into_large_records_and_reads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    // No snapshot: reopening replays the merged log.
    let options = OpenOptions { snapshot_after_events: u64::MAX, ..snapshotting() };
    let store = Store::open_with(dir.path(), options.clone()).unwrap();
    grow(&store, 1, 3000);
    let before = everything(&store);
    let total = store.stats().unwrap().events;
    let pages: Vec<_> =
        [0, 1, 4095, 4096, 4097, 7000].iter().map(|s| store.events(Seq(*s), Some(3)).unwrap()).collect();
    store.close().unwrap();
    let (log, tail) = record_counts(dir.path());
    let records = log + tail;
    assert!(records < total as usize / 50, "{total} events still in {records} records");
    let store = reopens_as(dir.path(), options, &before);
    let again: Vec<_> =
        [0, 1, 4095, 4096, 4097, 7000].iter().map(|s| store.events(Seq(*s), Some(3)).unwrap()).collect();
    assert_eq!(again, pages);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    // New commands after a merge append as before; the next close merges them too.
    grow(&store, 3000, 3100);
    let before = everything(&store);
    store.close().unwrap();
    reopens_as(dir.path(), snapshotting(), &before);
}

#[test]
fn event_columns_hold_exactly_what_events_returns() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(dir.path(), snapshotting()).unwrap();
    grow(&store, 1, 400);
    store.report(MemberId(3), MemberId(4), connreq_core::ReportReason::DontKnow, None, T).unwrap();
    // Merged records and the tail, then the same after a close and reopen.
    same_columns_as_events(&store);
    store.close().unwrap();
    let (log, tail) = record_counts(dir.path());
    assert!(log > 0 && tail > 0, "{log} merged records, {tail} in the tail");
    let store = Store::open_with(dir.path(), snapshotting()).unwrap();
    same_columns_as_events(&store);
    store.compact().unwrap();
    same_columns_as_events(&store);
    store.close().unwrap();
    assert_eq!(record_counts(dir.path()).1, 0, "compact() merges the tail");
}

/// (records in the log, records in tails) of a closed database.
fn record_counts(dir: &std::path::Path) -> (usize, usize) {
    let db = sled::open(dir).unwrap();
    let tail = db
        .tree_names()
        .iter()
        .filter(|n| n.starts_with(b"tail:"))
        .map(|n| db.open_tree(n).unwrap().len())
        .sum();
    (db.open_tree("log").unwrap().len(), tail)
}

fn same_columns_as_events(store: &Store) {
    let total = store.stats().unwrap().events;
    for (since, limit) in
        [(0, usize::MAX), (0, 1), (5, 17), (300, 1000), (total - 3, 10), (total - 300, 1000), (10_000, 5)]
    {
        let rows = store.events(Seq(since), Some(limit)).unwrap();
        let cols = store.event_columns(Seq(since), limit).unwrap();
        assert_eq!(cols.len(), rows.len());
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(
                (
                    cols.seq[i],
                    cols.at[i],
                    cols.kind(i),
                    cols.actor.get(i),
                    cols.subject.get(i),
                    cols.request_id.get(i)
                ),
                (
                    r.seq.0,
                    r.at.0,
                    r.kind,
                    r.actor.map(|m| m.0),
                    r.subject.map(|m| m.0),
                    r.request_id.map(|x| x.0)
                )
            );
            assert_eq!(cols.detail(i), r.detail);
        }
    }
}

#[test]
fn reopening_reads_the_snapshot_instead_of_the_log_it_covers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(dir.path(), snapshotting()).unwrap();
    // Few enough events that closing leaves them one record per command.
    grow(&store, 1, 12);
    assert!(store.stats().unwrap().events < 256);
    let before = everything_but_the_log(&store);
    store.close().unwrap();
    drop(store);
    // Damage the first record, which the snapshot covers: only a replay reads it.
    common::put_raw(dir.path(), 1, b"not an event record");
    let store = Store::open_with(dir.path(), snapshotting()).unwrap();
    assert_eq!(everything_but_the_log(&store), before);
    // `check` replays the whole log, so it still finds the damage.
    assert!(!matches!(store.check(), Ok(problems) if problems.is_empty()));
    // Closing merges the log, so it may report the damage too.
    let _ = store.close();
    drop(store);
    std::fs::remove_file(dir.path().join("connreq.snapshot")).unwrap();
    let message = common::storage_error(Store::open_with(dir.path(), snapshotting()));
    assert!(message.contains("damaged event record at event 1"), "{message}");
}

fn everything_but_the_log(store: &Store) -> Vec<String> {
    everything(store).split_off(1)
}

/// A crash between writing a merged record and dropping the tail's tree
/// leaves both; opening drops the tree and reads every event once.
#[test]
fn a_tail_already_merged_is_dropped_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let options = OpenOptions { snapshot_after_events: u64::MAX, ..snapshotting() };
    let store = Store::open_with(dir.path(), options.clone()).unwrap();
    grow(&store, 1, 30);
    let before = everything(&store);
    store.close().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        let name = db.tree_names().into_iter().find(|n| n.starts_with(b"tail:")).expect("a tail");
        let tail = db.open_tree(&name).unwrap();
        let mut events: Vec<Event> = Vec::new();
        for item in tail.iter() {
            events.extend(postcard::from_bytes::<Vec<Event>>(&item.unwrap().1).unwrap());
        }
        let first = events[0].seq.0;
        db.open_tree("log")
            .unwrap()
            .insert(first.to_be_bytes(), postcard::to_allocvec(&events).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let store = reopens_as(dir.path(), options, &before);
    grow(&store, 30, 40);
    store.close().unwrap();
    let db = sled::open(dir.path()).unwrap();
    let tails = db.tree_names().into_iter().filter(|n| n.starts_with(b"tail:")).count();
    assert_eq!(tails, 1, "the merged tail was dropped, a new one holds the new commands");
}

#[test]
fn two_unmerged_tails_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    {
        let db = sled::open(dir.path()).unwrap();
        let mut name = b"tail:".to_vec();
        name.extend_from_slice(&9u64.to_be_bytes());
        let event = Event {
            seq: Seq(9),
            at: T,
            body: EventBody::InvitationIgnored { request: RequestId(1), window: None },
        };
        db.open_tree(name)
            .unwrap()
            .insert(9u64.to_be_bytes(), postcard::to_allocvec(&vec![event]).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let message = storage_error(Store::open(dir.path(), Policy::standard()));
    assert!(message.contains("two unmerged tails"), "{message}");
}

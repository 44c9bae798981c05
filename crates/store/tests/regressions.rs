//! Inputs the fuzz targets (fuzz/) found to break the store, kept as tests.
//! Each names the target that found it.

mod common;

use common::{populated, put_raw, storage_error};
use connreq_core::{
    Error, Event, EventBody, MemberId, Network, Policy, ReportReason, RequestId, Seq, Timestamp,
};
use connreq_store::{OpenOptions, Store};

const T: Timestamp = Timestamp(1_790_000_000_000);

/// storage target: a log record whose first event is numbered `u64::MAX` and
/// holds a second event overflowed the check for gaps inside a record (a panic
/// with overflow checks on, as in debug builds) instead of being refused.
#[test]
fn a_record_numbered_up_to_u64_max_is_refused_without_overflow() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let event = |seq| Event {
        seq: Seq(seq),
        at: T,
        body: EventBody::InvitationIgnored { request: RequestId(1), window: None },
    };
    put_raw(dir.path(), u64::MAX, &postcard::to_allocvec(&vec![event(u64::MAX), event(0)]).unwrap());
    let message = storage_error(Store::open_with(dir.path(), OpenOptions::default()));
    assert!(message.contains("damaged event record"), "{message}");
}

/// storage target: a snapshot changed in one byte, its checksum made to match,
/// decoded into a model that made `check()` panic (a request's cancel mark
/// naming no state). Every one-byte change of a small snapshot must open (then
/// `check()` runs) or give `StorageError`.
#[test]
fn a_snapshot_changed_in_any_byte_never_panics_open_or_check() {
    const HEADER: usize = b"CONNREQ-SNAPSHOT-3".len() + 16 + 8;
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original");
    let options = OpenOptions { snapshot_after_events: 1, ..OpenOptions::with_policy(Policy::standard()) };
    let store = Store::open_with(&original, options).unwrap();
    let (a, b, c) = (MemberId(1), MemberId(2), MemberId(3));
    store.register(a, Some("a@example.com"), Some("Ada"), T).unwrap();
    store.register(b, None, None, T).unwrap();
    store.register(c, Some("c@example.com"), None, T).unwrap();
    let r = store.send(a, b, Some("hi"), None, T).unwrap();
    store.accept(b, r, T).unwrap();
    store.send(c, a, None, None, T).unwrap();
    store.block(a, c, T).unwrap();
    store.report(b, c, ReportReason::Spam, None, T).unwrap();
    store.close().unwrap();
    drop(store);
    let snapshot = std::fs::read(original.join("connreq.snapshot")).unwrap();
    assert!(snapshot.len() > HEADER + 4);
    for i in HEADER..snapshot.len() - 4 {
        let mut bytes = snapshot.clone();
        bytes[i] ^= 0xfb;
        opens_or_refuses_with(&original, bytes, &format!("byte {i}"));
    }
}

/// storage target: a snapshot whose checksum matched but whose map length read
/// as billions of entries made decoding reserve that much memory at once (an
/// allocation failure aborts the process). A huge length written anywhere in
/// a snapshot must give a store or `StorageError`.
#[test]
fn a_snapshot_naming_a_huge_map_does_not_reserve_it() {
    const HEADER: usize = b"CONNREQ-SNAPSHOT-3".len() + 16 + 8;
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original");
    let options = OpenOptions { snapshot_after_events: 1, ..OpenOptions::with_policy(Policy::standard()) };
    let store = Store::open_with(&original, options).unwrap();
    store.register(MemberId(1), Some("a@example.com"), None, T).unwrap();
    store.register(MemberId(2), None, None, T).unwrap();
    store.send(MemberId(1), MemberId(2), None, None, T).unwrap();
    store.close().unwrap();
    drop(store);
    let snapshot = std::fs::read(original.join("connreq.snapshot")).unwrap();
    let huge = [0xff, 0xff, 0xff, 0xff, 0x0f]; // u32::MAX as a postcard varint
    for i in HEADER..snapshot.len() - 4 - huge.len() {
        let mut bytes = snapshot.clone();
        bytes[i..i + huge.len()].copy_from_slice(&huge);
        opens_or_refuses_with(&original, bytes, &format!("byte {i}"));
    }
}

/// Copies the closed database at `original` beside it with `snapshot` (its
/// checksum made to match) as its snapshot; opening the copy must give a
/// store whose `check()` runs, or `StorageError`.
fn opens_or_refuses_with(original: &std::path::Path, mut snapshot: Vec<u8>, case: &str) {
    let copy = original.with_file_name("copy");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(original).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
    }
    let n = snapshot.len() - 4;
    let crc = crc32(&snapshot[..n]);
    snapshot[n..].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(copy.join("connreq.snapshot"), snapshot).unwrap();
    match Store::open_with(&copy, OpenOptions::default()) {
        Ok(store) => {
            store.check().unwrap();
            store.close().unwrap();
        }
        Err(Error::StorageError(_)) => {}
        Err(other) => panic!("{case}: {other:?}"),
    }
    std::fs::remove_dir_all(&copy).unwrap();
}

/// CRC-32 (IEEE), as the snapshot's trailer holds it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// storage target: a `log` record near `u64::MAX` whose length prefix claims
/// thousands of events, behind a snapshot (so opening never read it), made
/// closing overflow while merging the log past it. Closing must report the
/// damage, never panic, and still keep what was written: the database opens
/// again with the command made before the close.
#[test]
fn a_record_claiming_events_past_u64_max_makes_close_report_not_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let options = || OpenOptions { snapshot_after_events: 1, ..OpenOptions::with_policy(Policy::standard()) };
    let store = Store::open_with(dir.path(), options()).unwrap();
    store.register(MemberId(1), None, None, T).unwrap();
    store.register(MemberId(2), None, None, T).unwrap();
    store.close().unwrap();
    drop(store);
    {
        let db = sled::open(dir.path()).unwrap();
        // A postcard length prefix of 5,000 events, and nothing after it.
        db.open_tree("log").unwrap().insert((u64::MAX - 1).to_be_bytes(), &[0x88, 0x27][..]).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open_with(dir.path(), options()).unwrap();
    store.register(MemberId(3), None, None, T).unwrap();
    match store.close() {
        Err(Error::StorageError(message)) => assert!(message.contains("damaged event log"), "{message}"),
        other => panic!("closing gave {other:?}"),
    }
    drop(store);
    let store = Store::open_with(dir.path(), options()).unwrap();
    assert!(store.public_profile(MemberId(3)).is_ok(), "the last command before the close was lost");
}

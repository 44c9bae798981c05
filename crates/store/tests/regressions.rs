//! Inputs the fuzz targets (fuzz/) found to break the store, kept as tests.
//! Each names the target that found it.

use connreq_core::{Error, Event, EventBody, MemberId, Network, Policy, RequestId, Seq, Timestamp};
use connreq_store::{OpenOptions, Store};

const T: Timestamp = Timestamp(1_790_000_000_000);

fn populated(path: &std::path::Path) {
    let store = Store::open(path, Policy::standard()).unwrap();
    store.register(MemberId(1), Some("a@example.com"), None, T).unwrap();
    store.register(MemberId(2), None, None, T).unwrap();
    store.send(MemberId(1), MemberId(2), Some("hi"), None, T).unwrap();
    store.close().unwrap();
}

/// Writes a raw record into the log of a closed database.
fn put_raw(path: &std::path::Path, key: u64, value: &[u8]) {
    let db = sled::open(path).unwrap();
    db.open_tree("log").unwrap().insert(key.to_be_bytes(), value).unwrap();
    db.flush().unwrap();
}

fn storage_error(result: Result<Store, Error>) -> String {
    match result {
        Err(Error::StorageError(message)) => message,
        Err(other) => panic!("expected StorageError, got {other:?}"),
        Ok(_) => panic!("expected StorageError, the database opened"),
    }
}

/// storage target: a log record whose first event is numbered `u64::MAX` and
/// holds a second event overflowed the check for gaps inside a record (a panic
/// with overflow checks on, as in debug builds) instead of being refused.
#[test]
fn a_record_numbered_up_to_u64_max_is_refused_without_overflow() {
    let dir = tempfile::tempdir().unwrap();
    populated(dir.path());
    let event =
        |seq| Event { seq: Seq(seq), at: T, body: EventBody::InvitationIgnored { request: RequestId(1) } };
    put_raw(dir.path(), u64::MAX, &postcard::to_allocvec(&vec![event(u64::MAX), event(0)]).unwrap());
    let message = storage_error(Store::open_with(dir.path(), OpenOptions::default()));
    assert!(message.contains("damaged event record"), "{message}");
}

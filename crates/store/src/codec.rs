//! The on-disk format.
//!
//! sled trees:
//! - the default tree holds metadata: `format` (the format version),
//!   `policy` (the policy the database was created with, as JSON), `id`,
//!   `compacted` (how far small records have been merged), `base` (present
//!   when the log starts from a base, below) and, only while an upgrade is
//!   being finished, `upgrading`;
//! - the tail, `tail:` followed by the big-endian sequence number of its first
//!   event, holds the log since the last merge, one record per command: the
//!   key is the big-endian sequence number of the command's first event, the
//!   value the command's events encoded with postcard. Keys only ever grow, so
//!   every write is an append. There is at most one tail;
//! - `log` holds the rest of the log in records of the same encoding. When the
//!   tail reaches 4,096 events its records are merged into one `log` record,
//!   keyed by the tail's first event, and the tail's tree is dropped.
//!
//! A log may start from a *base* instead of the empty network (the `base`
//! record): a repaired database whose log lost events that the state kept
//! (see `repair`). The base, `connreq.base` in the database directory, is
//! the model as of its last event, in the snapshot's layout; the log's records
//! up to that event are history (kept for `events`, with the holes the damage
//! left) and replay starts after it. Compaction starts after it too
//! (`compacted`), so no record is ever merged across a hole.
//!
//! Formats 1 and 2 held events without notices (format 1 had no tail either);
//! their databases are rewritten once into this format when opened for
//! writing (`upgrade`).
//!
//! Everything else (requests, connections, inboxes, the outbox, flags) is a
//! projection of the log, held in memory and rebuilt on open.

use connreq_core::EventView;
use connreq_core::{Error, Event, Policy, Seq};

/// The format this version writes and reads.
pub const FORMAT: &str = "connreq-store/4";
/// Format 3: notices said only whether an email was due and when; no
/// reminders, digests or locales. Upgraded on open (see `upgrade`).
pub const FORMAT_3: &str = "connreq-store/3";
/// Format 2: events without notices; upgraded on open (see `upgrade`).
pub const FORMAT_2: &str = "connreq-store/2";
/// Format 1: format 2 without a tail; upgraded on open like format 2.
pub const FORMAT_1: &str = "connreq-store/1";
/// Metadata key present when the log starts from a base (a repaired database).
pub const BASE_KEY: &[u8] = b"base";
/// Metadata key of the format version.
pub const FORMAT_KEY: &[u8] = b"format";
/// Metadata key of the creation policy.
pub const POLICY_KEY: &[u8] = b"policy";
/// Metadata key of the database id (16 random bytes), which snapshots name.
pub const ID_KEY: &[u8] = b"id";
/// Metadata key of the last event merged into large records by compaction.
pub const COMPACTED_KEY: &[u8] = b"compacted";
/// Name of the event-log tree.
pub const LOG_TREE: &[u8] = b"log";

/// Prefix of the name of the tail's tree.
const TAIL_PREFIX: &[u8] = b"tail:";

/// The name of the tail tree whose first event is `first`.
pub fn tail_name(first: Seq) -> Vec<u8> {
    [TAIL_PREFIX, &first.0.to_be_bytes()].concat()
}

/// The first event of the tail tree called `name`, or `None` if it is no tail.
pub fn tail_first(name: &[u8]) -> Option<Seq> {
    let bytes: [u8; 8] = name.strip_prefix(TAIL_PREFIX)?.try_into().ok()?;
    Some(Seq(u64::from_be_bytes(bytes)))
}

/// The log key of a record whose first event is `seq`.
pub fn key(seq: Seq) -> [u8; 8] {
    seq.0.to_be_bytes()
}

/// The sequence number a log key names.
pub fn seq_of(key: &[u8]) -> Result<Seq, Error> {
    let bytes: [u8; 8] = key
        .try_into()
        .map_err(|_| Error::StorageError(format!("damaged event log: a key of {} bytes", key.len())))?;
    Ok(Seq(u64::from_be_bytes(bytes)))
}

/// Encodes the events of one command.
pub fn encode(events: &[Event]) -> Result<Vec<u8>, Error> {
    postcard::to_allocvec(events).map_err(|e| Error::StorageError(format!("cannot encode events: {e}")))
}

/// Decodes the record stored under `key`, checking it starts where its key says.
pub fn decode(key: &[u8], value: &[u8]) -> Result<Vec<Event>, Error> {
    let first = seq_of(key)?;
    let events: Vec<Event> = postcard::from_bytes(value)
        .map_err(|e| Error::StorageError(format!("damaged event record at {first}: {e}")))?;
    check_numbering(first, events.iter().map(|e| e.seq))?;
    Ok(events)
}

/// Decodes the record stored under `key` into borrowed events (no allocation
/// per event), with the same checks as [`decode`]: bulk export reads the log so.
pub fn decode_views<'a>(key: &[u8], value: &'a [u8]) -> Result<Vec<EventView<'a>>, Error> {
    let first = seq_of(key)?;
    let events: Vec<EventView<'a>> = postcard::from_bytes(value)
        .map_err(|e| Error::StorageError(format!("damaged event record at {first}: {e}")))?;
    check_numbering(first, events.iter().map(|e| e.seq))?;
    Ok(events)
}

/// How many events a record holds, read from its length prefix without decoding it.
pub fn count(key: &[u8], value: &[u8]) -> Result<usize, Error> {
    let first = seq_of(key)?;
    let (n, _) = postcard::take_from_bytes::<usize>(value)
        .map_err(|e| Error::StorageError(format!("damaged event record at {first}: {e}")))?;
    Ok(n)
}

/// A record must start with the event its key names and number its events without gaps.
pub(crate) fn check_numbering(first: Seq, mut seqs: impl Iterator<Item = Seq>) -> Result<(), Error> {
    if seqs.next() != Some(first) {
        return Err(Error::StorageError(format!(
            "damaged event record at {first}: it does not start with that event"
        )));
    }
    let mut previous = first;
    for seq in seqs {
        if previous.0.checked_add(1) != Some(seq.0) {
            return Err(Error::StorageError(format!("damaged event record at {first}: numbering has a gap")));
        }
        previous = seq;
    }
    Ok(())
}

/// Encodes a policy for the metadata tree.
pub fn encode_policy(policy: &Policy) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(policy).map_err(|e| Error::StorageError(format!("cannot encode the policy: {e}")))
}

/// Decodes the stored policy.
pub fn decode_policy(bytes: &[u8]) -> Result<Policy, Error> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::StorageError(format!("the stored policy is damaged: {e}")))
}

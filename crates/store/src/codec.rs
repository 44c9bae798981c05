//! The on-disk format.
//!
//! Two sled trees:
//! - the default tree holds metadata: `format` (the format version),
//!   `policy` (the policy the database was created with, as JSON) and `id`;
//! - `log` holds the event log, one record per command: the key is the
//!   big-endian sequence number of the command's first event, the value the
//!   command's events encoded with postcard. Keys only ever grow, so every
//!   write is an append. On close, runs of small records are merged into
//!   records of at least 4,096 events (`compacted` in the metadata says how far).
//!
//! Everything else (requests, connections, inboxes, the outbox, flags) is a
//! projection of the log, held in memory and rebuilt on open.

use connreq_core::{Error, Event, Policy, Seq};

/// The format this version writes and reads.
pub const FORMAT: &str = "connreq-store/1";
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
    match events.first() {
        Some(e) if e.seq == first => {}
        _ => {
            return Err(Error::StorageError(format!(
                "damaged event record at {first}: it does not start with that event"
            )));
        }
    }
    if events.windows(2).any(|w| w[0].seq.0.checked_add(1) != Some(w[1].seq.0)) {
        return Err(Error::StorageError(format!("damaged event record at {first}: numbering has a gap")));
    }
    Ok(events)
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

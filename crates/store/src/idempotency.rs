//! Idempotency records: what a service answered to a command sent with an
//! idempotency key, so a retry gets the same answer instead of a second
//! command.
//!
//! Records live in the tree `idempotency`, keyed by the caller's key. A
//! command that writes events writes its record in the same sled transaction
//! as its log record (the tail's tree and this one), so after a crash either
//! both are there or neither: a retry never runs a command twice and never
//! finds a record for a command that was lost. The answer itself is added
//! once the command is applied ([`Store::record`]); a crash before that
//! leaves a record without an answer, which the service answers from the
//! state as it then is (the first answer never reached the caller: it is
//! given only after the flush that makes both durable).

use crate::codec;
use crate::errors::storage;
use crate::log::Open;
use crate::store::Store;
use connreq_core::{Command, Error, Outcome, Seq, Timestamp};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

/// The tree holding idempotency records.
pub(crate) const TREE: &str = "idempotency";

/// An idempotency record: the fingerprint of the request that made it, when,
/// and the answer, once known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// What identifies the request (e.g. a hash of its method, path and body):
    /// a retry with the same key and another fingerprint is refused.
    pub fingerprint: Vec<u8>,
    /// When it was recorded (the service's clock), for forgetting old keys.
    pub at: Timestamp,
    /// The answer given, as the service encodes it; `None` until recorded.
    pub answer: Option<Vec<u8>>,
}

impl Recorded {
    fn encode(&self) -> Result<Vec<u8>, Error> {
        let len = u16::try_from(self.fingerprint.len())
            .map_err(|_| Error::InvalidInput("an idempotency fingerprint is too long".into()))?;
        let answer = self.answer.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(11 + self.fingerprint.len() + answer.len());
        out.extend_from_slice(&self.at.0.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.fingerprint);
        out.push(u8::from(self.answer.is_some()));
        out.extend_from_slice(answer);
        Ok(out)
    }

    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let damaged = || Error::StorageError("damaged idempotency record".into());
        let at = i64::from_be_bytes(bytes.get(..8).ok_or_else(damaged)?.try_into().map_err(|_| damaged())?);
        let len =
            u16::from_be_bytes(bytes.get(8..10).ok_or_else(damaged)?.try_into().map_err(|_| damaged())?);
        let end = 10 + usize::from(len);
        let fingerprint = bytes.get(10..end).ok_or_else(damaged)?.to_vec();
        let answer = match bytes.get(end) {
            Some(1) => Some(bytes[end + 1..].to_vec()),
            Some(0) => None,
            _ => return Err(damaged()),
        };
        Ok(Self { fingerprint, at: Timestamp(at), answer })
    }
}

/// A record to write with a command: its key, and its value made from what
/// the command returns.
pub(crate) struct Record<'a> {
    key: &'a [u8],
    value: Box<dyn FnOnce(Outcome) -> Result<Vec<u8>, Error> + 'a>,
}

/// Writes one command's log record to the tail, and `record` with it in one
/// transaction when there is one.
pub(crate) fn append(
    open: &mut Open,
    first: Seq,
    count: usize,
    bytes: Vec<u8>,
    record: Option<Record<'_>>,
    outcome: Outcome,
) -> Result<(), Error> {
    let Some(record) = record else { return open.append(first, count, bytes) };
    let value = (record.value)(outcome)?;
    let ctx = "cannot write the event";
    let keys = open.db.open_tree(TREE).map_err(storage(ctx))?;
    let tail = open.tail_for(first)?;
    let len = bytes.len();
    let key = codec::key(first);
    (&tail.tree, &keys)
        .transaction(|(log, keys)| {
            log.insert(&key, bytes.as_slice())?;
            keys.insert(record.key, value.as_slice())?;
            Ok::<(), ConflictableTransactionError<()>>(())
        })
        .map_err(|e| Error::StorageError(format!("{ctx}: {e:?}")))?;
    tail.added(count, len);
    Ok(())
}

impl Store {
    fn keys(&self) -> Result<sled::Tree, Error> {
        let inner = self.read_inner()?;
        let open = inner.open.as_ref().ok_or_else(|| Error::StorageError("the database is closed".into()))?;
        open.db.open_tree(TREE).map_err(storage("cannot read the idempotency records"))
    }

    /// The record under `key`, if any.
    pub fn recorded(&self, key: &[u8]) -> Result<Option<Recorded>, Error> {
        let found = self.keys()?.get(key).map_err(storage("cannot read the idempotency records"))?;
        found.map(|v| Recorded::decode(&v)).transpose()
    }

    /// Runs `command` like `Network::execute`; when it writes events, the
    /// record `entry` makes of what it returns is written under `key` in the
    /// same atomic write. A command refused or without events writes no
    /// record (use [`Store::record`]).
    pub fn execute_recorded(
        &self,
        command: Command,
        at: Timestamp,
        key: &[u8],
        entry: impl FnOnce(Outcome) -> Recorded,
    ) -> Result<Outcome, Error> {
        let value = Box::new(move |o: Outcome| entry(o).encode());
        self.execute_recording(command, at, Some(Record { key, value }))
    }

    /// Writes (or replaces) the record under `key`. Durable with the next flush.
    pub fn record(&self, key: &[u8], entry: &Recorded) -> Result<(), Error> {
        let value = entry.encode()?;
        self.keys()?.insert(key, value).map_err(storage("cannot write an idempotency record"))?;
        Ok(())
    }

    /// Removes the records made before `before`; returns how many.
    pub fn forget_recorded_before(&self, before: Timestamp) -> Result<u64, Error> {
        let keys = self.keys()?;
        let ctx = "cannot clean the idempotency records";
        let mut old = Vec::new();
        for item in keys.iter() {
            let (k, v) = item.map_err(storage(ctx))?;
            // A record that cannot be read is of no use to a retry either.
            if Recorded::decode(&v).is_ok_and(|r| r.at < before) || Recorded::decode(&v).is_err() {
                old.push(k);
            }
        }
        let mut batch = sled::Batch::default();
        for k in &old {
            batch.remove(k.clone());
        }
        keys.apply_batch(batch).map_err(storage(ctx))?;
        Ok(old.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_as_written() {
        for answer in [None, Some(vec![]), Some(b"{\"id\":1}".to_vec())] {
            let r = Recorded { fingerprint: vec![7; 32], at: Timestamp(-5), answer };
            assert_eq!(Recorded::decode(&r.encode().unwrap()).unwrap(), r);
        }
        assert!(Recorded::decode(&[1, 2, 3]).is_err());
    }
}

//! `Store`: the connreq API on sled.
//!
//! Each command is decided by `connreq-core` against the in-memory model, its
//! events are written to the log's tail as one sled insert (atomic, also
//! across a crash), and only then applied to the model; every 5 KiB the tail
//! is merged into one log record. Queries read the model. Opening a database
//! (`open`) reads its snapshot and replays its log.

use crate::codec;
use crate::columns::EventColumns;
use crate::errors::storage;
use crate::idempotency::{self, Record};
use crate::lock::wait_for_release;
use crate::log::{CLOSE_COMPACTION_BUDGET, Open, merge_log, replay};
use crate::options::Durability;
use crate::snapshot;
use connreq_core::{Command, Error, Event, EventRecord, Model, Network, Outcome, Policy, Seq, Timestamp};
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// The current time, for callers that have no time of their own.
pub fn now() -> Timestamp {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
}

pub(crate) struct Inner {
    pub(crate) model: Model,
    pub(crate) open: Option<Open>,
    pub(crate) initial_policy: Policy,
    /// The last event the snapshot on disk covers.
    pub(crate) snapshot_seq: Seq,
}

/// A connreq network persisted in a sled database. `Send + Sync`: share it
/// between threads; commands serialize, queries run side by side.
pub struct Store {
    pub(crate) inner: RwLock<Inner>,
    pub(crate) id: [u8; 16],
    pub(crate) snapshot_after_events: u64,
    pub(crate) durability: Durability,
    pub(crate) mail_from: String,
    pub(crate) path: Option<PathBuf>,
}

impl Store {
    pub(crate) fn read_inner(&self) -> Result<RwLockReadGuard<'_, Inner>, Error> {
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        if guard.open.is_none() {
            return Err(Error::StorageError("the database is closed".into()));
        }
        Ok(guard)
    }

    pub(crate) fn write_inner(&self) -> Result<RwLockWriteGuard<'_, Inner>, Error> {
        let guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if guard.open.is_none() {
            return Err(Error::StorageError("the database is closed".into()));
        }
        Ok(guard)
    }

    /// The directory of the database (`None` for a temporary one).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Makes every command that returned before this call durable.
    pub fn flush(&self) -> Result<(), Error> {
        let flusher = self.read_inner()?.open.as_ref().map(|o| o.flusher.clone());
        if let Some(flusher) = flusher {
            flusher.flush().map_err(storage("cannot flush the database"))?;
        }
        Ok(())
    }

    /// Flushes and closes the database, releasing its lock. Later calls raise
    /// `StorageError`. Closing twice is fine.
    pub fn close(&self) -> Result<(), Error> {
        let mut guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = guard.open.take() {
            // Merging is housekeeping: if it fails (a damaged old record),
            // closing still flushes, saves the snapshot and releases the
            // database, and then reports it.
            let merged = merge_log(&open, CLOSE_COMPACTION_BUDGET);
            let flushed = open.flusher.flush().map_err(storage("cannot flush the database"));
            // Stops the background flush once no explicit flush still holds it.
            drop(open);
            let last = guard.model.last_seq();
            if let Some(dir) = &self.path
                && flushed.is_ok()
                && last.0 >= guard.snapshot_seq.0 + self.snapshot_after_events.max(1)
            {
                // A cache of the flushed log: if it cannot be written, the next
                // open replays the log instead.
                if snapshot::write(dir, &self.id, &guard.model).is_ok() {
                    guard.snapshot_seq = last;
                } else {
                    snapshot::remove(dir);
                }
            }
            if let Some(path) = &self.path {
                wait_for_release(path);
            }
            flushed?;
            merged?;
        }
        Ok(())
    }

    /// Merges what is left unmerged: the tail (commands since the last merge,
    /// which writing merges on its own every 5 KiB) and the small records of a
    /// database written by format 1 (closing does those for up to 250,000
    /// events at a time). Reading the log (replay, `events`, Arrow export) is
    /// then a few large records; the disk the old records took is freed as
    /// sled cleans its segments.
    pub fn compact(&self) -> Result<(), Error> {
        let mut inner = self.write_inner()?;
        let Some(open) = inner.open.as_mut() else { return Ok(()) };
        merge_log(open, usize::MAX)?;
        open.merge_tail()
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, Error> {
        let inner = self.read_inner()?;
        let db = &inner.open.as_ref().map(|o| &o.db);
        db.map_or(Ok(0), |d| d.size_on_disk().map_err(storage("cannot measure the database")))
    }

    /// Verifies every invariant of the model and that the state rebuilt from the
    /// stored log equals the live state. Returns the problems found (empty when
    /// sound); `Err` only when the database cannot be read at all.
    pub fn check(&self) -> Result<Vec<String>, Error> {
        let inner = self.read_inner()?;
        let mut problems = inner.model.invariant_violations();
        if let Some(open) = &inner.open {
            match replay(&inner.initial_policy, open) {
                Err(e) => problems.push(e.to_string()),
                Ok(rebuilt) => problems.extend(rebuilt.differences(&inner.model)),
            }
        }
        Ok(problems)
    }

    /// The raw events with `seq > since` (typed bodies), at most `limit`.
    pub fn raw_events(&self, since: Seq, limit: Option<usize>) -> Result<Vec<Event>, Error> {
        let inner = self.read_inner()?;
        let Some(open) = &inner.open else { return Ok(Vec::new()) };
        let limit = limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for item in open.records(Seq(since.0.saturating_add(1)))? {
            let (k, v) = item?;
            for e in codec::decode(&k, &v)? {
                if e.seq > since {
                    out.push(e);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The events with `seq > since`, at most `limit`, in columns. Reads the log
    /// in one pass under one read lock, decoding records into borrowed events.
    /// Returns fewer than `limit` events when a text column would pass 2 GiB;
    /// the next call continues after the last event returned.
    pub fn event_columns(&self, since: Seq, limit: usize) -> Result<EventColumns, Error> {
        let inner = self.read_inner()?;
        let Some(open) = &inner.open else { return Ok(EventColumns::default()) };
        let model = &inner.model;
        let parties = |id| model.parties(id);
        let mut c = EventColumns::with_capacity(limit.min(1 << 16));
        'records: for item in open.records(Seq(since.0.saturating_add(1)))? {
            let (k, v) = item?;
            for e in codec::decode_views(&k, &v)? {
                if e.seq <= since {
                    continue;
                }
                if c.len() >= limit || !c.push(&e, parties) {
                    break 'records;
                }
            }
        }
        Ok(c)
    }
}

impl Store {
    /// `execute`, also writing `record` (an idempotency record, see
    /// `idempotency`) atomically with the command's events when it has any.
    pub(crate) fn execute_recording(
        &self,
        command: Command,
        at: Timestamp,
        record: Option<Record<'_>>,
    ) -> Result<Outcome, Error> {
        let mut inner = self.write_inner()?;
        let decided = inner.model.decide(&command, at)?;
        if let (Some(first), Some(open)) = (decided.events.first(), inner.open.as_mut()) {
            let bytes = codec::encode(&decided.events)?;
            idempotency::append(open, first.seq, decided.events.len(), bytes, record, decided.outcome)?;
            inner.model.apply(&decided.events);
            // The command is done; merging is housekeeping. If it fails, the
            // tail stays as it is (sound) and a later command tries again,
            // once the tail has grown to twice the size.
            if let Some(open) = inner.open.as_mut()
                && open.tail_is_full()
                && open.merge_tail().is_err()
                && let Some(tail) = open.tail.as_mut()
            {
                tail.failed_merges = tail.failed_merges.saturating_add(1);
            }
        }
        let flush = match (self.durability, &inner.open) {
            (Durability::EveryCommand, Some(open)) if !decided.events.is_empty() => {
                Some(open.flusher.clone())
            }
            _ => None,
        };
        drop(inner);
        if let Some(flusher) = flush {
            flusher.flush().map_err(storage("cannot flush the database"))?;
        }
        Ok(decided.outcome)
    }
}

impl Network for Store {
    fn execute(&self, command: Command, at: Timestamp) -> Result<Outcome, Error> {
        self.execute_recording(command, at, None)
    }

    fn read<R>(&self, query: impl FnOnce(&Model) -> R) -> Result<R, Error> {
        let inner = self.read_inner()?;
        Ok(query(&inner.model))
    }

    fn events(&self, since: Seq, limit: Option<usize>) -> Result<Vec<EventRecord>, Error> {
        let events = self.raw_events(since, limit)?;
        let inner = self.read_inner()?;
        let model = &inner.model;
        Ok(events.iter().map(|e| e.record(|id| model.parties(id))).collect())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("durability", &self.durability).finish()
    }
}

//! `Store`: the connreq API on sled.
//!
//! Each command is decided by `connreq-core` against the in-memory model, its
//! events are written to the log's tail as one sled insert (atomic, also
//! across a crash), and only then applied to the model; every 5 KiB the tail
//! is merged into one log record. Queries read the model. Opening a database
//! (`open`) reads its snapshot and replays its log.
//!
//! Every use first checks that the process has not forked since the store
//! opened (`fork`), before taking any lock.

use crate::codec;
use crate::columns::EventColumns;
use crate::damage::Damage;
use crate::errors::{REPAIR_HINT, storage};
use crate::fork;
use crate::idempotency::{self, Record};
use crate::lock::wait_for_release;
use crate::log::{CLOSE_COMPACTION_BUDGET, Open, merge_log, replay_onto};
use crate::options::{Durability, OpenOptions};
use crate::snapshot;
use connreq_core::{Command, Error, Event, EventRecord, Model, Network, Outcome, Policy, Seq, Timestamp};
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// The current time, for callers that have no time of their own.
pub fn now() -> Timestamp {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// Where a database's log starts: the empty network under the policy it was
/// created with, or (format 3, a repaired database) the base saved beside it.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    /// The policy the database was created with.
    pub(crate) policy: Policy,
    /// The last event of the base, when there is one.
    pub(crate) base: Option<Seq>,
}

impl Origin {
    /// The last event before the log's first that replay needs.
    pub(crate) fn last(&self) -> Seq {
        self.base.unwrap_or(Seq(0))
    }

    /// The model the log replays onto: the empty network, or the base read
    /// back from `dir`.
    pub(crate) fn model(&self, dir: Option<&Path>, id: &[u8; 16]) -> Result<Model, Error> {
        match (self.base, dir) {
            (Some(seq), Some(dir)) => {
                snapshot::BASE.read(dir, Some(id)).filter(|m| m.last_seq() == seq).ok_or_else(|| {
                    Error::StorageError(format!(
                        "the database's base ({}) is missing or damaged",
                        snapshot::BASE.file()
                    ))
                })
            }
            _ => Model::new(self.policy.clone()),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) model: Model,
    pub(crate) open: Option<Open>,
    pub(crate) origin: Origin,
    /// The last event the snapshot on disk covers.
    pub(crate) snapshot_seq: Seq,
    /// The database id, which its snapshot and base name.
    pub(crate) id: [u8; 16],
    /// What opening found wrong: the store then serves the trusted state and
    /// refuses commands.
    pub(crate) damage: Option<Damage>,
}

/// A connreq network persisted in a sled database. `Send + Sync`: share it
/// between threads; commands serialize, queries run side by side.
///
/// A store belongs to the process that opened it: after `fork()`, every use
/// in the child is refused with `StorageError` (see [`crate::Store::open`]).
pub struct Store {
    /// Never dropped in a forked child (see `Drop`).
    pub(crate) inner: ManuallyDrop<RwLock<Inner>>,
    pub(crate) options: OpenOptions,
    pub(crate) path: Option<PathBuf>,
    /// The fork generation the store was opened in.
    pub(crate) opened_in: u64,
}

impl Store {
    /// `StorageError` in a process forked since the store opened.
    #[inline]
    pub(crate) fn not_forked(&self) -> Result<(), Error> {
        if fork::forked_since(self.opened_in) { Err(fork::error()) } else { Ok(()) }
    }

    pub(crate) fn read_inner(&self) -> Result<RwLockReadGuard<'_, Inner>, Error> {
        self.not_forked()?;
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        if guard.open.is_none() {
            return Err(Error::StorageError("the database is closed".into()));
        }
        Ok(guard)
    }

    pub(crate) fn write_inner(&self) -> Result<RwLockWriteGuard<'_, Inner>, Error> {
        self.not_forked()?;
        let guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if guard.open.is_none() {
            return Err(Error::StorageError("the database is closed".into()));
        }
        Ok(guard)
    }

    /// The state for a command: refused when the store is read-only or damaged.
    pub(crate) fn command_inner(&self) -> Result<RwLockWriteGuard<'_, Inner>, Error> {
        if self.options.read_only {
            return Err(Error::StorageError(
                "the database is open for reading only; commands are refused".into(),
            ));
        }
        let guard = self.write_inner()?;
        if let Some(damage) = &guard.damage {
            return Err(Error::StorageError(format!(
                "the database is damaged ({}); commands are refused until it is repaired: {REPAIR_HINT}",
                damage.problems.join("; ")
            )));
        }
        Ok(guard)
    }

    /// The directory of the database (`None` for a temporary one).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// When commands become durable.
    pub fn durability(&self) -> Durability {
        self.options.durability
    }

    /// Whether the store was opened for reading only.
    pub fn read_only(&self) -> bool {
        self.options.read_only
    }

    /// What opening found wrong with the database, if anything. A damaged
    /// store serves the state that can still be trusted (`trusted_through`),
    /// refuses commands with `StorageError`, and is mended by [`Store::repair`].
    /// A server reports it as "degraded".
    pub fn damage(&self) -> Result<Option<Damage>, Error> {
        Ok(self.read_inner()?.damage.clone())
    }

    /// Makes every command that returned before this call durable.
    pub fn flush(&self) -> Result<(), Error> {
        let flusher = self.read_inner()?.open.as_ref().map(|o| o.flusher.clone());
        if let Some(flusher) = flusher
            && !self.options.read_only
        {
            flusher.flush().map_err(storage("cannot flush the database"))?;
        }
        Ok(())
    }

    /// How many flushes of sled this store has run (each covers every command
    /// written before it started): with `Durability::Command`, commands
    /// divided by flushes is how many commands a flush served on average.
    pub fn flushes(&self) -> Result<u64, Error> {
        Ok(self.read_inner()?.open.as_ref().map_or(0, |o| o.flusher.flushes()))
    }

    /// Flushes and closes the database, releasing its lock. Later calls raise
    /// `StorageError`. Closing twice is fine. A store opened for reading only,
    /// or damaged, writes nothing on close.
    pub fn close(&self) -> Result<(), Error> {
        self.not_forked()?;
        let mut guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = guard.open.take() {
            if self.options.read_only || guard.damage.is_some() {
                drop(open);
                if let Some(path) = &self.path {
                    wait_for_release(path);
                }
                return Ok(());
            }
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
                && last.0 >= guard.snapshot_seq.0 + self.options.snapshot_after_events.max(1)
            {
                // A cache of the flushed log: if it cannot be written, the next
                // open replays the log instead.
                if snapshot::write(dir, &guard.id, &guard.model).is_ok() {
                    guard.snapshot_seq = last;
                } else {
                    snapshot::remove(dir);
                }
            }
            if let Some(dir) = &self.path
                && flushed.is_ok()
            {
                // What a later open must find at least (see `damage::SEAL`).
                let _ = crate::damage::write_seal(dir, &guard.id, last.0);
            }
            if let Some(path) = &self.path {
                wait_for_release(path);
                // sled finishes its recovery of what this session wrote on the
                // next open (it writes over the unused end of its last
                // segment); doing it now leaves nothing for a later read-only
                // open to write.
                if flushed.is_ok() {
                    crate::recovery::settle(path, &self.options);
                }
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
        let mut inner = self.command_inner()?;
        let Some(open) = inner.open.as_mut() else { return Ok(()) };
        merge_log(open, usize::MAX)?;
        open.merge_tail()
    }

    /// The database's id: 16 random bytes made when it was created, which its
    /// snapshot, its emails' Message-IDs and its unsubscribe links name.
    pub fn database_id(&self) -> Result<[u8; 16], Error> {
        Ok(self.read_inner()?.id)
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
        let mut problems = match &inner.damage {
            Some(damage) => damage.problems.clone(),
            None => Vec::new(),
        };
        problems.extend(inner.model.invariant_violations());
        if let Some(open) = &inner.open {
            let rebuilt = inner
                .origin
                .model(self.path.as_deref(), &inner.id)
                .and_then(|origin| replay_onto(origin, open));
            match rebuilt {
                Err(e) => problems.push(e.to_string()),
                // A damaged store serves a state its log cannot rebuild: that
                // is the damage, already said.
                Ok(_) if inner.damage.is_some() => {}
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
    /// `idempotency`) atomically with the command's events when it has any
    /// and is not refused (a refusal whose events are recorded, such as a
    /// wrong address given, writes no record: its answer is the refusal).
    pub(crate) fn execute_recording(
        &self,
        command: Command,
        at: Timestamp,
        record: Option<Record<'_>>,
    ) -> Result<Outcome, Error> {
        if matches!(command, Command::EraseMember { .. }) {
            // Durable when it returns, whatever the durability: see `erasure`.
            return self.erase(command, at);
        }
        let mut inner = self.command_inner()?;
        let decided = inner.model.decide(&command, at)?;
        if let (Some(first), Some(open)) = (decided.events.first(), inner.open.as_mut()) {
            let bytes = codec::encode(&decided.events)?;
            let record = record.filter(|_| decided.refused.is_none());
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
        // Group commit: the write's generation, taken under the lock right
        // after the write; the flush waits outside it, so the next commands
        // write while this one's flush runs and share the one after.
        let flush = match (self.options.durability, &inner.open) {
            (Durability::Command, Some(open)) if !decided.events.is_empty() => {
                Some((open.flusher.clone(), open.flusher.wrote()))
            }
            _ => None,
        };
        drop(inner);
        if let Some((flusher, generation)) = flush {
            flusher.flush_through(generation).map_err(storage("cannot flush the database"))?;
        }
        decided.result()
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
        if fork::forked_since(self.opened_in) {
            // In a forked child: the sled handles and the model are the
            // parent's (its threads are not here, a lock may be held by one of
            // them, the model may be half-changed). Closing would flush and
            // join threads that do not exist; leaking touches nothing.
            return;
        }
        let _ = self.close();
        // SAFETY: dropped once, here, and never used again.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("durability", &self.options.durability)
            .field("read_only", &self.options.read_only)
            .finish()
    }
}

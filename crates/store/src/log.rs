//! The event log on sled: merged records in the `log` tree and the tail of
//! one record per command since the last merge, appended, merged, compacted
//! and replayed into a model.

use crate::codec::{self, COMPACTED_KEY};
use crate::errors::{panic_text, storage};
use crate::flusher::Flusher;
use connreq_core::{Error, Model, Seq};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

pub(crate) struct Open {
    pub(crate) db: sled::Db,
    /// Merged records (and, in databases written before tails existed, small ones).
    pub(crate) log: sled::Tree,
    /// Every flush of `db` goes through it (see `flusher`).
    pub(crate) flusher: Arc<Flusher>,
    /// The records written since the last merge, if any.
    pub(crate) tail: Option<Tail>,
}

/// The log's tail: one record per command since the last merge, in a tree of
/// its own (`codec::tail_name(first)`), so that merging it drops the tree
/// instead of removing its records one by one.
pub(crate) struct Tail {
    pub(crate) tree: sled::Tree,
    /// The first event it holds (or will hold, while empty).
    pub(crate) first: Seq,
    /// How many events it holds.
    events: usize,
    /// How many bytes its records hold.
    bytes: usize,
    /// Merges of it that failed while writing: each doubles the size it must
    /// reach before writing tries again, so a failing disk does not make
    /// every command reread the whole tail.
    pub(crate) failed_merges: u32,
}

/// The size from which the tail is merged into one log record, and from which
/// a log record counts as merged. sled writes a leaf page of more than
/// 128 KiB to a file of its own (a "blob"), and a full disk can leave such a
/// database unreadable; a leaf holds up to 17 records, so records stay well
/// under 128 KiB / 17. Reading the log costs sled about 1 µs per record, so
/// records of a few hundred events are as fast to export as larger ones.
pub(crate) const MERGED_BYTES: usize = 5 * 1024;

/// The most events the tail holds before it is merged, whatever their size.
pub(crate) const TAIL_EVENTS: usize = 4096;

impl Tail {
    /// Counts a record of `count` events and `len` bytes written to the tree.
    pub(crate) fn added(&mut self, count: usize, len: usize) {
        self.events += count;
        self.bytes += len;
    }
}

/// A stored record: its key and value.
type Record = (sled::IVec, sled::IVec);

impl Open {
    /// The stored records from the one holding `first` on, oldest first: the
    /// log's, then the tail's.
    pub(crate) fn records(
        &self,
        first: Seq,
    ) -> Result<impl Iterator<Item = Result<Record, Error>> + '_, Error> {
        let start = |tree: &sled::Tree| -> Result<Vec<u8>, Error> {
            Ok(match tree.range(..=codec::key(first)).next_back() {
                Some(item) => item.map_err(storage("cannot read the event log"))?.0.to_vec(),
                None => codec::key(first).to_vec(),
            })
        };
        let in_tail = self.tail.as_ref().is_some_and(|t| first >= t.first);
        let log = if in_tail { None } else { Some(self.log.range(start(&self.log)?..)) };
        let tail = match &self.tail {
            Some(t) => Some(t.tree.range(start(&t.tree)?..)),
            None => None,
        };
        let mut items = log.into_iter().flatten().chain(tail.into_iter().flatten());
        let mut failed = false;
        // sled may panic on a damaged page rather than return an error: that
        // ends the records with an error, in words.
        Ok(std::iter::from_fn(move || {
            if failed {
                return None;
            }
            match catch_unwind(AssertUnwindSafe(|| items.next())) {
                Ok(item) => item.map(|item| item.map_err(storage("cannot read the event log"))),
                Err(_) => {
                    failed = true;
                    Some(Err(Error::StorageError(
                        "cannot read the event log: the database is damaged: sled cannot read part of its files"
                            .into(),
                    )))
                }
            }
        }))
    }

    /// Writes one command's events, `count` of them from `first`, as one record
    /// of the tail: one sled insert.
    pub(crate) fn append(&mut self, first: Seq, count: usize, bytes: Vec<u8>) -> Result<(), Error> {
        let tail = self.tail_for(first)?;
        let len = bytes.len();
        tail.tree.insert(codec::key(first), bytes).map_err(storage("cannot write the event"))?;
        tail.added(count, len);
        Ok(())
    }

    /// The tail the record of event `first` goes to (created when there is none).
    pub(crate) fn tail_for(&mut self, first: Seq) -> Result<&mut Tail, Error> {
        if self.tail.is_none() {
            let tree =
                self.db.open_tree(codec::tail_name(first)).map_err(storage("cannot write the event"))?;
            self.tail = Some(Tail { tree, first, events: 0, bytes: 0, failed_merges: 0 });
        }
        self.tail.as_mut().ok_or_else(|| Error::StorageError("cannot write the event".into()))
    }

    /// Whether the tail is large enough to merge.
    pub(crate) fn tail_is_full(&self) -> bool {
        self.tail.as_ref().is_some_and(|t| {
            let scale = 1usize << t.failed_merges.min(16);
            t.events >= TAIL_EVENTS.saturating_mul(scale) || t.bytes >= MERGED_BYTES.saturating_mul(scale)
        })
    }

    /// Merges the tail into one log record keyed by its first event, makes that
    /// durable, then drops the tail's tree. A crash before the flush leaves the
    /// tail as it was; after it, the next open finds the tail's events in the
    /// log and drops the tree (`open_tail`).
    pub(crate) fn merge_tail(&mut self) -> Result<(), Error> {
        let Some(tail) = self.tail.take() else { return Ok(()) };
        match self.write_merged(&tail) {
            Ok(()) => {
                drop(tail.tree);
                self.db
                    .drop_tree(codec::tail_name(tail.first))
                    .map_err(storage("cannot merge the event log"))?;
                Ok(())
            }
            Err(e) => {
                self.tail = Some(tail);
                Err(e)
            }
        }
    }

    fn write_merged(&self, tail: &Tail) -> Result<(), Error> {
        if tail.events == 0 {
            return Ok(());
        }
        let ctx = "cannot merge the event log";
        let mut events = Vec::with_capacity(tail.events);
        for item in tail.tree.iter() {
            let (k, v) = item.map_err(storage(ctx))?;
            let decoded = codec::decode(&k, &v)?;
            let expected = after(tail.first, events.len())?;
            if decoded[0].seq.0 != expected {
                return Err(Error::StorageError(format!(
                    "damaged event log: expected event {expected}, found {}",
                    decoded[0].seq.0
                )));
            }
            events.extend(decoded);
        }
        self.log.insert(codec::key(tail.first), codec::encode(&events)?).map_err(storage(ctx))?;
        self.flusher.flush().map_err(storage(ctx))?;
        Ok(())
    }
}

/// Finds the tail left by the last session. A tail whose first event is also
/// the key of a log record was merged just before a crash that kept its tree:
/// the tree is dropped. An empty one is dropped too (with `read_only`, both
/// are passed over and left as they are). At most one other remains.
///
/// Records that cannot be read are not counted here: reading the log on open
/// (`damage::load`) finds and reports them.
pub(crate) fn open_tail(db: &sled::Db, log: &sled::Tree, read_only: bool) -> Result<Option<Tail>, Error> {
    let ctx = "cannot read the event log";
    let mut names: Vec<(Seq, sled::IVec)> =
        db.tree_names().into_iter().filter_map(|n| codec::tail_first(&n).map(|first| (first, n))).collect();
    names.sort();
    let mut found: Option<Tail> = None;
    for (first, name) in names {
        let tree = db.open_tree(&name).map_err(storage(ctx))?;
        let (mut events, mut bytes) = (0usize, 0usize);
        for item in tree.iter() {
            let Ok((k, v)) = item else { break };
            let Ok(n) = codec::count(&k, &v) else { break };
            events = events.saturating_add(n);
            bytes = bytes.saturating_add(v.len());
        }
        let merged = match log.get(codec::key(first)) {
            Ok(Some(v)) => codec::count(&codec::key(first), &v).is_ok_and(|n| n >= events),
            _ => false,
        };
        if events == 0 || merged {
            drop(tree);
            if !read_only {
                db.drop_tree(&name).map_err(storage(ctx))?;
            }
            continue;
        }
        if let Some(other) = &found {
            return Err(Error::StorageError(format!(
                "damaged event log: two unmerged tails, from events {} and {first}",
                other.first
            )));
        }
        found = Some(Tail { tree, first, events, bytes, failed_merges: 0 });
    }
    Ok(found)
}

/// Merges up to `budget` events after the `compacted` marker and moves the marker.
pub(crate) fn merge_log(open: &Open, budget: usize) -> Result<(), Error> {
    let from = match open.db.get(COMPACTED_KEY).map_err(storage("cannot read the database"))? {
        Some(v) => codec::seq_of(&v)?,
        None => Seq(0),
    };
    let through = compact(&open.log, from, budget)?;
    if through != from {
        open.db.insert(COMPACTED_KEY, &codec::key(through)).map_err(storage("cannot write the database"))?;
    }
    Ok(())
}

/// How many events closing merges at most, so a close stays short.
pub(crate) const CLOSE_COMPACTION_BUDGET: usize = 250_000;

/// The sequence number `n` events after `seq`; a log numbered past `u64::MAX`
/// (only a damaged one can be) is an error, not an overflow.
pub(crate) fn after(seq: Seq, n: usize) -> Result<u64, Error> {
    u64::try_from(n).ok().and_then(|n| seq.0.checked_add(n)).ok_or_else(|| {
        Error::StorageError(format!("damaged event log: numbering runs past the last number, after {seq}"))
    })
}

/// Applies the log's events after the model's last event, checking numbering.
pub(crate) fn replay_onto(mut model: Model, open: &Open) -> Result<Model, Error> {
    let mut expected = after(model.last_seq(), 1)?;
    // The record holding `expected` may start earlier (merging joins records).
    for item in open.records(Seq(expected))? {
        let (k, v) = item?;
        let mut events = codec::decode(&k, &v)?;
        events.retain(|e| e.seq.0 >= expected);
        let Some(first) = events.first() else { continue };
        if first.seq.0 != expected {
            return Err(Error::StorageError(format!(
                "damaged event log: expected event {expected}, found {}",
                first.seq.0
            )));
        }
        expected = after(Seq(expected), events.len())?;
        catch_unwind(AssertUnwindSafe(|| model.apply(&events))).map_err(|p| {
            Error::StorageError(format!(
                "damaged event log: event {} cannot be applied ({})",
                events[0].seq.0,
                panic_text(&*p)
            ))
        })?;
    }
    Ok(model)
}

/// Merges the log's records after `from` into records of at least `SEGMENT`
/// events or `MERGED_BYTES` bytes, oldest first, stopping after about `budget` events; returns the
/// last event merged. Each merge is one
/// atomic sled batch (the new record replaces the old ones), so a crash leaves
/// either the old records or the merged one. Fewer, larger records make
/// reading the log (replay, `events`, Arrow export) several times faster and
/// take less disk.
fn compact(log: &sled::Tree, from: Seq, budget: usize) -> Result<Seq, Error> {
    const SEGMENT: usize = 4096;
    let mut merged_events = 0usize;
    let ctx = "cannot compact the event log";
    let mut done = from;
    let mut group: Vec<(sled::IVec, Vec<connreq_core::Event>)> = Vec::new();
    let (mut events, mut bytes) = (0usize, 0usize);
    let merge = |group: &mut Vec<(sled::IVec, Vec<connreq_core::Event>)>| -> Result<Seq, Error> {
        let mut batch = sled::Batch::default();
        let first = group[0].0.clone();
        for (k, _) in &group[1..] {
            batch.remove(k.clone());
        }
        let merged: Vec<connreq_core::Event> = group.drain(..).flat_map(|(_, e)| e).collect();
        batch.insert(first, codec::encode(&merged)?);
        log.apply_batch(batch).map_err(storage(ctx))?;
        Ok(merged.last().map_or(Seq(0), |e| e.seq))
    };
    let start = codec::key(Seq(from.0.saturating_add(1)));
    for item in log.range(start..) {
        let (k, v) = item.map_err(storage(ctx))?;
        // Merged records are passed over by their length prefix, undecoded.
        let count = codec::count(&k, &v)?;
        if (count >= SEGMENT || v.len() >= MERGED_BYTES) && group.is_empty() {
            done = Seq(after(codec::seq_of(&k)?, count)?.saturating_sub(1));
            continue;
        }
        let decoded = codec::decode(&k, &v)?;
        events += decoded.len();
        bytes += v.len();
        group.push((k, decoded));
        if events >= SEGMENT || bytes >= MERGED_BYTES {
            done = merge(&mut group)?;
            merged_events += events;
            (events, bytes) = (0, 0);
            if merged_events >= budget {
                return Ok(done);
            }
        }
    }
    // A tail of a few hundred events is worth a record of its own; a smaller
    // one waits for the next close.
    if events >= SEGMENT / 16 && group.len() > 1 {
        done = merge(&mut group)?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::LOG_TREE;

    fn open_with_tail(events: usize, bytes: usize, failed_merges: u32) -> Open {
        let db = sled::Config::new().temporary(true).flush_every_ms(None).open().unwrap();
        let log = db.open_tree(LOG_TREE).unwrap();
        let tree = db.open_tree(codec::tail_name(Seq(1))).unwrap();
        let flusher = Arc::new(Flusher::new(db.clone(), None, None));
        Open { db, log, flusher, tail: Some(Tail { tree, first: Seq(1), events, bytes, failed_merges }) }
    }

    #[test]
    fn each_failed_merge_doubles_what_the_tail_must_reach_before_the_next_try() {
        assert!(!open_with_tail(TAIL_EVENTS - 1, MERGED_BYTES - 1, 0).tail_is_full());
        assert!(open_with_tail(TAIL_EVENTS, 0, 0).tail_is_full());
        assert!(open_with_tail(0, MERGED_BYTES, 0).tail_is_full());
        assert!(!open_with_tail(TAIL_EVENTS, MERGED_BYTES, 1).tail_is_full());
        assert!(open_with_tail(0, 2 * MERGED_BYTES, 1).tail_is_full());
        assert!(!open_with_tail(0, 3 * MERGED_BYTES, 2).tail_is_full());
        assert!(open_with_tail(0, 4 * MERGED_BYTES, 2).tail_is_full());
        // However many failures, the threshold stays finite.
        assert!(open_with_tail(0, usize::MAX, u32::MAX).tail_is_full());
    }
}

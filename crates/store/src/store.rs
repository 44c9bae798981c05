//! `Store`: the connreq API on sled.
//!
//! Each command is decided by `connreq-core` against the in-memory model, its
//! events are written to the log's tail as one sled insert (atomic, also
//! across a crash), and only then applied to the model; every 5 KiB the tail
//! is merged into one log record. Queries read the model. Opening
//! a database replays its log.

use crate::codec::{self, COMPACTED_KEY, FORMAT, FORMAT_1, FORMAT_KEY, ID_KEY, LOG_TREE, POLICY_KEY};
use crate::flusher::Flusher;
use crate::mail::Mailer;
use crate::options::{Durability, OpenOptions};
use crate::snapshot;
use connreq_core::event::EventView;
use connreq_core::{
    Command, EmailId, Error, Event, EventRecord, MemberId, Model, Network, Outcome, Policy, RequestId, Seq,
    Timestamp,
};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The current time, for callers that have no time of their own.
pub fn now() -> Timestamp {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// A run of events in columns, for bulk export (Arrow): no record or string
/// is allocated per event, and every column is laid out as Arrow lays it out,
/// so it moves into Arrow arrays without being copied or converted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventColumns {
    /// Sequence numbers.
    pub seq: Vec<u64>,
    /// Times, epoch milliseconds.
    pub at: Vec<i64>,
    /// The kinds, back to back (UTF-8).
    pub kind: Vec<u8>,
    /// Where each event's kind starts in `kind`, plus the end: `len() + 1` entries.
    pub kind_offsets: Vec<i32>,
    /// Acting members.
    pub actor: OptionalColumn,
    /// Members acted upon.
    pub subject: OptionalColumn,
    /// Requests concerned.
    pub request_id: OptionalColumn,
    /// The `detail` JSON objects, back to back (UTF-8).
    pub detail: Vec<u8>,
    /// Where each event's `detail` starts in `detail`, plus the end: `len() + 1` entries.
    pub detail_offsets: Vec<i32>,
}

impl EventColumns {
    /// Empty columns with room for `rows` events.
    pub fn with_capacity(rows: usize) -> Self {
        let mut kind_offsets = Vec::with_capacity(rows + 1);
        kind_offsets.push(0);
        let mut detail_offsets = Vec::with_capacity(rows + 1);
        detail_offsets.push(0);
        Self {
            seq: Vec::with_capacity(rows),
            at: Vec::with_capacity(rows),
            kind: Vec::with_capacity(rows * 16),
            kind_offsets,
            actor: OptionalColumn::with_capacity(rows),
            subject: OptionalColumn::with_capacity(rows),
            request_id: OptionalColumn::with_capacity(rows),
            detail: Vec::with_capacity(rows * 24),
            detail_offsets,
        }
    }

    /// How many events.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// The kind of the `i`th event.
    pub fn kind(&self, i: usize) -> &str {
        text(&self.kind, &self.kind_offsets, i)
    }

    /// The `detail` JSON object of the `i`th event.
    pub fn detail(&self, i: usize) -> &str {
        text(&self.detail, &self.detail_offsets, i)
    }

    /// Appends one event; `false` (and nothing appended) when its text would
    /// take a column past 2 GiB, the most one Arrow batch can address.
    fn push(&mut self, e: &EventView<'_>, parties: impl Fn(RequestId) -> (MemberId, MemberId)) -> bool {
        let detail_len = self.detail.len();
        let (kind, actor, subject, request) = e.describe(parties, &mut self.detail);
        let (Ok(detail_end), Ok(kind_end)) =
            (i32::try_from(self.detail.len()), i32::try_from(self.kind.len() + kind.len()))
        else {
            self.detail.truncate(detail_len);
            return false;
        };
        self.kind.extend_from_slice(kind.as_bytes());
        self.kind_offsets.push(kind_end);
        self.detail_offsets.push(detail_end);
        self.seq.push(e.seq.0);
        self.at.push(e.at.0);
        self.actor.push(actor.map(|m| m.0));
        self.subject.push(subject.map(|m| m.0));
        self.request_id.push(request.map(|r| r.0));
        true
    }
}

/// The `i`th string of a column of strings stored back to back.
fn text<'a>(bytes: &'a [u8], offsets: &[i32], i: usize) -> &'a str {
    let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
    std::str::from_utf8(&bytes[start..end]).unwrap_or_default()
}

/// A column of optional integers as Arrow holds one: the values (0 where
/// absent) and a validity bitmap, least significant bit first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptionalColumn {
    /// The values; 0 where there is none.
    pub values: Vec<u64>,
    /// Bit `i` (of byte `i / 8`, least significant first) is set when row `i` has a value.
    pub validity: Vec<u8>,
    /// How many rows have no value.
    pub nulls: usize,
}

impl OptionalColumn {
    /// An empty column with room for `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        Self { values: Vec::with_capacity(rows), validity: Vec::with_capacity(rows.div_ceil(8)), nulls: 0 }
    }

    /// Appends a row.
    pub fn push(&mut self, value: Option<u64>) {
        let i = self.values.len();
        if i.is_multiple_of(8) {
            self.validity.push(0);
        }
        match value {
            Some(v) => {
                self.values.push(v);
                if let Some(byte) = self.validity.last_mut() {
                    *byte |= 1 << (i % 8);
                }
            }
            None => {
                self.values.push(0);
                self.nulls += 1;
            }
        }
    }

    /// Row `i`.
    pub fn get(&self, i: usize) -> Option<u64> {
        (self.validity[i / 8] & (1 << (i % 8)) != 0).then(|| self.values[i])
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// What one `dispatch` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Emails handed to the server and marked sent.
    pub sent: u64,
    /// Emails the server refused for good (a bad address); they stay unsent.
    pub rejected: Vec<(EmailId, String)>,
    /// Emails due but not attempted because the server failed.
    pub deferred: u64,
    /// The failure that stopped the run, if any.
    pub error: Option<String>,
}

struct Open {
    db: sled::Db,
    /// Merged records (and, in databases written before tails existed, small ones).
    log: sled::Tree,
    /// Every flush of `db` goes through it (see `flusher`).
    flusher: Arc<Flusher>,
    /// The records written since the last merge, if any.
    tail: Option<Tail>,
}

/// The log's tail: one record per command since the last merge, in a tree of
/// its own (`codec::tail_name(first)`), so that merging it drops the tree
/// instead of removing its records one by one.
struct Tail {
    tree: sled::Tree,
    /// The first event it holds (or will hold, while empty).
    first: Seq,
    /// How many events it holds.
    events: usize,
    /// How many bytes its records hold.
    bytes: usize,
    /// Merges of it that failed while writing: each doubles the size it must
    /// reach before writing tries again, so a failing disk does not make
    /// every command reread the whole tail.
    failed_merges: u32,
}

/// The size from which the tail is merged into one log record, and from which
/// a log record counts as merged. sled writes a leaf page of more than
/// 128 KiB to a file of its own (a "blob"), and a full disk can leave such a
/// database unreadable; a leaf holds up to 17 records, so records stay well
/// under 128 KiB / 17. Reading the log costs sled about 1 µs per record, so
/// records of a few hundred events are as fast to export as larger ones.
const MERGED_BYTES: usize = 5 * 1024;

/// The most events the tail holds before it is merged, whatever their size.
const TAIL_EVENTS: usize = 4096;

/// A stored record: its key and value.
type Record = (sled::IVec, sled::IVec);

impl Open {
    /// The stored records from the one holding `first` on, oldest first: the
    /// log's, then the tail's.
    fn records(&self, first: Seq) -> Result<impl Iterator<Item = Result<Record, Error>> + '_, Error> {
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
        Ok(log
            .into_iter()
            .flatten()
            .chain(tail.into_iter().flatten())
            .map(|item| item.map_err(storage("cannot read the event log"))))
    }

    /// Writes one command's events, `count` of them from `first`, as one record
    /// of the tail: one sled insert.
    fn append(&mut self, first: Seq, count: usize, bytes: Vec<u8>) -> Result<(), Error> {
        let tail = match &mut self.tail {
            Some(tail) => tail,
            None => {
                let tree =
                    self.db.open_tree(codec::tail_name(first)).map_err(storage("cannot write the event"))?;
                self.tail.insert(Tail { tree, first, events: 0, bytes: 0, failed_merges: 0 })
            }
        };
        let len = bytes.len();
        tail.tree.insert(codec::key(first), bytes).map_err(storage("cannot write the event"))?;
        tail.events += count;
        tail.bytes += len;
        Ok(())
    }

    /// Whether the tail is large enough to merge.
    fn tail_is_full(&self) -> bool {
        self.tail.as_ref().is_some_and(|t| {
            let scale = 1usize << t.failed_merges.min(16);
            t.events >= TAIL_EVENTS.saturating_mul(scale) || t.bytes >= MERGED_BYTES.saturating_mul(scale)
        })
    }

    /// Merges the tail into one log record keyed by its first event, makes that
    /// durable, then drops the tail's tree. A crash before the flush leaves the
    /// tail as it was; after it, the next open finds the tail's events in the
    /// log and drops the tree (`open_tail`).
    fn merge_tail(&mut self) -> Result<(), Error> {
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

    /// The last event stored (0 when none).
    fn last_seq(&self) -> Result<Seq, Error> {
        match &self.tail {
            Some(t) if t.events > 0 => Ok(Seq(after(t.first, t.events - 1)?)),
            _ => last_logged(&self.log),
        }
    }
}

/// Finds the tail left by the last session. A tail whose first event is also
/// the key of a log record was merged just before a crash that kept its tree:
/// the tree is dropped. An empty one is dropped too. At most one other remains.
fn open_tail(db: &sled::Db, log: &sled::Tree) -> Result<Option<Tail>, Error> {
    let ctx = "cannot read the event log";
    let mut names: Vec<(Seq, sled::IVec)> =
        db.tree_names().into_iter().filter_map(|n| codec::tail_first(&n).map(|first| (first, n))).collect();
    names.sort();
    let mut found: Option<Tail> = None;
    for (first, name) in names {
        let tree = db.open_tree(&name).map_err(storage(ctx))?;
        let (mut events, mut bytes) = (0usize, 0usize);
        for item in tree.iter() {
            let (k, v) = item.map_err(storage(ctx))?;
            events = events.saturating_add(codec::count(&k, &v)?);
            bytes = bytes.saturating_add(v.len());
        }
        let merged = match log.get(codec::key(first)).map_err(storage(ctx))? {
            Some(v) => codec::count(&codec::key(first), &v)? >= events,
            None => false,
        };
        if events == 0 || merged {
            drop(tree);
            db.drop_tree(&name).map_err(storage(ctx))?;
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

struct Inner {
    model: Model,
    open: Option<Open>,
    initial_policy: Policy,
    /// The last event the snapshot on disk covers.
    snapshot_seq: Seq,
}

/// A connreq network persisted in a sled database. `Send + Sync`: share it
/// between threads; commands serialize, queries run side by side.
pub struct Store {
    inner: RwLock<Inner>,
    id: [u8; 16],
    snapshot_after_events: u64,
    durability: Durability,
    mail_from: String,
    path: Option<PathBuf>,
}

fn storage(context: &str) -> impl Fn(sled::Error) -> Error + '_ {
    move |e| {
        let what = match &e {
            sled::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
                "permission denied (the directory must be writable)".to_owned()
            }
            sled::Error::Io(io) if is_lock_error(io) => "it is open in another process".to_owned(),
            sled::Error::Corruption { .. } => format!("the database is damaged ({e})"),
            other => other.to_string(),
        };
        Error::StorageError(format!("{context}: {what}"))
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown failure".to_owned())
}

/// Refuses paths that cannot be a connreq database before sled touches them.
fn check_path(path: &Path) -> Result<(), Error> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            Err(Error::StorageError(format!("cannot open {shown}: it is a file, not a database directory")))
        }
        Ok(m) if m.is_dir() => {
            let mut entries = std::fs::read_dir(path)
                .map_err(|e| Error::StorageError(format!("cannot read {shown}: {e}")))?
                .filter_map(Result::ok)
                .map(|e| e.file_name());
            let empty = entries.next().is_none();
            if !empty && !path.join("db").exists() {
                return Err(Error::StorageError(format!(
                    "{shown} is not a connreq database (it holds other files)"
                )));
            }
            Ok(())
        }
        Ok(_) => Err(Error::StorageError(format!("cannot open {shown}: not a directory"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::StorageError(format!("cannot open {shown}: {e}"))),
    }
}

fn open_sled(path: &Path, options: &OpenOptions) -> Result<sled::Db, Error> {
    let context = format!("cannot open {}", path.display());
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(options.cache_capacity)
        .mode(sled::Mode::HighThroughput)
        // Never sled's own flusher: it races explicit flushes (see `flusher`).
        .flush_every_ms(None);
    // sled releases its file lock from background threads a moment after the
    // last handle is dropped, so a database closed just now may still look
    // locked: retry for up to two seconds before calling it taken.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        let result = catch_unwind(AssertUnwindSafe(|| config.open())).map_err(|p| {
            Error::StorageError(format!("{context}: the database is damaged ({})", panic_text(&*p)))
        })?;
        match result {
            Err(sled::Error::Io(e)) if is_lock_error(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(100));
            }
            other => return other.map_err(storage(&context)),
        }
    }
}

fn is_lock_error(e: &std::io::Error) -> bool {
    e.to_string().contains("lock")
}

/// Creates a database atomically: it is written beside `path` and renamed into
/// place once its format and policy records are durable, so a crash during
/// creation never leaves a half-made database at `path`.
fn create(path: &Path, options: &OpenOptions) -> Result<(), Error> {
    let shown = path.display();
    let io = |e: std::io::Error| Error::StorageError(format!("cannot create {shown}: {e}"));
    let name =
        path.file_name().ok_or_else(|| Error::StorageError(format!("cannot create {shown}: no name")))?;
    let mut staging_name = name.to_os_string();
    staging_name.push(".creating");
    let staging = path.with_file_name(staging_name);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io)?;
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    {
        let db = open_sled(&staging, options)?;
        let policy = options.policy.clone().unwrap_or_else(Policy::standard);
        let mut batch = sled::Batch::default();
        batch.insert(POLICY_KEY, codec::encode_policy(&policy)?);
        batch.insert(FORMAT_KEY, FORMAT.as_bytes());
        batch.insert(ID_KEY, new_id().to_vec());
        db.apply_batch(batch).map_err(storage("cannot create the database"))?;
        db.open_tree(LOG_TREE).map_err(storage("cannot create the database"))?;
        db.flush().map_err(storage("cannot create the database"))?;
    }
    wait_for_release(&staging);
    if path.exists() {
        // An empty directory made by the caller: replace it.
        std::fs::remove_dir(path).map_err(io)?;
    }
    std::fs::rename(&staging, path).map_err(io)?;
    Ok(())
}

/// Waits until no sled handle in this process holds the lock of the database at
/// `path`. sled releases it from background threads shortly after the last
/// handle is dropped; closing waits for that, so reopening right after a close
/// succeeds. Bounded: after 10 s the lock is left to whoever holds it.
fn wait_for_release(path: &Path) {
    let Ok(file) = std::fs::File::open(path.join("db")) else { return };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if file.try_lock().is_ok() {
            let _ = file.unlock();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Merges up to `budget` events after the `compacted` marker and moves the marker.
fn merge_log(open: &Open, budget: usize) -> Result<(), Error> {
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
const CLOSE_COMPACTION_BUDGET: usize = 250_000;

/// The sequence number `n` events after `seq`; a log numbered past `u64::MAX`
/// (only a damaged one can be) is an error, not an overflow.
fn after(seq: Seq, n: usize) -> Result<u64, Error> {
    u64::try_from(n).ok().and_then(|n| seq.0.checked_add(n)).ok_or_else(|| {
        Error::StorageError(format!("damaged event log: numbering runs past the last number, after {seq}"))
    })
}

/// Reads the whole log into a model, checking its numbering.
fn replay(initial: &Policy, open: &Open) -> Result<Model, Error> {
    replay_onto(Model::new(initial.clone())?, open)
}

/// Applies the log's events after the model's last event, checking numbering.
fn replay_onto(mut model: Model, open: &Open) -> Result<Model, Error> {
    let mut expected = after(model.state().last_seq, 1)?;
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

/// The last event in the log (0 when empty).
fn last_logged(log: &sled::Tree) -> Result<Seq, Error> {
    match log.last().map_err(storage("cannot read the event log"))? {
        None => Ok(Seq(0)),
        Some((k, v)) => {
            let events = codec::decode(&k, &v)?;
            Ok(events.last().map_or(Seq(0), |e| e.seq))
        }
    }
}

/// The model from the snapshot in `dir` plus the log after it, when the
/// snapshot belongs to this database and the log continues where it ends.
fn from_snapshot(dir: &Path, id: &[u8; 16], open: &Open) -> Result<Option<Model>, Error> {
    let Some(covered) = snapshot::covers(dir, id) else { return Ok(None) };
    let last = open.last_seq()?;
    let continues = covered <= last;
    if !continues {
        return Ok(None);
    }
    match snapshot::read(dir, id) {
        Some(model) => replay_onto(model, open).map(Some),
        None => Ok(None),
    }
}

/// A fresh database id: unique enough to tell one database's snapshot from another's.
fn new_id() -> [u8; 16] {
    use std::hash::{BuildHasher, Hasher};
    let mut id = [0u8; 16];
    for (i, half) in id.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        h.write_u32(std::process::id());
        h.write_usize(i);
        half.copy_from_slice(&h.finish().to_be_bytes());
    }
    id
}

impl Store {
    /// Opens (or creates) the database at `path` under `policy`. If the database
    /// was created with another policy, the change is recorded as a
    /// `policy_changed` event and applies from now on.
    pub fn open(path: impl AsRef<Path>, policy: Policy) -> Result<Self, Error> {
        Self::open_with(path, OpenOptions::with_policy(policy))
    }

    /// A throwaway database, deleted when the store is dropped.
    pub fn temporary(policy: Policy) -> Result<Self, Error> {
        // No background flush: a throwaway database gains nothing from it.
        let config =
            sled::Config::new().temporary(true).cache_capacity(16 * 1024 * 1024).flush_every_ms(None);
        let db = config.open().map_err(storage("cannot create a temporary database"))?;
        let flusher = Arc::new(Flusher::new(db.clone(), None));
        Self::from_db(db, flusher, OpenOptions::with_policy(policy), None, true)
    }

    /// Opens (or creates) the database at `path` with explicit options.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Self, Error> {
        let path = path.as_ref();
        if let Some(policy) = &options.policy {
            policy.validate()?;
        }
        check_path(path)?;
        if !path.join("db").exists() {
            create(path, &options)?;
        }
        let db = open_sled(path, &options)?;
        let every = match options.durability {
            Durability::Background => Some(Duration::from_millis(options.flush_every_ms.max(1))),
            Durability::EveryCommand | Durability::Manual => None,
        };
        let flusher = Arc::new(Flusher::new(db.clone(), every));
        Self::from_db(db, flusher, options, Some(path.to_owned()), false)
    }

    /// Reads a database; `fresh` (a temporary one) is initialised in place.
    fn from_db(
        db: sled::Db,
        flusher: Arc<Flusher>,
        options: OpenOptions,
        path: Option<PathBuf>,
        fresh: bool,
    ) -> Result<Self, Error> {
        let ctx = "cannot read the database";
        let log = db.open_tree(LOG_TREE).map_err(storage(ctx))?;
        let initial_policy = match db.get(FORMAT_KEY).map_err(storage(ctx))? {
            Some(v) if v.as_ref() == FORMAT.as_bytes() || v.as_ref() == FORMAT_1.as_bytes() => {
                if v.as_ref() == FORMAT_1.as_bytes() {
                    // Format 1 is format 2 without tails; from now on it may have one,
                    // which connreq versions reading only format 1 would not see.
                    db.insert(FORMAT_KEY, FORMAT.as_bytes()).map_err(storage(ctx))?;
                }
                let bytes = db
                    .get(POLICY_KEY)
                    .map_err(storage(ctx))?
                    .ok_or_else(|| Error::StorageError("the database has no policy record".into()))?;
                codec::decode_policy(&bytes)?
            }
            Some(v) => {
                return Err(Error::StorageError(format!(
                    "the database has format {:?}; this connreq reads {FORMAT:?}",
                    String::from_utf8_lossy(&v)
                )));
            }
            None => {
                let foreign = db
                    .tree_names()
                    .iter()
                    .any(|n| n.as_ref() != b"__sled__default" && n.as_ref() != LOG_TREE);
                if !db.is_empty() || !log.is_empty() || foreign {
                    return Err(Error::StorageError("not a connreq database (no format record)".into()));
                }
                if !fresh {
                    // Databases are created whole (see `create`), so a database without
                    // its format record is damaged beyond what sled's recovery could read.
                    // Never start afresh over it.
                    return Err(Error::StorageError(
                        "the database is damaged: its files hold no readable connreq records".into(),
                    ));
                }
                let policy = options.policy.clone().unwrap_or_else(Policy::standard);
                policy.validate()?;
                let mut batch = sled::Batch::default();
                batch.insert(POLICY_KEY, codec::encode_policy(&policy)?);
                batch.insert(FORMAT_KEY, FORMAT.as_bytes());
                db.apply_batch(batch).map_err(storage("cannot create the database"))?;
                flusher.flush().map_err(storage("cannot create the database"))?;
                policy
            }
        };
        let id: [u8; 16] = match db.get(ID_KEY).map_err(storage(ctx))? {
            Some(v) if v.len() == 16 => v.as_ref().try_into().unwrap_or_default(),
            _ => {
                let id = new_id();
                db.insert(ID_KEY, id.to_vec()).map_err(storage(ctx))?;
                id
            }
        };
        let tail = open_tail(&db, &log)?;
        let open = Open { db, log, flusher, tail };
        let (model, snapshot_seq) = match path.as_deref().map(|dir| from_snapshot(dir, &id, &open)) {
            Some(Ok(Some(model))) => {
                let covered = path.as_deref().and_then(|dir| snapshot::covers(dir, &id)).unwrap_or(Seq(0));
                (model, covered)
            }
            Some(Err(e)) => return Err(e),
            _ => (replay(&initial_policy, &open)?, Seq(0)),
        };
        let store = Self {
            inner: RwLock::new(Inner { model, open: Some(open), initial_policy, snapshot_seq }),
            id,
            snapshot_after_events: options.snapshot_after_events,
            durability: options.durability,
            mail_from: options.mail_from,
            path,
        };
        if let Some(policy) = options.policy
            && policy != *store.read_inner()?.model.policy()
        {
            store.execute(Command::ChangePolicy { policy }, now())?;
        }
        Ok(store)
    }

    fn read_inner(&self) -> Result<RwLockReadGuard<'_, Inner>, Error> {
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        if guard.open.is_none() {
            return Err(Error::StorageError("the database is closed".into()));
        }
        Ok(guard)
    }

    fn write_inner(&self) -> Result<RwLockWriteGuard<'_, Inner>, Error> {
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
            let last = guard.model.state().last_seq;
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
                Ok(rebuilt) => problems.extend(differences(&rebuilt, &inner.model)),
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
        let state = inner.model.state();
        let parties = |id| state.request(id).map_or((MemberId(0), MemberId(0)), |r| (r.sender, r.recipient));
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

    /// Sends the emails due at `at` over SMTP (`smtp://HOST:PORT`), marking each
    /// sent as soon as the server takes it. A server that fails leaves the rest
    /// unsent for a later run; a second run never sends an email twice.
    pub fn dispatch(&self, smtp_url: &str, at: Timestamp) -> Result<DispatchReport, Error> {
        let mailer = Mailer::new(smtp_url, &self.mail_from)?;
        let due = self.pending_emails(Some(at))?;
        let mut report = DispatchReport::default();
        for (i, email) in due.iter().enumerate() {
            match mailer.send(email) {
                Ok(()) => {
                    self.mark_emails_sent(&[email.id], at)?;
                    report.sent += 1;
                }
                Err(Error::InvalidInput(why)) => report.rejected.push((email.id, why)),
                Err(e) => {
                    report.deferred = (due.len() - i) as u64;
                    report.error = Some(e.to_string());
                    break;
                }
            }
        }
        Ok(report)
    }

    /// `dispatch_emails(smtp_url, at)`: how many emails were sent. If the server
    /// failed, raises `MailError` saying how many were sent before it did.
    pub fn dispatch_emails(&self, smtp_url: &str, at: Timestamp) -> Result<u64, Error> {
        let report = self.dispatch(smtp_url, at)?;
        match report.error {
            Some(e) => Err(Error::MailError(format!(
                "{e}; {} sent before the failure, {} left for a later dispatch",
                report.sent, report.deferred
            ))),
            None => Ok(report.sent),
        }
    }
}

/// Where two models differ, in words.
fn differences(rebuilt: &Model, live: &Model) -> Vec<String> {
    if rebuilt == live {
        return Vec::new();
    }
    let (a, b) = (rebuilt.state(), live.state());
    let mut out = Vec::new();
    let mut cmp = |name: &str, same: bool| {
        if !same {
            out.push(format!("the {name} rebuilt from the event log differ from the live state"));
        }
    };
    cmp("policy", rebuilt.policy() == live.policy());
    cmp("members", a.members == b.members);
    cmp("requests", a.requests == b.requests);
    cmp("open requests", a.open_pairs == b.open_pairs && a.oldest_open == b.oldest_open);
    cmp("blocks", a.blocks == b.blocks && a.dont_know == b.dont_know);
    cmp("notifications", a.notifications == b.notifications);
    cmp(
        "emails",
        a.email_delays == b.email_delays && a.unsent == b.unsent && a.oldest_unsent == b.oldest_unsent,
    );
    cmp("flags", a.flags == b.flags && a.moderation == b.moderation);
    cmp("event numbers", a.last_seq == b.last_seq);
    if out.is_empty() {
        out.push("the state rebuilt from the event log differs from the live state".into());
    }
    out
}

impl Network for Store {
    fn execute(&self, command: Command, at: Timestamp) -> Result<Outcome, Error> {
        let mut inner = self.write_inner()?;
        let decided = inner.model.decide(&command, at)?;
        if let (Some(first), Some(open)) = (decided.events.first(), inner.open.as_mut()) {
            let bytes = codec::encode(&decided.events)?;
            open.append(first.seq, decided.events.len(), bytes)?;
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

    fn read<R>(&self, query: impl FnOnce(&Model) -> R) -> Result<R, Error> {
        let inner = self.read_inner()?;
        Ok(query(&inner.model))
    }

    fn events(&self, since: Seq, limit: Option<usize>) -> Result<Vec<EventRecord>, Error> {
        let events = self.raw_events(since, limit)?;
        let inner = self.read_inner()?;
        let state = inner.model.state();
        Ok(events
            .iter()
            .map(|e| {
                e.record(|id| {
                    state.request(id).map_or((MemberId(0), MemberId(0)), |r| (r.sender, r.recipient))
                })
            })
            .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn open_with_tail(events: usize, bytes: usize, failed_merges: u32) -> Open {
        let db = sled::Config::new().temporary(true).flush_every_ms(None).open().unwrap();
        let log = db.open_tree(LOG_TREE).unwrap();
        let tree = db.open_tree(codec::tail_name(Seq(1))).unwrap();
        let flusher = Arc::new(Flusher::new(db.clone(), None));
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

//! Damage: reading a log that may be damaged, the state that can still be
//! trusted, and what is known to be lost.
//!
//! Opening reads the whole stored log once, record by record, stepping over
//! what sled cannot read (a page failing its checksum makes a range of keys
//! unreadable: [`walk`] finds where reading can resume). Up to the snapshot's
//! last event it only checks that every event is there (the snapshot holds
//! their effect); after it, it applies the events to the model, up to the
//! first one missing or unusable. What it finds is reported as problems:
//!
//! - events missing or unreadable *behind* the snapshot (or the base): their
//!   effect is in the state, only the record of them is gone;
//! - a log that ends before the snapshot's last event (sled's recovery
//!   dropped the end of its log);
//! - events after the trusted state that cannot be read or applied: lost.
//!
//! With a snapshot (or a base) to trust, a damaged database opens with a
//! warning, serves that state, and refuses commands until it is repaired;
//! without one it is refused. See docs/RELIABILITY.md for how sled 0.34.7
//! behaves when its files are overwritten.

use crate::codec;
use crate::errors::{REPAIR_HINT, sled_words};
use crate::log::Open;
use connreq_core::{Event, Model, Seq};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// What an open found wrong with a database, and the state it serves instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// What was found, in words, one problem each.
    pub problems: Vec<String>,
    /// The last event of the state the store serves (the state that can be trusted).
    pub trusted_through: Seq,
}

impl Damage {
    /// One paragraph for a warning: what is wrong, what the store does about
    /// it, and what to run.
    pub fn summary(&self) -> String {
        format!(
            "the database is damaged: {}. It shows the state as of event {} and refuses \
             commands until it is repaired: {REPAIR_HINT}",
            self.problems.join("; "),
            self.trusted_through.0
        )
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

/// A file in the database directory recording damage that opening found and
/// cannot find again: sled's recovery erases the evidence of what it dropped.
/// Opening reads it; a repaired database does not have it.
pub(crate) const MARKER: &str = "connreq.damaged";

/// The problems recorded in `dir`'s marker, if any.
pub(crate) fn read_marker(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(MARKER))
        .map(|text| text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Records `problems` in `dir`'s marker (kept with those already there), durably.
pub(crate) fn write_marker(dir: &Path, problems: &[String]) -> std::io::Result<()> {
    let mut all = read_marker(dir);
    for p in problems {
        if !all.contains(p) {
            all.push(p.clone());
        }
    }
    let tmp = dir.join(format!("{MARKER}.tmp"));
    {
        let mut file = std::fs::File::create(&tmp)?;
        for p in &all {
            writeln!(file, "{}", p.replace('\n', " "))?;
        }
        file.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(MARKER))?;
    std::fs::File::open(dir)?.sync_all()
}

/// A file recording, at each clean close, the last event the database then
/// held (with the database id and a CRC-32): the log can only grow, so a log
/// that ends before it lost events. It catches what sled's recovery drops
/// without a trace in its own files (see `recovery`): damage in the last
/// segment it wrote.
pub(crate) const SEAL: &str = "connreq.sealed";

/// The last event the database in `dir` (of id `id`) held when last closed.
pub(crate) fn read_seal(dir: &Path, id: &[u8; 16]) -> Option<u64> {
    let bytes = std::fs::read(dir.join(SEAL)).ok()?;
    if bytes.len() != 28 || &bytes[..16] != id {
        return None;
    }
    let crc = u32::from_be_bytes(bytes[24..].try_into().ok()?);
    (crc32fast::hash(&bytes[..24]) == crc)
        .then(|| u64::from_be_bytes(bytes[16..24].try_into().unwrap_or_default()))
}

/// Records that the database in `dir` (of id `id`) held event `last` when
/// closed, durably; nothing when that is recorded already.
pub(crate) fn write_seal(dir: &Path, id: &[u8; 16], last: u64) -> std::io::Result<()> {
    if read_seal(dir, id) == Some(last) {
        return Ok(());
    }
    let mut bytes = id.to_vec();
    bytes.extend_from_slice(&last.to_be_bytes());
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_be_bytes());
    let tmp = dir.join(format!("{SEAL}.tmp"));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(SEAL))?;
    std::fs::File::open(dir)?.sync_all()
}

/// One step of [`walk`]: a stored record, or keys that could not be read.
pub(crate) enum Item {
    /// A record: its key and value.
    Record(sled::IVec, sled::IVec),
    /// The records up to the next [`Item::Record`] (or the end) could not be
    /// read; `why` in words.
    Unreadable { why: String },
}

/// Whether reading `tree` from key `at` (below `end`) fails (sled's panics
/// on damaged pages included).
fn fails_at(tree: &sled::Tree, at: u64, end: Option<u64>) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        let mut range = match end {
            Some(end) => tree.range(codec::key(Seq(at))..codec::key(Seq(end))),
            None => tree.range(codec::key(Seq(at))..),
        };
        matches!(range.next(), Some(Err(_)))
    }))
    .unwrap_or(true)
}

/// The smallest key above `failed` (where reading fails) from which reading
/// `tree` succeeds or finds nothing more, or `None` when every key up to
/// `end` fails. Reading fails for the keys a damaged page would hold, so the
/// search steps out exponentially and then bisects the boundary.
fn resume_after(tree: &sled::Tree, failed: u64, end: Option<u64>) -> Option<u64> {
    let limit = end.unwrap_or(u64::MAX);
    let (mut bad, mut step) = (failed, 1u64);
    let good = loop {
        let probe = bad.checked_add(step).filter(|p| *p < limit)?;
        if !fails_at(tree, probe, end) {
            break probe;
        }
        bad = probe;
        step = step.saturating_mul(2);
    };
    let (mut bad, mut good) = (bad, good);
    while good - bad > 1 {
        let mid = bad + (good - bad) / 2;
        if fails_at(tree, mid, end) {
            bad = mid;
        } else {
            good = mid;
        }
    }
    Some(good)
}

/// Visits the records of `tree` with keys in `from..end`, oldest first,
/// stepping over what cannot be read (reported as [`Item::Unreadable`]).
/// `visit` returns `false` to stop.
pub(crate) fn walk(tree: &sled::Tree, from: u64, end: Option<u64>, visit: &mut dyn FnMut(Item) -> bool) {
    let mut cursor = from;
    'restart: loop {
        let mut range = match end {
            Some(end) if cursor >= end => return,
            Some(end) => tree.range(codec::key(Seq(cursor))..codec::key(Seq(end))),
            None => tree.range(codec::key(Seq(cursor))..),
        };
        loop {
            // sled may panic on a damaged page rather than return an error.
            let item = catch_unwind(AssertUnwindSafe(|| range.next()))
                .unwrap_or_else(|_| Some(Err(sled::Error::Corruption { at: None, bt: () })));
            match item {
                None => return,
                Some(Ok((k, v))) => {
                    let next = codec::seq_of(&k).map_or(u64::MAX, |s| s.0).saturating_add(1);
                    if !visit(Item::Record(k, v)) || next == u64::MAX {
                        return;
                    }
                    cursor = next;
                }
                Some(Err(e)) => {
                    if !visit(Item::Unreadable { why: sled_words(&e) }) {
                        return;
                    }
                    match resume_after(tree, cursor, end) {
                        Some(next) => {
                            cursor = next;
                            continue 'restart;
                        }
                        None => return,
                    }
                }
            }
        }
    }
}

/// Visits the whole stored log in order: the `log` tree's records before the
/// tail, then the tail's.
pub(crate) fn walk_log(open: &Open, visit: &mut dyn FnMut(Item) -> bool) {
    let tail_first = open.tail.as_ref().map(|t| t.first.0);
    let mut go_on = true;
    walk(&open.log, 0, tail_first, &mut |item| {
        go_on = visit(item);
        go_on
    });
    if go_on && let Some(tail) = &open.tail {
        walk(&tail.tree, 0, None, visit);
    }
}

/// Event numbers `from..=to` in words.
pub(crate) fn events_words(from: u64, to: u64) -> String {
    if from == to { format!("event {from}") } else { format!("events {from}–{to}") }
}

/// What reading the log found.
pub(crate) struct Loaded {
    /// The trusted state: the starting model plus the events after it that
    /// continue it soundly.
    pub(crate) model: Model,
    /// Problems found, in words (empty when the log is sound).
    pub(crate) problems: Vec<String>,
    /// Events (inclusive ranges) behind the start whose records are missing
    /// or unreadable: the state holds their effect.
    pub(crate) history_lost: Vec<(u64, u64)>,
    /// Events after the trusted state that were found but could not be used:
    /// their commands are not in the state. The end is the last event seen.
    pub(crate) commands_lost: Option<(u64, u64)>,
    /// Whether the log ended, or became unreadable, with more that may have
    /// followed (how much is not known).
    pub(crate) end_unknown: bool,
    /// The record at which applying failed (a panic in the model), to load
    /// again stopping before it.
    pub(crate) apply_failed_at: Option<u64>,
}

/// Reads the stored log on top of `start` (a snapshot, a base, or the empty
/// model). `origin` is where the log begins to matter: events up to it are
/// history. Events up to `start`'s last are only checked to be there (the
/// state holds their effect); later ones are applied while they continue the
/// state soundly, stopping before the record at `stop_before` (one that made
/// applying fail on an earlier load). `sealed`: the last event the database
/// held when last closed (see [`SEAL`]).
pub(crate) fn load(
    open: &Open,
    start: Model,
    origin: Seq,
    sealed: Option<u64>,
    stop_before: Option<u64>,
) -> Loaded {
    let mut reader = Reader {
        covered: start.last_seq().0,
        out: Loaded {
            model: start,
            problems: Vec::new(),
            history_lost: Vec::new(),
            commands_lost: None,
            end_unknown: false,
            apply_failed_at: None,
        },
        expected: origin.0.saturating_add(1),
        last_seen: 0,
        stopped: None,
        unreadable: None,
        stop_before,
        sealed,
    };
    walk_log(open, &mut |item| {
        reader.step(item);
        true
    });
    reader.finish()
}

/// The state of [`load`] as it reads.
struct Reader {
    /// The last event the starting state holds.
    covered: u64,
    out: Loaded,
    /// The next event continuity expects.
    expected: u64,
    /// The last event seen in any record.
    last_seen: u64,
    /// The first event not applied, once the trusted state stops growing.
    stopped: Option<u64>,
    /// Why the records just read past could not be read.
    unreadable: Option<String>,
    stop_before: Option<u64>,
    /// The last event the database held when last closed.
    sealed: Option<u64>,
}

impl Reader {
    fn step(&mut self, item: Item) {
        let (k, v) = match item {
            Item::Unreadable { why } => {
                self.unreadable.get_or_insert(format!("cannot be read ({why})"));
                return;
            }
            Item::Record(k, v) => (k, v),
        };
        let Ok(first) = codec::seq_of(&k).map(|s| s.0) else {
            self.unreadable.get_or_insert_with(|| "cannot be read (a record has a damaged key)".to_owned());
            return;
        };
        let count = match codec::count(&k, &v) {
            Ok(n) => n as u64,
            Err(e) => {
                self.unreadable.get_or_insert(format!("cannot be read ({})", strip(&e)));
                return;
            }
        };
        let Some(last) = count.checked_sub(1).and_then(|n| first.checked_add(n)) else {
            self.unreadable.get_or_insert(format!(
                "cannot be read (damaged event record at {first}: it is empty or numbered past the last number)"
            ));
            return;
        };
        if last < self.expected {
            // History before the origin, or a record already read.
            return;
        }
        if first > self.expected {
            let why = self.unreadable.take().unwrap_or_else(|| {
                format!("are missing from the log (expected event {}, found {first})", self.expected)
            });
            self.hole(self.expected, first - 1, &why);
        }
        if let Some(why) = self.unreadable.take() {
            // Nothing is missing, but reading the log stumbles there.
            self.out
                .problems
                .push(format!("part of the log's storage before event {first} {why} (no event is missing)"));
        }
        if self.stopped.is_none() && last > self.covered {
            self.apply(first, last, &k, &v);
        }
        self.last_seen = self.last_seen.max(last);
        self.expected = last.saturating_add(1);
    }

    /// Applies the events of the record `first..=last` the state does not hold yet.
    fn apply(&mut self, first: u64, last: u64, k: &[u8], v: &[u8]) {
        let have = self.out.model.last_seq().0;
        if self.stop_before.is_some_and(|s| first >= s) {
            self.stop(
                have + 1,
                format!("event {} cannot be applied (damaged event log)", first.max(have + 1)),
            );
            return;
        }
        match codec::decode(k, v) {
            Ok(mut events) => {
                events.retain(|e: &Event| e.seq.0 > have);
                let Some(seq) = events.first().map(|e| e.seq.0) else { return };
                if catch_unwind(AssertUnwindSafe(|| self.out.model.apply(&events))).is_err() {
                    self.out.apply_failed_at = Some(first);
                    self.stop(seq, format!("damaged event log: event {seq} cannot be applied"));
                }
            }
            Err(e) => self.stop(have + 1, format!("{} (holding {})", strip(&e), events_words(first, last))),
        }
    }

    /// The trusted state ends before event `first`, for `why`.
    fn stop(&mut self, first: u64, why: String) {
        if self.stopped.is_none() {
            self.stopped = Some(first);
            self.out.problems.push(why);
        }
    }

    /// Events `from..=to` are not in the log, for `why`.
    fn hole(&mut self, from: u64, to: u64, why: &str) {
        let covered = self.covered;
        if from <= covered {
            let end = to.min(covered);
            self.out.history_lost.push((from, end));
            self.out.problems.push(format!(
                "{} {why}; the state keeps their effect (from the snapshot)",
                events_words(from, end)
            ));
        }
        if to > covered {
            let from = from.max(covered + 1);
            self.stop(from, format!("{} {why}", events_words(from, to)));
        }
    }

    fn finish(mut self) -> Loaded {
        let covered = self.covered;
        if let Some(why) = self.unreadable.take() {
            // The log ends in what cannot be read: more may have followed.
            self.out.end_unknown = true;
            if self.expected <= covered {
                self.hole(self.expected, covered, &why);
                self.expected = covered + 1;
            }
            let have = self.out.model.last_seq().0;
            self.stop(have + 1, format!("the log after event {} {why}", self.expected - 1));
        }
        if self.expected <= covered {
            self.out.end_unknown = true;
            let (from, last) = (self.expected, self.expected - 1);
            self.hole(
                from,
                covered,
                &format!(
                    "are missing: the log ends at event {last} but the snapshot holds the state through \
                     event {covered} (whatever followed event {covered}, if anything, is lost)"
                ),
            );
            self.expected = covered + 1;
        }
        if let Some(sealed) = self.sealed
            && sealed >= self.expected
        {
            // The log was longer when the database was last closed.
            let (from, last) = (self.expected, self.expected - 1);
            self.out.end_unknown = true;
            self.stop(
                from,
                format!(
                    "{} are missing: the log ends at event {last} but the database held event {sealed} \
                     when it was last closed",
                    events_words(from, sealed)
                ),
            );
            self.last_seen = self.last_seen.max(sealed);
        }
        if let Some(first) = self.stopped
            && self.last_seen >= first
        {
            self.out.commands_lost = Some((first, self.last_seen));
            self.out.problems.push(format!(
                "{} are not in the state: the commands that made them are lost",
                events_words(first, self.last_seen)
            ));
        }
        self.out
    }
}

/// A storage error's message without the "storage error: " prefix.
fn strip(e: &connreq_core::Error) -> String {
    match e {
        connreq_core::Error::StorageError(m) => m.clone(),
        other => other.to_string(),
    }
}

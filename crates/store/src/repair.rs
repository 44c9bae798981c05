//! Repair: a damaged database rewritten from the state that can still be
//! trusted, saying exactly what was lost.
//!
//! Repair reads a copy of the damaged directory (so the damaged files stay as
//! they were found), lets sled rebuild what it can there (a page-table
//! snapshot or configuration file that fails its checksum is removed; when
//! sled still cannot open, every `snap.*` is removed so it reads its whole
//! log), and reads the log as opening does (`damage::load`): the trusted state
//! is the snapshot (or base, or empty network) plus every event after it that
//! continues it soundly. When sled cannot read its files at all, the trusted
//! state is connreq's snapshot alone.
//!
//! It then writes a new database beside the old one: every readable event up
//! to the trusted state, in merged records. When those events replay to the
//! trusted state from the empty network, that is all (format 2). Otherwise
//! (events missing behind the snapshot) the trusted state is saved as the new
//! database's *base*, `connreq.base`, and the events up to it are kept as
//! history, holes and all (format 3): replay starts from the base. The damaged
//! directory is renamed `<name>.damaged` (or `.damaged-2`, …) and the new one
//! takes its place.

use crate::backup::{Writer, beside};
use crate::codec;
use crate::damage::{self, Item, events_words};
use crate::flusher::Flusher;
use crate::lock::wait_for_release;
use crate::open::{flusher_for, open_sled, open_sled_once, read_guarded};
use crate::options::OpenOptions;
use crate::recovery;
use crate::snapshot;
use crate::store::Store;
use connreq_core::{Error, Event, Model, Policy, Seq};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What [`Store::repair`] found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairReport {
    /// Whether the database was rewritten (`false`: nothing was wrong, and it
    /// was left as it was).
    pub repaired: bool,
    /// What was found wrong, in words.
    pub problems: Vec<String>,
    /// The last event of the state the repaired database holds.
    pub kept_through: Seq,
    /// Events (inclusive ranges) whose record is lost but whose effect the
    /// state keeps: they are missing from `events()`, nothing else changed.
    pub history_lost: Vec<(u64, u64)>,
    /// Events (an inclusive range) that were found after the trusted state but
    /// could not be used: the commands that made them are lost.
    pub commands_lost: Option<(u64, u64)>,
    /// Whether sled dropped, or could not read, the end of its log, so that
    /// more may have been lost than the numbers above say.
    pub end_unknown: bool,
    /// Where the damaged files were moved, as they were found.
    pub damaged_copy: Option<PathBuf>,
}

impl RepairReport {
    /// What was lost and kept, in words.
    pub fn summary(&self) -> String {
        if !self.repaired {
            return "the database is sound; nothing was changed".to_owned();
        }
        let mut out =
            format!("repaired: the database now holds the state as of event {}", self.kept_through.0);
        if !self.history_lost.is_empty() {
            let ranges: Vec<String> = self.history_lost.iter().map(|&(a, b)| events_words(a, b)).collect();
            out.push_str(&format!(
                ". Lost from the event log, their effect kept in the state: {}",
                ranges.join(", ")
            ));
        }
        match self.commands_lost {
            Some((a, b)) => out.push_str(&format!(
                ". Lost with the commands that made them: {} ({} event{})",
                events_words(a, b),
                b - a + 1,
                if a == b { "" } else { "s" }
            )),
            None => out.push_str(". No command that the state had is lost"),
        }
        if self.end_unknown {
            out.push_str(
                ". The end of the log could not be read: whatever followed it (how much is not known) is lost",
            );
        }
        if let Some(copy) = &self.damaged_copy {
            out.push_str(&format!(". The damaged files are kept in {}", copy.display()));
        }
        out
    }
}

impl std::fmt::Display for RepairReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

/// What can be taken from a damaged database.
struct Salvage {
    /// The new database's creation policy.
    policy: Policy,
    /// Whether the old database had a base (format 3).
    based: bool,
    /// The trusted state.
    model: Model,
    /// Every readable event up to the trusted state, in order.
    events: Vec<Event>,
    problems: Vec<String>,
    history_lost: Vec<(u64, u64)>,
    commands_lost: Option<(u64, u64)>,
    end_unknown: bool,
}

/// Copies the directory `from` to `to`, files and subdirectories.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The readable events of `open`'s log up to `through`, in order.
fn readable_events(open: &crate::log::Open, through: Seq) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    damage::walk_log(open, &mut |item| {
        if let Item::Record(k, v) = item
            && let Ok(decoded) = codec::decode(&k, &v)
        {
            let after = events.last().map_or(0, |e| e.seq.0);
            events.extend(decoded.into_iter().filter(|e| e.seq.0 > after && e.seq <= through));
        }
        true
    });
    events
}

/// Reads what can be trusted from the damaged database copied to `dir`.
fn salvage(dir: &Path, options: &OpenOptions) -> Result<Salvage, Error> {
    for snap in recovery::damaged_snapshots(dir) {
        let _ = std::fs::remove_file(snap);
    }
    let mut found = Vec::new();
    if recovery::conf_damaged(dir) {
        // sled writes its configuration afresh (connreq never changes it).
        let _ = std::fs::remove_file(dir.join("conf"));
        found.push("sled's configuration file `conf` is damaged".to_owned());
    }
    let options = OpenOptions { policy: None, read_only: true, ..options.clone() };
    let opened = match open_sled(dir, &options) {
        Ok(opened) => Ok(opened),
        Err(e) => {
            found.push(match e {
                Error::StorageError(m) => m,
                other => other.to_string(),
            });
            // sled cannot start from its page-table snapshot: make it read
            // every segment of its log instead.
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if entry.file_name().to_string_lossy().starts_with("snap.") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            let claimed = recovery::durable_claimed(dir);
            open_sled_once(dir, &options).map(|db| (db, recovery::lost_by_recovery(claimed, dir)))
        }
    };
    let read = opened.and_then(|(db, lost)| {
        let flusher = Arc::new(Flusher::new(db.clone(), None, None));
        read_guarded(db, flusher, &options, Some(dir), false, lost, true)
    });
    match read {
        Ok(inner) => {
            let through = inner.model.last_seq();
            let open = inner.open.as_ref().ok_or_else(|| Error::StorageError("closed".into()))?;
            let events = readable_events(open, through);
            // Read again to learn what was lost (the store keeps only the words).
            let start = snapshot::read(dir, &inner.id)
                .filter(|m| m.last_seq() >= inner.origin.last())
                .map_or_else(|| inner.origin.model(Some(dir), &inner.id), Ok)?;
            let sealed = damage::read_seal(dir, &inner.id);
            let loaded = damage::load(open, start, inner.origin.last(), sealed, None);
            let mut problems = found;
            problems.extend(inner.damage.as_ref().map(|d| d.problems.clone()).unwrap_or_default());
            Ok(Salvage {
                policy: inner.origin.policy.clone(),
                based: inner.origin.base.is_some(),
                model: inner.model.clone(),
                events,
                problems,
                history_lost: loaded.history_lost,
                commands_lost: loaded.commands_lost,
                end_unknown: loaded.end_unknown || !damage::read_marker(dir).is_empty(),
            })
        }
        Err(e) => {
            // sled cannot read its files: the snapshot (or the base) is all there is.
            let why = match &e {
                Error::StorageError(m) => m.clone(),
                other => other.to_string(),
            };
            let model = snapshot::SNAPSHOT
                .read(dir, None)
                .or_else(|| snapshot::BASE.read(dir, None))
                .ok_or_else(|| {
                    Error::StorageError(format!(
                        "cannot repair: {why}, and there is no snapshot of the state to rebuild it from"
                    ))
                })?;
            let last = model.last_seq().0;
            Ok(Salvage {
                policy: model.policy().clone(),
                based: true,
                events: Vec::new(),
                problems: found.into_iter().chain([why]).collect(),
                history_lost: if last > 0 { vec![(1, last)] } else { Vec::new() },
                commands_lost: None,
                end_unknown: true,
                model,
            })
        }
    }
}

/// Whether `events` are every event from 1 on and replay, from the empty
/// network under `policy`, to exactly `model`.
fn replays_to(policy: &Policy, events: &[Event], model: &Model) -> bool {
    let numbered = events.iter().enumerate().all(|(i, e)| e.seq.0 == i as u64 + 1);
    let complete = events.last().map_or(Seq(0), |e| e.seq) == model.last_seq();
    numbered
        && complete
        && catch_unwind(AssertUnwindSafe(|| Model::replay(policy.clone(), events) == *model)).unwrap_or(false)
}

/// A free name beside `path` for the damaged files.
fn damaged_name(path: &Path) -> PathBuf {
    let first = beside(path, ".damaged");
    if !first.exists() {
        return first;
    }
    (2u64..).map(|n| beside(path, &format!(".damaged-{n}"))).find(|p| !p.exists()).unwrap_or(first)
}

impl Store {
    /// Repairs this store's database (see [`Store::repair_at`]) and reopens
    /// it: afterwards it holds the trusted state, [`Store::damage`] is `None`
    /// and commands run again. A sound database is left as it is.
    pub fn repair(&self) -> Result<RepairReport, Error> {
        self.not_forked()?;
        if self.options.read_only {
            return Err(Error::StorageError(
                "the database is open for reading only; it cannot be repaired".into(),
            ));
        }
        let path = self
            .path
            .clone()
            .ok_or_else(|| Error::InvalidInput("a temporary database cannot be repaired".into()))?;
        let mut guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let open = guard.open.take().ok_or_else(|| Error::StorageError("the database is closed".into()))?;
        drop(open);
        wait_for_release(&path);
        let result = Self::repair_at(&path, self.options.clone());
        let reopened = open_sled(&path, &self.options).and_then(|(db, lost)| {
            let flusher = Arc::new(flusher_for(&db, &path, &self.options));
            read_guarded(db, flusher, &self.options, Some(&path), false, lost, true)
        });
        match reopened {
            Ok(inner) => *guard = inner,
            Err(e) => return Err(result.err().unwrap_or(e)),
        }
        result
    }

    /// Repairs the database at `path`, which no process may have open: when
    /// it is damaged, writes a new database from the state that can still be
    /// trusted (see the report for what was lost), keeps the damaged files
    /// beside it as `<name>.damaged`, and puts the new one in its place. A
    /// sound database is left as it is. For a database that cannot be opened
    /// at all; an open store uses [`Store::repair`].
    pub fn repair_at(path: impl AsRef<Path>, options: OpenOptions) -> Result<RepairReport, Error> {
        let path = path.as_ref();
        let shown = path.display();
        if !path.join("db").exists() {
            return Err(Error::StorageError(format!("there is no database at {shown}")));
        }
        // sled's lock: no other process may have the database while it is replaced.
        let lock = std::fs::File::open(path.join("db"))
            .map_err(|e| Error::StorageError(format!("cannot open {shown}: {e}")))?;
        if lock.try_lock().is_err() {
            return Err(Error::StorageError(format!("cannot repair {shown}: it is open in another process")));
        }
        let scratch = beside(path, ".repair-reading");
        let io = |what: &str, e: std::io::Error| {
            Error::StorageError(format!("cannot repair {shown}: {what}: {e}"))
        };
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch).map_err(|e| io("cannot clear a previous attempt", e))?;
        }
        copy_dir(path, &scratch).map_err(|e| io("cannot copy the damaged files", e))?;
        let salvaged = salvage(&scratch, &options);
        wait_for_release(&scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        let s = salvaged?;
        let kept_through = s.model.last_seq();
        let mut report = RepairReport {
            repaired: false,
            problems: s.problems,
            kept_through,
            history_lost: s.history_lost,
            commands_lost: s.commands_lost,
            end_unknown: s.end_unknown,
            damaged_copy: None,
        };
        if report.problems.is_empty() {
            return Ok(report);
        }
        let based = s.based || !replays_to(&s.policy, &s.events, &s.model);
        let staging = beside(path, ".repairing");
        let written = (|| {
            let mut writer = Writer::create(&staging, &s.policy, based, None)?;
            for event in s.events {
                writer.push(event)?;
            }
            let id = writer.id();
            let dir = writer.finish()?;
            let io =
                |e: std::io::Error| Error::StorageError(format!("cannot write the repaired database: {e}"));
            if based {
                snapshot::BASE.write(&dir, &id, &s.model).map_err(io)?;
            }
            snapshot::write(&dir, &id, &s.model).map_err(io)?;
            damage::write_seal(&dir, &id, kept_through.0).map_err(io)?;
            Ok::<PathBuf, Error>(dir)
        })();
        let dir = match written {
            Ok(dir) => dir,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        let damaged = damaged_name(path);
        drop(lock);
        std::fs::rename(path, &damaged).map_err(|e| io("cannot move the damaged files aside", e))?;
        std::fs::rename(&dir, path).map_err(|e| io("cannot put the repaired database in place", e))?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::File::open(parent).and_then(|d| d.sync_all());
        }
        report.repaired = true;
        report.damaged_copy = Some(damaged);
        Ok(report)
    }
}

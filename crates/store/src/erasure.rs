//! Erasure that really erases (SPEC §11): `erase_member` leaves none of the
//! member's name, address, contacts, notes or messages in any file of the
//! database directory.
//!
//! sled is log-structured: a value overwritten or removed stays in its
//! segment files until sled happens to rewrite them, and so would a key
//! deleted for crypto-shredding. So erasure does not edit the database in
//! place; it writes a new one and swaps it in:
//!
//! 1. decide the erasure against the model (nothing changes yet);
//! 2. write a new database in `<path>.erasing` — every stored event passed
//!    through `Erasure::redact` (the member's texts gone), then the
//!    erasure's own events, in merged records; a repaired database's base
//!    rewritten the same way (`Erasure::redact_model`); the seal; and last,
//!    durably, the file `connreq.erasure-complete`;
//! 3. close sled, rename `<path>` to `<path>.erased` and `<path>.erasing` to
//!    `<path>` (each rename made durable): the erasure is durable here;
//! 4. reopen sled on the new files, apply the erasure to the model, and
//!    delete `<path>.erased` (the old files, texts and all).
//!
//! The old database is never written to, so a crash before the second
//! rename leaves it whole: opening deletes `<path>.erasing` and the network
//! is as it was before the erasure. After it, `<path>` is the erased
//! database; opening deletes `<path>.erased`. Between the two renames
//! `<path>` is missing: opening finds `<path>.erased` and the complete
//! `<path>.erasing` and finishes the swap. Either the old state or the erased
//! one, never a mix.
//!
//! The store's write lock is held throughout: queries and commands wait for
//! the rewrite, which reads and writes the whole log. A temporary database
//! (deleted when closed) is rewritten in place instead.

use crate::backup::{Writer, beside};
use crate::codec::{self, COMPACTED_KEY, LOG_TREE};
use crate::errors::storage;
use crate::lock::wait_for_release;
use crate::log::{MERGED_BYTES, Open, TAIL_EVENTS};
use crate::open::{flusher_for, open_sled};
use crate::snapshot;
use crate::store::{Inner, Store};
use connreq_core::{Command, Erasure, Error, Event, Model, Outcome, Seq, Timestamp};
use std::path::Path;
use std::sync::Arc;

/// Written last into a new database, durably: it is complete.
const COMPLETE: &str = "connreq.erasure-complete";

fn io(what: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::StorageError(format!("cannot erase the member: {what}: {e}"))
}

fn sync_dir(dir: &Path) {
    let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
}

fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent);
    }
}

/// Finishes or undoes an erasure a crash interrupted (see the module's
/// notes), before the database at `path` is opened for writing.
pub(crate) fn recover(path: &Path) -> Result<(), Error> {
    let staging = beside(path, ".erasing");
    let aside = beside(path, ".erased");
    let failed = |what: &str, e: std::io::Error| {
        Error::StorageError(format!(
            "cannot finish an interrupted erasure at {}: {what}: {e}",
            path.display()
        ))
    };
    if aside.exists() {
        if !path.join("db").exists() {
            // Between the two renames: the new database is complete (it is
            // only moved once it is), so the erasure goes through.
            let from = if staging.join(COMPLETE).exists() { &staging } else { &aside };
            if path.exists() {
                std::fs::remove_dir_all(path).map_err(|e| failed("cannot clear the way", e))?;
            }
            std::fs::rename(from, path).map_err(|e| failed("cannot move the database into place", e))?;
            sync_parent(path);
        }
        if aside.exists() {
            std::fs::remove_dir_all(&aside).map_err(|e| failed("cannot delete the erased files", e))?;
        }
    }
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| failed("cannot delete an unfinished rewrite", e))?;
    }
    let _ = std::fs::remove_file(path.join(COMPLETE));
    Ok(())
}

/// Refuses a read-only open of a database whose erasure was interrupted
/// between its renames (only a writing open finishes it).
pub(crate) fn check_not_interrupted(path: &Path) -> Result<(), Error> {
    if !path.join("db").exists() && beside(path, ".erased").exists() {
        return Err(Error::StorageError(format!(
            "an erasure of a member at {} was interrupted; open the database for writing once to finish it",
            path.display()
        )));
    }
    Ok(())
}

/// Every stored event, in order, each passed through `erasure`.
fn redacted_events(open: &Open, model: &Model, erasure: &Erasure) -> Result<Vec<Event>, Error> {
    let mut out: Vec<Event> = Vec::new();
    for item in open.records(Seq(1))? {
        let (k, v) = item?;
        for mut e in codec::decode(&k, &v)? {
            if out.last().is_some_and(|last| last.seq >= e.seq) {
                continue;
            }
            erasure.redact(&mut e, |id| model.parties(id));
            out.push(e);
        }
    }
    Ok(out)
}

impl Store {
    /// `erase_member`: decided like any command, then the log rewritten
    /// without the member's texts (see the module's notes).
    pub(crate) fn erase(&self, command: Command, at: Timestamp) -> Result<Outcome, Error> {
        let mut guard = self.command_inner()?;
        let inner = &mut *guard;
        let decided = inner.model.decide(&command, at)?;
        self.erase_with(inner, &decided.events)?;
        decided.result()
    }

    /// Writes `events` (an erasure's, decided here or, on a read replica,
    /// by the primary) with the log rewritten without the erased member's
    /// texts, then applies them. Events that erase nobody are appended as
    /// they are.
    pub(crate) fn erase_with(&self, inner: &mut Inner, decided: &[Event]) -> Result<(), Error> {
        let Some(erasure) = Erasure::of(&inner.model, decided) else {
            if let (Some(first), Some(open)) = (decided.first(), inner.open.as_mut()) {
                open.append(first.seq, decided.len(), codec::encode(decided)?)?;
                inner.model.apply(decided);
            }
            return Ok(());
        };
        let open = inner.open.as_ref().ok_or_else(|| Error::StorageError("the database is closed".into()))?;
        let mut events = redacted_events(open, &inner.model, &erasure)?;
        events.extend(decided.iter().cloned());
        match self.path.clone() {
            Some(path) => self.swap_in(inner, &path, events, &erasure)?,
            None => rewrite_in_place(
                inner.open.as_mut().ok_or_else(|| Error::StorageError("the database is closed".into()))?,
                &events,
            )?,
        }
        inner.model.apply(decided);
        Ok(())
    }

    /// Steps 2 to 4 of the module's notes for the database at `path`.
    fn swap_in(
        &self,
        inner: &mut Inner,
        path: &Path,
        events: Vec<Event>,
        erasure: &Erasure,
    ) -> Result<(), Error> {
        let staging = beside(path, ".erasing");
        let aside = beside(path, ".erased");
        let last = events.last().map_or(Seq(0), |e| e.seq);
        let written = (|| {
            // The same database, rewritten: it keeps its id (its feed, its
            // emails' Message-IDs and its unsubscribe links name it).
            let mut writer =
                Writer::create(&staging, &inner.origin.policy, inner.origin.base.is_some(), Some(inner.id))?;
            for e in events {
                writer.push(e)?;
            }
            let id = writer.id();
            let dir = writer.finish()?;
            if inner.origin.base.is_some() {
                let mut base = snapshot::BASE.read(path, Some(&inner.id)).ok_or_else(|| {
                    Error::StorageError(
                        "cannot erase the member: the database's base is missing or damaged".into(),
                    )
                })?;
                erasure.redact_model(&mut base);
                snapshot::BASE.write(&dir, &id, &base).map_err(io("cannot write the base"))?;
            }
            crate::damage::write_seal(&dir, &id, last.0).map_err(io("cannot write the seal"))?;
            let complete =
                std::fs::File::create(dir.join(COMPLETE)).map_err(io("cannot write the new database"))?;
            complete.sync_all().map_err(io("cannot write the new database"))?;
            sync_dir(&dir);
            Ok::<_, Error>(id)
        })();
        let id = match written {
            Ok(id) => id,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        // The swap: sled closed, the old files aside, the new ones in place.
        drop(inner.open.take());
        wait_for_release(path);
        let swapped = std::fs::rename(path, &aside)
            .map_err(io("cannot move the old files aside"))
            .and_then(|()| {
                sync_parent(path);
                std::fs::rename(&staging, path).map_err(io("cannot move the new files into place"))
            })
            .map(|()| sync_parent(path));
        if let Err(e) = swapped {
            // Put back whatever moved; the old database is untouched.
            let _ = recover(path);
            self.reopen(inner, path)?;
            return Err(e);
        }
        self.reopen(inner, path)?;
        inner.id = id;
        inner.snapshot_seq = Seq(0);
        std::fs::remove_dir_all(&aside).map_err(io("cannot delete the old files"))?;
        let _ = std::fs::remove_file(path.join(COMPLETE));
        Ok(())
    }

    /// Opens sled again on the files at `path` (written whole: no tail, no
    /// replay needed) for `inner`.
    fn reopen(&self, inner: &mut Inner, path: &Path) -> Result<(), Error> {
        let (db, _) = open_sled(path, &self.options)?;
        let log = db.open_tree(LOG_TREE).map_err(storage("cannot open the database"))?;
        let flusher = Arc::new(flusher_for(&db, path, &self.options));
        let id = db.get(codec::ID_KEY).map_err(storage("cannot open the database"))?;
        if let Some(id) = id.as_deref().and_then(|v| <[u8; 16]>::try_from(v).ok()) {
            inner.id = id;
        }
        inner.open = Some(Open { db, log, flusher, tail: None });
        Ok(())
    }
}

/// A temporary database (its files deleted when it is closed) rewritten in
/// place: the log's records replaced by `events` in merged records.
fn rewrite_in_place(open: &mut Open, events: &[Event]) -> Result<(), Error> {
    let ctx = "cannot erase the member";
    open.tail = None;
    for name in open.db.tree_names() {
        if codec::tail_first(&name).is_some() {
            open.db.drop_tree(&name).map_err(storage(ctx))?;
        }
    }
    open.log.clear().map_err(storage(ctx))?;
    let mut start = 0;
    while start < events.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < events.len()
            && end - start < TAIL_EVENTS
            && bytes < MERGED_BYTES
            && (end == start || events[end].seq.0 == events[end - 1].seq.0 + 1)
        {
            bytes += codec::encode(std::slice::from_ref(&events[end]))?.len();
            end += 1;
        }
        let record = &events[start..end];
        open.log.insert(codec::key(record[0].seq), codec::encode(record)?).map_err(storage(ctx))?;
        start = end;
    }
    if let Some(last) = events.last() {
        open.db.insert(COMPACTED_KEY, &codec::key(last.seq)).map_err(storage(ctx))?;
    }
    open.flusher.flush().map_err(storage(ctx))?;
    Ok(())
}

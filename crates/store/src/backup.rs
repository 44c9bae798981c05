//! Online backup: a consistent copy of a database written while the store
//! keeps serving, and the writer of fresh databases that backup and repair
//! share.
//!
//! The copy is logical: the events acknowledged before the backup began (the
//! model's last event at that moment) are read back from the log a chunk at a
//! time, each chunk under the read lock for the time it takes to read it
//! (about a millisecond), and written to a new database beside the
//! destination, which is renamed into place once it is durable. Queries run
//! throughout; a command waits at most for one chunk. The log is append-only,
//! so later commands do not change what the chunks read, and merging moves
//! records without changing their events. The copy holds the log (and a
//! repaired database's base) but no snapshot: its first open replays the log.

use crate::codec::{self, BASE_KEY, COMPACTED_KEY, FORMAT, FORMAT_KEY, ID_KEY, LOG_TREE, POLICY_KEY};
use crate::errors::storage;
use crate::lock::wait_for_release;
use crate::log::{MERGED_BYTES, TAIL_EVENTS};
use crate::open::{new_id, sled_config};
use crate::options::OpenOptions;
use crate::snapshot;
use crate::store::Store;
use connreq_core::{Error, Event, Policy, Seq};
use std::path::{Path, PathBuf};

/// What [`Store::backup`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupReport {
    /// Where the copy is.
    pub path: PathBuf,
    /// The last event it holds: every command acknowledged before the backup began.
    pub through: Seq,
    /// How many events it holds.
    pub events: u64,
}

/// Events read under the read lock at a time.
const CHUNK: usize = 8192;

/// `<path><suffix>` beside `path`.
pub(crate) fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Refuses a destination that exists and is not an empty directory.
pub(crate) fn check_destination(dest: &Path) -> Result<(), Error> {
    let shown = dest.display();
    match std::fs::metadata(dest) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::StorageError(format!("cannot write to {shown}: {e}"))),
        Ok(m) if m.is_dir() => {
            let empty = std::fs::read_dir(dest)
                .map_err(|e| Error::StorageError(format!("cannot read {shown}: {e}")))?
                .next()
                .is_none();
            if empty {
                Ok(())
            } else {
                Err(Error::StorageError(format!(
                    "{shown} already exists and is not empty; give a new or empty directory"
                )))
            }
        }
        Ok(_) => Err(Error::StorageError(format!("{shown} already exists and is not a directory"))),
    }
}

/// Writes a new database (events into merged `log` records), for backup and repair.
pub(crate) struct Writer {
    staging: PathBuf,
    db: sled::Db,
    log: sled::Tree,
    id: [u8; 16],
    /// The events of the record being filled, and their encoded size.
    pending: Vec<Event>,
    bytes: usize,
    /// How many events were written, and the last.
    pub(crate) events: u64,
    pub(crate) last: Option<Seq>,
}

impl Writer {
    /// Starts a database in `staging` (emptied first), with a base when
    /// `based`; `policy` is its creation policy, `id` its id (`None`: a new
    /// one, as a backup or a repair is another database).
    pub(crate) fn create(
        staging: &Path,
        policy: &Policy,
        based: bool,
        id: Option<[u8; 16]>,
    ) -> Result<Self, Error> {
        let shown = staging.display();
        if staging.exists() {
            std::fs::remove_dir_all(staging)
                .map_err(|e| Error::StorageError(format!("cannot clear {shown}: {e}")))?;
        }
        crate::fork::may_start_sled()?;
        let options = OpenOptions::default();
        let db = sled_config(staging, &options).open().map_err(storage(&format!("cannot create {shown}")))?;
        let id = id.unwrap_or_else(new_id);
        let ctx = "cannot write the new database";
        let mut batch = sled::Batch::default();
        batch.insert(POLICY_KEY, codec::encode_policy(policy)?);
        batch.insert(FORMAT_KEY, FORMAT.as_bytes());
        if based {
            batch.insert(BASE_KEY, b"1".as_slice());
        }
        batch.insert(ID_KEY, id.to_vec());
        db.apply_batch(batch).map_err(storage(ctx))?;
        let log = db.open_tree(LOG_TREE).map_err(storage(ctx))?;
        Ok(Self {
            staging: staging.to_owned(),
            db,
            log,
            id,
            pending: Vec::new(),
            bytes: 0,
            events: 0,
            last: None,
        })
    }

    /// The new database's id.
    pub(crate) fn id(&self) -> [u8; 16] {
        self.id
    }

    /// Adds an event; events come in increasing order, with holes allowed
    /// (a record never spans one).
    pub(crate) fn push(&mut self, event: Event) -> Result<(), Error> {
        let continues = self.pending.last().is_none_or(|e| e.seq.0.checked_add(1) == Some(event.seq.0));
        if !continues || self.pending.len() >= TAIL_EVENTS || self.bytes >= MERGED_BYTES {
            self.write_pending()?;
        }
        self.bytes += postcard::to_allocvec(&event).map_or(64, |b| b.len());
        self.last = Some(event.seq);
        self.events += 1;
        self.pending.push(event);
        Ok(())
    }

    fn write_pending(&mut self) -> Result<(), Error> {
        let Some(first) = self.pending.first().map(|e| e.seq) else { return Ok(()) };
        let bytes = codec::encode(&self.pending)?;
        self.log.insert(codec::key(first), bytes).map_err(storage("cannot write the new database"))?;
        self.pending.clear();
        self.bytes = 0;
        Ok(())
    }

    /// Writes what is left, marks everything written as merged (so no later
    /// compaction merges records across a hole), makes it durable and closes
    /// the database.
    pub(crate) fn finish(mut self) -> Result<PathBuf, Error> {
        self.write_pending()?;
        let ctx = "cannot write the new database";
        if let Some(last) = self.last {
            self.db.insert(COMPACTED_KEY, &codec::key(last)).map_err(storage(ctx))?;
        }
        self.db.flush().map_err(storage(ctx))?;
        drop(self.log);
        drop(self.db);
        wait_for_release(&self.staging);
        crate::recovery::settle(&self.staging, &OpenOptions::default());
        Ok(self.staging)
    }
}

/// Moves the database finished in `staging` to `dest` (an empty directory
/// there is replaced), durably.
pub(crate) fn move_into_place(staging: &Path, dest: &Path) -> Result<(), Error> {
    let io = |e: std::io::Error| {
        Error::StorageError(format!("cannot move the new database to {}: {e}", dest.display()))
    };
    if dest.exists() {
        std::fs::remove_dir(dest).map_err(io)?;
    }
    std::fs::rename(staging, dest).map_err(io)?;
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = std::fs::File::open(parent).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Copies the base file of database `from_id` in `from` to `to` as the base
/// of database `to_id` (the id in its header changed, its checksum updated).
pub(crate) fn copy_base(from: &Path, to: &Path, to_id: &[u8; 16]) -> Result<(), Error> {
    let file = snapshot::BASE.file();
    let io = |e: std::io::Error| Error::StorageError(format!("cannot copy the database's base: {e}"));
    let mut bytes = std::fs::read(from.join(file)).map_err(io)?;
    let magic = b"CONNREQ-BASE-LAYT7".len();
    if bytes.len() < magic + 16 + 8 + 4 {
        return Err(Error::StorageError("the database's base is damaged".into()));
    }
    bytes[magic..magic + 16].copy_from_slice(to_id);
    let body = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_be_bytes());
    let tmp = to.join(format!("{file}.tmp"));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, to.join(file)).map_err(io)?;
    Ok(())
}

impl Store {
    /// Writes a consistent copy of the database to `dest` (a directory that
    /// must not exist or be empty) while the store keeps serving: queries run
    /// throughout, and a command waits at most for the reading of one chunk of
    /// the log. The copy holds every command acknowledged before the call;
    /// it opens as a database of its own and passes `check()`.
    ///
    /// A damaged store is not copied (repair it first); a temporary one can be.
    pub fn backup(&self, dest: impl AsRef<Path>) -> Result<BackupReport, Error> {
        let dest = dest.as_ref();
        check_destination(dest)?;
        let (through, origin) = {
            let inner = self.read_inner()?;
            if inner.damage.is_some() {
                return Err(Error::StorageError(
                    "the database is damaged; repair it before backing it up".into(),
                ));
            }
            (inner.model.last_seq(), inner.origin.clone())
        };
        let staging = beside(dest, ".creating");
        let result = (|| {
            let mut writer = Writer::create(&staging, &origin.policy, origin.base.is_some(), None)?;
            if origin.base.is_some() {
                let dir = self.path.as_deref().ok_or_else(|| Error::StorageError("no base".into()))?;
                copy_base(dir, &staging, &writer.id())?;
            }
            let mut next = 1u64;
            while next <= through.0 {
                let chunk = self.read_chunk(Seq(next), through)?;
                let Some(last) = chunk.last().map(|e| e.seq.0) else { break };
                for event in chunk {
                    writer.push(event)?;
                }
                next = last + 1;
            }
            let (events, id) = (writer.events, writer.id());
            let written = writer.finish()?;
            crate::damage::write_seal(&written, &id, through.0)
                .map_err(|e| Error::StorageError(format!("cannot write the copy: {e}")))?;
            move_into_place(&written, dest)?;
            Ok(BackupReport { path: dest.to_owned(), through, events })
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result
    }

    /// Up to [`CHUNK`] events from `from` through `through`, under the read lock.
    fn read_chunk(&self, from: Seq, through: Seq) -> Result<Vec<Event>, Error> {
        let inner = self.read_inner()?;
        let Some(open) = &inner.open else { return Ok(Vec::new()) };
        let mut out = Vec::with_capacity(CHUNK);
        for item in open.records(from)? {
            let (k, v) = item?;
            for e in codec::decode(&k, &v)? {
                if e.seq > through || out.len() >= CHUNK {
                    return Ok(out);
                }
                if e.seq >= from {
                    out.push(e);
                }
            }
        }
        Ok(out)
    }
}

//! Opening and creating a database: the path checked, sled opened (waiting
//! out a lock a closed handle still holds), a new database created whole,
//! the metadata read, and the model rebuilt from the snapshot and the log.

use crate::codec::{self, FORMAT, FORMAT_1, FORMAT_2, FORMAT_KEY, ID_KEY, LOG_TREE, POLICY_KEY};
use crate::errors::{panic_text, storage};
use crate::flusher::Flusher;
use crate::lock::{is_lock_error, wait_for_release};
use crate::log::{Open, open_tail, replay, replay_onto};
use crate::options::{Durability, OpenOptions};
use crate::snapshot;
use crate::store::{Inner, Store, now};
use crate::upgrade::{self, UPGRADING_KEY};
use connreq_core::{Command, Error, Model, Network, Policy, Seq};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
        let initial_policy = match db.get(FORMAT_KEY).map_err(storage(ctx))? {
            Some(v) if [FORMAT, FORMAT_2, FORMAT_1].iter().any(|f| v.as_ref() == f.as_bytes()) => {
                let bytes = db
                    .get(POLICY_KEY)
                    .map_err(storage(ctx))?
                    .ok_or_else(|| Error::StorageError("the database has no policy record".into()))?;
                let policy = codec::decode_policy(&bytes)?;
                if v.as_ref() != FORMAT.as_bytes() {
                    // Older formats are rewritten once into this one; older
                    // connreq versions then refuse the database rather than misread it.
                    upgrade::upgrade(&db, path.as_deref(), &policy)?;
                } else if db.get(UPGRADING_KEY).map_err(storage(ctx))?.is_some() {
                    upgrade::finish(&db)?;
                }
                policy
            }
            Some(v) => {
                return Err(Error::StorageError(format!(
                    "the database has format {:?}; this connreq reads {FORMAT:?}",
                    String::from_utf8_lossy(&v)
                )));
            }
            None => {
                let log = db.open_tree(LOG_TREE).map_err(storage(ctx))?;
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
        let log = db.open_tree(LOG_TREE).map_err(storage(ctx))?;
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
            // Recorded at the log's own time, so it never moves the log's clock
            // past the times callers give their next commands.
            let at = store.read_inner()?.model.clock().unwrap_or_else(now);
            store.execute(Command::ChangePolicy { policy }, at)?;
        }
        Ok(store)
    }
}

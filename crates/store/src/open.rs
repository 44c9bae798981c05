//! Opening and creating a database: the path checked, sled opened (waiting
//! out a lock a closed handle still holds), a new database created whole,
//! the metadata read, and the model rebuilt from the snapshot and the log.

use crate::codec::{
    self, BASE_KEY, FORMAT, FORMAT_1, FORMAT_2, FORMAT_3, FORMAT_KEY, ID_KEY, LOG_TREE, POLICY_KEY,
};
use crate::damage::{self, Damage};
use crate::errors::{REPAIR_HINT, storage};
use crate::flusher::Flusher;
use crate::fork;
use crate::lock::{is_lock_error, wait_for_release};
use crate::log::{Open, open_tail};
use crate::options::{Durability, OpenOptions};
use crate::recovery;
use crate::snapshot;
use crate::store::{Inner, Origin, Store, now};
use crate::upgrade::{self, OldFormat, UPGRADING_KEY};
use connreq_core::{Command, Error, Model, Network, Policy, Seq};
use std::mem::ManuallyDrop;
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

/// sled's configuration for the database at `path`.
pub(crate) fn sled_config(path: &Path, options: &OpenOptions) -> sled::Config {
    sled::Config::new()
        .path(path)
        .cache_capacity(options.cache_capacity)
        .mode(sled::Mode::HighThroughput)
        // Never sled's own flusher: it races explicit flushes (see `flusher`).
        .flush_every_ms(None)
}

/// Opens sled on `path`, waiting out a lock a closed handle still holds.
pub(crate) fn open_sled_once(path: &Path, options: &OpenOptions) -> Result<sled::Db, Error> {
    fork::may_start_sled()?;
    let context = format!("cannot open {}", path.display());
    let config = sled_config(path, options);
    // sled releases its file lock from background threads a moment after the
    // last handle is dropped, so a database closed just now may still look
    // locked: retry for up to two seconds before calling it taken.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        let result = catch_unwind(AssertUnwindSafe(|| config.open())).map_err(|_| {
            Error::StorageError(format!("{context}: the database is damaged: sled cannot read its files"))
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

/// Opens sled on an existing database at `path`, checking what its recovery
/// did (see `recovery`): returns the handle and, when the recovery dropped
/// data its own headers record as durable, that problem in words. A
/// page-table snapshot of sled's (`snap.*`) that fails its checksum is only a
/// cache of sled's log: it is deleted and sled rebuilds it from the log.
pub(crate) fn open_sled(path: &Path, options: &OpenOptions) -> Result<(sled::Db, Option<String>), Error> {
    let claimed = recovery::durable_claimed(path);
    let db = match open_sled_once(path, options) {
        Ok(db) => db,
        Err(e) if is_lock_message(&e) => return Err(e),
        Err(e) => {
            let damaged = recovery::damaged_snapshots(path);
            if damaged.is_empty() {
                return Err(damaged_error(path, e));
            }
            for snap in damaged {
                let _ = std::fs::remove_file(snap);
            }
            open_sled_once(path, options).map_err(|e| damaged_error(path, e))?
        }
    };
    Ok((db, recovery::lost_by_recovery(claimed, path)))
}

fn is_lock_message(e: &Error) -> bool {
    matches!(e, Error::StorageError(m) if m.ends_with("it is open in another process"))
}

/// A failure to open sled on an existing database: damage, and what to do.
fn damaged_error(path: &Path, e: Error) -> Error {
    match e {
        Error::StorageError(m) if m.contains("damaged") => {
            let conf =
                if recovery::conf_damaged(path) { " (its configuration file `conf` is damaged)" } else { "" };
            Error::StorageError(format!("{m}{conf}; {REPAIR_HINT}"))
        }
        other => other,
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
        let db = open_sled_once(&staging, options)?;
        let policy = options.policy.clone().unwrap_or_else(Policy::standard);
        let mut batch = sled::Batch::default();
        batch.insert(POLICY_KEY, codec::encode_policy(&policy)?);
        batch.insert(FORMAT_KEY, FORMAT.as_bytes());
        batch.insert(ID_KEY, options.database_id.unwrap_or_else(new_id).to_vec());
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

/// A fresh database id: unique enough to tell one database's snapshot from another's.
pub(crate) fn new_id() -> [u8; 16] {
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
    /// `policy_changed` event and applies from now on. Every command is
    /// durable before it returns (see [`OpenOptions`] for the other modes).
    ///
    /// A store belongs to the process that opened it: in a child process
    /// forked after the open, every call gives `StorageError` ("opened in
    /// another process; …") instead of writing a second history into the same
    /// files; the parent carries on. Open the database in each worker.
    pub fn open(path: impl AsRef<Path>, policy: Policy) -> Result<Self, Error> {
        Self::open_with(path, OpenOptions::with_policy(policy))
    }

    /// A throwaway database, deleted when the store is dropped.
    pub fn temporary(policy: Policy) -> Result<Self, Error> {
        Self::temporary_with(OpenOptions::with_policy(policy))
    }

    /// A throwaway database with explicit options (`policy` `None` is the
    /// standard policy; `read_only` is refused).
    pub fn temporary_with(options: OpenOptions) -> Result<Self, Error> {
        if options.read_only {
            return Err(Error::InvalidInput("a temporary database cannot be opened for reading only".into()));
        }
        let policy = options.policy.clone().unwrap_or_else(Policy::standard);
        policy.validate()?;
        fork::may_start_sled()?;
        let config =
            sled::Config::new().temporary(true).cache_capacity(options.cache_capacity).flush_every_ms(None);
        let db = config.open().map_err(storage("cannot create a temporary database"))?;
        // A temporary database gains nothing from a background flush.
        let flusher = Arc::new(Flusher::new(db.clone(), None, None));
        Self::from_db(db, flusher, OpenOptions { policy: Some(policy), ..options }, None, true, None)
    }

    /// Opens (or creates) the database at `path` with explicit options.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Self, Error> {
        let path = path.as_ref();
        if let Some(policy) = &options.policy {
            policy.validate()?;
        }
        if options.read_only {
            crate::erasure::check_not_interrupted(path)?;
        } else {
            crate::erasure::recover(path)?;
        }
        check_path(path)?;
        if !path.join("db").exists() {
            if options.read_only {
                return Err(Error::StorageError(format!("there is no database at {}", path.display())));
            }
            create(path, &options)?;
        }
        let (db, lost) = open_sled(path, &options)?;
        let flusher = Arc::new(flusher_for(&db, path, &options));
        Self::from_db(db, flusher, options, Some(path.to_owned()), false, lost)
    }

    /// Reads a database; `fresh` (a temporary one) is initialised in place.
    /// `lost`: what sled's recovery dropped, if anything.
    fn from_db(
        db: sled::Db,
        flusher: Arc<Flusher>,
        options: OpenOptions,
        path: Option<PathBuf>,
        fresh: bool,
        lost: Option<String>,
    ) -> Result<Self, Error> {
        let opened_in = fork::generation();
        let inner = read_guarded(db, flusher, &options, path.as_deref(), fresh, lost, false)?;
        let store = Self { inner: ManuallyDrop::new(RwLock::new(inner)), options, path, opened_in };
        if let Some(policy) = store.options.policy.clone()
            && policy != *store.read_inner()?.model.policy()
        {
            if store.options.read_only {
                return Err(Error::InvalidInput(
                    "the database is open for reading only, so its policy cannot change; \
                     open it without a policy (or with its own)"
                        .into(),
                ));
            }
            if store.read_inner()?.damage.is_none() {
                // Recorded at the log's own time, so it never moves the log's clock
                // past the times callers give their next commands.
                let at = store.read_inner()?.model.clock().unwrap_or_else(now);
                store.execute(Command::ChangePolicy { policy }, at)?;
            }
        }
        Ok(store)
    }
}

/// The flusher of the database at `path`: sled's file synced after each
/// flush, and the background thread of `Durability::Background`.
pub(crate) fn flusher_for(db: &sled::Db, path: &Path, options: &OpenOptions) -> Flusher {
    if options.read_only {
        return Flusher::new(db.clone(), None, None);
    }
    let every = match options.durability {
        Durability::Background => Some(Duration::from_millis(options.flush_every_ms.max(1))),
        Durability::Command | Durability::Manual => None,
    };
    Flusher::new(db.clone(), std::fs::File::open(path.join("db")).ok(), every)
}

/// [`read_database`], with a panic inside sled (which it may raise on a
/// damaged page instead of an error) turned into `StorageError`.
pub(crate) fn read_guarded(
    db: sled::Db,
    flusher: Arc<Flusher>,
    options: &OpenOptions,
    path: Option<&Path>,
    fresh: bool,
    lost: Option<String>,
    tolerant: bool,
) -> Result<Inner, Error> {
    catch_unwind(AssertUnwindSafe(|| read_database(db, flusher, options, path, fresh, lost, tolerant)))
        .unwrap_or_else(|_| {
            Err(Error::StorageError(format!(
                "the database is damaged: sled cannot read part of its files; {REPAIR_HINT}"
            )))
        })
}

/// Reads the metadata, the base and the log of an open sled database into the
/// store's state, deciding what can be trusted (see `damage`).
pub(crate) fn read_database(
    db: sled::Db,
    flusher: Arc<Flusher>,
    options: &OpenOptions,
    path: Option<&Path>,
    fresh: bool,
    lost: Option<String>,
    tolerant: bool,
) -> Result<Inner, Error> {
    let ctx = "cannot read the database";
    let read_only = options.read_only;
    let has_log = db.tree_names().iter().any(|n| n.as_ref() == LOG_TREE);
    let format = db.get(FORMAT_KEY).map_err(storage(ctx))?;
    let (initial_policy, based) = match format {
        Some(v) if [FORMAT, FORMAT_3, FORMAT_2, FORMAT_1].iter().any(|f| v.as_ref() == f.as_bytes()) => {
            let bytes = db
                .get(POLICY_KEY)
                .map_err(storage(ctx))?
                .ok_or_else(|| Error::StorageError("the database has no policy record".into()))?;
            let policy = codec::decode_policy(&bytes)?;
            if v.as_ref() != FORMAT.as_bytes() {
                if read_only {
                    return Err(Error::StorageError(format!(
                        "the database has the older format {:?}; open it once for writing (any command) \
                         to upgrade it to {FORMAT:?}",
                        String::from_utf8_lossy(&v)
                    )));
                }
                let from = if v.as_ref() == FORMAT_3.as_bytes() { OldFormat::Three } else { OldFormat::One };
                if from == OldFormat::Three && db.get(BASE_KEY).map_err(storage(ctx))?.is_some() {
                    // Its base is a model in format 3's layout, which this version cannot read.
                    return Err(Error::StorageError(format!(
                        "the database was repaired by an earlier connreq (format {:?}, starting from a \
                         base) and cannot be upgraded; back it up with that version (`connreq backup`) \
                         or keep using it there",
                        String::from_utf8_lossy(&v)
                    )));
                }
                // Older formats are rewritten once into this one; older
                // connreq versions then refuse the database rather than misread it.
                upgrade::upgrade(&db, path, &policy, from)?;
            } else if !read_only && db.get(UPGRADING_KEY).map_err(storage(ctx))?.is_some() {
                upgrade::finish(&db)?;
            }
            (policy, db.get(BASE_KEY).map_err(storage(ctx))?.is_some())
        }
        Some(v) => {
            return Err(Error::StorageError(format!(
                "the database has format {:?}; this connreq reads {FORMAT:?}",
                String::from_utf8_lossy(&v)
            )));
        }
        None => {
            let log_is_empty = match has_log {
                true => db.open_tree(LOG_TREE).map_err(storage(ctx))?.is_empty(),
                false => true,
            };
            let foreign =
                db.tree_names().iter().any(|n| n.as_ref() != b"__sled__default" && n.as_ref() != LOG_TREE);
            if !db.is_empty() || !log_is_empty || foreign {
                return Err(Error::StorageError("not a connreq database (no format record)".into()));
            }
            if !fresh {
                // Databases are created whole (see `create`), so a database without
                // its format record is damaged beyond what sled's recovery could read.
                // Never start afresh over it.
                let mut message =
                    "the database is damaged: its files hold no readable connreq records".to_owned();
                if let Some(lost) = &lost {
                    message = format!("{message} ({lost})");
                }
                return Err(Error::StorageError(format!("{message}; {REPAIR_HINT}")));
            }
            let policy = options.policy.clone().unwrap_or_else(Policy::standard);
            policy.validate()?;
            let mut batch = sled::Batch::default();
            batch.insert(POLICY_KEY, codec::encode_policy(&policy)?);
            batch.insert(FORMAT_KEY, FORMAT.as_bytes());
            db.apply_batch(batch).map_err(storage("cannot create the database"))?;
            flusher.flush().map_err(storage("cannot create the database"))?;
            (policy, false)
        }
    };
    if !has_log && read_only {
        return Err(Error::StorageError("not a connreq database (it has no event log)".into()));
    }
    let log = db.open_tree(LOG_TREE).map_err(storage(ctx))?;
    let id: [u8; 16] = match db.get(ID_KEY).map_err(storage(ctx))? {
        Some(v) if v.len() == 16 => v.as_ref().try_into().unwrap_or_default(),
        _ if read_only => [0; 16],
        _ => {
            let id = new_id();
            db.insert(ID_KEY, id.to_vec()).map_err(storage(ctx))?;
            id
        }
    };
    let tail = open_tail(&db, &log, read_only)?;
    let open = Open { db, log, flusher, tail };
    let mut origin = Origin { policy: initial_policy, base: None };
    if based {
        let base = snapshot::BASE.covers(path.unwrap_or(Path::new("")), &id).ok_or_else(|| {
            Error::StorageError(format!(
                "the database's base ({}) is missing or damaged",
                snapshot::BASE.file()
            ))
        })?;
        origin.base = Some(base);
    }
    // The state to start from: the snapshot when it belongs to this database
    // and is not behind the origin, else the origin (the empty network or the base).
    let start = || -> Result<(Model, Option<Seq>), Error> {
        let snapshot = path
            .filter(|_| !read_only || id != [0; 16])
            .and_then(|dir| snapshot::read(dir, &id))
            .filter(|m| m.last_seq() >= origin.last());
        match snapshot {
            Some(model) => {
                let seq = model.last_seq();
                Ok((model, Some(seq)))
            }
            None => Ok((origin.model(path, &id)?, None)),
        }
    };
    let (model, snapshot_seq) = start()?;
    let trusted_start = snapshot_seq.is_some() || origin.base.is_some();
    let sealed = path.and_then(|dir| damage::read_seal(dir, &id));
    let mut loaded = damage::load(&open, model, origin.last(), sealed, None);
    if let Some(failed) = loaded.apply_failed_at
        && (trusted_start || tolerant)
    {
        // Applying a record failed part way: start again and stop before it.
        loaded = damage::load(&open, start()?.0, origin.last(), sealed, Some(failed));
    }
    let mut problems = path.map(damage::read_marker).unwrap_or_default();
    if let Some(lost) = lost {
        // sled's next open will not see what this one saw: record it.
        if let Some(dir) = path {
            let _ = damage::write_marker(dir, std::slice::from_ref(&lost));
        }
        if !problems.contains(&lost) {
            problems.push(lost);
        }
    }
    problems.extend(loaded.problems);
    let damage = if problems.is_empty() {
        None
    } else if trusted_start || tolerant {
        Some(Damage { problems, trusted_through: loaded.model.last_seq() })
    } else {
        return Err(Error::StorageError(format!("{}; {REPAIR_HINT}", problems.join("; "))));
    };
    Ok(Inner {
        model: loaded.model,
        open: Some(open),
        origin,
        snapshot_seq: snapshot_seq.unwrap_or(Seq(0)),
        id,
        damage,
    })
}

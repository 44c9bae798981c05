//! Where the command line gets its network from: a sled database
//! ([`connreq_store::Store`]). This is the one module that names a backend:
//! everything else is generic over [`connreq_core::Network`] and [`Backend`].

use connreq_core::{Error, Network, Policy, Timestamp};
use connreq_store::{Durability, OpenOptions, Store};
use std::path::{Path, PathBuf};

pub use connreq_dataset::ExportReport;
pub use connreq_store::{BackupReport, Damage, RepairReport};

/// The network type the binary operates on.
pub type Db = Store;

/// Where `--db` points when it is not given.
pub const DEFAULT_DB_PATH: &str = "./data/connreq.db";

/// Whether [`Db`] keeps anything on disk.
pub const PERSISTENT: bool = true;

/// Opens (or creates) the database at `path`; every command is durable
/// before it returns. `policy` is the one given with `--policy`; `None`
/// means "whatever the database was created with" (the standard policy for
/// a new one).
pub fn open_db(path: &Path, policy: Option<Policy>) -> Result<Db, Error> {
    Store::open_with(path, OpenOptions { policy, ..OpenOptions::default() })
}

/// [`open_db`] for a bulk run (`simulate`): nothing is flushed until
/// [`flush_db`] or the close, which is much faster for millions of commands.
pub fn open_db_for_bulk(path: &Path, policy: Option<Policy>) -> Result<Db, Error> {
    Store::open_with(path, OpenOptions { policy, durability: Durability::Manual, ..OpenOptions::default() })
}

/// Opens the existing database at `path` for reading only: opening, reading
/// and closing it write nothing (sled may refresh its own `snap.*` files).
pub fn open_db_read_only(path: &Path) -> Result<Db, Error> {
    Store::open_with(path, OpenOptions::read_only())
}

/// What opening found wrong with the database, if anything (see [`Damage`]).
pub fn damage_of(db: &Db) -> Result<Option<Damage>, Error> {
    Store::damage(db)
}

/// Writes a consistent copy of the database to `dest` (new or empty).
pub fn backup_db(db: &Db, dest: &Path) -> Result<BackupReport, Error> {
    Store::backup(db, dest)
}

/// Repairs the database at `path`: through the store when it opens (damaged
/// or not), else from its files alone.
pub fn repair_db(path: &Path) -> Result<RepairReport, Error> {
    match Store::open_with(path, OpenOptions::default()) {
        Ok(db) => {
            let report = Store::repair(&db)?;
            Store::close(&db)?;
            Ok(report)
        }
        Err(Error::StorageError(m)) if m.contains("another process") => Err(Error::StorageError(m)),
        Err(Error::StorageError(_)) => Store::repair_at(path, OpenOptions::default()),
        Err(other) => Err(other),
    }
}

/// Makes everything written so far durable; called once before the process exits.
pub fn flush_db(db: &Db) -> Result<(), Error> {
    Store::flush(db)
}

/// `Store::check()`: the problems found in the database (empty when it is sound).
pub fn check_db(db: &Db) -> Result<Vec<String>, Error> {
    Store::check(db)
}

/// `Store::dispatch_emails(smtp_url, sender, at)`: sends the due emails from
/// `sender` (default `notifications@localhost`), returns how many were sent.
pub fn dispatch_db(db: &Db, smtp_url: &str, sender: Option<&str>, at: Timestamp) -> Result<u64, Error> {
    Store::dispatch_emails(db, smtp_url, sender, at)
}

/// Writes the events the Parquet dataset at `dir` does not hold yet
/// (`connreq_dataset::export`: partitioned by month, incremental).
pub fn export_parquet_db(db: &Db, dir: &Path) -> Result<ExportReport, Error> {
    connreq_dataset::export(db, dir)
}

/// The bytes the database occupies on disk (0 for an in-memory database).
pub fn db_bytes(path: &Path) -> u64 {
    if PERSISTENT { dir_size(path) } else { 0 }
}

/// The total size of the files under `path` (a file's own size if it is one; 0 if it is missing).
pub fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack: Vec<PathBuf> = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else { continue };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
            }
        } else {
            total += meta.len();
        }
    }
    total
}

/// What the command line needs from a backend besides the [`Network`] API.
/// Implemented for [`Db`] by calling the functions above.
pub trait Backend: Network {
    /// See [`check_db`].
    fn check(&self) -> Result<Vec<String>, Error>;
    /// See [`dispatch_db`].
    fn dispatch(&self, smtp_url: &str, sender: Option<&str>, at: Timestamp) -> Result<u64, Error>;
    /// See [`flush_db`].
    fn flush(&self) -> Result<(), Error>;
    /// See [`export_parquet_db`].
    fn export_parquet(&self, dir: &Path) -> Result<ExportReport, Error>;
}

impl Backend for Db {
    fn check(&self) -> Result<Vec<String>, Error> {
        check_db(self)
    }

    fn dispatch(&self, smtp_url: &str, sender: Option<&str>, at: Timestamp) -> Result<u64, Error> {
        dispatch_db(self, smtp_url, sender, at)
    }

    fn flush(&self) -> Result<(), Error> {
        flush_db(self)
    }

    fn export_parquet(&self, dir: &Path) -> Result<ExportReport, Error> {
        export_parquet_db(self, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_size_adds_up_files_and_tolerates_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), [0u8; 10]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b"), [0u8; 5]).unwrap();
        assert_eq!(dir_size(dir.path()), 15);
        assert_eq!(dir_size(&dir.path().join("missing")), 0);
    }
}

//! The event log as a Parquet dataset partitioned by month, for analytics
//! engines that read many files side by side (Spark, Dask, DuckDB, polars).
//!
//! Layout, Hive's (the partition is a column to every reader):
//!
//! ```text
//! DIR/_connreq.json                                   the network it belongs to
//! DIR/month=2026-11/part-00000000000000000001-00000000000000052417.parquet
//! DIR/month=2026-12/part-00000000000000052418-00000000000000104211.parquet
//! ```
//!
//! Each file holds a run of consecutive events of one month (UTC), named by
//! its first and last `seq`, in the schema of `events_arrow`
//! ([`crate::SCHEMA`]), Snappy-compressed. Readers skip names starting with
//! `_` or `.`.
//!
//! **Incremental.** A run exports only the events after the last one any
//! file holds (the names say which), into new files, and appends nothing to
//! an existing one. Files are written under hidden temporary names and
//! renamed into place in `seq` order once all are written, so whatever a
//! crash leaves — temporaries (deleted by the next run) or a prefix of the
//! new files — the next run continues exactly after the last file in place.
//!
//! **Erasure.** When the new events include a `member_erased`, the files
//! already written still hold the member's texts (the log itself was
//! rewritten without them). That run then rewrites the whole dataset from
//! the rewritten log: every file written afresh, the old ones deleted, then
//! the new ones renamed into place.

use crate::batch::{SCHEMA, batch};
use arrow_array::RecordBatch;
use connreq_core::time::civil_from_days;
use connreq_core::{Error, Seq};
use connreq_store::Store;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The file naming the network a dataset belongs to.
pub const MARKER: &str = "_connreq.json";
/// Events read from the store at a time (one Arrow batch).
const BATCH_ROWS: usize = 65_536;
/// A file is closed, and the next begun, after this many events.
pub const FILE_ROWS: usize = 8 * 1024 * 1024;
/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 1024 * 1024;

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Events written by this run.
    pub events: u64,
    /// The files written, in `seq` order.
    pub files: Vec<PathBuf>,
    /// The last event the dataset holds now.
    pub last: u64,
    /// Whether the whole dataset was rewritten (an erasure among the new events).
    pub rewritten: bool,
}

fn io(what: String) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::StorageError(format!("{what}: {e}"))
}

fn parquet_error(e: parquet::errors::ParquetError) -> Error {
    Error::StorageError(format!("cannot write Parquet: {e}"))
}

/// The month (`YYYY-MM`, UTC) of a time in epoch milliseconds.
pub fn month_of(ms: i64) -> String {
    let (y, m, _) = civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}")
}

/// A part file already in place: its first and last event.
#[derive(Clone, Debug)]
struct Part {
    last: u64,
    path: PathBuf,
}

/// The first and last event a part file's name gives.
fn part_range(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("part-")?.strip_suffix(".parquet")?;
    let (first, last) = rest.split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?))
}

/// The part files in place, and the temporaries an interrupted run left (deleted).
fn parts(dir: &Path) -> Result<Vec<Part>, Error> {
    let mut out = Vec::new();
    let read = |p: &Path| std::fs::read_dir(p).map_err(io(format!("cannot read {}", p.display())));
    for entry in read(dir)? {
        let entry = entry.map_err(io(format!("cannot read {}", dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("month=") || !entry.path().is_dir() {
            continue;
        }
        for file in read(&entry.path())? {
            let file = file.map_err(io(format!("cannot read {}", entry.path().display())))?;
            let fname = file.file_name().to_string_lossy().into_owned();
            if fname.starts_with(".part-") && fname.ends_with(".tmp") {
                std::fs::remove_file(file.path())
                    .map_err(io(format!("cannot delete {}", file.path().display())))?;
            } else if let Some((_, last)) = part_range(&fname) {
                out.push(Part { last, path: file.path() });
            }
        }
    }
    Ok(out)
}

/// Checks that `dir` is this network's dataset (or new: it is marked so).
fn check_marker(dir: &Path, network: &str) -> Result<(), Error> {
    let path = dir.join(MARKER);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| Error::StorageError(format!("{} is damaged: {e}", path.display())))?;
            let theirs = value.get("network").and_then(|v| v.as_str()).unwrap_or_default();
            if theirs != network {
                return Err(Error::StorageError(format!(
                    "{} holds the dataset of network {theirs}, not of this database ({network}); \
                     give another directory",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let body =
                serde_json::json!({ "network": network, "schema": "events_arrow", "partitioning": "month" });
            std::fs::write(&path, format!("{body}\n")).map_err(io(format!("cannot write {}", path.display())))
        }
        Err(e) => Err(Error::StorageError(format!("cannot read {}: {e}", path.display()))),
    }
}

fn properties(network: &str) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        // Dictionaries pay off on the kind alone; the rest are (nearly) unique.
        .set_dictionary_enabled(false)
        .set_column_dictionary_enabled("kind".into(), true)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("connreq {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(vec![KeyValue::new("connreq.network".into(), network.to_owned())]))
        .build()
}

/// A file being written.
struct Open {
    month: String,
    first: u64,
    last: u64,
    rows: usize,
    temporary: PathBuf,
    writer: ArrowWriter<File>,
}

/// A file written, waiting to be renamed into place.
struct Written {
    temporary: PathBuf,
    path: PathBuf,
}

/// The files of one run.
struct Run<'a> {
    dir: &'a Path,
    network: &'a str,
    open: Option<Open>,
    written: Vec<Written>,
    events: u64,
}

impl Run<'_> {
    fn write(&mut self, batch: &RecordBatch, month: &str, first: u64, last: u64) -> Result<(), Error> {
        let full = self.open.as_ref().is_some_and(|o| o.month != month || o.rows >= FILE_ROWS);
        if full {
            self.finish()?;
        }
        if self.open.is_none() {
            let folder = self.dir.join(format!("month={month}"));
            std::fs::create_dir_all(&folder).map_err(io(format!("cannot create {}", folder.display())))?;
            let temporary = folder.join(format!(".part-{first:020}.tmp"));
            let file =
                File::create(&temporary).map_err(io(format!("cannot create {}", temporary.display())))?;
            let writer = ArrowWriter::try_new(file, SCHEMA.clone(), Some(properties(self.network)))
                .map_err(parquet_error)?;
            self.open = Some(Open { month: month.to_owned(), first, last, rows: 0, temporary, writer });
        }
        if let Some(open) = self.open.as_mut() {
            open.writer.write(batch).map_err(parquet_error)?;
            open.rows += batch.num_rows();
            open.last = last;
        }
        self.events += batch.num_rows() as u64;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Error> {
        let Some(open) = self.open.take() else { return Ok(()) };
        let file = open.writer.into_inner().map_err(parquet_error)?;
        file.sync_all().map_err(io(format!("cannot write {}", open.temporary.display())))?;
        let folder = self.dir.join(format!("month={}", open.month));
        let path = folder.join(format!("part-{:020}-{:020}.parquet", open.first, open.last));
        self.written.push(Written { temporary: open.temporary, path });
        Ok(())
    }

    /// Deletes what this run wrote (an incremental run turned into a rewrite).
    fn discard(mut self) {
        if let Some(open) = self.open.take() {
            drop(open.writer);
            let _ = std::fs::remove_file(&open.temporary);
        }
        for w in self.written {
            let _ = std::fs::remove_file(&w.temporary);
        }
    }
}

/// How a run ended.
enum Outcome {
    Done(Vec<Written>, u64),
    /// A `member_erased` among the new events: rewrite everything instead.
    Erasure,
}

/// Writes the events `(since, end]` into new files under `dir`.
fn write_run(
    store: &Store,
    dir: &Path,
    network: &str,
    since: u64,
    end: u64,
    rewrite: bool,
) -> Result<Outcome, Error> {
    let mut run = Run { dir, network, open: None, written: Vec::new(), events: 0 };
    let mut after = since;
    while after < end {
        let want = usize::try_from(end - after).unwrap_or(usize::MAX).min(BATCH_ROWS);
        let columns = store.event_columns(Seq(after), want)?;
        let Some(&last) = columns.seq.last() else { break };
        if !rewrite && (0..columns.len()).any(|i| columns.kind(i) == "member_erased") {
            run.discard();
            return Ok(Outcome::Erasure);
        }
        // Months are runs: times never go backwards in the log.
        let mut runs: Vec<(usize, usize, String)> = Vec::new();
        for (i, &at) in columns.at.iter().enumerate() {
            let month = month_of(at);
            match runs.last_mut() {
                Some((_, len, m)) if *m == month => *len += 1,
                _ => runs.push((i, 1, month)),
            }
        }
        let seqs = columns.seq.clone();
        let batch =
            batch(columns).map_err(|e| Error::StorageError(format!("cannot build the batch: {e}")))?;
        for (start, len, month) in runs {
            let part = batch.slice(start, len);
            if let Err(e) = run.write(&part, &month, seqs[start], seqs[start + len - 1]) {
                run.discard();
                return Err(e);
            }
        }
        after = last;
    }
    if let Err(e) = run.finish() {
        run.discard();
        return Err(e);
    }
    Ok(Outcome::Done(run.written, run.events))
}

/// Exports the events of `store` not yet in the dataset at `dir` (created
/// when missing), as the module's notes say.
pub fn export(store: &Store, dir: &Path) -> Result<ExportReport, Error> {
    std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    let network: String = store.database_id()?.iter().map(|b| format!("{b:02x}")).collect();
    check_marker(dir, &network)?;
    let old = parts(dir)?;
    let done = old.iter().map(|p| p.last).max().unwrap_or(0);
    let end = store.last_seq()?.0;
    if done > end {
        return Err(Error::StorageError(format!(
            "{} holds events up to {done} and the database only up to {end}: it is another history",
            dir.display()
        )));
    }
    let (written, events, rewritten) = match write_run(store, dir, &network, done, end, false)? {
        Outcome::Done(written, events) => (written, events, false),
        Outcome::Erasure => match write_run(store, dir, &network, 0, end, true)? {
            Outcome::Done(written, events) => {
                for p in &old {
                    std::fs::remove_file(&p.path)
                        .map_err(io(format!("cannot delete {}", p.path.display())))?;
                }
                (written, events, true)
            }
            Outcome::Erasure => {
                return Err(Error::StorageError("a rewrite of the dataset stopped at an erasure".into()));
            }
        },
    };
    let mut files = Vec::with_capacity(written.len());
    for w in written {
        std::fs::rename(&w.temporary, &w.path).map_err(io(format!("cannot write {}", w.path.display())))?;
        files.push(w.path);
    }
    if let Some(folder) = files.last().and_then(|f| f.parent()) {
        let _ = File::open(folder).and_then(|d| d.sync_all());
    }
    Ok(ExportReport { events, files, last: end.max(done), rewritten })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(1_764_547_199_999), "2025-11"); // 2025-11-30T23:59:59.999Z
        assert_eq!(month_of(1_764_547_200_000), "2025-12");
        assert_eq!(month_of(-1), "1969-12");
    }

    #[test]
    fn part_names_read_back() {
        assert_eq!(part_range("part-00000000000000000001-00000000000000000042.parquet"), Some((1, 42)));
        assert_eq!(part_range(".part-1.tmp"), None);
    }
}

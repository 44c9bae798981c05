//! The Parquet dataset read back: one file per month and run, every event
//! once with its columns as `events_arrow` has them, a second run adds only
//! what is new, an erasure rewrites it whole, another network's directory is
//! refused.

use arrow_array::{Array, RecordBatch, StringArray, UInt64Array};
use connreq_core::{MemberId, Network, Policy, Seq, Timestamp};
use connreq_dataset::{SCHEMA, export};
use connreq_store::Store;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};

const DAY: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z.
const JAN: i64 = 1_767_225_600_000;

fn read(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap().map(|b| b.unwrap()).collect()
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for month in std::fs::read_dir(dir).unwrap() {
        let month = month.unwrap().path();
        if month.is_dir() {
            for f in std::fs::read_dir(&month).unwrap() {
                out.push(f.unwrap().path());
            }
        }
    }
    out.sort();
    out
}

fn seqs(files: &[PathBuf]) -> Vec<u64> {
    let mut out = Vec::new();
    for f in files {
        for b in read(f) {
            assert_eq!(b.schema().fields(), SCHEMA.fields(), "the schema of events_arrow");
            let col = b.column(0).as_any().downcast_ref::<UInt64Array>().unwrap();
            out.extend(col.values().iter().copied());
        }
    }
    out.sort_unstable();
    out
}

/// Members registering and inviting each other over `days` days from `start`.
fn grow(store: &Store, first: u64, members: u64, start: i64, days: i64) {
    for i in 0..members {
        let m = first + i;
        let at = Timestamp(start + (i as i64) * days * DAY / members as i64);
        store.register(MemberId(m), Some(&format!("m{m}@example.com")), Some("Ann"), at).unwrap();
        if m > 1 {
            store.send(MemberId(m), MemberId(m - 1), Some("secret note of ann"), None, at).unwrap();
        }
    }
}

#[test]
fn months_once_each_then_only_what_is_new_and_a_rewrite_after_an_erasure() {
    let store = Store::temporary(Policy::standard()).unwrap();
    grow(&store, 1, 90, JAN, 75);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events");
    let first = export(&store, &out).unwrap();
    let last = store.last_seq().unwrap().0;
    assert_eq!(first.events, last);
    assert_eq!(first.last, last);
    let months: Vec<String> = first
        .files
        .iter()
        .map(|f| f.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(months, ["month=2026-01", "month=2026-02", "month=2026-03"]);
    assert_eq!(seqs(&all_files(&out)), (1..=last).collect::<Vec<_>>());
    // The rows are events_arrow's: kinds and details as events() gives them.
    let records = store.events(Seq(0), None).unwrap();
    let batch = &read(&first.files[0])[0];
    let kinds = batch.column(2).as_any().downcast_ref::<StringArray>().unwrap();
    let details = batch.column(6).as_any().downcast_ref::<StringArray>().unwrap();
    assert!(records.len() >= batch.num_rows());
    for (i, record) in records.iter().take(batch.num_rows()).enumerate() {
        assert_eq!(kinds.value(i), record.kind);
        assert_eq!(details.value(i), record.detail);
    }
    assert!(batch.column(3).null_count() < batch.num_rows());

    // Nothing new: nothing written. New events: only they.
    assert_eq!(export(&store, &out).unwrap().events, 0);
    grow(&store, 91, 20, JAN + 75 * DAY, 20);
    let second = export(&store, &out).unwrap();
    let now = store.last_seq().unwrap().0;
    assert_eq!(second.events, now - last);
    assert!(!second.rewritten);
    assert_eq!(seqs(&second.files), (last + 1..=now).collect::<Vec<_>>());
    assert_eq!(seqs(&all_files(&out)), (1..=now).collect::<Vec<_>>());

    // An erasure: the files holding the member's note are written afresh.
    store.erase_member(MemberId(50), Timestamp(JAN + 100 * DAY)).unwrap();
    let third = export(&store, &out).unwrap();
    assert!(third.rewritten);
    let end = store.last_seq().unwrap().0;
    assert_eq!(seqs(&all_files(&out)), (1..=end).collect::<Vec<_>>());
    let bytes: Vec<u8> = all_files(&out).iter().flat_map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!bytes.windows(13).any(|w| w == b"m50@example.c"), "the erased address is gone");

    // Another network's dataset is refused.
    let other = Store::temporary(Policy::standard()).unwrap();
    grow(&other, 1, 3, JAN, 1);
    let refused = export(&other, &out).unwrap_err().to_string();
    assert!(refused.contains("another directory"), "{refused}");
}

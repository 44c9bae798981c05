//! sled's files, checked from outside sled: whether its recovery kept
//! everything its own records say was durable, and whether its page-table
//! snapshots (`snap.*`) and configuration (`conf`) pass their checksums.
//!
//! sled 0.34.7 (the version this crate pins) keeps its data in one file, `db`,
//! as a log of 512 KiB segments. Each segment begins with a 20-byte header: a
//! CRC-32, the segment's log sequence number (LSN) and the highest LSN known
//! durable when the segment was started. On open, sled reads its newest
//! `snap.<LSN>` (the page table as of that LSN) and then every message after
//! it; at the first message that fails its checksum it stops, takes that
//! point as the end of the log (as after a torn write), writes over the rest
//! of that segment and over every later segment, and writes a new
//! `snap.<LSN>` named by where it stopped. Bytes overwritten in the middle of
//! `db` therefore make sled drop everything after them without an error.
//!
//! A tear from a crash can only affect writes that were never durable, so a
//! recovery that ends *before* an LSN some segment header records as durable
//! lost durable data: damage. [`durable_claimed`] reads the headers before
//! sled opens the file (its recovery erases the evidence), and
//! [`recovered_to`] reads the name of the snapshot sled wrote after.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// sled's segment size for the databases connreq creates (sled's default).
const SEGMENT: u64 = 512 * 1024;
/// Bytes of a segment header.
const HEADER: usize = 20;

/// The segment size written in sled's `conf` (its default when it cannot be read).
fn segment_size(dir: &Path) -> u64 {
    let Ok(text) = std::fs::read(dir.join("conf")) else { return SEGMENT };
    String::from_utf8_lossy(&text)
        .lines()
        .find_map(|l| l.strip_prefix("segment_size: ")?.trim().parse::<u64>().ok())
        .filter(|s| s.is_power_of_two() && *s >= 256)
        .unwrap_or(SEGMENT)
}

/// The highest LSN that the sound segment headers of `dir/db` record as
/// durable; `None` when there is no file or no sound header.
pub(crate) fn durable_claimed(dir: &Path) -> Option<i64> {
    let mut file = File::open(dir.join("db")).ok()?;
    let len = file.metadata().ok()?.len();
    let size = segment_size(dir);
    let mut best: Option<i64> = None;
    let mut at = 0u64;
    while at + HEADER as u64 <= len {
        let mut h = [0u8; HEADER];
        if file.seek(SeekFrom::Start(at)).is_ok() && file.read_exact(&mut h).is_ok() {
            let field = |r: std::ops::Range<usize>| {
                i64::from_le_bytes(h[r].try_into().unwrap_or_default()) ^ 0x7FFF_FFFF_FFFF_FFFF
            };
            let stored = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) ^ 0xFFFF_FFFF;
            if crc32fast::hash(&h[4..]) == stored {
                let durable = field(12..20);
                best = Some(best.map_or(durable, |b| b.max(durable)));
            }
        }
        at += size;
    }
    best
}

/// sled's page-table snapshots in `dir`, oldest first.
fn snapshots(dir: &Path) -> Vec<(i64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<(i64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let lsn = i64::from_str_radix(name.strip_prefix("snap.")?, 16).ok()?;
            Some((lsn, e.path()))
        })
        .collect();
    found.sort();
    found
}

/// The LSN sled's recovery reached, from the name of its newest snapshot
/// (written by the open that just happened).
pub(crate) fn recovered_to(dir: &Path) -> Option<i64> {
    snapshots(dir).last().map(|(lsn, _)| *lsn)
}

/// Whether `bytes` end with `extra` bytes and a little-endian CRC-32 of what
/// precedes them, as sled writes its snapshots (`extra` = 8, the length) and
/// its `conf` (0).
fn checksum_holds(bytes: &[u8], extra: usize) -> bool {
    let Some(body_len) = bytes.len().checked_sub(extra + 4) else { return false };
    let stored = &bytes[bytes.len() - 4..];
    crc32fast::hash(&bytes[..body_len]).to_le_bytes() == stored
}

/// sled's snapshots in `dir` that fail their checksum.
pub(crate) fn damaged_snapshots(dir: &Path) -> Vec<PathBuf> {
    snapshots(dir)
        .into_iter()
        .filter(|(_, path)| {
            let mut bytes = Vec::new();
            let read = File::open(path).and_then(|mut f| f.read_to_end(&mut bytes));
            read.is_err() || !checksum_holds(&bytes, 8)
        })
        .map(|(_, path)| path)
        .collect()
}

/// Whether sled's `conf` in `dir` is missing or fails its checksum.
pub(crate) fn conf_damaged(dir: &Path) -> bool {
    match std::fs::read(dir.join("conf")) {
        Ok(bytes) => !checksum_holds(&bytes, 0),
        Err(_) => dir.join("db").exists(),
    }
}

/// What the open that just happened says about sled's recovery: a problem
/// when it stopped before data its own headers record as durable.
pub(crate) fn lost_by_recovery(claimed: Option<i64>, dir: &Path) -> Option<String> {
    let (claimed, recovered) = (claimed?, recovered_to(dir)?);
    (recovered < claimed).then(|| {
        format!(
            "sled's recovery stopped at damaged bytes in its file `db` (at log position {recovered}, \
             before position {claimed}, which it had recorded as durable): whatever was written \
             after that point is lost"
        )
    })
}

/// Opens and closes sled once more on the database at `path`, just closed
/// after writing: sled's recovery of the session (writing over the unused
/// end of its last segment and saving a new `snap.*`) then happens now, not
/// on the next open, which may be one that must write nothing. Best effort:
/// if the database cannot be opened now (another process took it), the next
/// open does it.
pub(crate) fn settle(path: &Path, options: &crate::options::OpenOptions) {
    if crate::fork::may_start_sled().is_err() {
        return;
    }
    let config = crate::open::sled_config(path, options);
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()));
    if let Ok(Ok(db)) = opened {
        drop(db);
        crate::lock::wait_for_release(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_read_as_sled_writes_them() {
        let mut conf = b"segment_size: 524288\nuse_compression: false\nversion: 0.34\n".to_vec();
        let crc = crc32fast::hash(&conf);
        conf.extend_from_slice(&crc.to_le_bytes());
        assert!(checksum_holds(&conf, 0));
        conf[3] ^= 1;
        assert!(!checksum_holds(&conf, 0));
        assert!(!checksum_holds(b"ab", 8));
    }

    #[test]
    fn a_clean_database_recovers_everything_its_headers_claim() {
        let dir = tempfile::tempdir().unwrap();
        let config = sled::Config::new().path(dir.path()).flush_every_ms(None);
        for round in 0..3u64 {
            let claimed = durable_claimed(dir.path());
            let db = config.open().unwrap();
            assert_eq!(lost_by_recovery(claimed, dir.path()), None, "round {round}");
            for i in 0..5000u64 {
                db.insert((round * 10_000 + i).to_be_bytes(), vec![7u8; 200]).unwrap();
            }
            db.flush().unwrap();
            drop(db);
            crate::lock::wait_for_release(dir.path());
        }
        assert!(durable_claimed(dir.path()).is_some());
        assert!(damaged_snapshots(dir.path()).is_empty());
        assert!(!conf_damaged(dir.path()));
        assert_eq!(segment_size(dir.path()), SEGMENT);
    }
}

//! Snapshots: the in-memory model saved beside the log so a large database
//! reopens without replaying every event.
//!
//! A snapshot is only a cache of the log. It is written when a store closes,
//! after the log is flushed, so it is never ahead of what is durable; it names
//! the database it belongs to and the last event it covers, and carries a
//! CRC-32 of its contents. Opening uses it only when all of that checks out
//! and the log continues exactly where it ends; otherwise the log is replayed
//! from the start. `Store::check` always replays the whole log, so a wrong
//! snapshot could not go unnoticed.
//!
//! File layout (`connreq.snapshot` in the database directory):
//! `CONNREQ-SNAPSHOT-1` · database id (16 bytes) · last event (u64 BE) ·
//! the model (postcard) · CRC-32 of everything before it (u32 BE).

use connreq_core::{Model, Seq};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"CONNREQ-SNAPSHOT-1";
/// The snapshot's file name inside the database directory.
pub const FILE: &str = "connreq.snapshot";

/// Writes through, keeping a CRC-32 of what passed.
struct Crc<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// Saves `model` as the snapshot of database `id` in `dir`, atomically
/// (written aside, synced, renamed).
pub fn write(dir: &Path, id: &[u8; 16], model: &Model) -> std::io::Result<()> {
    let tmp = dir.join(format!("{FILE}.tmp"));
    {
        let file = File::create(&tmp)?;
        let mut out = Crc { inner: BufWriter::with_capacity(1 << 20, file), crc: crc32fast::Hasher::new() };
        out.write_all(MAGIC)?;
        out.write_all(id)?;
        out.write_all(&model.state().last_seq.0.to_be_bytes())?;
        let mut out = postcard::to_io(model, out).map_err(std::io::Error::other)?;
        let crc = out.crc.clone().finalize();
        out.inner.write_all(&crc.to_be_bytes())?;
        let file = out.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path(dir))?;
    File::open(dir)?.sync_all()
}

/// The last event the snapshot in `dir` covers, if it belongs to database `id`.
pub fn covers(dir: &Path, id: &[u8; 16]) -> Option<Seq> {
    let mut file = File::open(path(dir)).ok()?;
    let mut header = [0u8; MAGIC.len() + 16 + 8];
    file.read_exact(&mut header).ok()?;
    if &header[..MAGIC.len()] != MAGIC || &header[MAGIC.len()..MAGIC.len() + 16] != id {
        return None;
    }
    let seq: [u8; 8] = header[MAGIC.len() + 16..].try_into().ok()?;
    Some(Seq(u64::from_be_bytes(seq)))
}

/// Reads the snapshot in `dir` of database `id`; `None` when there is none or
/// it is damaged or another database's. The file is read whole and decoded
/// from memory: decoding through a reader goes byte by byte and is many
/// times slower.
pub fn read(dir: &Path, id: &[u8; 16]) -> Option<Model> {
    let seq = covers(dir, id)?;
    let bytes = std::fs::read(path(dir)).ok()?;
    let (body, trailer) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(body);
    if crc.finalize().to_be_bytes() != trailer {
        return None;
    }
    let payload = body.get(MAGIC.len() + 16 + 8..)?;
    let model: Model = postcard::from_bytes(payload).ok()?;
    (model.state().last_seq == seq).then_some(model)
}

/// Deletes the snapshot in `dir`, if any.
pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(path(dir));
}

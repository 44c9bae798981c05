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
//! `CONNREQ-SNAPSHOT-7` · database id (16 bytes) · last event (u64 BE) ·
//! the model's parts (`connreq_core::parts`, each postcard) back to back ·
//! the length of each part (u64 BE each) · CRC-32 of everything before it
//! (u32 BE). The parts are decoded side by side, one thread each, which on
//! a large network makes reopening about as many times faster as there are
//! cores to run them. A snapshot of another layout is ignored (the log is
//! replayed, and the next close writes this one).

use connreq_core::parts::{self, PARTS};
use connreq_core::{Model, Seq};
use serde::{Serialize, Serializer};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Layout 7: who resolved each flag and why, how each pair's requests ended
/// and why each report was made (SPEC §15); the outbox's reminders, digests
/// and due times, email preferences and locales (SPEC §10); erased members,
/// members by address and reports made (SPEC §11). Layout 4 added the views
/// parties hold of their own (SPEC §18) and the wrong addresses given;
/// layout 3 kept a cancel mark per request and the times from before
/// blocks; layout 2 held members' lists in the members.
const MAGIC: &[u8] = b"CONNREQ-SNAPSHOT-7";
/// Bytes before the first part: magic, database id, last event.
const HEADER: usize = MAGIC.len() + 16 + 8;
/// The snapshot's file name inside the database directory.
pub const FILE: &str = "connreq.snapshot";

/// A file of this layout: the snapshot (a cache) or the base of a repaired
/// database (the state its log starts from, which is no cache: see `repair`).
#[derive(Clone, Copy)]
pub(crate) struct Kind {
    file: &'static str,
    magic: &'static [u8],
}

/// The snapshot, a cache of the log.
pub(crate) const SNAPSHOT: Kind = Kind { file: FILE, magic: MAGIC };
/// The base of a repaired database, in the snapshot's layout (magic of the same length).
pub(crate) const BASE: Kind = Kind { file: "connreq.base", magic: b"CONNREQ-BASE-LAYT7" };
const _: () = assert!(BASE.magic.len() == MAGIC.len());

/// Writes through, keeping a CRC-32 and a count of what passed.
struct Crc<W> {
    inner: W,
    crc: crc32fast::Hasher,
    written: u64,
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

impl Kind {
    /// The file's name.
    pub(crate) fn file(self) -> &'static str {
        self.file
    }

    /// Saves `model` as this file of database `id` in `dir`, atomically.
    pub(crate) fn write(self, dir: &Path, id: &[u8; 16], model: &Model) -> std::io::Result<()> {
        write_as(self, dir, id, model)
    }

    /// The last event the file covers, if it belongs to database `id`.
    pub(crate) fn covers(self, dir: &Path, id: &[u8; 16]) -> Option<Seq> {
        covers_as(self, dir, Some(id))
    }

    /// Reads the file of database `id` (any database's when `None`); `None`
    /// when there is none or it is damaged or another database's.
    pub(crate) fn read(self, dir: &Path, id: Option<&[u8; 16]>) -> Option<Model> {
        read_as(self, dir, id)
    }
}

/// Part `.1` of model `.0`, for postcard.
struct PartOf<'a>(&'a Model, usize);

impl Serialize for PartOf<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        parts::serialize_part(self.0, self.1, s)
    }
}

/// Saves `model` as the snapshot of database `id` in `dir`, atomically
/// (written aside, synced, renamed).
pub fn write(dir: &Path, id: &[u8; 16], model: &Model) -> std::io::Result<()> {
    write_as(SNAPSHOT, dir, id, model)
}

fn write_as(kind: Kind, dir: &Path, id: &[u8; 16], model: &Model) -> std::io::Result<()> {
    let tmp = dir.join(format!("{}.tmp", kind.file));
    {
        let file = File::create(&tmp)?;
        let mut out =
            Crc { inner: BufWriter::with_capacity(1 << 20, file), crc: crc32fast::Hasher::new(), written: 0 };
        out.write_all(kind.magic)?;
        out.write_all(id)?;
        out.write_all(&model.last_seq().0.to_be_bytes())?;
        let mut lengths = [0u64; PARTS];
        for (i, length) in lengths.iter_mut().enumerate() {
            let before = out.written;
            postcard::to_io(&PartOf(model, i), &mut out).map_err(std::io::Error::other)?;
            *length = out.written - before;
        }
        for length in lengths {
            out.write_all(&length.to_be_bytes())?;
        }
        let crc = out.crc.clone().finalize();
        out.inner.write_all(&crc.to_be_bytes())?;
        let file = out.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(kind.file))?;
    File::open(dir)?.sync_all()
}

/// The last event the snapshot in `dir` covers, if it belongs to database `id`.
#[cfg(test)]
pub fn covers(dir: &Path, id: &[u8; 16]) -> Option<Seq> {
    covers_as(SNAPSHOT, dir, Some(id))
}

fn covers_as(kind: Kind, dir: &Path, id: Option<&[u8; 16]>) -> Option<Seq> {
    let mut file = File::open(dir.join(kind.file)).ok()?;
    let mut header = [0u8; HEADER];
    file.read_exact(&mut header).ok()?;
    let n = kind.magic.len();
    if &header[..n] != kind.magic || id.is_some_and(|id| &header[n..n + 16] != id) {
        return None;
    }
    let seq: [u8; 8] = header[n + 16..].try_into().ok()?;
    Some(Seq(u64::from_be_bytes(seq)))
}

/// Reads the snapshot in `dir` of database `id`; `None` when there is none or
/// it is damaged or another database's. The file is read whole and decoded
/// from memory (decoding through a reader goes byte by byte and is many
/// times slower), each part on a thread of its own.
pub fn read(dir: &Path, id: &[u8; 16]) -> Option<Model> {
    read_as(SNAPSHOT, dir, Some(id))
}

fn read_as(kind: Kind, dir: &Path, id: Option<&[u8; 16]>) -> Option<Model> {
    let seq = covers_as(kind, dir, id)?;
    let bytes = std::fs::read(dir.join(kind.file)).ok()?;
    let (body, trailer) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(body);
    if crc.finalize().to_be_bytes() != trailer {
        return None;
    }
    let (payload, footer) =
        body.get(HEADER..)?.split_at_checked(body.len().checked_sub(HEADER + 8 * PARTS)?)?;
    let mut slices = Vec::with_capacity(PARTS);
    let mut rest = payload;
    for length in footer.chunks_exact(8) {
        let length = usize::try_from(u64::from_be_bytes(length.try_into().ok()?)).ok()?;
        let (part, after) = rest.split_at_checked(length)?;
        slices.push(part);
        rest = after;
    }
    if !rest.is_empty() {
        return None;
    }
    let decoded: Vec<Option<parts::Part>> = std::thread::scope(|s| {
        let others: Vec<_> = slices
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, &part)| {
                std::thread::Builder::new()
                    .name("connreq-snapshot".into())
                    .spawn_scoped(s, move || decode_part(part, i))
                    .map_err(|_| (i, part))
            })
            .collect();
        let mut decoded = vec![decode_part(slices[0], 0)];
        for other in others {
            decoded.push(match other {
                Ok(thread) => thread.join().ok().flatten(),
                // No thread to be had: decode it here.
                Err((i, part)) => decode_part(part, i),
            });
        }
        decoded
    });
    let model = parts::join(decoded.into_iter().collect::<Option<Vec<_>>>()?).ok()?;
    (model.last_seq() == seq).then_some(model)
}

/// Decodes part `index`, which must fill `bytes` exactly.
fn decode_part(bytes: &[u8], index: usize) -> Option<parts::Part> {
    let mut de = postcard::Deserializer::from_bytes(bytes);
    let part = parts::deserialize_part(index, &mut de).ok()?;
    de.finalize().ok()?.is_empty().then_some(part)
}

/// Deletes the snapshot in `dir`, if any.
pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(path(dir));
}

#[cfg(test)]
mod tests {
    use super::*;
    use connreq_core::{MemberId, MemoryNetwork, Network, Policy, Timestamp};

    fn model() -> Model {
        let net = MemoryNetwork::new(Policy::standard()).unwrap();
        let t = Timestamp(1_790_000_000_000);
        for m in 1..=20 {
            net.register(MemberId(m), Some(&format!("m{m}@example.com")), None, t).unwrap();
            if m > 1 {
                let id = net.send(MemberId(m), MemberId(m - 1), Some("hello"), None, t).unwrap();
                if m % 3 == 0 {
                    net.withdraw(MemberId(m), id, Some("sorry"), t).unwrap();
                }
            }
        }
        Model::replay(Policy::standard(), &net.log())
    }

    #[test]
    fn a_snapshot_reads_back_as_the_model_it_saved() {
        let dir = tempfile::tempdir().unwrap();
        let (id, model) = ([7u8; 16], model());
        write(dir.path(), &id, &model).unwrap();
        assert_eq!(covers(dir.path(), &id), Some(model.last_seq()));
        assert_eq!(read(dir.path(), &id), Some(model));
        assert_eq!(read(dir.path(), &[8u8; 16]), None);
    }

    #[test]
    fn a_snapshot_of_the_first_layout_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let (id, model) = ([7u8; 16], model());
        let mut bytes = b"CONNREQ-SNAPSHOT-1".to_vec();
        bytes.extend_from_slice(&id);
        bytes.extend_from_slice(&model.last_seq().0.to_be_bytes());
        bytes.extend_from_slice(&postcard::to_allocvec(&model).unwrap());
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_be_bytes());
        std::fs::write(path(dir.path()), bytes).unwrap();
        assert_eq!(covers(dir.path(), &id), None);
        assert_eq!(read(dir.path(), &id), None);
    }

    #[test]
    fn a_snapshot_of_an_earlier_layout_is_not_read() {
        for older in [&b"CONNREQ-SNAPSHOT-2"[..], &b"CONNREQ-SNAPSHOT-3"[..]] {
            let dir = tempfile::tempdir().unwrap();
            let (id, model) = ([7u8; 16], model());
            write(dir.path(), &id, &model).unwrap();
            let mut bytes = std::fs::read(path(dir.path())).unwrap();
            bytes[..MAGIC.len()].copy_from_slice(older);
            let body = bytes.len() - 4;
            let crc = crc32fast::hash(&bytes[..body]);
            bytes[body..].copy_from_slice(&crc.to_be_bytes());
            std::fs::write(path(dir.path()), bytes).unwrap();
            assert_eq!(covers(dir.path(), &id), None);
            assert_eq!(read(dir.path(), &id), None);
        }
    }

    #[test]
    fn a_snapshot_of_the_second_layout_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let (id, model) = ([7u8; 16], model());
        write(dir.path(), &id, &model).unwrap();
        let mut bytes = std::fs::read(path(dir.path())).unwrap();
        bytes[..MAGIC.len()].copy_from_slice(b"CONNREQ-SNAPSHOT-2");
        let body = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_be_bytes());
        std::fs::write(path(dir.path()), bytes).unwrap();
        assert_eq!(covers(dir.path(), &id), None);
        assert_eq!(read(dir.path(), &id), None);
    }
}

//! `Chunked<T>`: a growable array in fixed-size chunks. Millions of requests
//! and notifications are held in memory; a `Vec` would double its allocation
//! (and copy everything) as it grows, holding up to twice what it needs.

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

const CHUNK: usize = 1 << 16;

/// An append-only array stored in chunks of 65,536 elements.
#[derive(Debug, PartialEq)]
pub struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self { chunks: Vec::new(), len: 0 }
    }
}

/// A copy whose chunks are allocated at full size, like the original's: a
/// derived clone would give the last chunk no spare room, so the copy's next
/// push would reallocate and copy up to a whole chunk.
impl<T: Clone> Clone for Chunked<T> {
    fn clone(&self) -> Self {
        let chunks = self
            .chunks
            .iter()
            .map(|c| {
                let mut copy = Vec::with_capacity(CHUNK);
                copy.extend_from_slice(c);
                copy
            })
            .collect();
        Self { chunks, len: self.len }
    }
}

impl<T> Chunked<T> {
    /// How many elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends an element.
    pub fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(last) = self.chunks.last_mut() {
            last.push(value);
        }
        self.len += 1;
    }

    /// The element at `i`.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK).and_then(|c| c.get(i % CHUNK))
    }

    /// The element at `i`, mutably.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i / CHUNK).and_then(|c| c.get_mut(i % CHUNK))
    }

    /// Every element, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// The elements from index `from` on, with their indexes.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = (usize, &T)> {
        let first = from / CHUNK;
        self.chunks
            .iter()
            .enumerate()
            .skip(first)
            .flat_map(|(c, chunk)| chunk.iter().enumerate().map(move |(i, v)| (c * CHUNK + i, v)))
            .skip(from % CHUNK)
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T: Serialize> Serialize for Chunked<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        for item in self.iter() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Chunked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Elements<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Elements<T> {
            type Value = Chunked<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Chunked<T>, A::Error> {
                let mut out = Chunked::default();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(Elements(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec_across_chunk_boundaries() {
        let mut c = Chunked::default();
        let n = 2 * CHUNK + 5;
        for i in 0..n {
            c.push(i);
        }
        assert_eq!(c.len(), n);
        assert_eq!(c[CHUNK], CHUNK);
        assert_eq!(c.get(n), None);
        assert_eq!(c.iter().copied().collect::<Vec<_>>(), (0..n).collect::<Vec<_>>());
        let tail: Vec<_> = c.iter_from(CHUNK - 2).take(4).collect();
        assert_eq!(
            tail,
            vec![
                (CHUNK - 2, &(CHUNK - 2)),
                (CHUNK - 1, &(CHUNK - 1)),
                (CHUNK, &CHUNK),
                (CHUNK + 1, &(CHUNK + 1))
            ]
        );
        c[3] = 99;
        assert_eq!(c.get_mut(3).copied(), Some(99));
    }

    #[test]
    fn a_copy_holds_the_same_elements_and_grows_without_moving_its_last_chunk() {
        let mut c = Chunked::default();
        for i in 0..CHUNK + 3 {
            c.push(i);
        }
        let mut copy = c.clone();
        assert_eq!(copy, c);
        let last = copy.chunks[1].as_ptr();
        copy.push(7);
        assert_eq!(copy.chunks[1].as_ptr(), last, "the copy's last chunk was reallocated");
        assert_eq!(copy.len(), CHUNK + 4);
        assert_eq!(c.len(), CHUNK + 3);
    }
}

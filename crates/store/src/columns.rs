//! Events in columns, laid out as Arrow lays them out, for bulk export.

use connreq_core::EventView;
use connreq_core::{MemberId, RequestId};

/// A run of events in columns, for bulk export (Arrow): no record or string
/// is allocated per event, and every column is laid out as Arrow lays it out,
/// so it moves into Arrow arrays without being copied or converted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventColumns {
    /// Sequence numbers.
    pub seq: Vec<u64>,
    /// Times, epoch milliseconds.
    pub at: Vec<i64>,
    /// The kinds, back to back (UTF-8).
    pub kind: Vec<u8>,
    /// Where each event's kind starts in `kind`, plus the end: `len() + 1` entries.
    pub kind_offsets: Vec<i32>,
    /// Acting members.
    pub actor: OptionalColumn,
    /// Members acted upon.
    pub subject: OptionalColumn,
    /// Requests concerned.
    pub request_id: OptionalColumn,
    /// The `detail` JSON objects, back to back (UTF-8).
    pub detail: Vec<u8>,
    /// Where each event's `detail` starts in `detail`, plus the end: `len() + 1` entries.
    pub detail_offsets: Vec<i32>,
}

impl EventColumns {
    /// Empty columns with room for `rows` events.
    pub fn with_capacity(rows: usize) -> Self {
        let mut kind_offsets = Vec::with_capacity(rows + 1);
        kind_offsets.push(0);
        let mut detail_offsets = Vec::with_capacity(rows + 1);
        detail_offsets.push(0);
        Self {
            seq: Vec::with_capacity(rows),
            at: Vec::with_capacity(rows),
            kind: Vec::with_capacity(rows * 16),
            kind_offsets,
            actor: OptionalColumn::with_capacity(rows),
            subject: OptionalColumn::with_capacity(rows),
            request_id: OptionalColumn::with_capacity(rows),
            detail: Vec::with_capacity(rows * 24),
            detail_offsets,
        }
    }

    /// How many events.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// The kind of the `i`th event.
    pub fn kind(&self, i: usize) -> &str {
        text(&self.kind, &self.kind_offsets, i)
    }

    /// The `detail` JSON object of the `i`th event.
    pub fn detail(&self, i: usize) -> &str {
        text(&self.detail, &self.detail_offsets, i)
    }

    /// Appends one event; `false` (and nothing appended) when its text would
    /// take a column past 2 GiB, the most one Arrow batch can address.
    pub(crate) fn push(
        &mut self,
        e: &EventView<'_>,
        parties: impl Fn(RequestId) -> Option<(MemberId, MemberId)>,
    ) -> bool {
        let detail_len = self.detail.len();
        let (kind, actor, subject, request) = e.describe(parties, &mut self.detail);
        let (Ok(detail_end), Ok(kind_end)) =
            (i32::try_from(self.detail.len()), i32::try_from(self.kind.len() + kind.len()))
        else {
            self.detail.truncate(detail_len);
            return false;
        };
        self.kind.extend_from_slice(kind.as_bytes());
        self.kind_offsets.push(kind_end);
        self.detail_offsets.push(detail_end);
        self.seq.push(e.seq.0);
        self.at.push(e.at.0);
        self.actor.push(actor.map(|m| m.0));
        self.subject.push(subject.map(|m| m.0));
        self.request_id.push(request.map(|r| r.0));
        true
    }
}

/// The `i`th string of a column of strings stored back to back.
fn text<'a>(bytes: &'a [u8], offsets: &[i32], i: usize) -> &'a str {
    let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
    std::str::from_utf8(&bytes[start..end]).unwrap_or_default()
}

/// A column of optional integers as Arrow holds one: the values (0 where
/// absent) and a validity bitmap, least significant bit first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptionalColumn {
    /// The values; 0 where there is none.
    pub values: Vec<u64>,
    /// Bit `i` (of byte `i / 8`, least significant first) is set when row `i` has a value.
    pub validity: Vec<u8>,
    /// How many rows have no value.
    pub nulls: usize,
}

impl OptionalColumn {
    /// An empty column with room for `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        Self { values: Vec::with_capacity(rows), validity: Vec::with_capacity(rows.div_ceil(8)), nulls: 0 }
    }

    /// Appends a row.
    pub fn push(&mut self, value: Option<u64>) {
        let i = self.values.len();
        if i.is_multiple_of(8) {
            self.validity.push(0);
        }
        match value {
            Some(v) => {
                self.values.push(v);
                if let Some(byte) = self.validity.last_mut() {
                    *byte |= 1 << (i % 8);
                }
            }
            None => {
                self.values.push(0);
                self.nulls += 1;
            }
        }
    }

    /// Row `i`.
    pub fn get(&self, i: usize) -> Option<u64> {
        (self.validity[i / 8] & (1 << (i % 8)) != 0).then(|| self.values[i])
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

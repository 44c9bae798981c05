//! `events_arrow`: the event log as Arrow record batches, exported through
//! the Arrow PyCapsule interface (`__arrow_c_stream__`). Batches are built in
//! Rust straight from the store; no Python object is made per event.

use crate::errors::to_pyerr;
use arrow_array::{ArrayRef, StructArray};
use arrow_schema::{ArrowError, Field, FieldRef};
use connreq_core::Seq;
use connreq_dataset::{SCHEMA, batch};
use connreq_store::Store;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use pyo3_arrow::ffi::{ArrayReader, to_schema_pycapsule, to_stream_pycapsule};
use std::sync::Arc;

/// Rows per record batch.
pub const BATCH_ROWS: usize = 65_536;

/// Reads the events `(next, end]` from the store, a batch at a time.
struct Batches {
    store: Arc<Store>,
    next: u64,
    end: u64,
}

impl Iterator for Batches {
    type Item = Result<ArrayRef, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let want = usize::try_from(self.end - self.next).unwrap_or(usize::MAX).min(BATCH_ROWS);
        let columns = match self.store.event_columns(Seq(self.next), want) {
            Ok(columns) => columns,
            Err(e) => {
                self.next = self.end;
                return Some(Err(ArrowError::ExternalError(Box::new(e))));
            }
        };
        let Some(last) = columns.seq.last() else {
            self.next = self.end;
            return None;
        };
        self.next = *last;
        Some(batch(columns).map(|b| Arc::new(StructArray::from(b)) as ArrayRef))
    }
}

impl ArrayReader for Batches {
    fn field(&self) -> FieldRef {
        Arc::new(Field::new_struct("", SCHEMA.fields().clone(), false))
    }
}

/// The event log from a starting point, readable as Arrow data.
///
/// Returned by ``Network.events_arrow()``. It holds the events with ``seq``
/// greater than ``since`` up to the last event when it was made, and
/// implements the Arrow PyCapsule interface, so ``pyarrow.table(x)``,
/// ``polars.DataFrame(x)`` and ``duckdb`` read it directly. Columns: ``seq``
/// (uint64), ``at`` (timestamp[ms, UTC]), ``kind`` (utf8), ``actor``,
/// ``subject``, ``request_id`` (nullable uint64) and ``detail`` (utf8, a JSON
/// object). It can be read more than once.
#[pyclass(frozen, module = "connreq")]
pub struct EventStream {
    store: Arc<Store>,
    since: u64,
    end: u64,
}

impl EventStream {
    /// The events after `since`, up to the last one now in the log.
    pub fn new(store: Arc<Store>, since: u64, end: u64) -> Self {
        Self { store, since, end: end.max(since) }
    }
}

#[pymethods]
impl EventStream {
    /// The Arrow schema, as an ``arrow_schema`` PyCapsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        Ok(to_schema_pycapsule(py, SCHEMA.as_ref())?)
    }

    /// The events as an ``arrow_array_stream`` PyCapsule of record batches.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let reader = Batches { store: self.store.clone(), next: self.since, end: self.end };
        Ok(to_stream_pycapsule(py, Box::new(reader), requested_schema)?)
    }

    /// How many events the stream holds.
    fn __len__(&self) -> PyResult<usize> {
        usize::try_from(self.end - self.since)
            .map_err(|_| to_pyerr(connreq_core::Error::InvalidInput("too many events".into())))
    }

    fn __repr__(&self) -> String {
        format!("EventStream(since={}, rows={})", self.since, self.end - self.since)
    }
}

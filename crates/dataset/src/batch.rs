//! Events as Arrow record batches: the schema of `events_arrow`, built from
//! [`EventColumns`] whose buffers move into the arrays as they are.

use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray, UInt64Array};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use connreq_store::{EventColumns, OptionalColumn};
use std::sync::{Arc, LazyLock};

/// The events' columns: `seq` (uint64), `at` (timestamp[ms, UTC]), `kind`
/// (utf8), `actor`, `subject`, `request_id` (nullable uint64), `detail`
/// (utf8, a JSON object).
pub static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("seq", DataType::UInt64, false),
        Field::new("at", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("actor", DataType::UInt64, true),
        Field::new("subject", DataType::UInt64, true),
        Field::new("request_id", DataType::UInt64, true),
        Field::new("detail", DataType::Utf8, false),
    ]))
});

/// One record batch of events, built from columns laid out as Arrow lays
/// them out: every buffer moves into its array as it is, nothing is copied or
/// converted per row.
pub fn batch(c: EventColumns) -> Result<RecordBatch, ArrowError> {
    let strings = |bytes: Vec<u8>, offsets: Vec<i32>| -> Result<StringArray, ArrowError> {
        StringArray::try_new(OffsetBuffer::new(ScalarBuffer::from(offsets)), Buffer::from_vec(bytes), None)
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::new(ScalarBuffer::from(c.seq), None)),
        Arc::new(TimestampMillisecondArray::new(ScalarBuffer::from(c.at), None).with_timezone("UTC")),
        Arc::new(strings(c.kind, c.kind_offsets)?),
        Arc::new(optional(c.actor)),
        Arc::new(optional(c.subject)),
        Arc::new(optional(c.request_id)),
        Arc::new(strings(c.detail, c.detail_offsets)?),
    ];
    RecordBatch::try_new(SCHEMA.clone(), columns)
}

/// A nullable uint64 array from values and a validity bitmap, both moved.
fn optional(c: OptionalColumn) -> UInt64Array {
    let len = c.values.len();
    let nulls =
        (c.nulls > 0).then(|| NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(c.validity), 0, len)));
    UInt64Array::new(ScalarBuffer::from(c.values), nulls)
}

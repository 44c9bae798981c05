//! # connreq-dataset
//!
//! The event log for analytics, in the layout every engine reads:
//!
//! * [`batch`]: events as Arrow record batches — the schema of
//!   `events_arrow` ([`SCHEMA`]), built from the store's columns without
//!   copying them (the Python binding returns these).
//! * [`parquet`]: the log as a Parquet dataset partitioned by month
//!   (`month=YYYY-MM/part-….parquet`, Hive's layout, which Spark, Dask,
//!   DuckDB and polars read as a column), written incrementally
//!   (`connreq events --format parquet --out DIR`).

#![warn(missing_docs)]

pub mod batch;
pub mod parquet;

pub use batch::{SCHEMA, batch};
pub use parquet::{ExportReport, export};

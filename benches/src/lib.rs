//! Benchmark support for connreq: workloads, peers and measurement helpers.

pub mod sqlite_peer;
pub mod workload;

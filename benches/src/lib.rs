//! Benchmark support for connreq: workloads, peers and measurement helpers.

pub mod sqlite_peer;
pub mod workload;

/// This process's resident memory in bytes (`VmRSS` of `/proc/self/status`;
/// 0 where there is none).
pub fn rss_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

//! Reading times from the command line: `--at` takes RFC 3339
//! (`2026-01-01T09:30:00Z`, `2026-01-01T10:30+01:00`, or a bare date meaning
//! midnight UTC) or integer epoch milliseconds; the default is the system
//! clock. One parser serves the command line and the server's API
//! (`connreq_server::time`).

pub use connreq_server::time::{EARLIEST, LATEST, now, parse_at};

#!/usr/bin/env bash
# The server benchmark: builds the release binary and the load driver, raises
# the open-file limit (10,000 idle streams need as many sockets on each side),
# and runs benches/src/bin/serve_load.rs against `connreq serve` on this
# machine. Arguments go to the driver, e.g. --seconds 30 --connections 64.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p connreq-cli -p connreq-benches --bin connreq --bin serve_load
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec target/release/serve_load --connreq target/release/connreq "$@"

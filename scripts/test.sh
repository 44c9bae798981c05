#!/usr/bin/env bash
# The whole test suite: Rust (every crate, doc tests included), then the Python
# package (built and installed into .venv, linted, type-checked, tested), then a
# short run of each fuzz target over its committed corpus.
# Safe to run on a fresh machine with cargo and python3 (>= 3.11); the browser
# tests of the web interface install Chromium with apt-get when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# The feed and replica tests run a real nats-server with JetStream (Debian's package).
if ! command -v nats-server >/dev/null 2>&1; then
    apt-get update && apt-get install -y nats-server
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
bash scripts/python-test.sh
bash scripts/fuzz-smoke.sh

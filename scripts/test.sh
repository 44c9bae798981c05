#!/usr/bin/env bash
# The whole test suite: Rust (every crate, doc tests included) and, once the
# Python package exists, its tests. Safe to run on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace

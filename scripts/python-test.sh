#!/usr/bin/env bash
# Builds the Python package from the Rust sources (release, through maturin) into
# .venv, as a user's `pip install` would, and runs the Python checks and tests.
# Safe to run on a fresh machine: it needs python3 (>= 3.11) and cargo only.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# A local directory is rebuilt and reinstalled on every run, so Rust changes are picked up.
.venv/bin/python -m pip install --quiet '.[test]'

.venv/bin/ruff check python benches/python
.venv/bin/ruff format --check python benches/python
.venv/bin/python -m mypy
.venv/bin/python -m pytest python/tests -q

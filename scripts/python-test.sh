#!/usr/bin/env bash
# Builds the Python package from the Rust sources (release, through maturin) into
# .venv, as a user's `pip install` would, and runs the Python checks and tests.
# Safe to run on a fresh machine: it needs python3 (>= 3.11) and cargo, and
# installs Chromium with apt-get when it is missing (the browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."

# The web interface's tests drive the system's Chromium through Playwright
# (which cannot download a browser of its own here): installed once, from
# Debian's packages, when the machine has none.
if [ ! -x /usr/bin/chromium ] && [ -z "${CONNREQ_CHROMIUM:-}" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "the web tests need Chromium: install it, or set CONNREQ_CHROMIUM to its path" >&2
        exit 1
    fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

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

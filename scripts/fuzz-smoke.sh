#!/usr/bin/env bash
# Fuzz smoke test: builds the cargo-fuzz targets in fuzz/ and runs each one
# briefly over its committed corpus (fuzz/corpus/<target>/). Prints one line per
# target with the executions done; exits non-zero on the first finding (the
# input is left in fuzz/artifacts/<target>/).
#
#   scripts/fuzz-smoke.sh                 # every target, 20 s each
#   FUZZ_SECONDS=60 scripts/fuzz-smoke.sh # longer
#   FUZZ_RUNS=500 scripts/fuzz-smoke.sh   # a fixed number of executions instead
#   FUZZ_SEED=7 scripts/fuzz-smoke.sh     # another seed (default 1: the same inputs every run)
#   scripts/fuzz-smoke.sh text storage    # some targets only
#
# cargo-fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them. cargo-fuzz itself is installed from crates.io
# when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/fuzz/target}"
seconds="${FUZZ_SECONDS:-20}"
runs="${FUZZ_RUNS:-}"
seed="${FUZZ_SEED:-1}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir "$root/fuzz")
fi

cargo fuzz build --fuzz-dir "$root/fuzz" >&2

# Scratch space (new inputs, logs, the storage target's databases) in memory
# when the machine has it; removed at the end.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    scratch=$(mktemp -d -p /dev/shm connreq-fuzz-smoke.XXXXXX)
else
    scratch=$(mktemp -d)
fi
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/tmp"
export TMPDIR="$scratch/tmp"

if [ -n "$runs" ]; then
    limit=(-runs="$runs")
else
    limit=(-max_total_time="$seconds")
fi

failed=0
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t" "$root/fuzz/corpus/$t"
    log="$scratch/$t.log"
    status=0
    # New inputs go to the scratch directory; the committed corpus is only read.
    CONNREQ_FUZZ_QUIET_PANICS=1 cargo fuzz run --fuzz-dir "$root/fuzz" "$t" "$scratch/$t" "$root/fuzz/corpus/$t" -- \
        "${limit[@]}" -seed="$seed" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)
    if [ "$status" -eq 0 ]; then
        printf 'fuzz %-10s ok       %8s executions in %s s\n' "$t" "${execs:-?}" "${secs:-?}"
    else
        mkdir -p "$root/fuzz/artifacts/$t"
        cp "$log" "$root/fuzz/artifacts/$t/smoke.log"
        printf 'fuzz %-10s FINDING  %8s executions (exit %s); whole log in fuzz/artifacts/%s/smoke.log\n' \
            "$t" "${execs:-?}" "$status" "$t"
        grep -E -A3 'panicked|ERROR:|SUMMARY:|Test unit written to' "$log" | grep -v '^ *#[0-9]* 0x' | head -n 40 || true
        failed=1
    fi
done
exit "$failed"

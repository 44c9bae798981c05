#!/usr/bin/env bash
# The feed and dataset benchmarks, on this machine with a local nats-server:
#
#   1. a network simulated into a database (`connreq simulate`);
#   2. the feed: `connreq serve --publish` on it, timed from its first answer
#      until JetStream has acknowledged every event (events/s published);
#   3. a read replica (`serve --replica-of`) built from that stream, timed
#      until it has applied every event (events/s replayed);
#   4. the dataset: `connreq events --format parquet --out DIR`, timed whole
#      (opening the database included), then once more with nothing new.
#
# The replica's lag under the serve benchmark's load is serve_load's
# `--publish` (see benches/serve.sh): run with BENCH=lag.
#
#   bash benches/feed.sh                      # 100,000 members, 25 days
#   MEMBERS=50000 DAYS=30 bash benches/feed.sh
#   BENCH=lag bash benches/feed.sh --seconds 20
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-100000}
DAYS=${DAYS:-25}
cargo build --release -p connreq-cli -p connreq-benches --bin connreq --bin serve_load
if ! command -v nats-server >/dev/null 2>&1; then
    apt-get update && apt-get install -y nats-server
fi
connreq=$PWD/target/release/connreq
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nats_port=$(free_port)
nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" >"$work/nats.log" 2>&1 &
pids+=($!)
nats=nats://127.0.0.1:$nats_port
python3 - "$nats_port" <<'EOF'
import socket, sys, time
deadline = time.monotonic() + 20
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("nats-server did not start")
        time.sleep(0.01)
EOF
export CONNREQ_API_KEY=bench-service-key CONNREQ_TOKEN_SECRET=bench-token-secret

if [ "${BENCH:-feed}" = lag ]; then
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    echo "target/release/serve_load --connreq target/release/connreq --publish $nats $*"
    target/release/serve_load --connreq "$connreq" --publish "$nats" "$@"
    exit 0
fi

echo "connreq simulate --members $MEMBERS --days $DAYS"
/usr/bin/time -f "simulated in %e s, %M KiB peak" "$connreq" --db "$work/db" simulate --members "$MEMBERS" --days "$DAYS" >/dev/null

# Polls a server's /healthz until it has published (feed) or applied
# (replica) every event; prints the events per second from its first answer.
python_follow() {
    python3 - "$1" "$2" "$3" <<'EOF'
import json, sys, time, urllib.request
url, what, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
def health():
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
            return json.load(r)
    except Exception:
        return None
def progress(h):
    return h["feed"]["published"] if what == "feed" else h["events"]
deadline = time.monotonic() + 900
h = None
while h is None:
    if time.monotonic() > deadline:
        sys.exit("the server did not answer")
    time.sleep(0.002)
    h = health()
t0, first = time.monotonic(), progress(h)
while progress(h) < total:
    if time.monotonic() > deadline:
        sys.exit(f"{what}: stuck at {progress(h)} of {total}")
    time.sleep(0.002)
    h = health() or h
elapsed = time.monotonic() - t0
done = progress(h) - first
print(f"{what}: {done} events in {elapsed:.2f} s = {done / elapsed:,.0f} events/s")
EOF
}

total=$("$connreq" --db "$work/db" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
echo "the database holds $total events ($(du -sh "$work/db" | cut -f1))"

# 2. The feed.
port=$(free_port)
echo "connreq serve --publish $nats"
"$connreq" --db "$work/db" serve --listen "127.0.0.1:$port" --publish "$nats" 2>"$work/primary.log" &
primary=$!
pids+=($primary)
python_follow "http://127.0.0.1:$port" feed "$total"
network=$(python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + "/healthz"))["feed"]["network"])' "http://127.0.0.1:$port")

# 3. A replica built from the stream.
rport=$(free_port)
echo "connreq serve --replica-of $nats --network $network"
"$connreq" --db "$work/replica" serve --listen "127.0.0.1:$rport" --replica-of "$nats" --network "$network" 2>"$work/replica.log" &
pids+=($!)
python_follow "http://127.0.0.1:$rport" replica "$total"
kill -TERM "$primary"
wait "$primary" || true

# 4. The dataset.
echo "connreq events --format parquet --out DIR"
start=$(date +%s.%N)
"$connreq" --db "$work/db" events --format parquet --out "$work/dataset" >/dev/null
end=$(date +%s.%N)
python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); n=int(sys.argv[3]); print(f'parquet export: {n} events in {t:.2f} s = {n/t:,.0f} events/s (opening the database included)')" "$start" "$end" "$total"
echo "the dataset: $(find "$work/dataset" -name '*.parquet' | wc -l) files, $(du -sh "$work/dataset" | cut -f1)"
start=$(date +%s.%N)
"$connreq" --db "$work/db" events --format parquet --out "$work/dataset"
end=$(date +%s.%N)
python3 -c "import sys; print(f'again, nothing new: {float(sys.argv[2])-float(sys.argv[1]):.2f} s')" "$start" "$end"

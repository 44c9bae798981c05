#!/usr/bin/env bash
# The peer a Django shop would build, measured with the same load driver:
# django-friendship behind Django JSON views (benches/python/django_service.py),
# gunicorn (4 gthread workers of 8 threads), PostgreSQL from this machine's
# packages in a scratch cluster. Installs what it needs into .venv, starts
# everything on loopback, runs benches/src/bin/serve_load.rs against it, stops it.
#   bash benches/django_peer.sh [--seconds 20 --connections 64 --members 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
.venv/bin/python -m pip install --quiet django django-friendship gunicorn 'psycopg[binary]'
cargo build --release -p connreq-cli -p connreq-benches --bin connreq --bin serve_load
pg=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
work=$(mktemp -d)
chown postgres "$work"
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pgport=$(free_port)
http=$(free_port)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    [ -f "$work/gunicorn.pid" ] && kill "$(cat "$work/gunicorn.pid")" 2>/dev/null || true
    as_pg "$pg/pg_ctl" -D "$work/pg" stop -m fast >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
as_pg "$pg/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
as_pg "$pg/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-p $pgport -k $work -c listen_addresses=127.0.0.1" start >/dev/null
as_pg "$pg/createdb" -h 127.0.0.1 -p "$pgport" -U postgres peer
export PEER_PORT=$pgport
.venv/bin/python -c "import sys; sys.path.insert(0, 'benches/python'); import django_service; from django.core.management import call_command; call_command('migrate', verbosity=0)"
.venv/bin/gunicorn --chdir "$root/benches/python" django_service:application -k gthread -w 4 --threads 8 \
    -b "127.0.0.1:$http" --daemon --pid "$work/gunicorn.pid" --log-level warning \
    --error-logfile "${PEER_LOG:-/dev/null}" --capture-output
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$http/api/members/1/sent" && break
    sleep 0.1
done
ulimit -n 65536 2>/dev/null || true
target/release/serve_load --url "http://127.0.0.1:$http" --peer django --members 2000 "$@"

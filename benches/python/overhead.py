"""What the Python binding costs.

1. Per-call overhead: ``are_connected`` and ``connection_count`` called N times
   from Python, against the same store calls in a Rust loop
   (``connreq._connreq._bench_rust_loop``), measured in the same run.
2. ``events_arrow`` -> ``pyarrow.Table`` throughput on a log of at least 1M
   events (and, for contrast, ``events()`` building one Python object per event).

Run it against a release build (``pip install .``, as scripts/python-test.sh does):

    .venv/bin/python benches/python/overhead.py [--calls 1000000] [--events 1000000]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

import connreq
from connreq import Network
from connreq._connreq import _bench_rust_loop

T0 = 1_790_000_000_000  # epoch milliseconds; every command gets an explicit time


def best_of(repeats: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(repeats))


def python_loop_ns(call: Callable[[], object], n: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(n):
        call()
    return (time.perf_counter_ns() - start) / n


def empty_loop_ns(n: int) -> float:
    def nothing() -> None:
        return None

    return python_loop_ns(nothing, n)


def overhead(calls: int, repeats: int) -> None:
    net = Network.temporary()
    net.register(1, at=T0)
    net.register(2, at=T0)
    net.accept(2, net.send(1, 2, at=T0), at=T0)
    print(f"per-call cost, {calls:,} calls, best of {repeats}:")
    print(f"  {'query':<18} {'Python ns':>10} {'Rust ns':>8} {'binding ns':>11} {'empty-call ns':>14}")
    empty = best_of(repeats, lambda: empty_loop_ns(calls))
    are_connected, connection_count = net.are_connected, net.connection_count
    cases: list[tuple[str, Callable[[], object], int, int]] = [
        ("are_connected", lambda: are_connected(1, 2), 1, 2),
        ("connection_count", lambda: connection_count(1), 1, 1),
    ]
    for name, call, a, b in cases:
        py = best_of(repeats, lambda call=call: python_loop_ns(call, calls))  # type: ignore[misc]
        rust = best_of(repeats, lambda name=name, a=a, b=b: _bench_rust_loop(net, name, a, b, calls))  # type: ignore[misc]
        print(f"  {name:<18} {py:>10.1f} {rust:>8.1f} {py - rust:>11.1f} {empty:>14.1f}")
    print("  (binding = Python - Rust; it includes the Python loop and lambda, about the empty-call figure)")
    net.close()


def build_log(net: Network, target: int) -> Network:
    """Fills ``net`` until its log holds at least ``target`` events of several kinds."""
    members = max(2, target // 5)
    t = T0
    for m in range(members):
        net.register(m, name=f"Member {m}", at=t)
    # Each step adds a send (with a note) and an accept or a withdrawal with a message.
    m = 0
    while net.stats()["events"] < target:
        for _ in range(10_000):
            a, b = m % members, (m + 1 + m // members) % members
            t += 1
            try:
                rid = net.send(a, b, "Hello, we met at the meetup", at=t)
                if m % 2:
                    net.accept(b, rid, at=t)
                else:
                    net.withdraw(a, rid, "Sent by mistake", at=t)
            except connreq.ConnreqError:
                pass
            m += 1
    return net


def arrow_throughput(
    net: Network, where: str, events: int, repeats: int, reopen: Callable[[], Network] | None = None
) -> None:
    start = time.perf_counter()
    build_log(net, events)
    total = net.stats()["events"]
    built = time.perf_counter() - start
    print(f"\nevents_arrow on {total:,} events, {where} (log built in {built:.1f} s), best of {repeats}:")

    def to_table() -> float:
        t = time.perf_counter()
        table = pa.table(net.events_arrow())
        elapsed = time.perf_counter() - t
        assert table.num_rows == total
        return elapsed

    def to_objects() -> float:
        t = time.perf_counter()
        rows = net.events()
        elapsed = time.perf_counter() - t
        assert len(rows) == total
        return elapsed

    arrow = best_of(repeats, to_table)
    objects = best_of(max(1, repeats // 2), to_objects)
    print(f"  pyarrow.table(net.events_arrow()): {arrow:.3f} s = {total / arrow / 1e6:.2f} M events/s")
    print(f"  net.events() (one Event per row): {objects:.3f} s = {total / objects / 1e6:.2f} M events/s")
    start = time.perf_counter()
    net.compact()
    print(f"  after net.compact() ({time.perf_counter() - start:.1f} s):")
    arrow = best_of(repeats, to_table)
    print(f"  pyarrow.table(net.events_arrow()): {arrow:.3f} s = {total / arrow / 1e6:.2f} M events/s")
    net.close()
    if reopen is not None:
        start = time.perf_counter()
        net = reopen()
        print(f"  after close and reopen ({time.perf_counter() - start:.1f} s):")
        arrow = best_of(repeats, to_table)
        print(f"  pyarrow.table(net.events_arrow()): {arrow:.3f} s = {total / arrow / 1e6:.2f} M events/s")
        net.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000, help="calls per per-call measurement")
    parser.add_argument("--events", type=int, default=1_000_000, help="least events in the log for events_arrow")
    parser.add_argument("--repeats", type=int, default=3, help="measurements of which the best is shown")
    args = parser.parse_args()
    print(f"connreq {connreq.__version__}, Python {platform.python_version()}, pyarrow {pa.__version__}")
    overhead(args.calls, args.repeats)
    arrow_throughput(Network.temporary(), "temporary database", args.events, args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "db"
        # A bulk load: flushed at the close, not after each of a million commands.
        bulk = Network.open(db, durability="manual")
        arrow_throughput(bulk, "database on disk", args.events, args.repeats, lambda: Network.open(db))


if __name__ == "__main__":
    main()

"""events_arrow: the log through the Arrow PyCapsule interface into pyarrow and polars."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import polars as pl
import pyarrow as pa

from conftest import T0, at
from connreq import Event, Network

SCHEMA = pa.schema(
    [
        pa.field("seq", pa.uint64(), nullable=False),
        pa.field("at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("actor", pa.uint64()),
        pa.field("subject", pa.uint64()),
        pa.field("request_id", pa.uint64()),
        pa.field("detail", pa.string(), nullable=False),
    ]
)


def scenario(net: Network) -> None:
    for m in (1, 2, 3):
        net.register(m, name=f"M{m}", at=T0)
    rid = net.send(1, 2, "hi", at=at(1))
    net.decline(2, rid, "no", at=at(2))
    rid = net.send(3, 1, at=at(3))
    net.accept(1, rid, at=at(4))


def row_of(e: Event) -> dict[str, object]:
    """The Arrow row an event should export as."""
    return {
        "seq": e.seq,
        "at": e.at,
        "kind": e.kind,
        "actor": e.actor,
        "subject": e.subject,
        "request_id": e.request_id,
        "detail": e.detail,
    }


def test_pyarrow_table(net: Network) -> None:
    scenario(net)
    table = pa.table(net.events_arrow())
    assert table.schema == SCHEMA
    events = net.events()
    assert table.num_rows == len(events) == len(net.events_arrow())
    rows = table.to_pylist()
    for row, e in zip(rows, events, strict=True):
        assert row == row_of(e)
        assert row["at"].tzinfo is not None
        assert isinstance(json.loads(row["detail"]), dict)


def test_polars_dataframe(net: Network) -> None:
    scenario(net)
    df = pl.DataFrame(net.events_arrow())
    assert df.schema == pl.Schema(
        {
            "seq": pl.UInt64,
            "at": pl.Datetime("ms", "UTC"),
            "kind": pl.String,
            "actor": pl.UInt64,
            "subject": pl.UInt64,
            "request_id": pl.UInt64,
            "detail": pl.String,
        }
    )
    assert df.height == len(net.events())
    assert df["seq"].to_list() == list(range(1, df.height + 1))
    assert df.filter(pl.col("kind") == "invitation_declined")["actor"].to_list() == [2]
    assert df["at"][0] == T0.astimezone(UTC)


def test_since_and_snapshot(net: Network) -> None:
    scenario(net)
    total = len(net.events())
    stream = net.events_arrow(since=3)
    net.register(99, at=at(10))
    table = pa.table(stream)
    assert table.num_rows == total - 3
    assert table["seq"].to_pylist() == list(range(4, total + 1))
    # The stream can be read again, and still ends where it was made.
    assert pa.table(stream).num_rows == total - 3
    assert pa.table(net.events_arrow(since=total + 1)).num_rows == 0
    assert pa.table(net.events_arrow(since=2**64 - 1)).num_rows == 0
    assert "EventStream(since=3" in repr(stream)


def test_empty_log_has_the_schema(net: Network) -> None:
    table = pa.table(net.events_arrow())
    assert table.num_rows == 0
    assert table.schema == SCHEMA
    assert pa.schema(net.events_arrow()) == SCHEMA


def test_many_batches(net: Network) -> None:
    n = 70_000  # more than one 65,536-row batch
    for m in range(n):
        net.register(m, at=T0)
    reader = pa.RecordBatchReader.from_stream(net.events_arrow())
    sizes = [b.num_rows for b in reader]
    assert sum(sizes) == n
    assert len(sizes) == 2
    table = pa.table(net.events_arrow(since=100))
    assert table["seq"].to_pylist() == list(range(101, n + 1))
    assert table["actor"].to_pylist() == list(range(100, n))


def test_compact_keeps_the_log_and_its_export_identical(net: Network) -> None:
    for m in range(1, 60):
        net.register(m, at=T0)
    for m in range(2, 60):
        rid = net.send(m, m - 1, f"note {m}", at=at(m))
        if m % 3:
            net.accept(m - 1, rid, at=at(m))
    before_rows = pa.table(net.events_arrow()).to_pylist()
    before_events = net.events()
    net.compact()
    assert pa.table(net.events_arrow()).to_pylist() == before_rows
    assert net.events() == before_events
    assert net.events(since=100, limit=7) == before_events[100:107]
    assert net.check() == []


def as_rows(net: Network) -> list[dict[str, object]]:
    return [row_of(e) for e in net.events()]


def test_merged_records_and_the_tail_export_as_events_across_a_reopen(tmp_path: Path) -> None:
    # Enough commands for several merged log records and a tail after them.
    net = Network.open(tmp_path / "db")
    for m in range(1, 400):
        net.register(m, name=f'Member "{m}" é', at=T0)
    for m in range(2, 400):
        rid = net.send(m, m - 1, f"note {m}", at=at(m))
        if m % 3:
            net.accept(m - 1, rid, at=at(m))
        elif m % 5:
            net.withdraw(m, rid, "sorry", at=at(m))
    expected = as_rows(net)
    assert pa.table(net.events_arrow()).to_pylist() == expected
    assert pa.table(net.events_arrow(since=1000)).to_pylist() == expected[1000:]
    net.close()
    net = Network.open(tmp_path / "db")
    assert pa.table(net.events_arrow()).to_pylist() == expected
    assert pl.DataFrame(net.events_arrow())["detail"].to_list() == [r["detail"] for r in expected]
    net.close()

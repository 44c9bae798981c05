"""The Parquet dataset of ``connreq events --format parquet --out DIR`` read by
the engines it is for: DuckDB, polars and Dask on a ``LocalCluster`` each give
the counts by kind and month that ``events()`` gives, and a second export adds
only the new rows."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dask.dataframe as dd
import duckdb
import polars as pl
import pytest
from dask.distributed import Client as DaskClient
from dask.distributed import LocalCluster

from connreq import Network, run_cli

#: The first moment of the generated history (2026-01-30, so it spans month ends).
START = datetime(2026, 1, 30, 9, 0, tzinfo=UTC)

Counts = Counter[tuple[str, str]]


@pytest.fixture(scope="module")
def dask_client() -> Iterator[DaskClient]:
    """A local Dask cluster of two worker processes, as a distributed run would have."""
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        DaskClient(cluster) as client,
    ):
        yield client


def grow(db: Path, first_member: int, members: int, start: datetime, days: int, seed: int) -> None:
    """Adds members who invite each other over ``days`` from ``start``; about
    half the invitations are answered."""
    rng = random.Random(seed)
    with Network.open(db) as net:
        t = start
        step = timedelta(days=days) / (members * 4)
        ids = list(range(first_member, first_member + members))
        for m in ids:
            net.register(m, email=f"m{m}@example.com", name=f"Member {m}", at=t)
            t += step
        everyone = list(range(1, first_member + members))
        for m in ids:
            for other in rng.sample(everyone, 3):
                if other == m:
                    continue
                try:
                    rid = net.send(m, other, f"hello {other}", at=t)
                except Exception:  # already pending or connected: the rules said no
                    continue
                t += step
                answer = rng.random()
                if answer < 0.4:
                    net.accept(other, rid, at=t)
                elif answer < 0.5:
                    net.decline(other, rid, "not now", at=t)
                elif answer < 0.6:
                    net.withdraw(m, rid, at=t)


def export(db: Path, out: Path) -> None:
    assert run_cli(["connreq", "--db", str(db), "events", "--format", "parquet", "--out", str(out)]) == 0


def expected(db: Path) -> Counts:
    """Counts by (kind, month) from ``events()``."""
    with Network.open(db, read_only=True) as net:
        return Counter((e.kind, e.at.astimezone(UTC).strftime("%Y-%m")) for e in net.events())


def by_duckdb(out: Path) -> Counts:
    rows = duckdb.sql(
        f"SELECT kind, month, count(*) FROM read_parquet('{out}/*/*.parquet', hive_partitioning = true) "
        "GROUP BY kind, month"
    ).fetchall()
    return Counter({(str(k), str(m)): int(n) for k, m, n in rows})


def by_polars(out: Path) -> Counts:
    frame = pl.scan_parquet(out / "**" / "*.parquet", hive_partitioning=True).group_by("kind", "month").len().collect()
    return Counter({(str(k), str(m)): int(n) for k, m, n in frame.iter_rows()})


def by_dask(out: Path, client: DaskClient) -> Counts:
    frame = dd.read_parquet(str(out), engine="pyarrow")
    sizes = client.compute(frame.groupby(["kind", "month"], observed=True).size()).result()
    return Counter({(str(k), str(m)): int(n) for (k, m), n in sizes.items() if n})


def seqs(out: Path) -> list[int]:
    return sorted(duckdb.sql(f"SELECT seq FROM read_parquet('{out}/*/*.parquet')").fetchnumpy()["seq"].tolist())


def test_duckdb_polars_and_dask_count_what_events_counts_and_a_second_export_adds_only_new_rows(
    tmp_path: Path, dask_client: DaskClient
) -> None:
    db, out = tmp_path / "net.db", tmp_path / "dataset"
    grow(db, 1, 150, START, days=70, seed=1)
    export(db, out)
    first = expected(db)
    months = {m for _, m in first}
    assert {"2026-01", "2026-02", "2026-03", "2026-04"} <= months, months
    assert sorted({p.parent.name for p in out.glob("*/*.parquet")}) == sorted(f"month={m}" for m in months)
    assert by_duckdb(out) == first
    assert by_polars(out) == first
    assert by_dask(out, dask_client) == first
    files_before = {p: p.stat().st_mtime_ns for p in out.glob("*/*.parquet")}
    total_before = sum(first.values())
    assert seqs(out) == list(range(1, total_before + 1))

    # More history, in the last month exported and the months after.
    with Network.open(db, read_only=True) as net:
        last = net.events()[-1].at
    grow(db, 151, 60, last + timedelta(minutes=1), days=40, seed=2)
    export(db, out)
    second = expected(db)
    total = sum(second.values())
    assert total > total_before
    # The files of the first run are untouched; the new ones hold exactly the new events.
    files_after = {p: p.stat().st_mtime_ns for p in out.glob("*/*.parquet")}
    assert {p: files_after.get(p) for p in files_before} == files_before
    new_files = sorted(set(files_after) - set(files_before))
    assert new_files
    (new_rows,) = duckdb.sql(
        "SELECT min(seq), max(seq), count(*) FROM read_parquet([" + ", ".join(f"'{p}'" for p in new_files) + "])"
    ).fetchall()
    assert new_rows == (total_before + 1, total, total - total_before)
    assert seqs(out) == list(range(1, total + 1))
    assert by_duckdb(out) == second
    assert by_polars(out) == second
    assert by_dask(out, dask_client) == second

    # A third run with nothing new writes nothing.
    export(db, out)
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/*.parquet")} == files_after

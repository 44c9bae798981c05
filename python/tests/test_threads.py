"""One network shared by many threads: nothing lost, the log stays gapless."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from conftest import T0
from connreq import Network

THREADS = 8
SENDS = 40


def test_concurrent_sends_lose_nothing(net: Network) -> None:
    senders = range(1, THREADS + 1)
    recipients = range(1000, 1000 + SENDS)
    for m in [*senders, *recipients]:
        net.register(m, at=T0)
    start = threading.Barrier(THREADS)

    def work(sender: int) -> list[int]:
        start.wait()
        ids = [net.send(sender, r, f"from {sender}") for r in recipients]
        assert [r.id for r in net.sent(sender)] == ids
        return ids

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, senders))

    all_ids = [i for ids in results for i in ids]
    assert len(set(all_ids)) == THREADS * SENDS
    assert sorted(all_ids) == list(range(1, THREADS * SENDS + 1))
    events = net.events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    sent = [e for e in events if e.kind == "invitation_sent"]
    assert len(sent) == THREADS * SENDS
    assert {(e.actor, e.subject) for e in sent} == {(s, r) for s in senders for r in recipients}
    assert net.stats()["requests"]["pending"] == THREADS * SENDS
    assert net.check() == []


def test_queries_run_beside_commands(net: Network) -> None:
    for m in range(1, 202):
        net.register(m, at=T0)
    done = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        while not done.is_set():
            seen.append(len(net.received(1)))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for m in range(2, 202):
            net.send(m, 1)
    finally:
        done.set()
        t.join()
    assert seen == sorted(seen)
    assert len(net.received(1)) == 200

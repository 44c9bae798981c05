"""Email delivery throughput: ``dispatch_emails`` to a real SMTP server (aiosmtpd) on
127.0.0.1, over one connection, each email marked sent (target: at least 1,000 emails a
second).

    .venv/bin/python benches/python/smtp_throughput.py [--emails 5000] [--runs 3]

Each run builds a fresh temporary network whose outbox holds ``--emails`` invitation
emails (with notes), then times one ``dispatch_emails`` that sends them all and marks
them sent. Prints each run and the median.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiosmtpd.controller import Controller

from connreq import Network

T0 = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)


class Counter:
    """Takes every message and counts it."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(emails: int, url: str, counter: Counter) -> float:
    with Network.temporary() as net:
        for m in range(emails + 1):
            net.register(m, email=f"m{m}@example.com", name=f"Member {m}", at=T0)
        for m in range(1, emails + 1):
            net.send(0, m, "We met at the conference & liked the talk", at=T0)
        before = counter.received
        start = time.perf_counter()
        sent = net.dispatch_emails(url, at=T0 + timedelta(hours=1))
        elapsed = time.perf_counter() - start
        assert sent == emails, sent
        assert counter.received - before == emails
        assert net.pending_emails() == []
        return emails / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    counter = Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        rates = []
        for i in range(args.runs):
            rate = run(args.emails, f"smtp://127.0.0.1:{port}", counter)
            rates.append(rate)
            print(f"run {i}: {rate:,.0f} emails/s")
        print(f"median: {statistics.median(rates):,.0f} emails/s over one connection (target: 1,000)")
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

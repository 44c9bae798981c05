"""Shared fixtures: networks, fixed times and a real SMTP server on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, settings

from connreq import Network

settings.register_profile(
    "connreq",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# A longer search, for hunting bugs by hand: pytest --hypothesis-profile=thorough
settings.register_profile("thorough", parent=settings.get_profile("connreq"), max_examples=2000)
settings.load_profile("connreq")

#: A fixed moment all scenario times are taken from (2026-10-03T12:00:00Z).
T0 = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)


def at(minutes: float = 0, *, days: float = 0) -> datetime:
    """``T0`` plus the given offset."""
    return T0 + timedelta(minutes=minutes, days=days)


@pytest.fixture
def net() -> Iterator[Network]:
    """A fresh temporary network with the standard policy."""
    n = Network.temporary()
    yield n
    n.close()


@pytest.fixture
def people(net: Network) -> Network:
    """``net`` with members 1 (Ada), 2 (Bob), 3 (Cy) and 4 (Di), all with email addresses."""
    for member, name in [(1, "Ada"), (2, "Bob"), (3, "Cy"), (4, "Di")]:
        net.register(member, email=f"{name.lower()}@example.com", name=name, at=T0)
    return net


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """What the SMTP server received."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""

    port: int
    mailbox: Mailbox
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A running SMTP server on a free loopback port."""
    server = SmtpServer(port=free_port(), mailbox=Mailbox())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """An SMTP server that is not started yet (nothing listens on its port)."""
    server = SmtpServer(port=free_port(), mailbox=Mailbox())
    yield server
    server.stop()

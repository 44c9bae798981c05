"""Shared fixtures: networks, fixed times and a real SMTP server on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, settings

from connreq import Client, Network

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


#: The service key and token secret every test server runs with.
API_KEY = "test-service-key"
TOKEN_SECRET = "test-token-secret"


def wait_until(condition: Any, *, seconds: float = 20.0, what: str = "the condition") -> Any:
    """Polls ``condition()`` until it returns something truthy, and returns that; fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        time.sleep(0.01)


@dataclass
class Server:
    """A real ``connreq serve`` process (``python -m connreq serve``) on 127.0.0.1."""

    db: str
    port: int = 0
    extra: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    log_path: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs: Any) -> Client:
        """A client with the service key (or the given ``token``)."""
        if "token" not in kwargs:
            kwargs["api_key"] = API_KEY
        return Client(self.url, **kwargs)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def start(self) -> Server:
        if not self.port:
            self.port = free_port()
        env = dict(os.environ, CONNREQ_API_KEY=API_KEY, CONNREQ_TOKEN_SECRET=TOKEN_SECRET)
        self.log_path = self.db + ".log"
        with open(self.log_path, "ab") as log:
            listen = f"127.0.0.1:{self.port}"
            self.process = subprocess.Popen(
                [sys.executable, "-m", "connreq", "--db", self.db, "serve", "--listen", listen, *self.extra],
                env=env,
                stdout=log,
                stderr=log,
            )

        def up() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}: {self.log()}")
            return self.healthy()

        wait_until(up, what="the server starting")
        return self

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self) -> int:
        """SIGTERM, then waits: the exit code."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def kill(self) -> None:
        """SIGKILL, then waits."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture
def server(tmp_path: Any) -> Iterator[Server]:
    """A running server on a fresh database."""
    s = Server(db=str(tmp_path / "served.db")).start()
    yield s
    s.kill()


@pytest.fixture
def net() -> Iterator[Network]:
    """A fresh temporary network with the standard policy, in process."""
    n = Network.temporary()
    yield n
    n.close()


@pytest.fixture(params=["network", "client"])
def any_net(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Network]:
    """A fresh network with the standard policy: in process (``Network``), and
    through a real ``connreq serve`` over HTTP (``Client`` with the service
    key). A test module that overrides ``net`` with it runs every test both ways."""
    if request.param == "network":
        n = Network.temporary()
        yield n
        n.close()
        return
    s = Server(db=str(tmp_path / "served.db")).start()
    c = s.client()
    yield c  # type: ignore[misc]
    c.close()
    assert s.stop() == 0, s.log()


def register_people(net: Network) -> Network:
    """Registers members 1 (Ada), 2 (Bob), 3 (Cy) and 4 (Di), all with email addresses."""
    for member, name in [(1, "Ada"), (2, "Bob"), (3, "Cy"), (4, "Di")]:
        net.register(member, email=f"{name.lower()}@example.com", name=name, at=T0)
    return net


@pytest.fixture
def people(net: Network) -> Network:
    """``net`` with members 1 (Ada), 2 (Bob), 3 (Cy) and 4 (Di), all with email addresses."""
    return register_people(net)


@pytest.fixture
def local_people() -> Iterator[Network]:
    """``people`` on an in-process network (for what only a local network has, like ``check()``)."""
    n = Network.temporary()
    yield register_people(n)
    n.close()


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

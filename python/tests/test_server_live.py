"""``connreq serve`` under the conditions it is for: live notification streams, the email loop
against a real SMTP server, many client processes at once, and SIGKILL under load.

Kill points: ``CONNREQ_KILL_POINTS`` (default 6 in a normal run; the full run in
docs/RELIABILITY.md uses 50)."""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
import os
import random
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

import connreq
from conftest import API_KEY, TOKEN_SECRET, Server, SmtpServer, free_port, wait_until
from connreq import Client, member_token


class Stream:
    """An open ``notifications/stream`` of one member, read event by event."""

    def __init__(self, server: Server, member: int, last_event_id: int | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        headers = {"Authorization": f"Bearer {member_token(TOKEN_SECRET, member)}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/v1/me/notifications/stream", headers=headers)
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("content-type", "").startswith("text/event-stream")
        self.events: list[tuple[str, int, dict[str, Any]]] = []
        self.ended = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line == "":
                    if "data" in fields:
                        self.events.append((fields.get("event", ""), int(fields["id"]), json.loads(fields["data"])))
                    fields = {}
                elif not line.startswith(":"):
                    key, _, value = line.partition(":")
                    fields[key] = value[1:] if value.startswith(" ") else value
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            pass
        self.ended = True

    def wait_for(self, count: int, seconds: float) -> list[tuple[str, int, dict[str, Any]]]:
        wait_until(lambda: len(self.events) >= count, seconds=seconds, what=f"{count} stream events")
        return list(self.events)

    def close(self) -> None:
        sock = self.conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=10)
        self.response.close()
        self.conn.close()


def test_a_notification_reaches_an_open_stream_within_a_second_and_a_reconnect_misses_nothing(
    server: Server,
) -> None:
    net = server.client()
    for m in (1, 2, 3, 4):
        net.register(m, name=f"M{m}", at=1)
    stream = Stream(server, 2)
    try:
        rid = net.send(1, 2, "hello", at=2)
        [(kind, first_id, data)] = stream.wait_for(1, seconds=1.0)
        assert kind == "notification"
        [n] = net.notifications(2)
        assert (first_id, data["id"], data["kind"], data["request_id"], data["actor"]) == (
            n.id,
            n.id,
            "invitation_received",
            rid,
            1,
        )
        # Another member's notifications never reach this stream.
        other = net.send(2, 3, at=3)
        net.decline(3, other, at=4)  # tells member 2
    finally:
        stream.close()
    # While no stream is open, three more arrive.
    net.send(3, 2, at=5)
    net.send(4, 2, at=6)
    wanted = [n.id for n in net.notifications(2)]
    assert len(wanted) == 4
    again = Stream(server, 2, last_event_id=first_id)
    try:
        got = again.wait_for(3, seconds=5)
        assert [e[1] for e in got] == wanted[1:]
        net.withdraw(4, net.sent(4)[0].id, at=7)
        got = again.wait_for(4, seconds=1.0)
        ids = [e[1] for e in got]
        assert ids == sorted(set(ids))  # in order, never twice
        assert ids[:3] == wanted[1:]
    finally:
        again.close()


def test_shutdown_ends_open_streams(server: Server) -> None:
    net = server.client()
    net.register(1, at=1)
    stream = Stream(server, 1)
    assert server.stop() == 0
    wait_until(lambda: stream.ended, seconds=10, what="the stream ending")
    stream.close()


def smtp_server(port: int) -> SmtpServer:
    from conftest import Mailbox

    return SmtpServer(port=port, mailbox=Mailbox())


@pytest.fixture
def mail_server(tmp_path: Any, smtp: SmtpServer) -> Iterator[Server]:
    s = Server(db=str(tmp_path / "mail.db"), extra=["--smtp", smtp.url]).start()
    yield s
    s.kill()


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def test_an_email_goes_out_within_two_seconds_of_its_due_time(mail_server: Server, smtp: SmtpServer) -> None:
    net = mail_server.client()
    start = now_ms()
    net.register(1, email="ada@example.com", name="Ada", at=start - 200_000)
    net.register(2, email="bob@example.com", name="Bob", at=start - 200_000)
    # Sent 119 s ago: with the standard 2-minute delay the email is due in about a second.
    net.send(1, 2, "hi", at=start - 119_000)
    [email] = net.pending_emails()
    due = email.due_at.timestamp()
    deadline = due + 2.0 - time.time()
    wait_until(lambda: smtp.mailbox.messages, seconds=max(deadline, 0.01), what="the email arriving")
    [(to, message)] = smtp.mailbox.messages
    assert to == ["bob@example.com"]
    assert re.fullmatch(rf"<{email.id}\.[0-9a-f]{{32}}@localhost>", message["Message-ID"]), message["Message-ID"]
    assert message.get_content_type() == "multipart/alternative"
    # No public URL: no unsubscribe headers.
    assert message["List-Unsubscribe"] is None
    wait_until(lambda: net.pending_emails() == [], seconds=2, what="the email recorded as sent")


def test_a_failing_smtp_server_loses_nothing_and_sends_nothing_twice(tmp_path: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = smtp_server(port)
    server = Server(db=str(tmp_path / "db"), extra=["--smtp", smtp.url]).start()
    try:
        net = server.client()
        past = now_ms() - 600_000
        for m in range(1, 7):
            net.register(m, email=f"m{m}@example.com", at=past)
        for m in range(2, 7):
            net.send(1, m, at=past + m)
        assert len(net.pending_emails()) == 5

        def failures() -> bool:
            with socket.create_connection(("127.0.0.1", server.port)) as c:
                c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                text = b"".join(iter(lambda: c.recv(65536), b"")).decode()
            return "connreq_emails_failed_total 0" not in text

        wait_until(failures, seconds=10, what="the mail loop meeting the failing server")
        assert smtp.mailbox.messages == []
        smtp.start()
        wait_until(lambda: len(smtp.mailbox.messages) >= 5, seconds=40, what="every email after the server came back")
        wait_until(lambda: net.pending_emails() == [], seconds=5, what="every email recorded")
        # A restart finds nothing left to send.
        assert server.stop() == 0
        server.start()
        net = server.client()
        assert net.pending_emails() == []
        assert net.stats()["unsent_emails"] == 0
        ids = [m["Message-ID"] for _, m in smtp.mailbox.messages]
        assert len(ids) == 5
        assert len(set(ids)) == 5
    finally:
        server.kill()
        smtp.stop()


def _race(args: tuple[str, str, list[int], int, int]) -> list[tuple[int, bool]]:
    url, role, ids, sender, recipient = args
    client = Client(url, api_key=API_KEY)
    order = ids[:]
    random.shuffle(order)
    out = []
    for rid in order:
        try:
            if role == "accept":
                client.accept(recipient, rid)
            else:
                client.withdraw(sender, rid)
            out.append((rid, True))
        except (connreq.InvalidTransition, connreq.NotAuthorized):
            out.append((rid, False))
    return out


def _sends(args: tuple[str, int, list[int]]) -> list[int]:
    url, sender, recipients = args
    client = Client(url, api_key=API_KEY)
    return [client.send(sender, r) for r in recipients]


def test_eight_processes_racing_accept_against_withdraw_have_one_winner_each_time(server: Server) -> None:
    net = server.client()
    pairs = [(s, r) for s in range(1, 9) for r in range(101, 109)]
    for m in {*range(1, 9), *range(101, 109)}:
        net.register(m)
    ids = {pair: net.send(*pair) for pair in pairs}
    jobs = []
    for s in range(1, 9):
        # For each sender, one process withdraws and one accepts (as each recipient) the same requests.
        mine = [ids[(s, r)] for r in range(101, 109)]
        jobs.append((server.url, "withdraw", mine, s, 0))
    results: list[list[tuple[int, bool]]] = []
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        accepts = []
        for r in range(101, 109):
            mine = [ids[(s, r)] for s in range(1, 9)]
            accepts.append((server.url, "accept", mine, 0, r))
        results = pool.map(_race, jobs + accepts)
    wins: dict[int, int] = {}
    for rows in results:
        for rid, won in rows:
            wins[rid] = wins.get(rid, 0) + int(won)
    assert sorted(wins) == sorted(ids.values())
    assert set(wins.values()) == {1}
    for (s, r), rid in ids.items():
        assert net.request(rid).state in ("accepted", "withdrawn")
        assert net.are_connected(s, r) == (net.request(rid).state == "accepted")


def test_eight_processes_sending_at_once_leave_no_gap_or_duplicate(server: Server) -> None:
    net = server.client()
    for m in range(1, 9):
        net.register(m)
    for m in range(1000, 1040):
        net.register(m)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(8) as pool:
        sent = pool.map(_sends, [(server.url, s, list(range(1000, 1040))) for s in range(1, 9)])
    rids = [rid for rows in sent for rid in rows]
    assert len(rids) == len(set(rids)) == 8 * 40
    events = net.events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    sends = [e.request_id for e in events if e.kind == "invitation_sent"]
    assert sorted(sends) == sorted(rids)


def test_a_server_killed_under_load_loses_no_acknowledged_command(tmp_path: Any) -> None:
    rounds = int(os.environ.get("CONNREQ_KILL_POINTS", "6"))
    rng = random.Random(int(os.environ.get("CONNREQ_KILL_SEED", "12")))
    server = Server(db=str(tmp_path / "killed.db"))
    acknowledged_members: set[int] = set()
    acknowledged_requests: dict[int, tuple[int, int]] = {}
    lock = threading.Lock()
    next_member = [1]
    for _ in range(rounds):
        server.start()
        client = server.client(timeout=5.0)
        stop = threading.Event()

        def load(client: Client = client, stop: threading.Event = stop) -> None:
            while not stop.is_set():
                with lock:
                    m = next_member[0]
                    next_member[0] += 1
                try:
                    client.register(m)
                except connreq.ConnreqError:
                    return
                with lock:
                    acknowledged_members.add(m)
                    others = sorted(acknowledged_members - {m})
                if not others:
                    continue
                other = others[m % len(others)]
                try:
                    rid = client.send(m, other, f"note {m}")
                except connreq.ConnreqError:
                    return
                with lock:
                    acknowledged_requests[rid] = (m, other)

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        target = len(acknowledged_members) + rng.randint(5, 120)
        wait_until(lambda target=target: len(acknowledged_members) >= target, seconds=30, what="load")
        server.kill()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        # Restarted: every acknowledged command is there.
        server.start()
        check = server.client()
        for m in sorted(acknowledged_members):
            assert check.public_profile(m)["member"] == m
        for rid, (s, r) in acknowledged_requests.items():
            req = check.request(rid)
            assert (req.sender, req.recipient, req.note) == (s, r, f"note {s}")
        server.kill()
    with connreq.Network.open(server.db) as net:
        assert net.check() == []
        assert len(acknowledged_requests) > 0


def test_one_click_unsubscribe_from_an_email_a_get_shows_a_page_and_only_a_post_switches_off(
    tmp_path: Any, smtp: SmtpServer
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    server = Server(db=str(tmp_path / "db"), port=port, extra=["--smtp", smtp.url, "--public-url", public]).start()
    try:
        net = server.client()
        start = now_ms() - 600_000
        net.register(1, email="ada@example.com", name="Ada", at=start)
        net.register(2, email="bob@example.com", name="Bob", at=start)
        net.send(1, 2, at=start + 1)
        wait_until(lambda: smtp.mailbox.messages, seconds=10, what="the invitation email")
        [(_, message)] = smtp.mailbox.messages
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = message["List-Unsubscribe"].strip("<>")
        assert link.startswith(f"{public}/v1/unsubscribe/2.invitation_received."), link
        plain = message.get_body(preferencelist=("plain",))
        assert plain is not None
        assert link in plain.get_content()
        path = link[len(public) :]

        def ask(method: str, target: str) -> tuple[int, str, dict[str, str]]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(method, target, body=b"List-Unsubscribe=One-Click" if method == "POST" else None)
            r = conn.getresponse()
            answer = (r.status, r.read().decode(), {k.lower(): v for k, v in r.getheaders()})
            conn.close()
            return answer

        status, page, headers = ask("GET", path)
        assert status == 200
        assert '<form method="post">' in page
        assert "default-src 'none'" in headers["content-security-policy"]
        assert net.email_preferences(2)["invitation_received"] is True, "a GET changes nothing"
        # A forged or altered token changes nothing either.
        for forged in (path[:-2] + ("00" if not path.endswith("00") else "11"), "/v1/unsubscribe/1.all.00"):
            assert ask("POST", forged)[0] == 404
        assert net.email_preferences(2)["invitation_received"] is True
        status, page, _ = ask("POST", path)
        assert status == 200, page
        assert "no longer receive" in page
        assert net.email_preferences(2) == {
            "invitation_received": False,
            "invitation_accepted": True,
            "invitation_declined": True,
            "invitation_withdrawn": True,
            "invitation_reminder": True,
        }
        assert ask("POST", path)[0] == 200, "a second click is fine"
    finally:
        server.kill()

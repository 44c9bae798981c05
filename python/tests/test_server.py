"""``connreq serve`` over real HTTP: credentials on every route, idempotency keys, bad input, the
OpenAPI document, operations, and the command line against a running server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import connreq
from conftest import API_KEY, T0, TOKEN_SECRET, Server, at, free_port, wait_until
from connreq import member_token


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    server: Server,
    method: str,
    path: str,
    body: object = None,
    *,
    credential: str | None = API_KEY,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    h = dict(headers or {})
    if credential is not None:
        h["Authorization"] = f"Bearer {credential}"
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    if data is not None:
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    answer = Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    conn.close()
    return answer


def token(member: int, *, moderator: bool = False, ttl: timedelta = timedelta(hours=1)) -> str:
    return member_token(TOKEN_SECRET, member, ttl=ttl, moderator=moderator)


def setup_pair(server: Server) -> int:
    """Members 1..3 with addresses; a pending request 1 -> 2; returns its id."""
    for m in (1, 2, 3):
        assert call(server, "POST", "/v1/members", {"member": m, "email": f"m{m}@example.com", "at": 1}).status == 201
    answer = call(server, "POST", "/v1/requests", {"sender": 1, "recipient": 2, "at": 2})
    assert answer.status == 201, answer.body
    rid: int = answer.json()["id"]
    return rid


#: Every route of the API today, with a body that is valid for the service key.
ROUTES: list[tuple[str, str, object]] = [
    ("POST", "/v1/members", {"member": 9}),
    ("PUT", "/v1/members/2/invitation-setting", {"setting": "everyone"}),
    ("POST", "/v1/members/2/contacts", {"emails": ["x@example.com"]}),
    ("POST", "/v1/requests", {"sender": 2, "recipient": 3}),
    ("POST", "/v1/requests/{rid}/accept", {"recipient": 2}),
    ("POST", "/v1/requests/{rid}/ignore", {"recipient": 2}),
    ("POST", "/v1/requests/{rid}/decline", {"recipient": 2}),
    ("POST", "/v1/requests/{rid}/withdraw", {"sender": 1}),
    ("GET", "/v1/requests/{rid}", None),
    ("GET", "/v1/members/2/sent", None),
    ("GET", "/v1/members/2/received", None),
    ("GET", "/v1/members/2/connections", None),
    ("GET", "/v1/members/2/notifications", None),
    ("GET", "/v1/members/2/profile", None),
    ("GET", "/v1/members/2/standing", None),
    ("GET", "/v1/members/2/mutual/3", None),
    ("DELETE", "/v1/members/2/connections/3", {}),
    ("PUT", "/v1/members/2/blocks/3", {}),
    ("DELETE", "/v1/members/2/blocks/3", {}),
    ("GET", "/v1/members/2/blocks/3", None),
    ("POST", "/v1/reports", {"reporter": 2, "reported": 3, "reason": "spam"}),
    ("POST", "/v1/members/2/notifications/read", {"ids": []}),
    ("GET", "/v1/members/2/notifications/stream", None),
    ("GET", "/v1/flags?status=open", None),
    ("POST", "/v1/flags/1/resolve", {"decision": "clear"}),
    ("GET", "/v1/events?since=0", None),
    ("GET", "/v1/stats", None),
    ("POST", "/v1/expire", {}),
    ("GET", "/v1/emails/pending", None),
    ("POST", "/v1/emails/sent", {"ids": []}),
    ("POST", "/v1/emails/undeliverable", {"ids": []}),
    ("GET", "/v1/emails/1", None),
    ("GET", "/v1/members/2/email-preferences", None),
    ("PUT", "/v1/members/2/email-preferences/invitation_received", {"enabled": False}),
    ("PUT", "/v1/members/2/email-frequency", {"frequency": "daily"}),
    ("PUT", "/v1/members/2/locale", {"locale": "de"}),
    ("GET", "/v1/members/2/invitations", None),
    ("GET", "/v1/members/2/suggestions", None),
    ("GET", "/v1/members/2/export", None),
    ("PATCH", "/v1/members/2", {"name": "Someone Else"}),
    ("POST", "/v1/members/2/withdraw-all", {}),
    ("DELETE", "/v1/members/2", {}),
    ("GET", "/v1/flags/1", None),
    ("GET", "/v1/flags/1/events", None),
    ("POST", "/v1/members/2/lift-restriction", {}),
]


def test_every_route_is_in_the_openapi_document(server: Server) -> None:
    doc = call(server, "GET", "/v1/openapi.json", credential=None).json()
    for method, path, _ in ROUTES:
        template = path.split("?")[0].replace("{rid}", "{id}")
        template = (
            re.sub(r"/members/2(/|$)", r"/members/{m}\1", template)
            .replace("/3", "/{other}")
            .replace("/emails/1", "/emails/{id}")
            .replace("/email-preferences/invitation_received", "/email-preferences/{kind}")
        )
        template = re.sub(r"/flags/1(/|$)", r"/flags/{id}\1", template)
        assert template in doc["paths"], template
        assert method.lower() in doc["paths"][template], (method, template)
    for path in ("/healthz", "/metrics"):
        assert path in doc["paths"]


def test_without_credentials_or_with_bad_ones_every_route_is_401(server: Server) -> None:
    rid = setup_pair(server)
    good = token(2).split(".")
    tampered = ".".join([good[0], token(1).split(".")[1], good[2]])
    foreign = member_token("another-secret", 2)
    for method, path, body in ROUTES:
        path = path.replace("{rid}", str(rid))
        for credential in (None, "wrong-key", API_KEY + "x", tampered, foreign, "not.a.jwt"):
            a = call(server, method, path, body, credential=credential)
            assert a.status == 401, (method, path, credential, a.body)
            assert a.json()["error"] == "NotAuthorized"


def test_an_expired_token_is_401(server: Server) -> None:
    # A token signed with the right secret whose exp has passed.
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": "2", "exp": 1_000_000}).encode())
    sig = b64(hmac.new(TOKEN_SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest())
    expired_token = f"{header}.{claims}.{sig}"
    assert call(server, "GET", "/v1/members/2/sent", credential=expired_token).status == 401
    # The same token with a live exp is accepted: the refusal is the expiry.
    claims = b64(json.dumps({"sub": "2", "exp": 4_000_000_000}).encode())
    sig = b64(hmac.new(TOKEN_SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest())
    assert call(server, "GET", "/v1/members/2/sent", credential=f"{header}.{claims}.{sig}").status == 404


def test_a_member_token_never_acts_as_or_reads_another_member(server: Server) -> None:
    rid = setup_pair(server)
    other = token(3)  # member 3 is party to nothing
    for method, path, body in ROUTES:
        path = path.replace("{rid}", str(rid))
        a = call(server, method, path, body, credential=other)
        if path.endswith("/profile"):
            # The public profile (id, name, connection count) is for anyone signed in.
            assert a.status == 200
            continue
        assert a.status in (400, 403, 404), (method, path, a.status, a.body)
        if "/v1/requests/" in path:
            # A request the token is not party to does not exist for it.
            assert a.status == 404, (method, path, a.body)
            assert a.json()["error"] == "NotFound"
    # Nothing changed for members 1 and 2.
    assert call(server, "GET", f"/v1/requests/{rid}").json()["state"] == "pending"
    # A moderator token reads standing and flags but still cannot act as another member.
    mod = token(3, moderator=True)
    assert call(server, "GET", "/v1/members/2/standing", credential=mod).status == 200
    assert call(server, "GET", "/v1/flags", credential=mod).status == 200
    assert call(server, "POST", f"/v1/requests/{rid}/accept", {"recipient": 2}, credential=mod).status == 404


def test_under_a_member_token_me_is_the_member_and_the_actor_may_be_left_out(server: Server) -> None:
    rid = setup_pair(server)
    bob = token(2)
    a = call(server, "POST", f"/v1/requests/{rid}/accept", {}, credential=bob)
    assert a.status == 200, a.body
    assert a.json()["state"] == "accepted"
    assert call(server, "GET", "/v1/me/connections", credential=bob).json() == [1]
    assert call(server, "GET", "/v1/me/connections").status == 404  # the service key has no "me"
    assert call(server, "POST", "/v1/requests", {"sender": 1, "recipient": 3}, credential=bob).status == 403
    sent = call(server, "POST", "/v1/requests", {"recipient": 3}, credential=bob)
    assert sent.status == 201
    assert sent.json()["sender"] == 2
    # Standing is the operator's.
    assert call(server, "GET", "/v1/me/standing", credential=bob).status == 403
    # Another member's public profile is for anyone signed in.
    assert call(server, "GET", "/v1/members/1/profile", credential=bob).json()["connection_count"] == 1


def test_a_retry_with_the_same_key_gets_the_first_answer_also_after_a_restart(server: Server) -> None:
    setup_pair(server)
    body = {"sender": 1, "recipient": 3, "note": "once"}
    first = call(server, "POST", "/v1/requests", body, headers={"Idempotency-Key": "k-1"})
    assert first.status == 201
    assert "idempotent-replayed" not in first.headers
    again = call(server, "POST", "/v1/requests", body, headers={"Idempotency-Key": "k-1"})
    assert (again.status, again.body, again.headers.get("idempotent-replayed")) == (201, first.body, "true")
    other = call(server, "POST", "/v1/requests", {**body, "note": "twice"}, headers={"Idempotency-Key": "k-1"})
    assert other.status == 422
    # A refusal is an answer too.
    refused = call(server, "POST", "/v1/requests", {"sender": 1, "recipient": 1}, headers={"Idempotency-Key": "k-2"})
    assert refused.status == 422
    assert server.stop() == 0
    server.start()
    after = call(server, "POST", "/v1/requests", body, headers={"Idempotency-Key": "k-1"})
    assert (after.status, after.body, after.headers.get("idempotent-replayed")) == (201, first.body, "true")
    again = call(server, "POST", "/v1/requests", {"sender": 1, "recipient": 1}, headers={"Idempotency-Key": "k-2"})
    assert (again.status, again.body) == (422, refused.body)
    # Carried out once: one request from 1 to 3.
    assert [r["recipient"] for r in call(server, "GET", "/v1/members/1/sent").json()] == [2, 3]
    # Keys are per caller: a member token's key never replays the service key's answer.
    mine = call(
        server, "POST", "/v1/requests", {"recipient": 2}, credential=token(3), headers={"Idempotency-Key": "k-1"}
    )
    assert mine.status == 201
    assert "idempotent-replayed" not in mine.headers


def test_bad_input_gets_the_documented_answers(server: Server) -> None:
    setup_pair(server)
    cases: list[tuple[str, str, bytes, int]] = [
        ("POST", "/v1/members", b"{not json", 400),
        ("POST", "/v1/members", b'{"member": "one"}', 400),
        ("POST", "/v1/members", b'{"member": -1}', 400),
        ("POST", "/v1/members", b'{"member": 18446744073709551616}', 400),
        ("POST", "/v1/members", b'{"member": 5, "surprise": true}', 400),
        ("POST", "/v1/members", b'{"member": 5, "name": "\\ud800"}', 400),
        ("POST", "/v1/requests", b'{"sender": 1, "recipient": 2, "at": "yesterday"}', 422),
        ("POST", "/v1/requests/18446744073709551616/accept", b'{"recipient": 2}', 400),
        ("POST", "/v1/requests/999999/accept", b'{"recipient": 2}', 404),
        ("GET", "/v1/members/abc/sent", b"", 400),
        ("GET", "/v1/members/77/sent", b"", 404),
        ("GET", "/v1/members/1/sent?state=lost", b"", 422),
        ("GET", "/v1/nowhere", b"", 404),
        ("PATCH", "/v1/members", b"{}", 405),
    ]
    for method, path, raw, status in cases:
        a = call(server, method, path, raw=raw)
        assert a.status == status, (method, path, raw, a.status, a.body)
        err = a.json()
        assert set(err) == {"error", "message"}
        assert "Inline(" not in err["message"]
        assert "backtrace" not in err["message"]
    huge = json.dumps({"member": 6, "name": "x" * 70_000}).encode()
    a = call(server, "POST", "/v1/members", raw=huge)
    assert a.status == 413
    assert a.json()["error"] == "InvalidInput"
    # A time more than a day ahead of the server's clock is refused.
    ahead = int((datetime.now(UTC) + timedelta(days=2)).timestamp() * 1000)
    a = call(server, "POST", "/v1/members", {"member": 7, "at": ahead})
    assert (a.status, a.json()["error"]) == (422, "InvalidInput")


def test_hostile_text_is_stored_as_text_and_comes_back_as_json_text(server: Server) -> None:
    setup_pair(server)
    hostile = '<script>alert("x")</script>\r\nBcc: evil@example.com"\'; DROP TABLE--'
    name = "</b><img src=x onerror=alert(1)>"
    assert call(server, "POST", "/v1/members", {"member": 11, "name": name, "at": 3}).status == 201
    assert call(server, "POST", "/v1/members", {"member": 12, "at": 3}).status == 201
    a = call(server, "POST", "/v1/requests", {"sender": 11, "recipient": 12, "note": hostile, "at": 4})
    # Control characters are refused (InvalidInput); the note without them is stored as it is.
    assert a.status == 422
    clean = hostile.replace("\r", "")
    a = call(server, "POST", "/v1/requests", {"sender": 11, "recipient": 12, "note": clean, "at": 4})
    assert a.status == 201
    assert a.headers["content-type"] == "application/json"
    assert a.json()["note"] == clean
    assert call(server, "GET", "/v1/members/11/profile").json()["name"] == name
    [n] = call(server, "GET", "/v1/members/12/notifications").json()
    # The server adds nothing of its own: the text is the library's, as JSON text.
    with connreq.Network.temporary() as local:
        local.register(11, name=name, at=3)
        local.register(12, at=3)
        local.send(11, 12, clean, at=4)
        [expected] = local.notifications(12)
    assert n["text"] == expected.text
    # In-app texts hold the words as written (SPEC §16); escaping is the displayer's.
    assert n["text"].startswith(name + " wants to connect with you.")
    assert a.headers["content-type"] == "application/json"


def test_rate_limits_answer_429_with_retry_after(tmp_path: Any) -> None:
    s = Server(db=str(tmp_path / "db"), extra=["--policy", "linkedin"]).start()
    try:
        setup_pair(s)
        assert call(s, "POST", "/v1/requests/1/withdraw", {"sender": 1, "at": 3}).status == 200
        a = call(s, "POST", "/v1/requests", {"sender": 1, "recipient": 2, "at": 4})
        assert (a.status, a.json()["error"]) == (429, "CooldownActive")
        assert int(a.headers["retry-after"]) > 20 * 24 * 3600
    finally:
        s.kill()


def test_health_metrics_and_graceful_shutdown(server: Server) -> None:
    setup_pair(server)
    h = call(server, "GET", "/healthz", credential=None)
    assert h.json()["status"] == "ok"
    text = call(server, "GET", "/metrics", credential=None).body.decode()
    for name in (
        'connreq_commands_total{kind="send",outcome="ok"}',
        "connreq_command_seconds_bucket",
        "connreq_flushes_total",
        "connreq_commands_per_flush_bucket",
        "connreq_emails_sent_total",
        "connreq_emails_failed_total",
        "connreq_emails_skipped_total",
        "connreq_open_streams",
    ):
        assert name in text, name
    assert API_KEY not in server.log()
    assert TOKEN_SECRET not in server.log()
    assert server.stop() == 0
    # Stopped cleanly: the database opens at once in this process and is sound.
    with connreq.Network.open(server.db) as net:
        assert net.check() == []
        assert len(net.sent(1)) == 1


def test_a_secrets_file_is_made_beside_the_database_and_never_printed(tmp_path: Any) -> None:
    db = tmp_path / "fresh.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNREQ_")}
    port = free_port()
    p = subprocess.Popen(
        [sys.executable, "-m", "connreq", "--db", str(db), "serve", "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    s = Server(db=str(db), port=port)
    try:
        wait_until(s.healthy, what="the server starting")
        secrets = tmp_path / "fresh.db.secrets"
        assert secrets.stat().st_mode & 0o777 == 0o600
        key = next(line.split("=", 1)[1] for line in secrets.read_text().splitlines() if line.startswith("CONNREQ_API"))
        assert call(s, "GET", "/v1/stats", credential=key).status == 200
        # `connreq token` reads the same file.
        minted = subprocess.run(
            [sys.executable, "-m", "connreq", "--db", str(db), "token", "5"], env=env, capture_output=True, text=True
        )
        assert call(s, "GET", "/v1/me/sent", credential=minted.stdout.strip()).status == 404  # member 5 is unknown
    finally:
        p.terminate()
        out, _ = p.communicate(timeout=30)
    assert p.returncode == 0
    assert "fresh.db.secrets" in out.decode()
    assert key not in out.decode()


def test_the_command_line_runs_operator_commands_against_the_server(server: Server) -> None:
    rid = setup_pair(server)
    env = dict(os.environ, CONNREQ_API_KEY=API_KEY)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "connreq", "--server", server.url, *args], env=env, capture_output=True, text=True
        )

    r = cli("--json", "stats")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["requests"]["pending"] == 1
    assert cli("review").stdout == "the review queue is empty\n"
    r = cli("accept", "2", str(rid))
    assert r.returncode == 0, r.stderr
    assert "accepted" in r.stdout
    r = cli("send", "1", "1")
    assert r.returncode == 1
    assert r.stderr == "error: you cannot send a connection request to yourself\n"
    r = cli("events", "--limit", "2")
    assert [json.loads(line)["kind"] for line in r.stdout.splitlines()] == ["member_registered"] * 2


def test_client_with_a_member_token_acts_only_as_its_member(server: Server) -> None:
    rid = setup_pair(server)
    bob = server.client(token=token(2))
    with pytest.raises(connreq.NotFound):
        server.client(token=token(3)).accept(3, rid)
    with pytest.raises(connreq.NotAuthorized):
        bob.sent(1)
    with pytest.raises(connreq.NotAuthorized):
        bob.stats()
    bob.accept(2, rid, at=at(1))
    assert bob.connections(2) == [1]
    with pytest.raises(connreq.NotAuthorized):
        connreq.Client(server.url, api_key="wrong").stats()
    with bob:
        assert bob.are_connected(2, 1)
    with pytest.raises(connreq.StorageError, match="closed"):
        bob.connections(2)
    assert datetime.now(UTC) > T0


def test_the_outstanding_cap_is_409_naming_it(tmp_path: Any) -> None:
    db = str(tmp_path / "capped.db")
    with connreq.Network.open(db, connreq.Policy(max_outstanding=1)):
        pass  # the database keeps its policy; the server runs under it
    s = Server(db=db).start()
    try:
        setup_pair(s)  # 1 -> 2 is open
        a = call(s, "POST", "/v1/requests", {"sender": 1, "recipient": 3, "at": 3})
        assert a.status == 409, a.body
        assert a.json()["error"] == "OutstandingLimit"
        # Withdrawing the open one makes room.
        assert call(s, "POST", "/v1/members/1/withdraw-all", {"at": 4}).status == 200
        assert call(s, "POST", "/v1/requests", {"sender": 1, "recipient": 3, "at": 5}).status == 201
    finally:
        assert s.stop() == 0, s.log()

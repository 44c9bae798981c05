"""dispatch_emails against a real SMTP server (aiosmtpd) on 127.0.0.1: plain
SMTP, STARTTLS, implicit TLS and AUTH with certificates from a test CA, one
connection for many emails, addresses refused for good, and the message format
of SPEC §10."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

import connreq
from conftest import Mailbox, SmtpServer, at, free_port
from connreq import Network


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert isinstance(plain, EmailMessage)
    assert isinstance(html, EmailMessage)
    return plain.get_content(), html.get_content()


def test_dispatch_delivers_each_email_once(people: Network, smtp: SmtpServer) -> None:
    rid = people.send(1, 2, "We met at <PyCon> & talked", at=at(0))
    assert people.dispatch_emails(smtp.url, at=at(1)) == 0  # nothing due yet
    assert people.dispatch_emails(smtp.url, at=at(5)) == 1
    people.decline(2, rid, "Sorry", at=at(6))
    assert people.dispatch_emails(smtp.url, at=at(10)) == 1
    (to_bob, invitation), (to_ada, decline) = smtp.mailbox.messages
    assert to_bob == ["bob@example.com"]
    assert invitation["To"] == "bob@example.com"
    assert invitation["Subject"] == "Ada wants to connect"
    plain, html = parts(invitation)
    assert "Note: We met at <PyCon> & talked" in plain
    assert "We met at &lt;PyCon&gt; &amp; talked" in html
    assert "<PyCon>" not in html
    assert to_ada == ["ada@example.com"]
    assert decline["Subject"] == "Your connection request was withdrawn"
    assert "Message: Sorry" in parts(decline)[0]
    # A second dispatch sends nothing twice.
    assert people.dispatch_emails(smtp.url, at=at(20)) == 0
    assert len(smtp.mailbox.messages) == 2
    assert people.pending_emails() == []
    assert people.stats()["unsent_emails"] == 0
    assert len([e for e in people.events() if e.kind == "email_sent"]) == 2


def test_every_message_carries_the_headers_providers_require(people: Network, smtp: SmtpServer) -> None:
    people.send(1, 2, at=at(0))
    people.dispatch_emails(smtp.url, sender="Our Network <hello@net.example>", at=at(5))
    [(_, message)] = smtp.mailbox.messages
    assert message["From"] == "Our Network <hello@net.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<1\.[0-9a-f]{32}@net\.example>", message["Message-ID"]), message["Message-ID"]
    assert message["Date"].datetime == at(5)
    # No public URL: no unsubscribe headers (the server adds them, SPEC §12).
    assert message["List-Unsubscribe"] is None


def test_the_message_id_is_stable_across_retries_and_differs_between_databases(smtp: SmtpServer) -> None:
    ids = []
    for _ in range(2):
        with Network.temporary() as n:
            n.register(1, email="a@example.com", name="A", at=at(0))
            n.register(2, email="b@example.com", name="B", at=at(0))
            n.send(1, 2, at=at(0))
            n.dispatch_emails(smtp.url, at=at(5))
            ids.append(smtp.mailbox.messages[-1][1]["Message-ID"])
    assert ids[0] != ids[1]


def test_hostile_names_and_notes_are_as_written_in_text_escaped_in_html_and_add_no_header(
    net: Network, smtp: SmtpServer
) -> None:
    net.register(1, email="eve@example.com", name="Eve <script>x</script> & 'Co' Bcc: a@b.c", at=at(0))
    net.register(2, email="bob@example.com", name="Bob", at=at(0))
    net.send(1, 2, "line one\nBcc: everyone@example.com\n\nSubject: free money <b>now</b>", at=at(0))
    net.dispatch_emails(smtp.url, at=at(5))
    [(rcpt, message)] = smtp.mailbox.messages
    assert rcpt == ["bob@example.com"]
    assert message["Bcc"] is None
    assert message.get_all("Subject") == ["Eve <script>x</script> & 'Co' Bcc: a@b.c wants to connect"]
    plain, html = parts(message)
    assert "Eve <script>x</script> & 'Co' Bcc: a@b.c wants to connect with you." in plain
    assert "Subject: free money <b>now</b>" in plain
    assert "&lt;script&gt;" in html
    assert "<script>" not in html
    assert "<b>now" not in html


def test_one_connection_carries_many_emails(net: Network) -> None:
    sessions: list[str] = []

    class Counting(Mailbox):
        async def handle_EHLO(
            self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
        ) -> list[str]:
            session.host_name = hostname
            sessions.append(hostname)
            return responses

    server = SmtpServer(port=free_port(), mailbox=Counting())
    server.start()
    try:
        for m in range(1, 202):
            net.register(m, email=f"m{m}@example.com", at=at(0))
        for m in range(2, 202):
            net.send(1, m, at=at(0))
        assert net.dispatch_emails(server.url, at=at(5)) == 200
        assert len(server.mailbox.messages) == 200
        assert len(sessions) == 1, sessions
    finally:
        server.stop()


def test_nothing_is_lost_while_the_server_is_down(people: Network, smtp_down: SmtpServer) -> None:
    people.send(1, 2, at=at(0))
    people.send(3, 4, at=at(0))
    with pytest.raises(connreq.MailError) as info:
        people.dispatch_emails(smtp_down.url, at=at(5))
    assert "later" in str(info.value)
    assert len(people.pending_emails()) == 2
    smtp_down.start()
    assert people.dispatch_emails(smtp_down.url, at=at(6)) == 2
    assert sorted(rcpt for rcpt, _ in smtp_down.mailbox.messages) == [["bob@example.com"], ["di@example.com"]]
    assert people.dispatch_emails(smtp_down.url, at=at(7)) == 0
    assert len(smtp_down.mailbox.messages) == 2


class Refusing(Mailbox):
    """Takes every address but those at refused.example, which it refuses for good."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_an_address_the_server_refuses_for_good_is_skipped_and_the_rest_still_go(net: Network) -> None:
    server = SmtpServer(port=free_port(), mailbox=Refusing())
    server.start()
    try:
        net.register(1, email="ada@example.com", name="Ada", at=at(0))
        net.register(2, email="gone@refused.example", name="Gone", at=at(0))
        net.register(3, email="cy@example.com", name="Cy", at=at(0))
        net.send(1, 2, at=at(0))
        net.send(1, 3, at=at(0))
        [to_gone, _] = net.pending_emails()
        assert net.dispatch_emails(server.url, at=at(5)) == 1
        assert [rcpt for rcpt, _ in server.mailbox.messages] == [["cy@example.com"]]
        gone = net.email(to_gone.id)
        assert (gone.status, gone.skip_reason) == ("skipped", "invalid_address")
        assert net.pending_emails() == []
        skipped = [e for e in net.events() if e.kind == "emails_skipped"]
        assert [e.detail for e in skipped] == ['{"emails":[' + str(to_gone.id) + '],"reason":"invalid_address"}']
    finally:
        server.stop()


# --------------------------------------------------------------------- TLS and AUTH


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test CA is the one the client trusts (as SSL_CERT_FILE names it)."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


USERS = {b"mailer": b"s3cret p@ss/word"}


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and USERS.get(auth_data.login) == auth_data.password
    return AuthResult(success=ok, handled=False)


class TlsServer:
    """aiosmtpd with STARTTLS required and AUTH, or with TLS from the first byte."""

    def __init__(self, ca: trustme.CA, *, implicit: bool) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.sessions: list[bool] = []
        context = server_context(ca)
        kwargs: dict[str, Any] = {"authenticator": authenticator, "auth_required": True}
        if implicit:
            kwargs["ssl_context"] = context
            kwargs["auth_require_tls"] = False
        else:
            kwargs.update(tls_context=context, require_starttls=True)
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **kwargs)

    def url(self, scheme: str, credentials: str = "mailer:s3cret%20p%40ss%2Fword@") -> str:
        return f"{scheme}://{credentials}127.0.0.1:{self.port}"


@pytest.fixture
def starttls(ca: trustme.CA) -> Iterator[TlsServer]:
    server = TlsServer(ca, implicit=False)
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def implicit_tls(ca: trustme.CA) -> Iterator[TlsServer]:
    server = TlsServer(ca, implicit=True)
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.mark.usefixtures("trusted")
def test_starttls_with_a_password_delivers(people: Network, starttls: TlsServer) -> None:
    people.send(1, 2, "over TLS", at=at(0))
    assert people.dispatch_emails(starttls.url("smtp"), at=at(5)) == 1
    [(rcpt, message)] = starttls.mailbox.messages
    assert rcpt == ["bob@example.com"]
    assert "Note: over TLS" in parts(message)[0]


@pytest.mark.usefixtures("trusted")
# Over implicit TLS aiosmtpd cannot tell the connection is encrypted and warns that AUTH is.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_a_password_delivers(people: Network, implicit_tls: TlsServer) -> None:
    people.send(1, 2, at=at(0))
    assert people.dispatch_emails(implicit_tls.url("smtps"), at=at(5)) == 1
    assert [rcpt for rcpt, _ in implicit_tls.mailbox.messages] == [["bob@example.com"]]


@pytest.mark.usefixtures("trusted")
def test_a_wrong_password_fails_without_saying_it_and_loses_nothing(people: Network, starttls: TlsServer) -> None:
    people.send(1, 2, at=at(0))
    with pytest.raises(connreq.MailError) as info:
        people.dispatch_emails(starttls.url("smtp", "mailer:wrong-guess@"), at=at(5))
    assert "wrong-guess" not in str(info.value)
    assert starttls.mailbox.messages == []
    assert len(people.pending_emails()) == 1


def test_a_certificate_the_system_does_not_trust_is_refused(people: Network, starttls: TlsServer) -> None:
    # SSL_CERT_FILE is the system's bundle here: the test CA is not in it.
    people.send(1, 2, at=at(0))
    with pytest.raises(connreq.MailError):
        people.dispatch_emails(starttls.url("smtp"), at=at(5))
    assert starttls.mailbox.messages == []
    assert len(people.pending_emails()) == 1


@pytest.mark.usefixtures("trusted")
def test_a_password_is_never_sent_without_tls(people: Network, smtp: SmtpServer) -> None:
    # The plain server offers no STARTTLS: with a password in the address, connreq refuses to go on.
    people.send(1, 2, at=at(0))
    with pytest.raises(connreq.MailError):
        people.dispatch_emails(f"smtp://mailer:secret@127.0.0.1:{smtp.port}", at=at(5))
    assert smtp.mailbox.messages == []


def test_bad_addresses_and_senders_are_invalid_input(people: Network) -> None:
    for url in ["http://127.0.0.1:25", "smtp://", "smtp://127.0.0.1:0", "smtp://user@127.0.0.1:25"]:
        with pytest.raises(connreq.InvalidInput):
            people.dispatch_emails(url, at=at(5))
    with pytest.raises(connreq.InvalidInput) as info:
        people.dispatch_emails("smtp://u:topsecret@127.0.0.1:25/x", at=at(5))
    assert "topsecret" not in str(info.value)
    with pytest.raises(connreq.InvalidInput):
        people.dispatch_emails("smtp://127.0.0.1:25", sender="not an address", at=at(5))


# --------------------------------------------------------------------- delivered by the caller


def test_emails_delivered_through_a_provider_api_are_marked_sent_or_undeliverable(people: Network) -> None:
    people.send(1, 2, at=at(0))
    people.send(3, 4, at=at(0))
    first, second = people.pending_emails()
    assert people.mark_emails_sent([first.id, first.id], at=at(3)) == 1
    assert people.mark_emails_sent([first.id], at=at(4)) == 0
    assert people.email(first.id).sent_at == at(3)
    assert people.mark_emails_undeliverable([second.id], at=at(4)) == 1
    assert (people.email(second.id).status, people.email(second.id).skip_reason) == ("skipped", "invalid_address")
    assert people.mark_emails_sent([second.id], at=at(5)) == 0
    assert people.pending_emails() == []
    with pytest.raises(connreq.NotFound):
        people.mark_emails_sent([999], at=at(5))
    with pytest.raises(connreq.NotFound):
        people.email(999)

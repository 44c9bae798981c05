"""dispatch_emails against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import pytest

import connreq
from conftest import SmtpServer, at
from connreq import Network


def test_dispatch_delivers_each_email_once(people: Network, smtp: SmtpServer) -> None:
    rid = people.send(1, 2, "We met at <PyCon>", at=at(0))
    people.decline(2, rid, "Sorry", at=at(1))
    assert people.dispatch_emails(smtp.url, at=at(1)) == 0  # nothing due yet
    assert people.dispatch_emails(smtp.url, at=at(5)) == 2
    received = smtp.mailbox.messages
    assert len(received) == 2
    (to_bob, invitation), (to_ada, decline) = received
    assert to_bob == ["bob@example.com"]
    assert invitation["To"] == "bob@example.com"
    assert "Ada" in invitation["Subject"]
    body = invitation.get_content()
    assert "Ada" in body
    assert "<PyCon>" not in body
    assert to_ada == ["ada@example.com"]
    assert decline["Subject"] == "Your connection request was withdrawn"
    assert "Sorry" in decline.get_content()
    # A second dispatch sends nothing twice.
    assert people.dispatch_emails(smtp.url, at=at(10)) == 0
    assert len(smtp.mailbox.messages) == 2
    assert people.pending_emails() == []
    assert people.stats()["unsent_emails"] == 0
    sent = [e for e in people.events() if e.kind == "email_sent"]
    assert len(sent) == 2


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


def test_a_bad_smtp_url_is_invalid_input(people: Network) -> None:
    for url in ("http://127.0.0.1:25", "smtp://", "smtp://host:notaport"):
        with pytest.raises(connreq.InvalidInput):
            people.dispatch_emails(url)


def test_sent_emails_record_when(people: Network, smtp: SmtpServer) -> None:
    people.send(1, 2, at=at(0))
    [email] = people.pending_emails()
    people.dispatch_emails(smtp.url, at=at(3))
    assert people.pending_emails() == []
    assert email.sent_at is None

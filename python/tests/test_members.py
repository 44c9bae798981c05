"""SPEC §11 through the Python API: invitations, suggestions, bulk withdrawal,
the outstanding cap, profile changes, export and erasure."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

import connreq
from connreq import Network, Policy

T = 1_790_000_000_000
MINUTE = 60_000


def connect(net: Network, a: int, b: int) -> None:
    net.accept(b, net.send(a, b, at=T), at=T)


def test_invitations_carry_mutual_connections() -> None:
    with Network.temporary() as net:
        for i in range(1, 6):
            net.register(i, name=f"M{i}", at=T)
        for x in (3, 4, 5):
            connect(net, x, 1)
            connect(net, x, 2)
        rid = net.send(2, 1, "hi", at=T + MINUTE)
        (inv,) = net.invitations(1)
        assert isinstance(inv, connreq.Invitation)
        assert inv.request.id == rid
        assert (inv.mutual_count, inv.mutuals) == (3, [3, 4, 5])
        net.ignore(1, rid, at=T + 2 * MINUTE)
        assert net.invitations(1) == []
        assert len(net.invitations(1, include_ignored=True)) == 1


def test_suggestions_and_friends_of_friends() -> None:
    with Network.temporary() as net:
        for i in range(1, 5):
            net.register(i, email=f"m{i}@example.com", at=T)
        connect(net, 1, 2)
        connect(net, 2, 3)
        net.import_contacts(1, ["m4@example.com"], at=T)
        got = [(s.member, s.mutual_count, s.reason) for s in net.suggestions(1, at=T)]
        assert got == [(3, 1, "mutual_connections"), (4, 0, "contact")]
        assert len(net.suggestions(1, limit=1, at=T)) == 1
        net.set_invitation_setting(4, "friends_of_friends", at=T)
        assert [s.member for s in net.suggestions(1, at=T)] == [3]
        with pytest.raises(connreq.InvitationNotAllowed):
            net.send(1, 4, at=T)


def test_withdraw_all_and_the_outstanding_cap() -> None:
    with Network.temporary(Policy(max_outstanding=2)) as net:
        assert net.policy.max_outstanding == 2
        for i in range(1, 5):
            net.register(i, at=T)
        net.send(1, 2, at=T)
        net.send(1, 3, at=T + 10 * MINUTE)
        with pytest.raises(connreq.OutstandingLimit):
            net.send(1, 4, at=T + 10 * MINUTE)
        assert net.withdraw_all(1, older_than=timedelta(minutes=5), message="sorry", at=T + 10 * MINUTE) == 1
        assert net.withdraw_all(1, at=T + 10 * MINUTE) == 1
        net.send(1, 4, at=T + 11 * MINUTE)


def test_update_member_changes_only_what_is_given() -> None:
    with Network.temporary() as net:
        net.register(1, email="a@example.com", name="Ada", at=T)
        net.update_member(1, name="Ada Lovelace", at=T)
        assert net.public_profile(1)["name"] == "Ada Lovelace"
        assert net.export_member(1)["profile"]["email"] == "a@example.com"
        net.update_member(1, email=None, at=T)
        assert net.export_member(1)["profile"]["email"] is None
        with pytest.raises(connreq.InvalidInput):
            net.update_member(1, email="not an address", at=T)
        with pytest.raises(TypeError):
            net.update_member(1, nickname="x", at=T)  # type: ignore[call-arg]


def test_export_is_json_ready_and_erasure_leaves_a_tombstone(tmp_path: Path) -> None:
    path = tmp_path / "net.db"
    secret = "Zq-very-distinctive-note"
    with Network.open(path) as net:
        net.register(1, email="erase.me@example.com", name="Erasable Person", at=T)
        net.register(2, name="Bob", at=T)
        net.report(2, 1, "spam", at=T)
        net.send(1, 2, secret, at=T)
        export = net.export_member(1)
        assert json.loads(json.dumps(export)) == export
        assert export["requests_sent"][0]["note"] == secret
        assert "2" not in json.dumps(export["reports"])
        net.erase_member(1, at=T + MINUTE)
        with pytest.raises(connreq.UnknownMember):
            net.public_profile(1)
        assert net.notifications(2)[0].text.startswith("A former member")
        assert net.check() == []
    for file in path.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            for text in (secret, "Erasable Person", "erase.me@example.com"):
                assert text.encode() not in data, f"{text} in {file}"


def test_the_export_holds_the_email_settings_and_an_erasure_leaves_no_mail_queued() -> None:
    with Network.temporary() as net:
        net.register(1, email="a@example.com", name="Ada", at=T)
        net.register(2, email="b@example.com", at=T)
        net.set_email_preference(1, "invitation_accepted", False, at=T)
        net.set_email_frequency(1, "daily", at=T)
        settings = net.export_member(1)["settings"]
        assert settings["email_preferences"]["invitation_accepted"] is False
        assert settings["email_preferences"]["invitation_received"] is True
        assert settings["email_frequency"] == "daily"
        net.set_email_frequency(1, "immediate", at=T)
        net.send(2, 1, at=T)
        later = T + 24 * 60 * MINUTE
        assert [e.member for e in net.pending_emails(due_before=later)] == [1]
        net.erase_member(1, at=T + MINUTE)
        assert net.pending_emails(due_before=later) == []


def test_withdraw_all_is_silent_where_withdrawals_are() -> None:
    with Network.temporary(Policy.linkedin()) as net:
        net.register(1, at=T)
        net.register(2, at=T)
        net.send(1, 2, at=T)
        net.withdraw_all(1, message="sorry, wrong person", at=T + MINUTE)
        assert [n.kind for n in net.notifications(2)] == ["invitation_received"]
        assert net.received(2) == []
        assert [r.state for r in net.sent(1)] == ["withdrawn"]


def test_withdrawals_in_bulk_count_towards_repeated_withdrawals() -> None:
    with Network.temporary() as net:
        net.register(1, at=T)
        net.register(2, at=T)
        for i in range(3):
            assert net.standing(1) == "good"
            net.send(1, 2, at=T + i * 10 * MINUTE)
            assert net.withdraw_all(1, at=T + i * 10 * MINUTE + MINUTE) == 1
        assert net.standing(1) == "under_review"
        assert [f.rule for f in net.review_queue()] == ["repeated_withdrawals"]

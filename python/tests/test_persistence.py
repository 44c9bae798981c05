"""Reopening a database: state, policy and the event log survive."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from conftest import T0, at
from connreq import Network, Policy


def test_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "invites.db"
    with Network.open(path, policy=Policy.standard()) as n:
        n.register(1, email="ada@example.com", name="Ada", at=T0)
        n.register(2, email="bob@example.com", name="Bob", at=T0)
        n.register(3, at=T0)
        rid = n.send(1, 2, "Hello", at=at(1))
        n.accept(2, rid, at=at(2))
        pending = n.send(3, 1, at=at(3))
        n.ignore(1, pending, at=at(4))
        events = n.events()
        emails = n.pending_emails()
    with Network.open(str(path)) as n:
        assert n.connections(1) == [2]
        assert n.request(pending).state == "ignored"
        assert n.sent(3)[0].state == "pending"
        assert n.events() == events
        assert n.pending_emails() == emails
        assert n.check() == []
        next_id = n.send(2, 3, at=at(5))
        assert next_id == pending + 1
        assert n.events()[-1].seq == events[-1].seq + 1


def test_none_keeps_the_stored_policy(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with Network.open(path, policy=Policy.linkedin()) as n:
        assert n.policy == Policy.linkedin()
    with Network.open(path) as n:
        assert n.policy == Policy.linkedin()
        assert [e.kind for e in n.events()] == []


def test_a_new_database_gets_the_standard_policy(tmp_path: Path) -> None:
    with Network.open(tmp_path / "fresh") as n:
        assert n.policy == Policy()


def test_a_different_policy_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with Network.open(path) as n:
        n.register(1, at=T0)
    custom = Policy(pending_ttl=timedelta(days=30))
    with Network.open(path, policy=custom) as n:
        assert n.policy == custom
        assert n.events()[-1].kind == "policy_changed"
    with Network.open(path) as n:
        assert n.policy == custom


def test_flush_then_reopen_after_close(tmp_path: Path) -> None:
    path = tmp_path / "db"
    n = Network.open(path)
    n.register(1, at=T0)
    n.flush()
    n.close()
    n = Network.open(path)
    assert n.stats()["members"]["good"] == 1
    n.close()


def test_temporary_networks_are_independent() -> None:
    a, b = Network.temporary(), Network.temporary(Policy.linkedin())
    a.register(1, at=T0)
    assert b.stats()["events"] == 0
    assert b.policy == Policy.linkedin()
    assert b.path is None
    a.close()
    b.close()

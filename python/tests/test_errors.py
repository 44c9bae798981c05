"""Every error class of SPEC §8 (and MailError), raised for real, with readable messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

import connreq
from conftest import T0, at
from connreq import Network, Policy

ERROR_NAMES = [
    "UnknownMember",
    "MemberExists",
    "SelfRequest",
    "AlreadyConnected",
    "AlreadyPending",
    "ReversePending",
    "InvitationNotAllowed",
    "NotAuthorized",
    "InvalidTransition",
    "NotFound",
    "NoteTooLong",
    "InvalidInput",
    "RateLimited",
    "CooldownActive",
    "AccountRestricted",
    "ConnectionLimit",
    "StorageError",
    "MailError",
]


def make(policy: Policy | None = None, members: int = 3) -> Network:
    n = Network.temporary(policy)
    for m in range(1, members + 1):
        n.register(m, email=f"m{m}@example.com", name=f"Member {m}", at=T0)
    return n


def unknown_member(_: Path) -> None:
    make().send(1, 99, at=at(1))


def member_exists(_: Path) -> None:
    make().register(1, at=at(1))


def self_request(_: Path) -> None:
    make().send(1, 1, at=at(1))


def already_connected(_: Path) -> None:
    n = make()
    n.accept(2, n.send(1, 2, at=at(1)), at=at(2))
    n.send(2, 1, at=at(3))


def already_pending(_: Path) -> None:
    n = make()
    n.send(1, 2, at=at(1))
    n.send(1, 2, at=at(2))


def reverse_pending(_: Path) -> None:
    n = make()
    n.send(1, 2, at=at(1))
    n.send(2, 1, at=at(2))


def invitation_not_allowed(_: Path) -> None:
    n = make()
    n.block(2, 1, at=at(1))
    n.send(1, 2, at=at(2))


def not_authorized(_: Path) -> None:
    n = make()
    n.accept(3, n.send(1, 2, at=at(1)), at=at(2))


def invalid_transition(_: Path) -> None:
    n = make()
    rid = n.send(1, 2, at=at(1))
    n.accept(2, rid, at=at(2))
    n.accept(2, rid, at=at(3))


def not_found(_: Path) -> None:
    make().accept(2, 12345, at=at(1))


def note_too_long(_: Path) -> None:
    make().send(1, 2, "x" * 301, at=at(1))


def invalid_input(_: Path) -> None:
    make().register(9, email="not an address", at=at(1))


def rate_limited(_: Path) -> None:
    n = make(Policy(weekly_invite_limit=1))
    n.send(1, 2, at=at(1))
    n.send(1, 3, at=at(2))


def cooldown_active(_: Path) -> None:
    n = make(Policy(resend_cooldown=timedelta(days=21)))
    n.withdraw(1, n.send(1, 2, at=at(1)), at=at(2))
    n.send(1, 2, at=at(days=20))


def account_restricted(_: Path) -> None:
    n = make(members=7)
    for reporter in range(2, 7):
        n.report(reporter, 1, "spam", at=at(reporter))
    n.send(1, 7, at=at(10))


def connection_limit(_: Path) -> None:
    n = make(Policy(max_connections=1))
    n.accept(2, n.send(1, 2, at=at(1)), at=at(2))
    n.send(1, 3, at=at(3))


def storage_error(tmp: Path) -> None:
    (tmp / "a-file").write_text("not a database")
    Network.open(tmp / "a-file")


def mail_error(_: Path) -> None:
    from conftest import free_port

    n = make()
    n.send(1, 2, at=at(1))
    n.dispatch_emails(f"smtp://127.0.0.1:{free_port()}", at=at(10))


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "UnknownMember": unknown_member,
    "MemberExists": member_exists,
    "SelfRequest": self_request,
    "AlreadyConnected": already_connected,
    "AlreadyPending": already_pending,
    "ReversePending": reverse_pending,
    "InvitationNotAllowed": invitation_not_allowed,
    "NotAuthorized": not_authorized,
    "InvalidTransition": invalid_transition,
    "NotFound": not_found,
    "NoteTooLong": note_too_long,
    "InvalidInput": invalid_input,
    "RateLimited": rate_limited,
    "CooldownActive": cooldown_active,
    "AccountRestricted": account_restricted,
    "ConnectionLimit": connection_limit,
    "StorageError": storage_error,
    "MailError": mail_error,
}


def test_every_class_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(ERROR_NAMES)


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_error_is_raised_with_a_readable_message(name: str, tmp_path: Path) -> None:
    cls = getattr(connreq, name)
    assert issubclass(cls, connreq.ConnreqError)
    assert issubclass(cls, Exception)
    assert cls.__module__ == "connreq"
    assert cls.__doc__
    with pytest.raises(cls) as info:
        SCENARIOS[name](tmp_path)
    assert type(info.value) is cls
    message = str(info.value)
    assert message
    assert "Error(" not in message
    assert "panicked" not in message


def test_errors_are_distinct_classes() -> None:
    classes = {getattr(connreq, n) for n in ERROR_NAMES}
    assert len(classes) == len(ERROR_NAMES)
    assert connreq.ConnreqError.__bases__ == (Exception,)


def test_one_except_clause_catches_them_all() -> None:
    n = make()
    caught = []
    for call in (lambda: n.send(1, 1), lambda: n.send(1, 99), lambda: n.accept(2, 7), lambda: n.register(1)):
        try:
            call()
        except connreq.ConnreqError as e:
            caught.append(type(e).__name__)
    assert caught == ["SelfRequest", "UnknownMember", "NotFound", "MemberExists"]


def test_invitation_not_allowed_never_says_why() -> None:
    n = make()
    n.block(2, 1, at=at(1))
    with pytest.raises(connreq.InvitationNotAllowed) as blocked:
        n.send(1, 2, at=at(2))
    n.set_invitation_setting(3, "nobody", at=at(3))
    with pytest.raises(connreq.InvitationNotAllowed) as setting:
        n.send(1, 3, at=at(4))
    for e in (blocked.value, setting.value):
        assert "block" not in str(e).lower()
        assert "setting" not in str(e).lower()


class TestStorageErrors:
    def test_a_directory_of_other_files(self, tmp_path: Path) -> None:
        (tmp_path / "notes.txt").write_text("hello")
        with pytest.raises(connreq.StorageError, match="not a connreq database"):
            Network.open(tmp_path)

    def test_a_damaged_database(self, tmp_path: Path) -> None:
        path = tmp_path / "db"
        with Network.open(path) as n:
            n.register(1, at=T0)
        for f in path.rglob("*"):
            if f.is_file():
                f.write_bytes(b"\xff" * 64)

        def open_and_read() -> None:
            Network.open(path).events()

        with pytest.raises(connreq.StorageError):
            open_and_read()

    def test_a_closed_network(self) -> None:
        n = make()
        n.close()
        for call in (lambda: n.register(9), n.events, n.stats, n.flush, n.check, lambda: n.events_arrow()):
            with pytest.raises(connreq.StorageError, match="closed"):
                call()


def test_a_time_before_the_last_event_is_refused_and_never_moved() -> None:
    """SPEC §16: a command dated before the last event by more than a second is
    refused with InvalidInput naming that event's time; within a second it is
    recorded at the last event's time."""
    net = Network.temporary()
    net.register(1, at=T0)
    net.register(2, at=T0)
    rid = net.send(1, 2, at=at(days=8))
    with pytest.raises(connreq.InvalidInput, match=re.escape("2026-10-11T12:00:00.000Z")):
        net.withdraw(1, rid, at=at(days=1))
    assert net.request(rid).state == "pending"
    assert len(net.events()) == 3
    net.withdraw(1, rid, at=at(days=8) - timedelta(milliseconds=500))
    assert net.request(rid).updated_at == at(days=8)
    net.close()

"""Property tests for inputs: valid ones work, invalid ones raise the documented
error, and nothing else escapes (no panic, no stray exception type)."""

from __future__ import annotations

import itertools
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connreq
from connreq import Network

U64_MAX = 2**64 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z

ids = st.one_of(
    st.integers(min_value=0, max_value=U64_MAX),
    st.integers(max_value=-1),
    st.integers(min_value=U64_MAX + 1),
    st.sampled_from([0, U64_MAX, -1, U64_MAX + 1, 2**63, -(2**63), 2**200]),
)

#: Characters that exercise every email and name rule: letters, '@', spaces of
#: several kinds, control characters and non-ASCII.
tricky = st.sampled_from(list("ab.Z-_+@@ \t\n\r\x00\x07\x7f\x85\u00a0\u2028é中😀\u200b\u202e,<"))


def is_control(c: str) -> bool:
    return unicodedata.category(c) == "Cc"


#: Characters that show nothing or change how text reads (SPEC §18): refused in addresses and names.
INVISIBLE = (
    {0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFEFF, 0xFFA0}
    | set(range(0x180B, 0x1810))
    | set(range(0x200B, 0x2010))
    | set(range(0x202A, 0x202F))
    | set(range(0x2060, 0x2070))
    | set(range(0xFE00, 0xFE10))
    | set(range(0xFFF0, 0xFFFC))
    | set(range(0x1BCA0, 0x1BCA4))
    | set(range(0x1D173, 0x1D17B))
    | set(range(0xE0000, 0xE1000))
)
ATEXT = set("!#$%&'*+/=?^_`{|}~-")


def invisible(c: str) -> bool:
    return ord(c) in INVISIBLE


def is_bidi(c: str) -> bool:
    """SPEC §17: bidirectional overrides and isolates, refused in names, notes and messages."""
    return 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069


def email_is_valid(e: str) -> bool:
    """SPEC §1 and §18: one ``@``, an address an SMTP library accepts, at most 254 bytes."""
    if not e or len(e.encode()) > 254:
        return False
    if any(c.isspace() or is_control(c) or invisible(c) or c in '\u2028\u2029<>()[],;:\\"' for c in e):
        return False
    if e.count("@") != 1:
        return False
    local, domain = e.split("@")
    if not local or not domain or len(local.encode()) > 64:
        return False
    if any(
        not w or not all((c.isascii() and (c.isalnum() or c in ATEXT)) or not c.isascii() for c in w)
        for w in local.split(".")
    ):
        return False
    for label in domain.split("."):
        if not label or len(label.encode()) > 63 or label.startswith("-") or label.endswith("-"):
            return False
        if not all((c.isascii() and c.isalnum()) or c == "-" or not c.isascii() for c in label):
            return False
    return True


def name_is_valid(n: str) -> bool:
    """SPEC §1 and §18: one line, at most 200 characters, something visible, no separators, tags or bidi."""
    return (
        bool(n.strip())
        and len(n) <= 200
        and not any(is_control(c) for c in n)
        and any(not c.isspace() and not invisible(c) for c in n)
        and not any(c in "\u2028\u2029" or 0xE0000 <= ord(c) <= 0xE007F for c in n)
        and not any(is_bidi(c) for c in n)
    )


class Members:
    """A network with a fresh pair of members for every example."""

    def __init__(self) -> None:
        self.net = Network.temporary()
        self.ids = itertools.count(1)

    def pair(self) -> tuple[int, int]:
        a, b = next(self.ids), next(self.ids)
        self.net.register(a)
        self.net.register(b)
        return a, b


@pytest.fixture(scope="module")
def members() -> Members:
    return Members()


@given(member=ids)
def test_ids(member: int) -> None:
    net = Network.temporary()
    if 0 <= member <= U64_MAX:
        net.register(member, name="M")
        assert net.public_profile(member)["member"] == member
        with pytest.raises(connreq.NotFound):
            net.request(member)
        with pytest.raises(connreq.UnknownMember):
            net.connections(member ^ 1)
    else:
        for call in (
            lambda: net.register(member),
            lambda: net.connections(member),
            lambda: net.request(member),
            lambda: net.are_connected(0, member),
            lambda: net.mark_read(0, [member]),
            lambda: net.events(since=member),
            lambda: net.events_arrow(since=member),
            lambda: net.report(0, 1, "spam", request_id=member),
            lambda: net.resolve_flag(member, "clear"),
        ):
            with pytest.raises(connreq.InvalidInput, match="integer from 0 to"):
                call()
    net.close()


@given(limit=st.integers())
def test_limits(limit: int) -> None:
    net = Network.temporary()
    net.register(1)
    if limit >= 0:
        assert len(net.events(limit=limit)) == min(limit, 1)
    else:
        with pytest.raises(connreq.InvalidInput):
            net.events(limit=limit)
    net.close()


@given(note=st.text(max_size=320) | st.text(tricky, max_size=20))
def test_notes(members: Members, note: str) -> None:
    a, b = members.pair()
    net = members.net
    if len(note) > 300:
        with pytest.raises(connreq.NoteTooLong):
            net.send(a, b, note)
    elif any((is_control(c) and c != "\n") or is_bidi(c) for c in note):
        with pytest.raises(connreq.InvalidInput):
            net.send(a, b, note)
    else:
        rid = net.send(a, b, note)
        stored = note if note.strip() else None  # SPEC §18: a note of only whitespace is no note
        assert net.request(rid).note == stored
        assert net.received(b)[0].note == stored


@given(message=st.text(max_size=320) | st.text(tricky, max_size=20))
def test_messages(members: Members, message: str) -> None:
    a, b = members.pair()
    net = members.net
    rid = net.send(a, b)
    ok = len(message) <= 300 and not any((is_control(c) and c != "\n") or is_bidi(c) for c in message)
    if ok:
        net.decline(b, rid, message)
        assert net.request(rid).message == (message if message.strip() else None)
    else:
        with pytest.raises((connreq.NoteTooLong, connreq.InvalidInput)):
            net.decline(b, rid, message)
        assert net.request(rid).state == "pending"


@given(email=st.text(tricky, max_size=12) | st.emails() | st.text(max_size=300))
def test_emails(members: Members, email: str) -> None:
    member = next(members.ids)
    if email_is_valid(email):
        members.net.register(member, email=email)
        a, _ = members.pair()
        members.net.send(a, member)
        [mail] = [e for e in members.net.pending_emails() if e.member == member]
        assert mail.address == email
    else:
        with pytest.raises(connreq.InvalidInput):
            members.net.register(member, email=email)
        with pytest.raises(connreq.UnknownMember):
            members.net.connections(member)


@given(name=st.text(tricky, max_size=12) | st.text(max_size=210))
def test_names(members: Members, name: str) -> None:
    member = next(members.ids)
    if name_is_valid(name):
        members.net.register(member, name=name)
        assert members.net.public_profile(member)["name"] == name
    else:
        with pytest.raises(connreq.InvalidInput):
            members.net.register(member, name=name)


@given(
    when=st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=11, minutes=59))]
        ),
    )
)
def test_aware_times_round_trip_to_the_millisecond(when: datetime) -> None:
    net = Network.temporary()
    net.register(1, at=when)
    [event] = net.events()
    expected = when - timedelta(microseconds=when.microsecond % 1000)
    assert event.at == expected
    assert event.at.utcoffset() == timedelta(0)
    net.close()


@given(when=st.datetimes())
def test_naive_times_are_invalid_input(when: datetime) -> None:
    net = Network.temporary()
    with pytest.raises(connreq.InvalidInput, match="naive"):
        net.register(1, at=when)
    with pytest.raises(connreq.InvalidInput, match="naive"):
        net.pending_emails(due_before=when)
    assert net.events() == []
    net.close()


@given(ms=st.integers(min_value=MIN_MS, max_value=MAX_MS) | st.integers())
def test_integer_times(ms: int) -> None:
    net = Network.temporary()
    if MIN_MS <= ms <= MAX_MS:
        net.register(1, at=ms)
        assert net.events()[0].at == EPOCH + timedelta(milliseconds=ms)
    else:
        with pytest.raises(connreq.InvalidInput, match="out of range"):
            net.register(1, at=ms)
    net.close()


def test_time_edges() -> None:
    net = Network.temporary()
    net.register(1, at=MIN_MS)
    assert net.events()[0].at == datetime(1, 1, 1, tzinfo=UTC)
    net.register(2, email="b@example.com", at=MAX_MS)
    net.register(3, at=MAX_MS)
    net.send(3, 2, at=MAX_MS)
    # Due two minutes after the last representable time: shown as that time.
    assert net.pending_emails()[0].due_at == datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    net.close()


def test_lone_surrogates_are_invalid_input(members: Members) -> None:
    a, b = members.pair()
    for call in (
        lambda: members.net.send(a, b, "\ud800"),
        lambda: members.net.register(next(members.ids), name="x\udfff"),
        lambda: members.net.register(next(members.ids), email="\ud800@example.com"),
        lambda: members.net.import_contacts(a, ["\ud800"]),
        lambda: members.net.set_invitation_setting(a, "\ud800"),
    ):
        with pytest.raises(connreq.InvalidInput, match="Unicode"):
            call()


@given(text=st.text(max_size=30))
def test_vocabulary_words(members: Members, text: str) -> None:
    a, b = members.pair()
    net = members.net
    settings = {"everyone", "email_or_contacts", "contacts", "nobody"}
    if text in settings:
        net.set_invitation_setting(a, text)
    else:
        with pytest.raises(connreq.InvalidInput):
            net.set_invitation_setting(a, text)
    states = {"pending", "ignored", "accepted", "declined", "withdrawn", "expired", "cancelled"}
    if text in states:
        assert net.sent(a, state=text) == []  # type: ignore[arg-type]
    else:
        with pytest.raises(connreq.InvalidInput):
            net.sent(a, state=text)  # type: ignore[arg-type]
    if text not in {"spam", "harassment", "dont_know"}:
        with pytest.raises(connreq.InvalidInput):
            net.report(a, b, text)  # type: ignore[arg-type]

"""A hypothesis state machine over ``Network``, checked against a small model of SPEC §2 and §18.

The model keeps the key facts: every request's true state and, when one party
sees it otherwise (SPEC §18: the member a block was aimed at keeps seeing it as
before, and it evolves with their own actions), that party's view; the
connections as a set of frozensets, the blocks as ``(blocker, blocked)`` and
the ``dont_know`` reports. Every command either succeeds or raises a
``ConnreqError``; where the model can tell which, the test asserts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

import connreq
from connreq import Network

#: 2026-10-03T12:00:00Z in epoch milliseconds, the machine's starting clock.
T0_MS = 1_790_856_000_000
MINUTE = 60_000
DAY = 24 * 60 * MINUTE

OPEN = ("pending", "ignored")

#: A gap between two commands: often none, sometimes minutes, sometimes days.
step = st.one_of(st.just(0), st.integers(1, 90 * MINUTE), st.integers(1, 30 * DAY))
valid_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12),
    st.sampled_from(["hi", "line one\nline two", "<b>&amp;</b>", "Grüße 👋"]),
)
invalid_text = st.sampled_from(["x\x00y", "bell\x07", "cr\rlf", "tab\tbad", "\x1b[31m", "a" * 301, "👋" * 350])
#: Notes and messages, ``(text, valid)``: mostly none or valid, sometimes refused.
note_or_message = st.one_of(
    st.tuples(st.none(), st.just(True)),
    st.tuples(valid_text, st.just(True)),
    st.tuples(st.none() | valid_text, st.just(True)),
    st.tuples(invalid_text, st.just(False)),
)
#: Whether a command comes from the wrong actor (a member drawn from the pool): one time in four.
wrong_actor = st.integers(0, 3).map(lambda n: n == 0)
reasons = st.sampled_from(["spam", "harassment", "dont_know"])
UNKNOWN_REQUEST = 10**9
#: For ``NetworkMachine.call``: the command may succeed or raise a ``ConnreqError``.
EITHER = object()


@dataclass
class View:
    """How one party sees a request when that differs from the truth."""

    party: str  # "sender" or "recipient"
    state: str
    #: What they saw before cancelling it by a block of their own (comes back when they lift it).
    before_block: str | None = None


@dataclass
class Req:
    """What the model knows of one request."""

    sender: int
    recipient: int
    state: str = "pending"
    view: View | None = None

    @property
    def open(self) -> bool:
        return self.state in OPEN

    def party(self, member: int) -> str:
        return "sender" if member == self.sender else "recipient"

    def view_of(self, party: str) -> View | None:
        return self.view if self.view is not None and self.view.party == party else None

    @property
    def open_in_view(self) -> bool:
        return self.view is not None and self.view.state in OPEN


class NetworkMachine(RuleBasedStateMachine):
    members = Bundle("members")
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.net = Network.temporary()
        self.now = T0_MS
        self.pool: list[int] = []
        self.reqs: dict[int, Req] = {}
        self.connections: set[frozenset[int]] = set()
        self.blocks: set[tuple[int, int]] = set()
        self.dont_know: set[tuple[int, int]] = set()

    def teardown(self) -> None:
        self.net.close()

    # -- helpers -------------------------------------------------------------

    def tick(self, dt: int) -> int:
        self.now += dt
        return self.now

    def call(self, expected: Any, fn: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Runs a command and returns ``(ok, result)``. ``expected`` is ``None`` for "must succeed",
        ``ConnreqError`` for "must fail with some documented error", a subclass for exactly that error, and
        ``EITHER`` for "succeeds or raises a documented error". Anything else raised fails the test."""
        error: connreq.ConnreqError | None = None
        try:
            result = fn(*args, **kwargs)
        except connreq.ConnreqError as e:
            error = e
        what = f"{fn.__name__}{args} {kwargs}"
        if error is not None:
            assert expected is not None, f"{what} raised {error!r}, the model expected success"
            if expected is not EITHER:
                assert isinstance(error, expected), f"{what} raised {error!r}, expected {expected.__name__}"
            return False, None
        if expected is not EITHER:
            assert expected is None, f"{what} succeeded, expected {expected.__name__}"
        return True, result

    def open_between(self, sender: int, recipient: int) -> int | None:
        for rid, r in self.reqs.items():
            if r.open and r.sender == sender and r.recipient == recipient:
                return rid
        return None

    def blocked_either(self, a: int, b: int) -> bool:
        return (a, b) in self.blocks or (b, a) in self.blocks

    def between(self, a: int, b: int) -> list[tuple[int, Req]]:
        return [(rid, r) for rid, r in self.reqs.items() if {r.sender, r.recipient} == {a, b}]

    def open_in_view_between(self, a: int, b: int) -> tuple[int, Req] | None:
        return next(((rid, r) for rid, r in self.between(a, b) if r.open_in_view), None)

    def sender_view(self, r: Req) -> str:
        v = r.view_of("sender")
        state = v.state if v is not None else r.state
        return "pending" if state == "ignored" else state

    def recipient_view(self, r: Req) -> str:
        v = r.view_of("recipient")
        return v.state if v is not None else r.state

    # -- rules ---------------------------------------------------------------

    @initialize(
        target=members,
        ids=st.lists(st.integers(1, 2**40), min_size=2, max_size=6, unique=True),
        dt=step,
    )
    def register(self, ids: list[int], dt: int) -> Any:
        t = self.tick(dt)
        for i, m in enumerate(ids):
            self.net.register(m, email=f"m{i}@example.com", name=f"Member {i}", at=t)
        self.pool = list(ids)
        return multiple(*ids)

    @rule(target=requests, sender=members, recipient=members, note=note_or_message, dt=step)
    def send(self, sender: int, recipient: int, note: tuple[str | None, bool], dt: int) -> Any:
        return self.do_send(sender, recipient, note, dt)

    @rule(target=requests, sender=members, data=st.data(), note=note_or_message, dt=step)
    def send_to_another(self, sender: int, data: st.DataObject, note: tuple[str | None, bool], dt: int) -> Any:
        """A second send rule, to someone else: sends are what every other rule needs."""
        recipient = data.draw(st.sampled_from([m for m in self.pool if m != sender]), label="recipient")
        return self.do_send(sender, recipient, note, dt)

    def do_send(self, sender: int, recipient: int, note: tuple[str | None, bool], dt: int) -> Any:
        text, note_ok = note
        expected: Any
        in_view = self.open_in_view_between(sender, recipient) if sender != recipient else None
        own_view = in_view is not None and in_view[1].view_of(in_view[1].party(sender)) is not None
        if sender == recipient:
            expected = connreq.SelfRequest
        elif self.net.standing(sender) == "restricted":
            expected = connreq.AccountRestricted
        # SPEC §18: what the sender sees open comes before anything that could reveal a block or a report.
        elif own_view and in_view is not None:
            expected = connreq.AlreadyPending if in_view[1].sender == sender else connreq.ReversePending
        elif self.open_between(sender, recipient) is not None:
            expected = connreq.AlreadyPending
        elif self.open_between(recipient, sender) is not None:
            expected = connreq.ReversePending
        elif self.blocked_either(sender, recipient) or (recipient, sender) in self.dont_know:
            expected = connreq.InvitationNotAllowed
        elif frozenset((sender, recipient)) in self.connections:
            expected = connreq.AlreadyConnected
        elif in_view is not None:
            expected = connreq.AlreadyPending if in_view[1].sender == sender else connreq.ReversePending
        elif not note_ok:
            expected = connreq.NoteTooLong if text is not None and len(text) > 300 else connreq.InvalidInput
        else:
            expected = None
        ok, rid = self.call(expected, self.net.send, sender, recipient, text, at=self.tick(dt))
        if not ok:
            return multiple()
        assert isinstance(rid, int)
        assert rid not in self.reqs, f"send returned the id {rid} of an existing request"
        self.reqs[rid] = Req(sender, recipient)
        got = self.net.request(rid)
        stored = text if text is not None and text.strip() else None  # a note of only whitespace is no note
        assert (got.sender, got.recipient, got.state, got.note) == (sender, recipient, "pending", stored)
        return rid

    @rule(rid=requests, wrong=wrong_actor, other=members, dt=step)
    def accept(self, rid: int, wrong: bool, other: int, dt: int) -> None:
        r = self.reqs[rid]
        actor = other if wrong else r.recipient
        expected = self.recipient_command_outcome(r, actor, allowed=OPEN)
        v = r.view_of("recipient") if actor == r.recipient else None
        if v is not None and v.state in OPEN:
            # SPEC §18: a recipient the sender blocked may not accept, refused as a send is.
            expected = connreq.InvitationNotAllowed
        ok, _ = self.call(expected, self.net.accept, actor, rid, at=self.tick(dt))
        if ok:
            r.state = "accepted"
            r.view = None
            self.connections.add(frozenset((r.sender, r.recipient)))

    @rule(rid=requests, wrong=wrong_actor, other=members, dt=step)
    def ignore(self, rid: int, wrong: bool, other: int, dt: int) -> None:
        r = self.reqs[rid]
        actor = other if wrong else r.recipient
        expected = self.recipient_command_outcome(r, actor, allowed=("pending",))
        ok, _ = self.call(expected, self.net.ignore, actor, rid, at=self.tick(dt))
        if ok:
            self.move(r, "recipient", "ignored")

    @rule(rid=requests, wrong=wrong_actor, other=members, message=note_or_message, dt=step)
    def decline(self, rid: int, wrong: bool, other: int, message: tuple[str | None, bool], dt: int) -> None:
        r = self.reqs[rid]
        actor = other if wrong else r.recipient
        text, message_ok = message
        expected: Any = self.recipient_command_outcome(r, actor, allowed=OPEN)
        if not message_ok:
            expected = connreq.ConnreqError  # refused; which check fires first is not specified
        ok, _ = self.call(expected, self.net.decline, actor, rid, text, at=self.tick(dt))
        if ok:
            self.move(r, "recipient", "declined")

    @rule(rid=requests, wrong=wrong_actor, other=members, message=note_or_message, dt=step)
    def withdraw(self, rid: int, wrong: bool, other: int, message: tuple[str | None, bool], dt: int) -> None:
        r = self.reqs[rid]
        actor = other if wrong else r.sender
        text, message_ok = message
        expected: Any
        seen = self.sender_view(r)
        if actor != r.sender:
            expected = connreq.NotAuthorized if r.open else connreq.ConnreqError
        elif seen not in OPEN:
            expected = connreq.InvalidTransition
        else:
            expected = None
        if not message_ok:
            expected = connreq.ConnreqError
        before = {m: self.net.connection_count(m) for m in self.pool}
        ok, _ = self.call(expected, self.net.withdraw, actor, rid, text, at=self.tick(dt))
        if ok:
            self.move(r, "sender", "withdrawn")
        assert {m: self.net.connection_count(m) for m in self.pool} == before

    @precondition(lambda self: any(r.open for r in self.reqs.values()))
    @rule(
        data=st.data(),
        command=st.sampled_from(["accept", "ignore", "decline", "withdraw"]),
        wrong=wrong_actor,
        other=members,
        message=note_or_message,
        dt=step,
    )
    def act_on_open(
        self, data: st.DataObject, command: str, wrong: bool, other: int, message: tuple[str | None, bool], dt: int
    ) -> None:
        """Most requests in the bundle are closed soon; this one picks an open request."""
        rid = data.draw(st.sampled_from(sorted(rid for rid, r in self.reqs.items() if r.open)), label="rid")
        if command in ("accept", "ignore"):
            getattr(self, command)(rid, wrong, other, dt)
        else:
            getattr(self, command)(rid, wrong, other, message, dt)

    def recipient_command_outcome(
        self, r: Req, actor: int, allowed: tuple[str, ...]
    ) -> type[connreq.ConnreqError] | None:
        if actor != r.recipient:
            # Both NotAuthorized and InvalidTransition apply to a closed request; either is fine.
            return connreq.NotAuthorized if r.state in allowed else connreq.ConnreqError
        if self.recipient_view(r) not in allowed:
            return connreq.InvalidTransition
        return None

    def move(self, r: Req, party: str, state: str) -> None:
        """An action by ``party``: on their own view when they have one, else on the request."""
        v = r.view_of(party)
        if v is not None:
            v.state = state
        else:
            r.state = state

    @rule(who=members, dt=step)
    def unknown_request(self, who: int, dt: int) -> None:
        for fn in (self.net.accept, self.net.ignore, self.net.decline, self.net.withdraw):
            self.call(connreq.NotFound, fn, who, UNKNOWN_REQUEST, at=self.tick(dt))

    @rule(blocker=members, blocked=members, dt=step)
    def block(self, blocker: int, blocked: int, dt: int) -> None:
        if blocker == blocked:
            expected: Any = connreq.ConnreqError
        elif (blocker, blocked) in self.blocks:
            expected = EITHER  # blocking again: a no-op or an error, both reasonable
        else:
            expected = None
        ok, _ = self.call(expected, self.net.block, blocker, blocked, at=self.tick(dt))
        if not ok:
            return
        if (blocker, blocked) in self.blocks:
            return
        self.blocks.add((blocker, blocked))
        self.connections.discard(frozenset((blocker, blocked)))
        for _, r in self.between(blocker, blocked):
            if r.open:
                # The blocked member keeps seeing it as it was; the blocker sees the cancellation.
                r.view = View(r.party(blocked), r.state)
                r.state = "cancelled"
            elif r.open_in_view and r.view is not None and r.view.party == r.party(blocker):
                # The blocker saw it open in a view of their own: their block cancels it there.
                r.view = View(r.view.party, "cancelled", before_block=r.view.state)

    @rule(blocker=members, blocked=members, dt=step)
    def unblock(self, blocker: int, blocked: int, dt: int) -> None:
        # Unblocking what is not blocked may be a no-op or an error.
        expected = None if (blocker, blocked) in self.blocks else EITHER
        ok, _ = self.call(expected, self.net.unblock, blocker, blocked, at=self.tick(dt))
        if not ok or (blocker, blocked) not in self.blocks:
            return
        self.blocks.discard((blocker, blocked))
        for _, r in self.between(blocker, blocked):
            v = r.view
            if v is None:
                continue
            if (
                v.party == r.party(blocked)
                and v.state in OPEN
                and r.state == "cancelled"
                and (blocked, blocker) not in self.blocks
            ):
                # The member blocked never saw it end: it comes back as they see it.
                r.state, r.view = v.state, None
            elif v.party == r.party(blocker) and v.before_block is not None:
                v.state, v.before_block = v.before_block, None

    @rule(
        reporter=members,
        reported=members,
        reason=reasons,
        rid=st.none() | requests,
        dt=step,
    )
    def report(self, reporter: int, reported: int, reason: str, rid: int | None, dt: int) -> None:
        expected: Any = None
        if reporter == reported:
            expected = connreq.ConnreqError
        elif rid is not None and (self.reqs[rid].sender, self.reqs[rid].recipient) != (reported, reporter):
            expected = connreq.InvalidInput
        ok, _ = self.call(expected, self.net.report, reporter, reported, reason, request_id=rid, at=self.tick(dt))
        if ok and reason == "dont_know":
            self.dont_know.add((reporter, reported))
            # It archives the open invitation it is about: the one named, or the open one from reported
            # (also one open only in the reporter's own view).
            target = rid if rid is not None else self.open_between(reported, reporter)
            if target is None:
                found = self.open_in_view_between(reporter, reported)
                if found is not None and found[1].sender == reported and found[1].view_of("recipient"):
                    target = found[0]
            if target is not None:
                r = self.reqs[target]
                v = r.view_of("recipient")
                if v is not None and v.state == "pending":
                    v.state = "ignored"
                elif v is None and r.state == "pending":
                    r.state = "ignored"

    @rule(member=members, other=members, dt=step)
    def remove_connection(self, member: int, other: int, dt: int) -> None:
        connected = member != other and frozenset((member, other)) in self.connections
        before = self.net.public_profile(other)["connection_count"]
        # Removing a connection that is not there may be a no-op or an error.
        ok, _ = self.call(None if connected else EITHER, self.net.remove_connection, member, other, at=self.tick(dt))
        if ok and connected:
            self.connections.discard(frozenset((member, other)))
            assert self.net.public_profile(other)["connection_count"] == before - 1

    @precondition(lambda self: bool(self.connections))
    @rule(data=st.data(), dt=step)
    def remove_existing_connection(self, data: st.DataObject, dt: int) -> None:
        pair = data.draw(st.sampled_from(sorted(sorted(c) for c in self.connections)), label="connection")
        member, other = data.draw(st.permutations(pair), label="who removes")
        self.remove_connection(member, other, dt)

    @rule(dt=step)
    def idle(self, dt: int) -> None:
        self.tick(dt)

    # -- invariants ----------------------------------------------------------

    @invariant()
    def connections_match_model(self) -> None:
        for a in self.pool:
            got = self.net.connections(a)
            assert got == sorted(got)
            expected = sorted(b for b in self.pool if frozenset((a, b)) in self.connections and a != b)
            assert got == expected, f"connections({a}) = {got}, model says {expected}"
            for b in got:
                assert a in self.net.connections(b), f"{b} in connections({a}) but not the other way"
                assert self.net.are_connected(a, b)
                assert self.net.are_connected(b, a)
            assert self.net.connection_count(a) == len(got)

    @invariant()
    def blocks_match_model(self) -> None:
        for a in self.pool:
            for b in self.pool:
                if a != b:
                    assert self.net.is_blocked(a, b) == ((a, b) in self.blocks)

    @invariant()
    def requests_match_model(self) -> None:
        open_pairs: dict[tuple[int, int], int] = {}
        for rid, r in self.reqs.items():
            got = self.net.request(rid)
            assert (got.id, got.sender, got.recipient) == (rid, r.sender, r.recipient)
            assert got.state == r.state, f"request {rid} is {got.state}, model says {r.state}"
            if got.state in OPEN:
                pair = (got.sender, got.recipient)
                assert pair not in open_pairs, f"two open requests {open_pairs.get(pair)} and {rid} for {pair}"
                open_pairs[pair] = rid
                assert frozenset(pair) not in self.connections, f"open request {rid} between connected members"
                assert not self.blocked_either(*pair), f"open request {rid} across a block"
        for a, b in open_pairs:
            assert (b, a) not in open_pairs, f"open requests both ways between {a} and {b}"

    @invariant()
    def views_match_model(self) -> None:
        for m in self.pool:
            sent = self.net.sent(m)
            assert [r.id for r in sent] == sorted(rid for rid, r in self.reqs.items() if r.sender == m)
            for got in sent:
                assert got.sender == m
                assert got.state != "ignored", f"the sender {m} sees request {got.id} as ignored"
                assert got.state == self.sender_view(self.reqs[got.id]), f"sent({m}) shows {got}"
            assert self.net.sent(m, state="ignored") == []
            received = self.net.received(m)
            assert [r.id for r in received] == sorted(rid for rid, r in self.reqs.items() if r.recipient == m)
            for got in received:
                assert got.recipient == m
                assert got.state == self.recipient_view(self.reqs[got.id]), f"received({m}) shows {got}"

    @invariant()
    def public_profiles(self) -> None:
        for i, m in enumerate(self.pool):
            profile = self.net.public_profile(m)
            assert set(profile) == {"member", "name", "connection_count"}
            assert profile["member"] == m
            assert profile["name"] == f"Member {i}"
            assert profile["connection_count"] == sum(1 for c in self.connections if m in c)

    @invariant()
    def event_seqs_are_gapless(self) -> None:
        seqs = [e.seq for e in self.net.events()]
        assert seqs == list(range(1, len(seqs) + 1))


NetworkMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=50, deadline=None)
TestNetworkStateMachine = NetworkMachine.TestCase

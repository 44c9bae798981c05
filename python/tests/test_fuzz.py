"""Random sequences of commands: only documented errors, and the store stays sound."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import connreq
from connreq import Network, Policy

member = st.integers(min_value=0, max_value=5)
small_id = st.integers(min_value=0, max_value=12)
text = st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["hi", "a\nb", "x\x00", "<b>&"]))
address = st.sampled_from(["m0@example.com", "M1@Example.com", "m2@example.com", "bad address"])

ops = st.one_of(
    st.tuples(st.just("register"), member, st.fixed_dictionaries({"email": st.none() | address, "name": text})),
    st.tuples(st.just("send"), member, member, text, st.fixed_dictionaries({"email": st.none() | address})),
    st.tuples(st.just("accept"), member, small_id),
    st.tuples(st.just("ignore"), member, small_id),
    st.tuples(st.just("decline"), member, small_id, text),
    st.tuples(st.just("withdraw"), member, small_id, text),
    st.tuples(st.just("block"), member, member),
    st.tuples(st.just("unblock"), member, member),
    st.tuples(st.just("remove_connection"), member, member),
    st.tuples(
        st.just("report"),
        member,
        member,
        st.sampled_from(["spam", "harassment", "dont_know"]),
        st.fixed_dictionaries({"request_id": st.none() | small_id}),
    ),
    st.tuples(st.just("set_invitation_setting"), member, st.sampled_from(["everyone", "contacts", "nobody"])),
    st.tuples(st.just("import_contacts"), member, st.lists(address, max_size=2)),
    st.tuples(st.just("mark_read"), member, st.lists(small_id, max_size=3)),
    st.tuples(st.just("resolve_flag"), small_id, st.sampled_from(["clear", "restrict"])),
    st.tuples(st.just("expire")),
)


@given(steps=st.lists(ops, max_size=40), linkedin=st.booleans())
def test_random_commands(steps: list[tuple[Any, ...]], linkedin: bool) -> None:
    net = Network.temporary(Policy.linkedin() if linkedin else Policy(reverse_request="accept"))
    t = 1_790_000_000_000
    for step in steps:
        name, *args = step
        kwargs: dict[str, Any] = args.pop() if args and isinstance(args[-1], dict) else {}
        t += 3_600_000
        with contextlib.suppress(connreq.ConnreqError):
            getattr(net, name)(*args, **kwargs, at=t)
    assert net.check() == []
    events = net.events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for m in range(6):
        try:
            sent, received = net.sent(m), net.received(m)
        except connreq.UnknownMember:
            continue
        assert all(r.state != "ignored" for r in sent)
        assert all(r.recipient == m for r in received)
        assert set(net.public_profile(m)) == {"member", "name", "connection_count"}
    net.close()

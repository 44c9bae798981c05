"""The SPEC §8 API from Python: commands, per-viewer views, notifications, moderation, records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import connreq
from conftest import T0, at
from connreq import (
    Email,
    Event,
    Flag,
    Network,
    Notification,
    Policy,
    Request,
)


@pytest.fixture
def net(any_net: Network) -> Network:
    """Every test here runs on a local ``Network`` and through a server with ``Client``."""
    return any_net


def test_package_exports_every_public_name() -> None:
    for name in connreq.__all__:
        assert getattr(connreq, name) is getattr(connreq._connreq, name)
    assert isinstance(connreq.__version__, str)
    assert "_bench_rust_loop" not in connreq._connreq.__all__


def test_invite_accept_connects(people: Network) -> None:
    rid = people.send(1, 2, "We met at the conference", at=at(1))
    assert isinstance(rid, int)
    req = people.request(rid)
    assert (req.id, req.sender, req.recipient, req.note, req.state, req.message) == (
        rid,
        1,
        2,
        "We met at the conference",
        "pending",
        None,
    )
    assert req.created_at == at(1)
    people.accept(2, rid, at=at(2))
    assert people.request(rid).state == "accepted"
    assert people.request(rid).updated_at == at(2)
    assert people.connections(1) == [2]
    assert people.connections(2) == [1]
    assert people.are_connected(1, 2)
    assert people.are_connected(2, 1)
    assert not people.are_connected(1, 3)
    assert people.connection_count(1) == 1
    assert people.public_profile(1) == {"member": 1, "name": "Ada", "connection_count": 1}


def test_connections_and_mutuals_are_sorted(people: Network) -> None:
    people.register(10, at=T0)
    pairs = [(1, 4), (1, 3), (1, 2), (10, 3), (10, 2)]
    sent = [(b, people.send(a, b, at=at(1))) for a, b in pairs]
    for b, rid in sent:
        people.accept(b, rid, at=at(2))
    assert people.connections(1) == [2, 3, 4]
    assert people.mutual_connections(1, 10) == [2, 3]
    people.remove_connection(1, 3, at=at(3))
    assert people.connections(1) == [2, 4]
    assert people.mutual_connections(1, 10) == [2]


def test_sender_never_sees_ignored(people: Network) -> None:
    rid = people.send(1, 2, at=at(1))
    people.ignore(2, rid, at=at(2))
    assert people.request(rid).state == "ignored"
    [seen_by_sender] = people.sent(1)
    assert seen_by_sender.state == "pending"
    assert seen_by_sender.updated_at == at(1)
    assert people.sent(1, state="ignored") == []
    assert [r.id for r in people.sent(1, state="pending")] == [rid]
    [seen_by_recipient] = people.received(2)
    assert seen_by_recipient.state == "ignored"
    assert [r.id for r in people.received(2, state="ignored")] == [rid]
    assert people.received(2, state="pending") == []
    # An ignored request can still be accepted.
    people.accept(2, rid, at=at(3))
    assert people.sent(1)[0].state == "accepted"


def test_views_are_oldest_first(people: Network) -> None:
    ids = [people.send(1, b, at=at(i)) for i, b in enumerate([4, 2, 3])]
    assert [r.id for r in people.sent(1)] == ids
    assert [r.recipient for r in people.sent(1)] == [4, 2, 3]


def test_decline_and_withdraw_carry_messages(people: Network) -> None:
    r1 = people.send(1, 2, at=at(1))
    people.decline(2, r1, "Sorry, I only connect with people I know", at=at(2))
    declined = people.request(r1)
    assert declined.state == "declined"
    assert declined.message == "Sorry, I only connect with people I know"
    r2 = people.send(1, 3, at=at(3))
    people.withdraw(1, r2, "Sent by mistake", at=at(4))
    assert people.request(r2).state == "withdrawn"
    assert people.request(r2).message == "Sent by mistake"
    assert people.received(3)[0].state == "withdrawn"
    # A re-send after a decline is a new request with a new id.
    r3 = people.send(1, 2, at=at(5))
    assert r3 not in (r1, r2)
    assert [r.state for r in people.sent(1)] == ["declined", "withdrawn", "pending"]


def test_block_cancels_silently_and_keeps_the_blocked_view(people: Network) -> None:
    rid = people.send(1, 2, at=at(1))
    people.block(2, 1, at=at(2))
    assert people.is_blocked(2, 1)
    assert not people.is_blocked(1, 2)
    assert people.request(rid).state == "cancelled"
    # The blocked sender sees nothing change (SPEC §18): still pending, so a re-send is AlreadyPending.
    assert people.sent(1)[0].state == "pending"
    with pytest.raises(connreq.AlreadyPending):
        people.send(1, 2, at=at(3))
    with pytest.raises(connreq.InvitationNotAllowed):
        people.send(2, 1, at=at(3))
    people.unblock(2, 1, at=at(4))
    assert not people.is_blocked(2, 1)
    # Member 1 never saw it end: lifting the block brings it back as they saw it.
    assert people.request(rid).state == "pending"
    assert people.received(2)[0].state == "pending"
    people.accept(2, rid, at=at(5))
    assert people.are_connected(1, 2)


def test_the_member_blocked_acts_on_their_own_view(people: Network) -> None:
    rid = people.send(1, 2, at=at(1))
    people.block(2, 1, at=at(2))
    people.withdraw(1, rid, "sorry", at=at(3))
    assert [(r.state, r.message) for r in people.sent(1)] == [("withdrawn", "sorry")]
    assert people.received(2)[0].state == "cancelled"
    with pytest.raises(connreq.InvitationNotAllowed):
        people.send(1, 2, at=at(4))
    people.unblock(2, 1, at=at(5))
    assert people.request(rid).state == "cancelled"
    people.send(1, 2, at=at(6))


def test_block_removes_a_connection(people: Network) -> None:
    rid = people.send(1, 2, at=at(1))
    people.accept(2, rid, at=at(2))
    people.block(1, 2, at=at(3))
    assert not people.are_connected(1, 2)
    assert people.connection_count(2) == 0


def test_withdrawing_never_changes_connection_counts(people: Network) -> None:
    rid = people.send(1, 2, at=at(1))
    before = (people.connection_count(1), people.connection_count(2))
    people.withdraw(1, rid, at=at(2))
    assert (people.connection_count(1), people.connection_count(2)) == before


def test_notifications_and_read_marks(people: Network) -> None:
    rid = people.send(1, 2, "Hello", at=at(1))
    [n] = people.notifications(2)
    assert isinstance(n, Notification)
    assert (n.member, n.kind, n.request_id, n.actor, n.read) == (2, "invitation_received", rid, 1, False)
    assert n.created_at == at(1)
    assert "Ada" in n.text
    people.accept(2, rid, at=at(2))
    [accepted] = people.notifications(1)
    assert accepted.kind == "invitation_accepted"
    people.mark_read(2, [n.id], at=at(3))
    assert people.notifications(2, unread_only=True) == []
    assert people.notifications(2)[0].read


def test_every_notification_kind(people: Network) -> None:
    p = Policy(pending_ttl=timedelta(days=30))
    n = Network.temporary(p)
    for m in (1, 2, 3):
        n.register(m, email=f"m{m}@example.com", at=T0)
    r1 = n.send(1, 2, at=at(1))
    n.decline(2, r1, at=at(2))
    r2 = n.send(1, 3, at=at(3))
    n.withdraw(1, r2, at=at(4))
    n.send(2, 3, at=at(5))
    assert n.expire(at=at(days=31)) == 1
    kinds = {x.kind for m in (1, 2, 3) for x in n.notifications(m)}
    assert kinds == {
        "invitation_received",
        "invitation_declined",
        "invitation_withdrawn",
        "invitation_expired",
    }
    n.close()


def test_old_requests_name_the_date_sent(people: Network) -> None:
    rid = people.send(1, 2, at=T0)
    people.withdraw(1, rid, at=at(days=10))
    [withdrawn] = [x for x in people.notifications(2) if x.kind == "invitation_withdrawn"]
    assert "2026-10-03" in withdrawn.text


def test_linkedin_policy_withdraws_silently() -> None:
    n = Network.temporary(Policy.linkedin())
    n.register(1, email="a@example.com", at=T0)
    n.register(2, email="b@example.com", at=T0)
    rid = n.send(1, 2, at=at(1))
    n.withdraw(1, rid, at=at(2))
    assert [x.kind for x in n.notifications(2)] == ["invitation_received"]
    n.close()


def test_emails_are_queued_with_the_delay(people: Network) -> None:
    rid = people.send(1, 2, "Hi <b>Bob</b>", at=at(0))
    [e] = people.pending_emails()
    assert isinstance(e, Email)
    assert (e.member, e.address, e.sent_at) == (2, "bob@example.com", None)
    assert e.due_at == at(2)
    assert (e.kind, e.status, e.skip_reason, e.notification_id, e.request_id) == (
        "invitation_received",
        "queued",
        None,
        1,
        rid,
    )
    assert "Note: Hi <b>Bob</b>" in e.body, "plain text holds the words as written"
    assert "Hi &lt;b&gt;Bob&lt;/b&gt;" in e.html
    assert "<b>Bob" not in e.html
    assert people.pending_emails(due_before=at(1)) == []
    assert people.pending_emails(due_before=at(2)) == [e]
    assert people.pending_emails(due_before=int(at(2).timestamp() * 1000)) == [e]
    people.decline(2, rid, at=at(5))
    subjects = [x.subject for x in people.pending_emails()]
    assert subjects == ["Your connection request was withdrawn"], "the invitation email went stale"
    stale = people.email(e.id)
    assert (stale.status, stale.skip_reason) == ("skipped", "stale")


def test_member_without_email_gets_no_email(net: Network) -> None:
    net.register(1, at=T0)
    net.register(2, at=T0)
    net.send(1, 2, at=at(1))
    assert net.pending_emails() == []
    assert len(net.notifications(2)) == 1


def test_invitation_settings(people: Network) -> None:
    people.set_invitation_setting(2, "nobody", at=at(1))
    with pytest.raises(connreq.InvitationNotAllowed):
        people.send(1, 2, at=at(2))
    people.set_invitation_setting(2, "email_or_contacts", at=at(3))
    with pytest.raises(connreq.InvitationNotAllowed):
        people.send(1, 2, at=at(4))
    people.send(1, 2, email="BOB@example.com", at=at(5))
    people.set_invitation_setting(3, "contacts", at=at(6))
    with pytest.raises(connreq.InvitationNotAllowed):
        people.send(1, 3, email="cy@example.com", at=at(7))
    people.import_contacts(3, ["ADA@example.com"], at=at(8))
    people.send(1, 3, at=at(9))
    with pytest.raises(connreq.InvalidInput, match="everyone"):
        people.set_invitation_setting(3, "friends", at=at(10))


def test_reverse_request_accept_policy() -> None:
    n = Network.temporary(Policy(reverse_request="accept"))
    n.register(1, at=T0)
    n.register(2, at=T0)
    rid = n.send(1, 2, at=at(1))
    assert n.send(2, 1, at=at(2)) == rid
    assert n.are_connected(1, 2)
    assert n.request(rid).state == "accepted"
    n.close()


def test_expire(net: Network) -> None:
    assert net.expire(at=at(1)) == 0
    n = Network.temporary(Policy(pending_ttl=timedelta(days=7)))
    for m in (1, 2, 3):
        n.register(m, at=T0)
    r1 = n.send(1, 2, at=T0)
    r2 = n.send(1, 3, at=at(days=5))
    n.ignore(2, r1, at=at(days=6))
    assert n.expire(at=at(days=8)) == 1
    assert n.request(r1).state == "expired"
    assert n.request(r2).state == "pending"
    assert n.expire(at=at(days=13)) == 1
    n.close()


def test_repeated_withdrawals_flag_and_review(people: Network) -> None:
    for i in range(2):
        rid = people.send(1, 2, at=at(10 * i))
        people.withdraw(1, rid, at=at(10 * i + 1))
    assert people.standing(1) == "good"
    assert people.review_queue() == []
    rid = people.send(1, 2, at=at(30))
    people.withdraw(1, rid, at=at(31))
    assert people.standing(1) == "under_review"
    [flag] = people.review_queue()
    assert isinstance(flag, Flag)
    assert (flag.member, flag.rule, flag.status) == (1, "repeated_withdrawals", "open")
    assert len(flag.evidence) >= 3
    kinds = {e.seq: e.kind for e in people.events()}
    assert all(kinds[s] == "invitation_withdrawn" for s in flag.evidence)
    # Under review, the member can still send.
    people.send(1, 3, at=at(32))
    people.resolve_flag(flag.id, "clear", at=at(33))
    assert people.standing(1) == "good"
    assert people.review_queue() == []
    assert people.public_profile(1) == {"member": 1, "name": "Ada", "connection_count": 0}
    with pytest.raises(connreq.InvalidInput):
        people.resolve_flag(flag.id, "ban", at=at(34))


def test_a_resend_after_a_decline_reported_as_harassment_is_flagged_and_decided_with_a_name(people: Network) -> None:
    first = people.send(1, 2, at=at(1))
    people.decline(2, first, at=at(2))
    again = people.send(1, 2, "Please reconsider", at=at(3))
    people.report(2, 1, "harassment", request_id=again, at=at(4))
    [flag] = people.review_queue()
    assert (flag.member, flag.rule, flag.status) == (1, "repeated_resends", "open")
    assert (flag.resolved_by, flag.resolution_note, flag.resolved_at) == (None, None, None)
    events = people.flag_events(flag.id)
    assert [e.kind for e in events] == ["invitation_sent", "invitation_declined", "invitation_sent", "member_reported"]
    assert [e.seq for e in events] == flag.evidence
    assert people.standing(1) == "under_review"

    people.resolve_flag(flag.id, "restrict", moderator=4, note="sent again after a decline", at=at(5))
    [decided] = [f for f in people.events() if f.kind == "flag_resolved"]
    assert decided.actor == 4
    assert json.loads(decided.detail) == {
        "flag": flag.id,
        "decision": "restrict",
        "moderator": 4,
        "note": "sent again after a decline",
    }
    assert people.standing(1) == "restricted"
    with pytest.raises(connreq.AccountRestricted):
        people.send(1, 3, at=at(6))

    people.lift_restriction(1, moderator=4, note="appeal upheld", at=at(7))
    assert people.standing(1) == "good"
    people.send(1, 3, at=at(8))
    with pytest.raises(connreq.InvalidInput, match="not restricted by a moderator"):
        people.lift_restriction(1, at=at(9))
    with pytest.raises(connreq.UnknownMember):
        people.lift_restriction(77, at=at(9))
    with pytest.raises(connreq.NotFound):
        people.flag_events(99)


def test_a_resolved_flag_says_who_decided_and_when(people: Network) -> None:
    for i in range(3):
        rid = people.send(1, 2, at=at(10 * i))
        people.withdraw(1, rid, at=at(10 * i + 1))
    [flag] = people.review_queue()
    with pytest.raises(connreq.UnknownMember):
        people.resolve_flag(flag.id, "clear", moderator=99, at=at(39))
    people.resolve_flag(flag.id, "clear", moderator=3, note="moved house, resent by mistake", at=at(40))
    resolved = people.flag(flag.id)
    assert (resolved.status, resolved.resolved_by, resolved.resolution_note) == (
        "cleared",
        3,
        "moved house, resent by mistake",
    )
    assert resolved.resolved_at == at(40)
    assert resolved.created_at == flag.created_at
    assert "resolved_by=3" in repr(resolved)


def test_withdrawals_to_different_people_change_nothing(people: Network) -> None:
    for i, b in enumerate([2, 3, 4]):
        rid = people.send(1, b, at=at(2 * i))
        people.withdraw(1, rid, at=at(2 * i + 1))
    assert people.standing(1) == "good"


def test_reports_review_then_restrict(net: Network) -> None:
    for m in range(1, 8):
        net.register(m, at=T0)
    for reporter in (2, 3, 4):
        net.report(reporter, 1, "spam", at=at(reporter))
    assert net.standing(1) == "under_review"
    assert [f.rule for f in net.review_queue()] == ["reported"]
    for reporter in (5, 6):
        net.report(reporter, 1, "harassment", at=at(reporter))
    assert net.standing(1) == "restricted"
    with pytest.raises(connreq.AccountRestricted):
        net.send(1, 7, at=at(10))
    assert net.public_profile(1) == {"member": 1, "name": None, "connection_count": 0}


def test_dont_know_report_archives_and_stops_invitations(people: Network) -> None:
    rid = people.send(1, 2, at=at(1))
    people.report(2, 1, "dont_know", request_id=rid, at=at(2))
    assert people.request(rid).state == "ignored"
    assert people.sent(1)[0].state == "pending"
    people.withdraw(1, rid, at=at(3))
    with pytest.raises(connreq.InvitationNotAllowed):
        people.send(1, 2, at=at(4))
    with pytest.raises(connreq.InvalidInput, match="spam"):
        people.report(2, 1, "rude", at=at(5))


def test_resolve_flag_restrict(people: Network) -> None:
    for i in range(3):
        rid = people.send(1, 2, at=at(2 * i))
        people.withdraw(1, rid, at=at(2 * i + 1))
    [flag] = people.review_queue()
    people.resolve_flag(flag.id, "restrict", at=at(10))
    assert people.standing(1) == "restricted"
    assert people.review_queue() == []


def test_stats(people: Network) -> None:
    rid = people.send(1, 2, at=at(1))
    people.accept(2, rid, at=at(2))
    people.send(1, 3, at=at(3))
    s = people.stats()
    assert set(s) == {"requests", "connections", "members", "open_flags", "unsent_emails", "events"}
    assert s["requests"] == {
        "pending": 1,
        "ignored": 0,
        "accepted": 1,
        "declined": 0,
        "withdrawn": 0,
        "expired": 0,
        "cancelled": 0,
    }
    assert s["connections"] == 1
    assert s["members"] == {"good": 4, "under_review": 0, "restricted": 0}
    assert s["open_flags"] == 0
    # Bob's invitation email went stale when he accepted; Ada's and Cy's are queued.
    assert s["unsent_emails"] == 2
    assert s["events"] == len(people.events())


def test_events_log(people: Network) -> None:
    rid = people.send(1, 2, "Note", at=at(1))
    people.decline(2, rid, "No thanks", at=at(2))
    events = people.events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.kind for e in events][:4] == ["member_registered"] * 4
    sent = next(e for e in events if e.kind == "invitation_sent")
    assert (sent.actor, sent.subject, sent.request_id) == (1, 2, rid)
    assert json.loads(sent.detail) == {"note": "Note"}
    assert sent.at == at(1)
    declined = next(e for e in events if e.kind == "invitation_declined")
    assert (declined.actor, declined.subject) == (2, 1)
    assert json.loads(declined.detail)["message"] == "No thanks"
    assert people.events(since=4, limit=1) == [events[4]]
    assert people.events(since=len(events)) == []
    assert people.events(limit=0) == []
    assert people.events(since=2**64 - 1) == []


def test_check_is_clean(local_people: Network) -> None:
    rid = local_people.send(1, 2, at=at(1))
    local_people.accept(2, rid, at=at(2))
    assert local_people.check() == []


def test_records_are_immutable_values(people: Network) -> None:
    rid = people.send(1, 2, "Hi", at=at(1))
    a, b = people.request(rid), people.request(rid)
    assert a == b
    assert a is not b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != people.received(2)[0] or a.state == people.received(2)[0].state
    assert a != "not a request"
    with pytest.raises(AttributeError):
        a.state = "accepted"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Request()  # type: ignore[call-arg]
    assert repr(a).startswith(f"Request(id={rid}, sender=1, recipient=2, note='Hi', state='pending', created_at=")
    [e] = people.events(since=4)
    assert isinstance(e, Event)
    assert repr(e).startswith("Event(seq=5, at=datetime.datetime(2026, 10, 3, 12, 1, tzinfo=datetime.timezone.utc)")
    assert "Email(id=1" in repr(people.pending_emails()[0])
    assert "Notification(id=1" in repr(people.notifications(2)[0])


def test_returned_times_are_aware_utc(people: Network) -> None:
    people.send(1, 2, at=int(at(1).timestamp() * 1000) + 7)
    t = people.sent(1)[0].created_at
    assert t.tzinfo is UTC or t.utcoffset() == timedelta(0)
    assert t == at(1) + timedelta(milliseconds=7)


def test_at_accepts_other_timezones(net: Network) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 10, 3, 14, 0, 0, 123456, tzinfo=ZoneInfo("Europe/Paris"))
    net.register(1, at=local)
    assert net.events()[0].at == datetime(2026, 10, 3, 12, 0, 0, 123000, tzinfo=UTC)


def test_default_time_is_now(net: Network) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    net.register(1)
    after = datetime.now(UTC) + timedelta(seconds=1)
    assert before <= net.events()[0].at <= after


def test_keyword_only_arguments(people: Network) -> None:
    with pytest.raises(TypeError):
        people.register(5, "e@example.com")  # type: ignore[misc]
    with pytest.raises(TypeError):
        people.send(1, 2, "note", "bob@example.com")  # type: ignore[misc]
    with pytest.raises(TypeError):
        people.events(0)  # type: ignore[misc]


def test_wrong_types_are_type_errors(people: Network) -> None:
    with pytest.raises(TypeError):
        people.send("1", 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        people.send(1, 2, note=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        people.import_contacts(1, "a@example.com")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        people.send(1, 2, at=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        people.send(1, 2, at=True)


def test_context_manager_closes(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with Network.open(path) as n:
        n.register(1, at=T0)
        assert n.path == path
        assert repr(n) == f"Network.open({str(path)!r})"
    with pytest.raises(connreq.StorageError, match="closed"):
        n.register(2, at=T0)
    n.close()  # closing twice is fine
    assert repr(Network.temporary()) == "Network.temporary()"


def test_email_settings_and_members_features_work_the_same_locally_and_through_a_server(people: Network) -> None:
    # SPEC §10: preferences, frequency, language.
    people.set_email_preference(2, "invitation_accepted", False, at=at(0))
    assert people.email_preferences(2)["invitation_accepted"] is False
    people.set_email_frequency(2, "daily", at=at(0))
    assert people.email_frequency(2) == "daily"
    people.set_locale(2, "fr", at=at(0))
    assert people.locale(2) == "fr"
    with pytest.raises(connreq.InvalidInput):
        people.set_locale(2, "xx", at=at(0))  # type: ignore[arg-type]
    # SPEC §11: invitations with mutual connections, suggestions, profile changes, bulk withdrawal.
    people.accept(1, people.send(3, 1, at=at(1)), at=at(1))
    people.accept(2, people.send(3, 2, at=at(1)), at=at(1))
    rid = people.send(1, 2, "bonjour", at=at(2))
    [invitation] = people.invitations(2)
    assert (invitation.request.id, invitation.mutual_count, invitation.mutuals) == (rid, 1, [3])
    assert [s.member for s in people.suggestions(4, at=at(3))] == []
    people.update_member(4, name="Dana", at=at(3))
    assert people.public_profile(4)["name"] == "Dana"
    assert people.withdraw_all(1, at=at(4)) == 1
    assert people.invitations(2) == []
    export = people.export_member(1)
    assert export["member"] == 1
    assert export["settings"]["locale"] == "en"
    people.erase_member(4, at=at(5))
    with pytest.raises(connreq.UnknownMember):
        people.connections(4)
    # An email by id, whatever its status.
    [digest] = [e for e in people.pending_emails() if e.member == 2]
    assert people.email(digest.id).kind == "digest"

"""SPEC §10 through the Python API: stale emails, preferences, daily digests,
reminders and languages. (The rules are tested case by case in the Rust core;
these check what Python callers see.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import connreq
from conftest import T0, at
from connreq import Network, Policy


def test_an_invitation_email_unsent_when_its_request_ends_is_skipped(people: Network) -> None:
    rid = people.send(1, 2, at=at(0))
    [invitation] = people.pending_emails()
    people.withdraw(1, rid, at=at(1))
    stale = people.email(invitation.id)
    assert (stale.kind, stale.status, stale.skip_reason) == ("invitation_received", "skipped", "stale")
    assert [e.kind for e in people.pending_emails()] == ["invitation_withdrawn"]


def test_a_blocker_gets_no_mail_about_the_member_blocked(people: Network) -> None:
    people.send(1, 2, at=at(0))
    [invitation] = people.pending_emails()
    people.block(2, 1, at=at(1))
    assert people.email(invitation.id).skip_reason == "blocked"
    assert people.pending_emails() == []


def test_preferences_per_kind_and_all(people: Network) -> None:
    prefs = people.email_preferences(2)
    assert prefs == {
        "invitation_received": True,
        "invitation_accepted": True,
        "invitation_declined": True,
        "invitation_withdrawn": True,
        "invitation_reminder": True,
    }
    people.set_email_preference(2, "invitation_received", False, at=at(0))
    assert people.email_preferences(2)["invitation_received"] is False
    people.send(1, 2, at=at(1))
    assert len(people.notifications(2)) == 1, "still shown in-app"
    assert people.pending_emails() == []
    people.set_email_preference(2, "all", False, at=at(2))
    assert not any(people.email_preferences(2).values())
    with pytest.raises(connreq.InvalidInput, match="invitation_expired"):
        people.set_email_preference(2, "invitation_expired", False)  # type: ignore[arg-type]
    with pytest.raises(connreq.UnknownMember):
        people.email_preferences(99)


def test_a_daily_member_gets_one_digest_at_the_digest_hour() -> None:
    net = Network.temporary(policy=Policy(digest_hour=6))
    for m, name in [(1, "Ada"), (2, "Bob"), (3, "Cy")]:
        net.register(m, email=f"{name.lower()}@example.com", name=name, at=T0)
    net.set_email_frequency(2, "daily", at=T0)
    assert net.email_frequency(2) == "daily"
    net.send(1, 2, at=at(1))
    net.send(3, 2, "hello", at=at(2))
    [digest] = net.pending_emails()
    assert (digest.kind, digest.member, digest.notification_id, digest.request_id) == ("digest", 2, None, None)
    assert digest.due_at == datetime(2026, 10, 4, 6, 0, tzinfo=UTC)
    assert digest.subject == "2 new notifications"
    assert "- Ada wants to connect with you." in digest.body
    assert "- Cy wants to connect with you." in digest.body
    net.mark_read(2, [n.id for n in net.notifications(2)], at=at(3))
    assert net.pending_emails() == [], "nothing unread: no digest"
    assert net.email(digest.id).skip_reason == "stale"
    with pytest.raises(connreq.InvalidInput):
        net.set_email_frequency(2, "hourly")  # type: ignore[arg-type]
    net.close()


def test_reminders_while_an_invitation_stays_pending() -> None:
    net = Network.temporary(policy=Policy(invitation_reminders=[timedelta(days=3), timedelta(days=7)]))
    net.register(1, email="ada@example.com", name="Ada", at=T0)
    net.register(2, email="bob@example.com", name="Bob", at=T0)
    rid = net.send(1, 2, at=T0)
    reminders = [e for e in net.pending_emails() if e.kind == "invitation_reminder"]
    assert [e.due_at for e in reminders] == [T0 + timedelta(days=3), T0 + timedelta(days=7)]
    assert {e.request_id for e in reminders} == {rid}
    assert reminders[0].subject == "Ada is waiting for your answer"
    net.ignore(2, rid, at=at(days=1))
    assert [net.email(e.id).skip_reason for e in reminders] == ["stale", "stale"]
    net.close()


def test_policy_fields_for_digests_and_reminders() -> None:
    assert (Policy().digest_hour, Policy().invitation_reminders) == (8, [])
    p = Policy(digest_hour=0, invitation_reminders=(timedelta(hours=12), timedelta(days=2)))
    assert p.invitation_reminders == [timedelta(hours=12), timedelta(days=2)]
    assert "digest_hour=0" in repr(p)
    for bad in [
        {"digest_hour": 24},
        {"digest_hour": -1},
        {"invitation_reminders": [timedelta(days=2), timedelta(days=1)]},
    ]:
        with pytest.raises(connreq.InvalidInput):
            Policy(**bad)  # type: ignore[arg-type]


def test_languages(net: Network) -> None:
    assert Network.locales() == ["en", "de", "fr", "es"]
    net.register(1, email="ada@example.com", name="Ada", at=T0)
    net.register(2, email="bea@example.com", name="Bea", locale="de", at=T0)
    assert (net.locale(1), net.locale(2)) == ("en", "de")
    net.send(1, 2, at=at(0))
    assert net.notifications(2)[0].text == "Ada möchte sich mit Ihnen vernetzen."
    [mail] = net.pending_emails()
    assert mail.subject == "Ada möchte sich mit Ihnen vernetzen"
    assert mail.body.startswith("Hallo Bea,")
    net.set_locale(2, "fr", at=at(1))
    assert net.notifications(2)[0].text == "Ada souhaite entrer en relation avec vous."
    with pytest.raises(connreq.InvalidInput, match="en, de, fr, es"):
        net.set_locale(2, "tlh")  # type: ignore[arg-type]
    with pytest.raises(connreq.InvalidInput):
        net.register(3, locale="xx")  # type: ignore[arg-type]


def test_in_app_texts_hold_the_words_as_written(people: Network) -> None:
    rid = people.send(1, 2, "I don't think we have met before", at=at(0))
    assert people.notifications(2)[0].text.endswith("Note: I don't think we have met before")
    people.decline(2, rid, "Sorry & all the best", at=at(1))
    assert people.notifications(1)[0].text.endswith("Message: Sorry & all the best")

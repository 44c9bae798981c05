"""Policy: SPEC §6 defaults, keyword overrides, timedelta round trips, validation."""

from __future__ import annotations

import datetime
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connreq
from connreq import Policy

STANDARD: dict[str, Any] = {
    "max_note_chars": 300,
    "notify_on_withdraw": True,
    "notify_on_decline": True,
    "email_delay": timedelta(minutes=2),
    "date_context_after": timedelta(days=7),
    "reverse_request": "error",
    "weekly_invite_limit": None,
    "resend_cooldown": None,
    "max_connections": 30_000,
    "pending_ttl": None,
    "review_withdrawals_same_person": 3,
    "review_window": timedelta(days=90),
    "review_after_reports": 3,
    "restrict_after_reports": 5,
    "review_report_share": 0.06,
    "review_resends_same_person": 3,
    "review_resends_after_harassment": 1,
    "low_acceptance_min_resolved": None,
    "low_acceptance_max_rate": None,
    "burst_per_hour": None,
}

LINKEDIN = STANDARD | {
    "notify_on_withdraw": False,
    "weekly_invite_limit": 100,
    "resend_cooldown": timedelta(days=21),
    "pending_ttl": timedelta(days=183),
}


def fields(p: Policy) -> dict[str, Any]:
    return {name: getattr(p, name) for name in STANDARD}


def test_standard_matches_the_spec_table() -> None:
    assert fields(Policy()) == STANDARD
    assert fields(Policy.standard()) == STANDARD
    assert Policy() == Policy.standard()


def test_linkedin_matches_the_spec_table() -> None:
    assert fields(Policy.linkedin()) == LINKEDIN
    assert Policy.linkedin() != Policy.standard()


def test_every_field_is_a_keyword() -> None:
    assert Policy(**LINKEDIN) == Policy.linkedin()
    assert Policy(**STANDARD) == Policy()


def test_every_moderation_rule_can_be_switched_off_with_none() -> None:
    off = Policy(
        review_withdrawals_same_person=None,
        review_after_reports=None,
        restrict_after_reports=None,
        review_report_share=None,
        review_resends_same_person=None,
        review_resends_after_harassment=None,
    )
    assert (off.review_withdrawals_same_person, off.review_report_share, off.review_resends_same_person) == (
        None,
        None,
        None,
    )
    with pytest.raises(connreq.InvalidInput, match="review_report_share"):
        Policy(review_report_share=1.5)
    with pytest.raises(connreq.InvalidInput, match="review_resends_same_person"):
        Policy(review_resends_same_person=0)


def test_overrides() -> None:
    p = Policy(
        weekly_invite_limit=50,
        pending_ttl=timedelta(days=30, microseconds=1),
        reverse_request="accept",
        low_acceptance_min_resolved=20,
        low_acceptance_max_rate=0.25,
        burst_per_hour=40,
    )
    assert p.weekly_invite_limit == 50
    assert p.pending_ttl == timedelta(days=30, microseconds=1)
    assert p.reverse_request == "accept"
    assert (p.low_acceptance_min_resolved, p.low_acceptance_max_rate, p.burst_per_hour) == (20, 0.25, 40)
    assert p.max_note_chars == 300


@given(
    st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=10**6)),
    st.one_of(st.none(), st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=10**6))),
)
def test_timedeltas_round_trip(d: timedelta, optional: timedelta | None) -> None:
    p = Policy(email_delay=d, date_context_after=d, review_window=d, resend_cooldown=optional, pending_ttl=optional)
    assert (p.email_delay, p.date_context_after, p.review_window) == (d, d, d)
    assert p.resend_cooldown == optional
    assert p.pending_ttl == optional


@pytest.mark.parametrize(
    "overrides",
    [
        {"max_note_chars": 0},
        {"max_note_chars": -1},
        {"max_note_chars": 2**32},
        {"max_connections": 0},
        {"weekly_invite_limit": 0},
        {"weekly_invite_limit": -5},
        {"review_window": timedelta(0)},
        {"email_delay": timedelta(seconds=-1)},
        {"pending_ttl": timedelta(0)},
        {"reverse_request": "ignore"},
        {"low_acceptance_max_rate": 0.5},
        {"low_acceptance_min_resolved": 10, "low_acceptance_max_rate": 1.5},
        {"low_acceptance_min_resolved": 10, "low_acceptance_max_rate": float("nan")},
        {"burst_per_hour": 0},
    ],
)
def test_invalid_values_are_invalid_input(overrides: dict[str, Any]) -> None:
    with pytest.raises(connreq.InvalidInput):
        Policy(**overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"email_delay": None},
        {"email_delay": 120},
        {"notify_on_withdraw": 1},
        {"max_note_chars": "300"},
        {"reverse_request": None},
        {"no_such_field": 1},
    ],
)
def test_wrong_types_are_type_errors(overrides: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        Policy(**overrides)


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        Policy(300)  # type: ignore[misc]


def test_repr_round_trips() -> None:
    for p in (Policy(), Policy.linkedin(), Policy(burst_per_hour=7, email_delay=timedelta(seconds=1.5))):
        assert eval(repr(p), {"Policy": Policy, "datetime": datetime}) == p
    assert repr(Policy()).startswith("Policy(max_note_chars=300, notify_on_withdraw=True")


def test_policies_are_immutable_and_unhashable() -> None:
    p = Policy()
    with pytest.raises(AttributeError):
        p.max_note_chars = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(p)
    assert p != "standard"

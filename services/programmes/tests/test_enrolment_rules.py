"""Enrolment rules (pure functions)."""
from datetime import date

import pytest

from programmes.domain import (
    TransitionRefused, best_session, check_transition, status_on_confirmation,
)


def test_a_confirmation_takes_a_seat_or_waits_for_one():
    assert status_on_confirmation(seats_left=1) == "confirmed"
    assert status_on_confirmation(seats_left=0) == "waitlisted"


@pytest.mark.parametrize("status, move, allowed", [
    ("proposed", "confirm", True), ("waitlisted", "confirm", True),
    ("confirmed", "confirm", False), ("confirmed", "complete", True),
    ("proposed", "complete", False), ("completed", "withdraw", False),
    ("waitlisted", "withdraw", True),
])
def test_transitions(status, move, allowed):
    if allowed:
        check_transition({"status": status}, move)
    else:
        with pytest.raises(TransitionRefused, match=status):
            check_transition({"status": status}, move)


def test_the_earliest_session_with_a_seat_is_proposed():
    full = {"id": "a", "starts_on": date(2027, 1, 10)}
    later = {"id": "b", "starts_on": date(2027, 3, 1)}
    sooner = {"id": "c", "starts_on": date(2027, 2, 1)}
    assert best_session([(full, 0), (later, 5), (sooner, 2)]) is sooner
    assert best_session([(full, 0)]) is None

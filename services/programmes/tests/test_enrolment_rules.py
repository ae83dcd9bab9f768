"""Enrolment rules, on plain objects: the lifecycle, seats, and which session is proposed."""
from datetime import date, datetime, timezone

import pytest

from programmes.domain import (
    CONFIRMED, WAITLISTED, WITHDRAWN, Enrolment, EnrolmentClosed, EnrolmentMoveRefused,
    Programme, SeatsLeft, best_session, proposals_for,
)

AT = datetime(2027, 1, 5, 10, tzinfo=timezone.utc)
# the session the enrolments are for: in February, taking enrolments until the end of January
SESSION = {"id": "s1", "programme_id": "p1", "place": "Düsseldorf", "market": "DE",
           "starts_on": date(2027, 2, 10), "enrolment_deadline": date(2027, 1, 31)}


def enrolment(status="proposed", session_id="s1"):
    return Enrolment(id="e1", case_id="c1", session_id=session_id, programme_id="p1",
                     status=status, proposed_at=AT, updated_at=AT)


def test_a_confirmation_takes_a_seat_or_waits_for_one():
    seats = SeatsLeft({"s1": 1})
    first, second = enrolment(), enrolment()
    first.confirm(seats, SESSION, at=AT)
    second.confirm(seats, SESSION, at=AT)
    assert (first.status, second.status) == (CONFIRMED, WAITLISTED)
    assert (first.waitlisted_at, second.waitlisted_at) == (None, AT)  # its place in the queue


def test_past_the_enrolment_deadline_a_confirmation_is_refused_with_the_date():
    seats = SeatsLeft({"s1": 5})
    late = datetime(2027, 2, 1, 9, tzinfo=timezone.utc)
    with pytest.raises(EnrolmentClosed, match="closed its enrolment on 2027-01-31"):
        enrolment().confirm(seats, SESSION, at=late)
    no_deadline = dict(SESSION, enrolment_deadline=None)
    enrolment().confirm(seats, no_deadline, at=late)  # until the day before it starts
    with pytest.raises(EnrolmentClosed, match="has started"):
        enrolment().confirm(seats, no_deadline, at=datetime(2027, 2, 10, tzinfo=timezone.utc))


def test_a_waitlisted_firm_takes_a_seat_freed_later():
    waiting = enrolment(WAITLISTED)
    waiting.confirm(SeatsLeft({"s1": 1}), SESSION, at=AT)
    assert waiting.status == CONFIRMED


def test_a_refused_confirmation_takes_no_seat():
    seats = SeatsLeft({"s1": 1})
    with pytest.raises(EnrolmentMoveRefused, match="confirmed: it cannot confirm"):
        enrolment(CONFIRMED).confirm(seats, SESSION, at=AT)
    assert seats.take("s1") is True  # the seat is still there


@pytest.mark.parametrize("status, move, allowed", [
    ("proposed", "confirm", True), ("waitlisted", "confirm", True),
    ("confirmed", "confirm", False), ("confirmed", "complete", True),
    ("proposed", "complete", False), ("completed", "withdraw", False),
    ("waitlisted", "withdraw", True), ("withdrawn", "withdraw", False),
])
def test_which_moves_each_status_allows(status, move, allowed):
    subject = enrolment(status)
    make_move = {
        "confirm": lambda: subject.confirm(SeatsLeft({"s1": 5}), SESSION, at=AT),
        "complete": lambda: subject.complete(at=AT),
        "withdraw": lambda: subject.withdraw("no longer available", at=AT),
    }[move]
    if allowed:
        make_move()
        assert subject.status != status and subject.updated_at == AT
    else:
        with pytest.raises(EnrolmentMoveRefused, match=status):
            make_move()
        assert subject.status == status


def test_a_withdrawal_keeps_its_reason():
    subject = enrolment()
    subject.withdraw("the firm could not send anyone", at=AT)
    assert (subject.status, subject.withdrawal_reason) == (
        WITHDRAWN, "the firm could not send anyone")


def test_the_earliest_session_with_a_seat_is_proposed():
    full = {"id": "a", "market": "DE", "starts_on": date(2027, 1, 10)}
    later = {"id": "b", "market": "DE", "starts_on": date(2027, 3, 1)}
    sooner = {"id": "c", "market": "ES", "starts_on": date(2027, 2, 1)}
    assert best_session([(full, 0), (later, 5), (sooner, 2)]) is sooner
    assert best_session([(full, 0)]) is None


def test_a_session_in_a_target_market_comes_before_an_earlier_one_elsewhere():
    spain = {"id": "a", "market": "ES", "starts_on": date(2027, 1, 10)}
    germany = {"id": "b", "market": "DE", "starts_on": date(2027, 3, 1)}
    assert best_session([(spain, 5), (germany, 5)], ["DE", "AT"]) is germany
    assert best_session([(spain, 5), (germany, 0)], ["DE"]) is spain  # full: the next best


def diagnosed(maturity, *markets):
    return {"maturity": maturity, "target_markets": [
        {"country": market, "reason": "named_by_firm"} for market in markets]}


def test_only_a_programme_for_the_firm_s_maturity_is_proposed():
    for_beginners = Programme("p1", "Team France Export", "Prépa export", "preparation",
                              ["first_time_exporter"])
    for_experienced = Programme("p2", "Bpifrance", "Accélérateur", "financing",
                                ["experienced_exporter"])
    early = {"id": "s-early", "programme_id": "p2", "market": "DE",
             "starts_on": date(2027, 1, 10)}
    late = {"id": "s-late", "programme_id": "p1", "market": "ES",
            "starts_on": date(2027, 5, 10)}
    programmes = {"p1": for_beginners, "p2": for_experienced}
    sessions = [(early, 3), (late, 3)]

    def proposed(diagnosis):
        return [p.session for p in proposals_for(diagnosis, None, programmes, sessions,
                                                 AT.date())]

    assert proposed(diagnosed("first_time_exporter", "DE")) == [late]
    assert proposed(diagnosed("experienced_exporter")) == [early]
    assert proposed(diagnosed("not_ready")) == []

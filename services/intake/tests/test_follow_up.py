"""Follow-up deadlines: what nobody touched for too long raises a reminder, a last call, then
abandoned, once each, counted in working days or calendar days. The clock is given to the use
case, so the tests move time instead of waiting."""
from datetime import date, datetime, timedelta, timezone

import pytest
from parcours_testing import UseCaseDatabase, luhn_valid_sirens

from intake import handlers, store
from intake.domain import CaseSearch, FollowUpPolicy
from parcours_shared.domain import as_utc
from parcours_shared.working_days import working_days_between

SIRENS = luhn_valid_sirens(59000000)
CALENDAR = FollowUpPolicy(reminder=9, last_call=21, abandoned=45, working_days=False)
WORKING = FollowUpPolicy(reminder=9, last_call=21, abandoned=45, working_days=True)


@pytest.fixture
def db():
    return UseCaseDatabase("intake", store.metadata)


def open_case(db, **firm):
    with db.transaction() as uow:
        case, _ = handlers.open_case(uow, dict({"siren": next(SIRENS), "company_name": "Savonnerie",
                                                "region_code": "93"}, **firm), "web")
    return case


def check(db, policy, at):
    with db.transaction() as uow:
        return handlers.raise_follow_ups(uow, policy, at)


def levels(db):
    return [(data["case_id"], data["level"], data["days_untouched"], data["referral_id"])
            for data in db.published_data("case.follow_up_due")]


def test_each_deadline_is_raised_once_as_calendar_days_pass(db):
    case = open_case(db)
    opened = case.opened_at
    assert check(db, CALENDAR, opened + timedelta(days=8)) == 0
    assert check(db, CALENDAR, opened + timedelta(days=9)) == 1
    assert check(db, CALENDAR, opened + timedelta(days=10)) == 0  # raised already
    assert check(db, CALENDAR, opened + timedelta(days=50)) == 1  # straight to abandoned
    assert levels(db) == [(case.id, "reminder", 9, None), (case.id, "abandoned", 50, None)]


def test_acting_on_the_case_starts_its_follow_up_again_and_takes_it_off_the_overdue_list(db):
    case = open_case(db)
    check(db, CALENDAR, case.opened_at + timedelta(days=10))

    def overdue():
        with db.reading() as session:
            return [c.id for c in handlers.visible_cases(session, None,
                                                         CaseSearch(overdue=True))[0]]

    assert overdue() == [case.id]
    open_case(db, siren=case.siren)  # the firm came again: someone touched the case
    assert overdue() == []
    with db.reading() as session:
        touched = store.case_by_id(session, case.id).last_activity_at
    touched = touched.replace(tzinfo=timezone.utc)  # SQLite gives it back without its offset
    # counted again from the new arrival: a reminder again once 9 days pass
    assert check(db, CALENDAR, touched + timedelta(days=8)) == 0
    assert check(db, CALENDAR, touched + timedelta(days=9)) == 1
    assert [level for _, level, _, _ in levels(db)] == ["reminder", "reminder"]


def test_working_days_skip_weekends_and_french_public_holidays():
    # 2026-04-30 is a Thursday; 1 May (Labour Day) is a Friday, then a weekend
    assert working_days_between(date(2026, 4, 30), date(2026, 5, 4)) == 1
    assert working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 5  # 25 Dec, 1 Jan off
    # May 2026: 1 May and 8 May are Fridays off, Ascension falls on Thursday 14 May
    thursday = datetime(2026, 4, 30, 10, tzinfo=timezone.utc)
    sunday_17, monday_18 = thursday + timedelta(days=17), thursday + timedelta(days=18)
    assert WORKING.days_untouched(thursday, sunday_17) == 8
    assert WORKING.level(thursday, sunday_17) is None
    assert WORKING.level(thursday, monday_18) == "reminder"  # the 9th working day
    assert CALENDAR.level(thursday, thursday + timedelta(days=9)) == "reminder"


def test_a_referral_waiting_for_the_window_raises_its_own_follow_up_for_its_case(db):
    with db.transaction() as uow:
        case, referral, _ = handlers.refer_firm(uow, {
            "siren": next(SIRENS), "company_name": "Chantiers", "region_code": "93",
            "referred_by": "pole-mer-mediterranee"})
    later = referral.sent_at + timedelta(days=9)
    assert check(db, CALENDAR, later) == 2  # the case, and the referral nobody answered
    assert sorted(levels(db), key=str) == sorted([(case.id, "reminder", 9, None),
                                                  (case.id, "reminder", 9, referral.id)], key=str)


def test_a_closed_case_is_not_followed_up(db):
    case = open_case(db)
    with db.transaction() as uow:
        handlers.close_case(uow, case.id, "firm_declined")
    assert check(db, CALENDAR, case.opened_at + timedelta(days=60)) == 0


def test_deadlines_must_grow():
    with pytest.raises(ValueError, match="must grow"):
        FollowUpPolicy(reminder=21, last_call=9, abandoned=45)
    assert FollowUpPolicy.from_config({"reminder": "5", "working_days": "false"}) == \
        FollowUpPolicy(reminder=5, working_days=False)


def test_firms_of_a_list_met_weeks_ago_are_overdue_from_the_day_they_were_met(db):
    met = datetime.now(timezone.utc) - timedelta(days=30)
    with db.transaction() as uow:
        [(case, created)] = handlers.import_firms(uow, [{
            "siren": next(SIRENS), "company_name": "Visiteur du salon", "channel": "import",
            "contacted_on": met.date()}])
    assert created and case.opened_at.date() == met.date()
    assert check(db, CALENDAR, datetime.now(timezone.utc)) == 1
    assert levels(db) == [(case.id, "last_call", 30, None)]


def test_what_the_services_do_on_their_own_is_not_someone_acting_on_the_case(db):
    from parcours_testing import event

    case = open_case(db)
    later = case.opened_at + timedelta(days=3)
    with db.transaction() as uow:  # diagnostic schedules every new case by itself
        handlers.follow_pathway(uow, [event("diagnostic.scheduled", {
            "diagnostic_id": "d-1", "case_id": case.id, "scheduled_at": later})])
    with db.reading() as session:
        assert store.case_by_id(session, case.id).stage == "diagnostic_scheduled"
    assert check(db, CALENDAR, case.opened_at + timedelta(days=9)) == 1  # still from the opening


def test_an_abandoned_case_is_no_longer_weighed_at_each_scan(db):
    case = open_case(db)
    assert check(db, CALENDAR, case.opened_at + timedelta(days=50)) == 1  # abandoned
    with db.reading() as session:
        assert store.untouched_cases(session, case.opened_at + timedelta(days=60)) == []


def test_a_case_programmes_had_nothing_for_is_listed_until_something_is_proposed(db):
    from parcours_testing import event, example_data

    case, other = open_case(db), open_case(db)
    at = case.opened_at + timedelta(days=10)
    with db.transaction() as uow:
        handlers.follow_pathway(uow, [event("diagnostic.completed", example_data(
            "diagnostic.completed", case_id=c.id, completed_at=at)) for c in (case, other)])
        handlers.note_nothing_proposed(uow, [event("enrolment.none_proposed", example_data(
            "enrolment.none_proposed", case_id=case.id, at=at))])

    def nothing_proposed():
        with db.reading() as session:
            found, _ = handlers.visible_cases(session, None, CaseSearch(nothing_proposed=True))
        return [c.id for c in found]

    assert nothing_proposed() == [case.id]
    with db.reading() as session:
        assert as_utc(store.case_by_id(session, case.id).nothing_proposed_at) == at
    with db.transaction() as uow:  # reassessed, the firm gets a proposal: off the list
        handlers.follow_pathway(uow, [event("enrolment.proposed", example_data(
            "enrolment.proposed", case_id=case.id, at=at + timedelta(days=90)))])
    assert nothing_proposed() == []

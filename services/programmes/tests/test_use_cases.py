"""Programmes' use cases, each on its own, without a broker (parcours_testing.UseCaseDatabase)."""
import uuid
from datetime import date, timedelta

import pytest
from parcours_shared.contracts import utc_now
from parcours_shared.domain import NotYours
from parcours_shared.identity import Caller
from parcours_testing import UseCaseDatabase, event, example_data

from programmes import handlers, store
from programmes.domain import (
    COMPLETED, CONFIRMED, PROPOSED, WAITLISTED, WITHDRAWN, CaseNotEnrolled, EnrolmentClosed,
    EnrolmentMoveRefused, EnrolmentNotFound, EnrolmentOfAnotherCase, ProgrammeNameTaken,
    NoContactConsent, ProgrammeNotFound,
)

SOON = date.today() + timedelta(days=30)


@pytest.fixture
def db():
    return UseCaseDatabase("programmes", store.metadata)


def programme(db, name="Pavillon France, Gulfood", levels=("first_time_exporter",),
              kind="trade_fair_pavilion"):
    with db.transaction() as uow:
        return handlers.create_programme(uow, {
            "partner": "business-france", "name": name, "kind": kind,
            "maturity_levels": list(levels), "description": None})


def session(db, programme_id, capacity=2, starts_on=SOON, market="AE", place="Dubai"):
    with db.transaction() as uow:
        return handlers.add_session(uow, programme_id, {
            "starts_on": starts_on, "market": market, "place": place, "capacity": capacity})


def diagnosed(maturity="first_time_exporter", case_id=None, markets=(), assessment=1):
    return event("diagnostic.completed", example_data(
        "diagnostic.completed", diagnostic_id=str(uuid.uuid4()),
        case_id=case_id or str(uuid.uuid4()), assessment_number=assessment, maturity=maturity,
        programme_kinds=["preparation"], completed_at=utc_now(), target_markets=[
            {"country": market, "reason": "named_by_firm"} for market in markets]))


def proposed(db, *results):
    with db.transaction() as uow:
        handlers.propose_enrolments(uow, list(results))
    with db.reading() as session_:
        return [enrolments[0] if enrolments else None
                for enrolments in (store.enrolments_for_case(session_, r.data["case_id"])
                                   for r in results)]


@pytest.fixture
def offer(db):
    """A programme for first-time exporters with one session of two seats."""
    created = programme(db)
    return created, session(db, created.id, capacity=2)


def test_a_programme_is_created_once_by_name(db):
    created = programme(db)
    with db.reading() as session_:
        assert handlers.get_programme(session_, created.id).name == created.name
    with pytest.raises(ProgrammeNameTaken) as refused, db.transaction() as uow:
        handlers.create_programme(uow, {"partner": "CCI", "name": created.name,
                                        "kind": "preparation", "maturity_levels": ["not_ready"],
                                        "description": None})
    assert "name" in refused.value.fields


def test_a_session_is_added_to_a_programme_that_exists(db, offer):
    created, added = offer
    with db.reading() as session_:
        [listed] = handlers.catalogue(session_)
    assert listed["id"] == created.id
    assert [(s["id"], s["seats_left"]) for s in listed["sessions"]] == [(added["id"], 2)]
    with pytest.raises(ProgrammeNotFound), db.transaction() as uow:
        handlers.add_session(uow, "no-such-programme", {
            "starts_on": SOON, "market": None, "place": "Lyon", "capacity": 5})


def test_a_diagnosed_firm_is_proposed_the_earliest_session_that_suits_its_maturity(db, offer):
    created, first_session = offer
    later = session(db, created.id, starts_on=SOON + timedelta(days=60))
    other = programme(db, "Accélérateur", levels=("experienced_exporter",))
    session(db, other.id, starts_on=SOON - timedelta(days=10))

    [enrolment] = proposed(db, diagnosed("first_time_exporter"))
    assert enrolment.status == PROPOSED and enrolment.session_id == first_session["id"]
    assert first_session["id"] != later["id"]
    [data] = db.published_data("enrolment.proposed")
    assert data["programme_name"] == created.name


def test_no_proposal_when_no_session_suits_and_one_per_case(db, offer):
    not_ready = diagnosed("not_ready")
    assert proposed(db, not_ready) == [None]
    [none] = db.published_data("enrolment.none_proposed")  # the single window follows it up
    assert (none["case_id"], none["reason"]) == (not_ready.data["case_id"],
                                                 "no_eligible_programme")
    db.take_published()
    result = diagnosed()
    first = proposed(db, result)
    assert proposed(db, diagnosed(case_id=result.data["case_id"])) == first
    assert db.published_types() == ["enrolment.proposed"]


def test_confirmations_take_the_seats_in_order_then_waitlist(db, offer):
    enrolments = proposed(db, diagnosed(), diagnosed(), diagnosed())
    with db.transaction() as uow:
        confirmed = handlers.confirm_enrolments(uow, [e.id for e in enrolments])
    assert [e.status for e in confirmed] == [CONFIRMED, CONFIRMED, WAITLISTED]
    assert db.published_types().count("enrolment.confirmed") == 2
    assert db.published_types().count("enrolment.waitlisted") == 1


def test_one_unconfirmable_enrolment_refuses_the_whole_list(db, offer):
    first, second = proposed(db, diagnosed(), diagnosed())
    db.take_published()
    with pytest.raises(EnrolmentNotFound), db.transaction() as uow:
        handlers.confirm_enrolments(uow, [first.id, "no-such-enrolment"])
    with db.transaction() as uow:
        handlers.confirm_enrolment(uow, second.id)
    with pytest.raises(EnrolmentMoveRefused, match="confirmed"), db.transaction() as uow:
        handlers.confirm_enrolments(uow, [first.id, second.id])
    with db.reading() as session_:
        assert handlers.get_enrolment(session_, first.id).status == PROPOSED
    assert db.published_types() == ["enrolment.confirmed"]


def test_a_confirmed_enrolment_is_completed(db, offer):
    [enrolment] = proposed(db, diagnosed())
    with pytest.raises(EnrolmentMoveRefused, match="proposed"), db.transaction() as uow:
        handlers.complete_enrolment(uow, enrolment.id)
    with db.transaction() as uow:
        handlers.confirm_enrolment(uow, enrolment.id)
    with db.transaction() as uow:
        completed = handlers.complete_enrolment(uow, enrolment.id)
    assert completed.status == COMPLETED
    assert db.published_types()[-1] == "enrolment.completed"


def test_the_waitlist_keeps_the_order_of_request_and_a_withdrawal_promotes_its_first(db):
    created = programme(db)
    session(db, created.id, capacity=1)
    seated, first, second = proposed(db, diagnosed(), diagnosed(), diagnosed())
    for enrolment in (seated, first, second):  # three requests, one after the other
        with db.transaction() as uow:
            handlers.confirm_enrolment(uow, enrolment.id)
    assert [d["position"] for d in db.published_data("enrolment.waitlisted")] == [1, 2]
    db.take_published()
    with db.transaction() as uow:
        withdrawn = handlers.withdraw_enrolment(uow, seated.id, "no one free on those dates")
    assert withdrawn.status == WITHDRAWN
    # the withdrawal, then the first on the waitlist taking the seat, in that order
    assert [(e["type"], e["data"]["enrolment_id"]) for e in db.published] == [
        ("enrolment.withdrawn", seated.id), ("enrolment.confirmed", first.id)]
    assert db.published[0]["data"]["reason"] == "no one free on those dates"
    with db.reading() as session_:
        assert handlers.get_enrolment(session_, first.id).status == CONFIRMED
        assert handlers.get_enrolment(session_, second.id).status == WAITLISTED
        assert store.waitlist_positions(session_, [second.id]) == {second.id: 1}
    with pytest.raises(EnrolmentMoveRefused, match="withdrawn"), db.transaction() as uow:
        handlers.withdraw_enrolment(uow, seated.id, "again")


def test_withdrawing_a_place_on_the_waitlist_promotes_nobody(db):
    created = programme(db)
    session(db, created.id, capacity=1)
    seated, waiting = proposed(db, diagnosed(), diagnosed())
    with db.transaction() as uow:
        handlers.confirm_enrolments(uow, [seated.id, waiting.id])
    db.take_published()
    with db.transaction() as uow:
        handlers.withdraw_enrolment(uow, waiting.id, None)
    assert db.published_types() == ["enrolment.withdrawn"]


def test_past_its_deadline_a_session_confirms_no_one(db):
    created = programme(db)
    closing = session(db, created.id, starts_on=date.today() + timedelta(days=3))
    [enrolment] = proposed(db, diagnosed())
    with db.transaction() as uow:  # its enrolment closed yesterday
        uow.session.execute(store.sessions.update().where(
            store.sessions.c.id == closing["id"]).values(
                enrolment_deadline=date.today() - timedelta(days=1)))
    with pytest.raises(EnrolmentClosed, match="closed its enrolment on"), \
            db.transaction() as uow:
        handlers.confirm_enrolment(uow, enrolment.id)


def opened(case_id, at=None, **firm):
    return event("case.opened", example_data(
        "case.opened", case_id=case_id, opened_at=at or utc_now(), **firm))


def test_the_firm_s_data_from_intake_decides_eligibility_the_latest_word_winning(db):
    for_small_firms = programme(db, "Prépa export TPE", levels=("first_time_exporter",))
    with db.transaction() as uow:
        uow.session.execute(store.programmes.update().where(
            store.programmes.c.id == for_small_firms.id).values(
                eligibility={"headcount_max": 9, "regions": ["84"]}))
    case_id, now = str(uuid.uuid4()), utc_now()
    with db.transaction() as uow:
        handlers.keep_firm_profiles(uow, [
            opened(case_id, now, region_code="84", headcount_band="03"),
            opened(case_id, now - timedelta(hours=1), region_code="11", headcount_band="12")])
    with db.transaction() as uow:
        handlers.propose_enrolments(uow, [diagnosed(case_id=case_id)])
    with db.reading() as session_:
        verdict = handlers.eligibility_for_case(session_, for_small_firms.id, case_id,
                                                date.today())
    assert verdict["eligible"] and verdict["firm_known"] and verdict["diagnosed"]
    assert [c["text"] for c in verdict["checks"]][1:] == [
        "region 84 is among this programme's regions (84)",
        "headcount 6 to 9 is within this programme's range (up to 9)"]
    with db.transaction() as uow:  # the firm grew: intake says so
        handlers.keep_firm_profiles(uow, [event("case.enriched", example_data(
            "case.enriched", case_id=case_id, region_code="84", headcount_band="12",
            arrived_at=utc_now()))])
    with db.reading() as session_:
        grown = handlers.eligibility_for_case(session_, for_small_firms.id, case_id,
                                              date.today())
    assert not grown["eligible"]
    assert grown["checks"][-1]["text"] == (
        "headcount 20 to 49 is above this programme's maximum of 9")


def test_proposals_are_ranked_with_their_reasons(db):
    fair = programme(db, "Pavillon France, Hannover Messe", levels=("first_time_exporter",))
    prep = programme(db, "Prépa export", levels=("first_time_exporter",), kind="preparation")
    session(db, fair.id, market="DE", place="Hannover", starts_on=SOON + timedelta(days=90))
    session(db, prep.id, market="FR", place="Lyon")
    case_id = str(uuid.uuid4())
    proposed(db, diagnosed(case_id=case_id, markets=["DE"]))
    data = db.published_data("enrolment.proposed")
    assert [(d["rank"], d["programme_name"], d["reason"]) for d in data] == [
        (1, "Pavillon France, Hannover Messe", "a session in DE, a target market"),
        (2, "Prépa export", "preparation recommended by the diagnostic")]


def test_an_outcome_is_recorded_against_an_enrolment_of_the_case(db, offer):
    [enrolment] = proposed(db, diagnosed())
    with db.transaction() as uow:
        outcome = handlers.record_outcome(uow, {
            "case_id": enrolment.case_id, "enrolment_id": enrolment.id,
            "kind": "contract_signed", "amount_eur": 120000})
    [data] = db.published_data("outcome.recorded")
    assert data["outcome_id"] == outcome["id"] and data["amount_eur"] == 120000


def test_an_outcome_needs_an_enrolment_of_that_case(db, offer):
    [enrolment] = proposed(db, diagnosed())
    with pytest.raises(CaseNotEnrolled), db.transaction() as uow:
        handlers.record_outcome(uow, {"case_id": "stranger", "enrolment_id": None,
                                      "kind": "market_entered", "amount_eur": None})
    [other] = proposed(db, diagnosed())
    with pytest.raises(EnrolmentOfAnotherCase), db.transaction() as uow:
        handlers.record_outcome(uow, {"case_id": other.case_id, "enrolment_id": enrolment.id,
                                      "kind": "market_entered", "amount_eur": None})
    assert "outcome.recorded" not in db.published_types()


# --- ownership: a partner changes only its own programmes, sessions, enrolments, outcomes ----

AGENCY = Caller("p-hugo-bernard", "business-france", frozenset({"programme_manager"}),
                person="p-hugo-bernard")
BANK = Caller("p-nadia-haddad", "bpifrance", frozenset({"programme_manager"}),
              person="p-nadia-haddad")


def test_a_partner_offers_programmes_in_its_own_name_only(db):
    with db.transaction(BANK) as uow, pytest.raises(NotYours) as refused:
        handlers.create_programme(uow, {
            "partner": "business-france", "name": "Prospection Japon", "kind": "targeted_market",
            "maturity_levels": ["occasional_exporter"], "description": None})
    assert refused.value.message == (
        "a programme of business-france is business-france's: a caller of bpifrance cannot "
        "change it")


def test_only_the_partner_running_a_programme_adds_its_sessions_and_decides_its_enrolments(
        db, offer):
    created, _ = offer
    with db.transaction(BANK) as uow, pytest.raises(NotYours, match="is business-france's"):
        handlers.add_session(uow, created.id, {
            "starts_on": SOON, "market": "AE", "place": "Dubai", "capacity": 5})
    [enrolment] = proposed(db, diagnosed())
    for move in (lambda uow: handlers.confirm_enrolment(uow, enrolment.id),
                 lambda uow: handlers.withdraw_enrolment(uow, enrolment.id, "no budget"),
                 lambda uow: handlers.complete_enrolment(uow, enrolment.id)):
        with db.transaction(BANK) as uow, pytest.raises(NotYours):
            move(uow)
    with db.transaction(AGENCY) as uow:
        assert handlers.confirm_enrolment(uow, enrolment.id).status == CONFIRMED


def test_an_outcome_is_recorded_by_a_partner_whose_programme_had_the_firm(db, offer):
    [enrolment] = proposed(db, diagnosed())
    outcome = {"case_id": enrolment.case_id, "kind": "market_entered", "amount_eur": None}
    with db.transaction(BANK) as uow, pytest.raises(NotYours, match="enrolled by business-fr"):
        handlers.record_outcome(uow, dict(outcome))
    with db.transaction(BANK) as uow, pytest.raises(NotYours):
        handlers.record_outcome(uow, dict(outcome, enrolment_id=enrolment.id))
    with db.transaction(AGENCY) as uow:
        assert handlers.record_outcome(uow, dict(outcome))["case_id"] == enrolment.case_id


def case_closed(case_id):
    return event("case.closed", {"case_id": case_id, "reason": "firm_declined",
                                 "closed_at": utc_now()})


def test_a_closed_case_s_proposals_and_waitlist_places_are_withdrawn_its_seat_kept(db, offer):
    seated, also_seated, waiting, only_proposed = proposed(
        db, diagnosed(), diagnosed(), diagnosed(), diagnosed())
    with db.transaction() as uow:  # two seats: the third waits
        handlers.confirm_enrolments(uow, [seated.id, also_seated.id, waiting.id])
    db.take_published()
    with db.transaction() as uow:
        handlers.withdraw_for_closed_cases(uow, [
            case_closed(case.case_id) for case in (seated, waiting, only_proposed)])
    with db.reading() as session_:
        statuses = [store.enrolment_by_id(session_, e.id).status
                    for e in (seated, waiting, only_proposed)]
    assert statuses == [CONFIRMED, WITHDRAWN, WITHDRAWN]
    withdrawn = db.published_data("enrolment.withdrawn")
    assert {w["case_id"] for w in withdrawn} == {waiting.case_id, only_proposed.case_id}
    assert {w["reason"] for w in withdrawn} == {"case closed: firm_declined"}


def test_a_case_closed_before_its_diagnosis_arrived_is_proposed_nothing(db, offer):
    result = diagnosed()
    with db.transaction() as uow:
        handlers.withdraw_for_closed_cases(uow, [case_closed(result.data["case_id"])])
    assert proposed(db, result) == [None]


def contact_event(type_name, case_id, at, purposes, remaining=None):
    if type_name == "contact.shared":
        return event(type_name, {"case_id": case_id, "purposes": purposes, "shared_at": at,
                                 "contacts": [{"contact_id": "c-1", "name": "Claire Durand",
                                               "role": None, "email": "claire@ateliers.example",
                                               "phone": None}]})
    return event(type_name, {"case_id": case_id, "purposes": purposes,
                             "remaining_purposes": remaining, "withdrawn_at": at})


def test_contacts_are_kept_for_co_export_matching_only_and_dropped_on_withdrawal(db):
    case_id, now = str(uuid.uuid4()), utc_now()
    with db.transaction() as uow:
        handlers.keep_contacts(uow, [contact_event("contact.shared", case_id, now,
                                                   ["orientation"])])
    with db.reading() as session_, pytest.raises(NoContactConsent):
        handlers.contacts_for_matching(session_, case_id)  # not consented for what it is for
    with db.transaction() as uow:
        handlers.keep_contacts(uow, [contact_event(
            "contact.shared", case_id, now + timedelta(seconds=1),
            ["co_export_matching", "orientation"])])
    with db.reading() as session_:
        assert [c["name"] for c in handlers.contacts_for_matching(session_, case_id)] == [
            "Claire Durand"]
    withdrawn = contact_event("contact.withdrawn", case_id, now + timedelta(seconds=2),
                              ["co_export_matching"], ["orientation"])
    late = contact_event("contact.shared", case_id, now + timedelta(seconds=1.5),
                         ["co_export_matching"])
    with db.transaction() as uow:  # the withdrawal, then an older share arriving late
        handlers.keep_contacts(uow, [withdrawn])
        handlers.keep_contacts(uow, [late])
    with db.reading() as session_, pytest.raises(NoContactConsent):
        handlers.contacts_for_matching(session_, case_id)


def test_the_diagnostic_s_target_market_chooses_the_session_and_its_findings_are_kept(db):
    created = programme(db)
    session(db, created.id)  # Dubai, the earliest
    munich = session(db, created.id, starts_on=SOON + timedelta(days=60), market="DE",
                     place="Munich")
    case_id = str(uuid.uuid4())
    [enrolment] = proposed(db, diagnosed(case_id=case_id, markets=["DE", "GB"], assessment=2))
    assert enrolment.session_id == munich["id"]
    with db.transaction() as uow:  # the first assessment, arriving late, changes nothing
        handlers.propose_enrolments(uow, [diagnosed("not_ready", case_id, markets=["US"])])
    with db.reading() as session_:
        kept = store.diagnosis_of(session_, case_id)
    assert (kept["assessment_number"], kept["maturity"]) == (2, "first_time_exporter")
    assert [m["country"] for m in kept["target_markets"]] == ["DE", "GB"]
    assert kept["programme_kinds"] == ["preparation"]

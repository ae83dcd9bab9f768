"""Referrals: a partner flags a firm, the single window accepts or declines it, an advisor takes
it in charge, it is done with an outcome; the referrer follows the firm's stage on the pathway
from the other services' events. Use cases without a broker."""
from datetime import datetime, timezone

import pytest
from parcours_shared.domain import NotYours
from parcours_shared.identity import Caller
from parcours_testing import UseCaseDatabase, event, example_data, luhn_valid_sirens

from intake import handlers, store
from intake.domain import ReferralMoveRefused

SIRENS = luhn_valid_sirens(56000000)
PARTNERS = [
    {"id": "cci-international-paca", "kind": "chamber_of_commerce", "regions": ["93"],
     "name": "CCI International Provence-Alpes-Côte d'Azur"},
    {"id": "pole-mer-mediterranee", "kind": "competitiveness_cluster", "regions": ["93"],
     "name": "Pôle Mer Méditerranée"},
    {"id": "medicen", "kind": "competitiveness_cluster", "regions": ["11"],
     "name": "Medicen Paris Region"},
]
WINDOW = Caller("p-marc-giraud", "cci-international-paca", frozenset({"advisor"}),
                person="p-marc-giraud")
CLUSTER = Caller("p-antoine-blanc", "pole-mer-mediterranee", frozenset({"referrer"}),
                 person="p-antoine-blanc")
OTHER_CLUSTER = Caller("p-louise-petit", "medicen", frozenset({"referrer"}),
                       person="p-louise-petit")
PAGE = {"limit": 100, "offset": 0}


@pytest.fixture
def db():
    db = UseCaseDatabase("intake", store.metadata)
    with db.transaction() as uow:
        for partner in PARTNERS:
            handlers.register_partner(uow, partner)
        handlers.register_person(uow, "cci-international-paca", {
            "id": "p-marc-giraud", "region_code": "93", "role": "advisor", "name": "Marc Giraud",
            "email": "marc.giraud@paca.cci.example"})
    db.take_published()
    return db


def refer(db, by=CLUSTER, **firm):
    firm = dict({"siren": next(SIRENS), "company_name": "Chantiers Navals du Var",
                 "region_code": "93", "reason": "export potential in Asia",
                 "note": "met at Euromaritime"}, **firm)
    with db.transaction(by) as uow:
        return handlers.refer_firm(uow, firm)


def step(db, use_case, *args, by=WINDOW):
    with db.transaction(by) as uow:
        return use_case(uow, *args)


def test_a_referral_goes_sent_accepted_taken_in_charge_done_each_step_an_event_in_order(db):
    case, referral, created = refer(db)
    assert created and referral.status == "sent" and referral.referred_by == CLUSTER.partner
    step(db, handlers.accept_referral, referral.id)
    step(db, handlers.assign_case, case.id, "p-marc-giraud")
    referral, _ = step(db, handlers.complete_referral, referral.id, "entered_pathway", None)

    assert referral.status == "done" and referral.outcome == "entered_pathway"
    assert db.published_types() == [
        "case.opened", "case.referred", "referral.accepted", "case.assigned",
        "referral.taken_in_charge", "referral.done"]
    [referred] = db.published_data("case.referred")
    assert referred["referral_id"] == referral.id
    assert "note" not in referred  # the referrer's word to the window stays in intake
    [taken] = db.published_data("referral.taken_in_charge")
    assert (taken["advisor"], taken["partner"]) == ("p-marc-giraud", "cci-international-paca")
    assert {data["referred_by"] for type_name in ("referral.accepted", "referral.done")
            for data in db.published_data(type_name)} == {CLUSTER.partner}


def test_accepting_the_referral_of_a_firm_already_followed_puts_it_in_its_advisor_s_charge(db):
    case, first, _ = refer(db)
    step(db, handlers.accept_referral, first.id)
    step(db, handlers.assign_case, case.id, "p-marc-giraud")
    _, second, created = refer(db, by=OTHER_CLUSTER, siren=case.siren)
    assert not created and second.case_id == case.id
    db.take_published()
    second, _ = step(db, handlers.accept_referral, second.id)
    assert second.status == "taken_in_charge" and second.advisor == "p-marc-giraud"
    assert db.published_types() == ["referral.accepted", "referral.taken_in_charge"]


def test_a_rejection_says_why_from_the_list_and_ends_the_referral(db):
    _, referral, _ = refer(db)
    referral, _ = step(db, handlers.reject_referral, referral.id, "already_followed",
                       "followed by Business France since March")
    assert referral.status == "rejected" and referral.rejection_reason == "already_followed"
    assert db.published_data("referral.rejected")[0]["reason"] == "already_followed"
    with pytest.raises(ReferralMoveRefused) as refused:
        step(db, handlers.accept_referral, referral.id)
    assert "rejected" in refused.value.message


def test_a_referral_is_done_only_once_taken_in_charge(db):
    _, referral, _ = refer(db)
    with pytest.raises(ReferralMoveRefused):
        step(db, handlers.complete_referral, referral.id, "entered_pathway", None)


def test_only_the_single_window_of_the_region_accepts_or_rejects(db):
    _, referral, _ = refer(db)
    with pytest.raises(NotYours):
        step(db, handlers.accept_referral, referral.id, by=CLUSTER)
    with pytest.raises(NotYours):
        step(db, handlers.reject_referral, referral.id, "duplicate", None, by=CLUSTER)


def test_the_referrer_follows_its_own_referrals_and_sees_the_firm_s_stage(db):
    case, referral, _ = refer(db)
    refer(db, by=OTHER_CLUSTER, region_code="11")
    with db.transaction() as uow:  # diagnostic and programmes tell where the firm went
        handlers.follow_pathway(uow, [
            event("enrolment.proposed", _enrolment(case.id)),
            event("diagnostic.completed", _diagnosis(case.id)),
        ])
    with db.reading() as session:
        mine, total = handlers.visible_referrals(session, CLUSTER, PAGE)
        followed, followed_case = handlers.readable_referral(session, referral.id, CLUSTER)
        with pytest.raises(NotYours):
            handlers.readable_referral(session, referral.id, OTHER_CLUSTER)
        window, window_total = handlers.visible_referrals(session, WINDOW, PAGE)
    assert total == 1 and [r.id for r, _ in mine] == [referral.id]
    assert followed_case.stage == "proposed"  # the furthest, whatever the order events came in
    # the PACA window follows the referrals of its region's firms, not Medicen's in region 11
    assert window_total == 1 and [r.id for r, _ in window] == [referral.id]


def test_a_stage_never_moves_back(db):
    case, _, _ = refer(db)
    with db.transaction() as uow:
        handlers.follow_pathway(uow, [event("enrolment.confirmed", _enrolment(case.id))])
    with db.transaction() as uow:
        handlers.follow_pathway(uow, [event("diagnostic.scheduled", {
            "diagnostic_id": "d-1", "case_id": case.id,
            "scheduled_at": datetime(2026, 3, 2, 10, tzinfo=timezone.utc)})])
    with db.reading() as session:
        assert store.case_by_id(session, case.id).stage == "enrolled"


def _enrolment(case_id):
    return {"enrolment_id": "e-1", "case_id": case_id, "session_id": "s-1",
            "programme_id": "pr-1", "programme_name": "Prospection Allemagne",
            "at": datetime(2026, 3, 20, 11, 30, tzinfo=timezone.utc)}


def _diagnosis(case_id):
    return example_data("diagnostic.completed", diagnostic_id="d-1", case_id=case_id,
                        completed_at=datetime(2026, 3, 10, 10, tzinfo=timezone.utc))

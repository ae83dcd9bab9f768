"""Intake's use cases, each on its own, without a broker (parcours_testing.UseCaseDatabase)."""
import pytest
from parcours_testing import UseCaseDatabase, luhn_valid_sirens

from intake import handlers, store
from intake.domain import ASSIGNED, CLOSED, OPEN, CaseMoveRefused, CaseNotFound, InvalidSiren

SIRENS = luhn_valid_sirens()


def firm(siren=None, **overrides):
    return dict({"siren": siren or next(SIRENS), "company_name": "Ateliers Durand",
                 "region_code": "84", "naf_code": "25.62B"}, **overrides)


@pytest.fixture
def db():
    return UseCaseDatabase("intake", store.metadata)


def open_case(db, firm_fields, channel="web"):
    with db.transaction() as uow:
        return handlers.open_case(uow, firm_fields, channel)


def test_opening_a_case_for_a_new_firm_publishes_case_opened(db):
    case, created = open_case(db, firm())
    assert created and case.status == OPEN
    [opened] = db.published_data("case.opened")
    assert opened["case_id"] == case.id and opened["channel"] == "web"


def test_a_firm_that_has_a_case_gets_it_back_whatever_the_door(db):
    fields = firm()
    first, _ = open_case(db, fields, "web")
    spaced = " ".join([fields["siren"][:3], fields["siren"][3:6], fields["siren"][6:]])
    again, created = open_case(db, dict(fields, siren=spaced), "phone")
    assert not created and again.id == first.id
    assert db.published_types() == ["case.opened"]


def test_an_invalid_siren_is_refused_naming_the_field(db):
    with pytest.raises(InvalidSiren) as refused:
        open_case(db, firm(siren="123456789"))
    assert "siren" in refused.value.fields
    assert db.published == []


def test_importing_firms_opens_each_new_firm_once_in_the_list_s_order(db):
    known, new = firm(), firm()
    existing, _ = open_case(db, known)
    db.take_published()
    with db.transaction() as uow:
        results = handlers.import_firms(uow, [dict(new, channel="walk_in"),
                                              dict(known, channel="web"),
                                              dict(new, channel="phone")])
    # a SIREN repeated in the list gets the answer of its first entry: opened by this request
    assert [created for _, created in results] == [True, False, True]
    assert results[1][0].id == existing.id and results[0][0].id == results[2][0].id
    [opened] = db.published_data("case.opened")
    assert opened["siren"] == new["siren"] and opened["channel"] == "walk_in"


def test_a_referral_opens_the_case_if_needed_and_records_who_referred(db):
    referral = dict(firm(), referred_by="Pôle Mer Méditerranée", reason="export potential")
    with db.transaction() as uow:
        case, created = handlers.refer_firm(uow, referral)
    assert created and case.channel == "referral"
    assert db.published_types() == ["case.opened", "case.referred"]
    [referred] = db.published_data("case.referred")
    assert referred["referred_by"] == "Pôle Mer Méditerranée"

    with db.transaction() as uow:  # referred again by someone else: same case, new referral
        again, created = handlers.refer_firm(uow, dict(referral, referred_by="Bpifrance"))
    assert not created and again.id == case.id
    assert db.published_types()[-1] == "case.referred"


def test_getting_an_unknown_case_is_refused(db):
    with db.reading() as session, pytest.raises(CaseNotFound, match="no-such-case"):
        handlers.get_case(session, "no-such-case")


def test_assigning_a_case_gives_it_to_an_advisor_and_says_so(db):
    case, _ = open_case(db, firm())
    with db.transaction() as uow:
        assigned = handlers.assign_case(uow, case.id, "advisor-0142", "CCI Provence")
    assert (assigned.status, assigned.advisor, assigned.partner) == (
        ASSIGNED, "advisor-0142", "CCI Provence")
    with db.reading() as session:
        assert handlers.get_case(session, case.id).advisor == "advisor-0142"
    [event] = db.published_data("case.assigned")
    assert event["advisor"] == "advisor-0142" and event["partner"] == "CCI Provence"


def test_closing_a_case_then_assigning_or_closing_it_again_is_refused(db):
    case, _ = open_case(db, firm())
    with db.transaction() as uow:
        closed = handlers.close_case(uow, case.id, "the firm postponed its plans")
    assert closed.status == CLOSED and closed.closed_at is not None
    for move in (lambda uow: handlers.assign_case(uow, case.id, "advisor-1", "CCI"),
                 lambda uow: handlers.close_case(uow, case.id, "again")):
        with pytest.raises(CaseMoveRefused, match="is closed"), db.transaction() as uow:
            move(uow)
    assert db.published_types() == ["case.opened", "case.closed"]

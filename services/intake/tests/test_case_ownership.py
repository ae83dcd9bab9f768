"""Who may read and change a case: the single window of its region, the partner following it,
the referring partner in its own name. Plain rules, each refused with a 403 saying why."""
import pytest
from parcours_shared.domain import NotYours
from parcours_shared.identity import Caller
from parcours_testing import UseCaseDatabase, luhn_valid_sirens

from intake import handlers, store
from intake.domain import Case, Partner, is_single_window_of, may_read_case

SIRENS = luhn_valid_sirens(54000000)
PACA_CHAMBER = {"id": "cci-international-paca", "kind": "chamber_of_commerce", "regions": ["93"],
                "name": "CCI International Provence-Alpes-Côte d'Azur"}
AURA_CHAMBER = {"id": "cci-international-aura", "kind": "chamber_of_commerce", "regions": ["84"],
                "name": "CCI International Auvergne-Rhône-Alpes"}
AGENCY = {"id": "business-france", "kind": "national_export_agency", "regions": ["84", "93"],
          "name": "Business France"}


def caller(partner, *roles):
    return Caller("p-" + partner, partner, frozenset(roles or ("advisor",)), person="p-" + partner)


@pytest.fixture
def db():
    db = UseCaseDatabase("intake", store.metadata)
    with db.transaction() as uow:
        for partner in (PACA_CHAMBER, AURA_CHAMBER, AGENCY):
            handlers.register_partner(uow, partner)
        handlers.register_person(uow, "business-france", {
            "id": "p-amelie-roux", "region_code": "93", "role": "advisor", "name": "Amélie Roux",
            "email": "amelie.roux@businessfrance.example"})
    return db


def open_case(db, region_code="93"):
    with db.transaction() as uow:
        return handlers.open_case(uow, {"siren": next(SIRENS), "company_name": "Savonnerie",
                                        "region_code": region_code}, "walk_in")[0]


def test_the_single_window_of_a_region_is_a_chamber_serving_it():
    chamber = Partner(**dict(PACA_CHAMBER, registered_at=None))
    agency = Partner(**dict(AGENCY, registered_at=None))
    assert is_single_window_of(chamber, "93") and not is_single_window_of(chamber, "84")
    assert is_single_window_of(chamber, None)  # a firm whose region is not known yet
    assert not is_single_window_of(agency, "93") and not is_single_window_of(None, "93")


def test_a_case_is_read_by_its_single_window_its_following_partner_and_the_operator():
    chamber = Partner(**dict(PACA_CHAMBER, registered_at=None))
    case = Case(id="c-1", siren="732829320", company_name="X", region_code="93", naf_code=None,
                channel="web", status="assigned", opened_at=None, partner="business-france")
    assert may_read_case(caller("cci-international-paca"), chamber, case)
    assert may_read_case(caller("business-france"), None, case)
    assert may_read_case(caller("network-operator", "admin"), None, case)
    assert not may_read_case(caller("bpifrance"), None, case)


def test_only_the_single_window_of_the_region_assigns_a_case(db):
    case = open_case(db, "93")
    for outsider in ("cci-international-aura", "business-france"):
        with db.transaction(caller(outsider)) as uow, pytest.raises(NotYours) as refused:
            handlers.assign_case(uow, case.id, "p-amelie-roux")
        assert "single window of region 93" in refused.value.message
    with db.transaction(caller("cci-international-paca")) as uow:
        assert handlers.assign_case(uow, case.id, "p-amelie-roux").partner == "business-france"


def test_the_partner_following_a_case_may_close_it_another_may_not(db):
    case = open_case(db, "93")
    with db.transaction(caller("cci-international-paca")) as uow:
        handlers.assign_case(uow, case.id, "p-amelie-roux")
    with db.transaction(caller("bpifrance")) as uow, pytest.raises(NotYours) as refused:
        handlers.close_case(uow, case.id, "firm_declined")
    assert "or by the partner following it (business-france)" in refused.value.message
    with db.transaction(caller("business-france")) as uow:
        assert handlers.close_case(uow, case.id, "firm_declined").status == "closed"


def test_a_partner_refers_firms_in_its_own_name(db):
    firm = {"siren": next(SIRENS), "company_name": "Chantier naval", "region_code": "93"}
    with db.transaction(caller("pole-mer-mediterranee", "referrer")) as uow, \
            pytest.raises(NotYours, match="cannot refer for medicen"):
        handlers.refer_firm(uow, dict(firm, referred_by="medicen"))
    with db.transaction(caller("pole-mer-mediterranee", "referrer")) as uow:
        handlers.refer_firm(uow, dict(firm, referred_by=None))
    [referred] = db.published_data("case.referred")
    assert referred["referred_by"] == "pole-mer-mediterranee"


def test_each_caller_lists_the_cases_it_may_read(db):
    paca, aura = open_case(db, "93"), open_case(db, "84")
    unknown_region = open_case(db, None)
    with db.transaction(caller("cci-international-paca")) as uow:
        handlers.assign_case(uow, paca.id, "p-amelie-roux")

    def listed(actor):
        with db.reading() as session:
            return {case.id for case in handlers.visible_cases(session, actor)[0]}

    assert listed(caller("cci-international-paca")) == {paca.id, unknown_region.id}
    assert listed(caller("cci-international-aura")) == {aura.id, unknown_region.id}
    assert listed(caller("business-france")) == {paca.id}
    assert listed(caller("bpifrance")) == set()
    assert listed(caller("network-operator", "admin")) == {paca.id, aura.id,
                                                           unknown_region.id}
    with db.reading() as session, pytest.raises(NotYours, match="business-france may not see it"):
        handlers.readable_case(session, aura.id, caller("business-france"))

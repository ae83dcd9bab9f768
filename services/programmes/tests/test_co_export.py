"""Co-export calls matched to firms on a small, realistic network: the fit scored with its
reasons, contacts only where the firm consented, interest and the group's decision as events
(use cases without a broker)."""
from datetime import date, timedelta

import pytest
from parcours_shared.contracts import utc_now
from parcours_shared.domain import NotYours
from parcours_shared.identity import Caller
from parcours_testing import UseCaseDatabase, event, example_data

from programmes import handlers, store
from programmes.co_export import CallClosed, InterestMoveRefused, NotAMatch

SIEMENS = Caller("p-ines-garnier", "siemens-france", frozenset({"referrer"}),
                 person="p-ines-garnier")
AIRBUS = Caller("p-paul-mercier", "airbus", frozenset({"referrer"}), person="p-paul-mercier")
ADVISOR = Caller("p-sophie-laurent", "cci-international-aura", frozenset({"advisor"}),
                 person="p-sophie-laurent")
CONTACT = {"contact_id": "k1", "name": "Claire Durand", "role": "export manager",
           "email": "claire.durand@example.org", "phone": None}
# (case, firm, NAF code, maturity, target markets, consents to co-export matching)
FIRMS = [
    ("c-rail", "Ateliers Durand (rail parts)", "30.20Z", "experienced_exporter", ["DE", "AT"],
     True),
    ("c-cable", "Câbles du Rhône", "27.32Z", "occasional_exporter", ["DE"], False),
    ("c-weld", "Soudure de Bretagne", "25.62B", "occasional_exporter", ["ES"], True),
    ("c-new", "Électronique du Nord", "26.11Z", "first_time_exporter", ["DE"], True),
    ("c-soft", "Logiciels d'Occitanie", "62.01Z", "experienced_exporter", ["DE"], True),
    ("c-choc", "Chocolaterie d'Alsace", "10.82Z", "experienced_exporter", ["DE"], True),
    ("c-late", "Fonderie du Nord", "24.51Z", None, [], True),   # not diagnosed yet
]


@pytest.fixture
def network():
    db = UseCaseDatabase("programmes", store.metadata)
    now = utc_now()
    with db.transaction() as uow:
        handlers.keep_firm_profiles(uow, [event("case.opened", example_data(
            "case.opened", case_id=case_id, company_name=name, naf_code=naf, opened_at=now))
            for case_id, name, naf, *_ in FIRMS])
        handlers.propose_enrolments(uow, [event("diagnostic.completed", example_data(
            "diagnostic.completed", case_id=case_id, maturity=maturity, completed_at=now,
            target_markets=[{"country": c, "reason": "named_by_firm"} for c in markets]))
            for case_id, _, _, maturity, markets, _ in FIRMS if maturity])
        handlers.keep_contacts(uow, [event("contact.shared", example_data(
            "contact.shared", case_id=case_id, contacts=[CONTACT], shared_at=now,
            purposes=["orientation", "co_export_matching"] if consents else ["orientation"]))
            for case_id, *_, consents in FIRMS])
    db.take_published()
    return db


def rail_call(db, deadline=None):
    with db.transaction(SIEMENS) as uow:
        return handlers.publish_call(uow, {
            "partner": "siemens-france", "title": "Modernisation du réseau ferré de Bavière",
            "country": "DE", "needs": "pièces ferroviaires, câblage, soudure certifiée",
            "deadline": deadline or date.today() + timedelta(days=60),
            "sectors": ["25", "27", "30"], "maturity_levels": None})


def test_a_call_is_matched_to_the_firms_whose_diagnostic_fits_best_first(network):
    call = rail_call(network)
    [published] = network.published_data("co_export.call_published")
    assert published["maturity_levels"] == ["occasional_exporter", "experienced_exporter"]
    with network.reading() as session:
        _, matches = handlers.call_matches(session, call.id, SIEMENS)
    assert [(m["case_id"], m["score"]) for m in matches] == [
        ("c-cable", 100), ("c-rail", 100), ("c-weld", 50)]
    rail = next(m for m in matches if m["case_id"] == "c-rail")
    assert rail["reasons"] == ["aims at DE, the project's country",
                               "maturity experienced_exporter fits",
                               "sector 30.20Z is among those sought (30)"]
    # not matched: the first-time exporter, the software firm and the chocolate maker (not
    # the sectors sought), the firm not diagnosed yet


def test_contacts_show_only_where_the_firm_consented_and_only_to_the_call_s_partner(network):
    call = rail_call(network)
    with network.reading() as session:
        _, matches = handlers.call_matches(session, call.id, SIEMENS)
        by_case = {m["case_id"]: m for m in matches}
        assert by_case["c-rail"]["contacts"] == [CONTACT]
        assert by_case["c-cable"]["contacts"] is None
        assert by_case["c-cable"]["contact_consent"] is False
        with pytest.raises(NotYours, match="siemens-france's"):
            handlers.call_matches(session, call.id, AIRBUS)
    with network.transaction() as uow:  # the rail firm withdraws its consent
        handlers.keep_contacts(uow, [event("contact.withdrawn", example_data(
            "contact.withdrawn", case_id="c-rail", withdrawn_at=utc_now(),
            remaining_purposes=["orientation"]))])
    with network.reading() as session:
        _, matches = handlers.call_matches(session, call.id, SIEMENS)
    assert next(m for m in matches if m["case_id"] == "c-rail")["contacts"] is None


def test_interest_and_decision_are_events_and_only_for_matching_firms(network):
    call = rail_call(network)
    with network.transaction(ADVISOR) as uow:
        handlers.express_interest(uow, call.id, "c-rail")
    with pytest.raises(NotAMatch, match="does not fit"), network.transaction(ADVISOR) as uow:
        handlers.express_interest(uow, call.id, "c-soft")
    with pytest.raises(InterestMoveRefused), network.transaction(ADVISOR) as uow:
        handlers.express_interest(uow, call.id, "c-rail")
    with pytest.raises(NotYours), network.transaction(AIRBUS) as uow:
        handlers.decide_on_interest(uow, call.id, "c-rail", "selected", None)
    with network.transaction(SIEMENS) as uow:
        decided = handlers.decide_on_interest(uow, call.id, "c-rail", "selected",
                                              "meeting in Munich in May")
    assert decided.status == "selected"
    assert [e["type"] for e in network.published] == [
        "co_export.call_published", "co_export.interest_expressed", "co_export.decided"]
    assert network.published[1]["data"]["expressed_by"] == "cci-international-aura"
    assert network.published[2]["data"]["decision"] == "selected"
    with network.reading() as session:
        _, matches = handlers.call_matches(session, call.id, SIEMENS)
    assert next(m for m in matches if m["case_id"] == "c-rail")["interest"] == "selected"


def test_a_closed_case_is_no_match(network):
    call = rail_call(network)
    with network.transaction() as uow:
        handlers.withdraw_for_closed_cases(uow, [event("case.closed", example_data(
            "case.closed", case_id="c-rail", closed_at=utc_now()))])
    with network.reading() as session:
        _, matches = handlers.call_matches(session, call.id, SIEMENS)
    assert "c-rail" not in [m["case_id"] for m in matches]
    with pytest.raises(NotAMatch, match="closed"), network.transaction(ADVISOR) as uow:
        handlers.express_interest(uow, call.id, "c-rail")


def test_a_closed_call_takes_no_more_interest(network):
    call = rail_call(network, deadline=date.today() - timedelta(days=1))
    with pytest.raises(CallClosed, match="closed on"), network.transaction(ADVISOR) as uow:
        handlers.express_interest(uow, call.id, "c-rail")
    with network.reading() as session:
        assert store.open_calls(session, date.today()) == []

"""Intake's use cases, each on its own, without a broker (parcours_testing.UseCaseDatabase)."""
import pytest
from stdnum import luhn
from parcours_testing import UseCaseDatabase, luhn_valid_sirens

from intake import handlers, store
from intake.domain import (
    ASSIGNED, CLOSED, OPEN, CaseMoveRefused, CaseNotFound, InvalidNafCode, InvalidSiren,
    CaseSearch, UnknownAdvisor, next_in_rotation,
)

SIRENS = luhn_valid_sirens()


def siret_of(siren, establishment):
    """A valid SIRET of ``siren``: its establishment number (NIC) and a Luhn check digit."""
    body = "{}{:04d}".format(siren, establishment)
    return body + luhn.calc_check_digit(body)


def firm(**overrides):
    """A firm with a SIREN of its own, unless ``overrides`` says otherwise (even None)."""
    return dict({"siren": next(SIRENS), "company_name": "Ateliers Durand",
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
    assert db.published_types() == ["case.opened", "case.enriched"]
    [enriched] = db.published_data("case.enriched")
    assert enriched["channel"] == "phone" and enriched["filled"] == []
    with db.reading() as session:
        case = handlers.readable_case(session, first.id, actor=None)
    assert [arrival.channel for arrival in case.arrivals] == ["web", "phone"]


def test_a_siret_is_the_firm_of_its_siren_and_its_establishments_are_kept(db):
    siren = next(SIRENS)
    head_office, branch = siret_of(siren, 1), siret_of(siren, 2)
    case, created = open_case(db, firm(siren=None, siret=head_office))
    assert created and case.siren == siren
    again, created = open_case(db, firm(siren=siren, siret=" ".join(branch)), "phone")
    assert not created and again.id == case.id
    open_case(db, firm(siren=None, siret=head_office), "walk_in")
    with db.reading() as session:
        case = handlers.readable_case(session, case.id, actor=None)
    assert case.establishments == [head_office, branch]
    assert [a.siret for a in case.arrivals] == [head_office, branch, head_office]
    assert db.published_data("case.opened")[0]["siret"] == head_office


@pytest.mark.parametrize("number, field, reason", [
    ({"siren": "123456789"}, "siren", "SIREN"),
    ({"siret": "73282932000075"}, "siret", "checksum"),
    ({"siret": "7328293200007"}, "siret", "SIRET"),
    ({"siren": None}, "siren", "give the firm's SIREN"),
])
def test_a_firm_number_that_cannot_be_is_refused_saying_which_and_why(db, number, field, reason):
    with pytest.raises(InvalidSiren) as refused:
        open_case(db, firm(**number))
    assert reason in refused.value.fields[field][0]


def test_a_siret_of_another_siren_is_refused(db):
    with pytest.raises(InvalidSiren) as refused:
        open_case(db, firm(siren=next(SIRENS), siret=siret_of(next(SIRENS), 1)))
    assert "is an establishment of SIREN" in refused.value.fields["siret"][0]


def test_the_naf_code_must_be_in_the_official_list_and_is_kept_as_insee_writes_it(db):
    case, _ = open_case(db, firm(naf_code="2562b"))
    assert case.naf_code == "25.62B"
    with pytest.raises(InvalidNafCode) as refused:
        open_case(db, firm(naf_code="25.62X"))  # shaped like one, not in NAF rev. 2
    assert "not in the NAF rev. 2 list" in refused.value.fields["naf_code"][0]


def test_a_new_arrival_fills_in_the_firm_data_the_case_lacked_and_changes_none_it_knew(db):
    first = firm(headcount_band=None, turnover_eur=None)
    case, _ = open_case(db, first)
    open_case(db, dict(first, company_name="Autre nom", headcount_band="11",
                       turnover_eur=2_400_000), "phone")
    with db.reading() as session:
        case = handlers.readable_case(session, case.id, actor=None)
    assert (case.company_name, case.headcount_band, case.turnover_eur) == (
        "Ateliers Durand", "11", 2_400_000)
    [enriched] = db.published_data("case.enriched")
    assert enriched["filled"] == ["headcount_band", "turnover_eur"]
    assert enriched["company_name"] == "Ateliers Durand"


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
        case, _, created = handlers.refer_firm(uow, referral)
    assert created and case.channel == "referral"
    assert db.published_types() == ["case.opened", "case.referred"]
    [referred] = db.published_data("case.referred")
    assert referred["referred_by"] == "Pôle Mer Méditerranée"

    with db.transaction() as uow:  # referred again by someone else: same case, new referral
        again, _, created = handlers.refer_firm(uow, dict(referral, referred_by="Bpifrance"))
    assert not created and again.id == case.id
    assert db.published_types()[-1] == "case.referred"


def test_getting_an_unknown_case_is_refused(db):
    with db.reading() as session, pytest.raises(CaseNotFound, match="no-such-case"):
        handlers.get_case(session, "no-such-case")


CHAMBER = {"id": "cci-international-paca", "name": "CCI International Provence-Alpes-Côte d'Azur",
           "kind": "chamber_of_commerce", "regions": ["93"]}


def with_advisor(db, person_id="p-marc-giraud", role="advisor", partner=CHAMBER):
    with db.transaction() as uow:
        if store.partner_by_id(uow.session, partner["id"]) is None:
            handlers.register_partner(uow, partner)
        handlers.register_person(uow, partner["id"], {
            "id": person_id, "region_code": partner["regions"][0], "role": role,
            "name": "Marc Giraud", "email": "m.giraud@cci.example"})


def test_assigning_a_case_gives_it_to_an_advisor_of_the_directory_and_says_so(db):
    with_advisor(db)
    case, _ = open_case(db, firm(region_code="93"))
    with db.transaction() as uow:
        assigned = handlers.assign_case(uow, case.id, "p-marc-giraud")
    assert (assigned.status, assigned.advisor, assigned.partner) == (
        ASSIGNED, "p-marc-giraud", "cci-international-paca")
    with db.reading() as session:
        assert handlers.get_case(session, case.id).advisor == "p-marc-giraud"
    [event] = db.published_data("case.assigned")
    assert event["advisor"] == "p-marc-giraud" and event["partner"] == "cci-international-paca"


def test_a_case_goes_only_to_an_active_advisor_of_the_directory(db):
    with_advisor(db, "p-referrer", role="referrer")
    with_advisor(db, "p-gone")
    with db.transaction() as uow:
        handlers.record_departure(uow, "p-gone")
    case, _ = open_case(db, firm(region_code="93"))
    for advisor, reason in [("p-nobody", "not in the directory"),
                            ("p-referrer", "a referrer, not an advisor"),
                            ("p-gone", "no longer with cci-international-paca")]:
        with pytest.raises(UnknownAdvisor, match=reason), db.transaction() as uow:
            handlers.assign_case(uow, case.id, advisor)


def test_closing_a_case_then_assigning_or_closing_it_again_is_refused(db):
    case, _ = open_case(db, firm())
    with db.transaction() as uow:
        closed = handlers.close_case(uow, case.id, "firm_declined")
    assert closed.status == CLOSED and closed.closed_at is not None
    for move in (lambda uow: handlers.assign_case(uow, case.id, "advisor-1"),
                 lambda uow: handlers.close_case(uow, case.id, "duplicate_merged")):
        with pytest.raises(CaseMoveRefused, match="is closed"), db.transaction() as uow:
            move(uow)
    assert db.published_types() == ["case.opened", "case.closed"]


def test_new_cases_go_to_the_region_s_advisors_in_turn_skipping_who_left(db):
    with db.transaction() as uow:
        handlers.register_partner(uow, {"id": "cci-aura", "name": "CCI AURA",
                                        "kind": "chamber_of_commerce", "regions": ["84", "93"]})
        for person_id, region in (("p-b", "84"), ("p-a", "84"), ("p-c", "84"), ("p-z", "93")):
            handlers.register_person(uow, "cci-aura", {
                "id": person_id, "region_code": region, "role": "advisor", "name": person_id,
                "email": person_id + "@cci.example"})
        handlers.register_person(uow, "cci-aura", {
            "id": "p-0-reader", "region_code": "84", "role": "reader", "name": "R",
            "email": "r@cci.example"})
    advisors = []
    for turn in range(4):
        if turn == 2:
            with db.transaction() as uow:
                handlers.record_departure(uow, "p-a")  # p-a's next turn is skipped
        with db.transaction() as uow:
            case, _ = handlers.open_case(uow, firm(region_code="84"), "web", assign=True)
        advisors.append(case.advisor)
    assert advisors == ["p-a", "p-b", "p-c", "p-b"]
    with db.transaction() as uow:  # no region yet: the window assigns it by hand later
        unplaced, _ = handlers.open_case(uow, firm(region_code=None), "web", assign=True)
    assert unplaced.status == OPEN and unplaced.advisor is None
    assert {d["rule"] for d in db.published_data("case.assigned")} == {"rotation"}


def test_the_rotation_starts_after_the_last_advisor_and_wraps_around():
    assert next_in_rotation(["p-b", "p-a"], None) == "p-a"
    assert next_in_rotation(["p-b", "p-a"], "p-a") == "p-b"
    assert next_in_rotation(["p-b", "p-a"], "p-b") == "p-a"
    assert next_in_rotation(["p-b", "p-c"], "p-a") == "p-b"  # p-a left since
    assert next_in_rotation([], "p-a") is None


def test_search_finds_names_whatever_their_accents_and_case(db):
    names = ["Société Générale de Fonderie", "SOCIETE GENERALE DES EAUX", "Cœur de Savon",
             "L’Atelier 100% Bio", "Générique"]
    for name in names:
        open_case(db, firm(company_name=name))

    def found(**criteria):
        with db.reading() as session:
            cases, total = handlers.visible_cases(session, None, CaseSearch(**criteria))
        assert total == len(cases)
        return sorted(case.company_name for case in cases)

    assert found(name="société générale") == found(name="SOCIETE GENERALE") == sorted(names[:2])
    assert found(name="coeur") == ["Cœur de Savon"]
    assert found(name="l'atelier 100%") == ["L’Atelier 100% Bio"]
    assert found(name="_") == []  # a LIKE wildcard is a character like the others


def test_search_combines_criteria_sorts_pages_and_counts_the_total(db):
    with db.transaction() as uow:
        handlers.register_partner(uow, {"id": "medicen", "name": "Medicen",
                                        "kind": "competitiveness_cluster", "regions": ["11"]})
    opened = [open_case(db, firm(company_name=name, region_code=region, naf_code=naf), channel)[0]
              for name, region, naf, channel in (
                  ("Alpha", "11", "21.20Z", "web"), ("Bravo", "11", "25.62B", "phone"),
                  ("Charlie", "84", "25.61Z", "web"), ("Delta", "11", "10.82Z", "walk_in"))]
    open_case(db, firm(siren=opened[3].siren), "phone")  # Delta came again, by phone
    with db.transaction() as uow:
        handlers.refer_firm(uow, firm(siren=opened[0].siren, referred_by="medicen"))

    def names(**criteria):
        with db.reading() as session:
            cases, total = handlers.visible_cases(session, None, CaseSearch(**criteria))
        return [case.company_name for case in cases], total

    assert names(region_code="11", sort="-company_name") == (["Delta", "Bravo", "Alpha"], 3)
    assert names(sector="C") == (["Alpha", "Bravo", "Charlie", "Delta"], 4)  # all manufacturing
    assert names(sector="25.6") == (["Bravo", "Charlie"], 2)
    assert names(channel="phone") == (["Bravo", "Delta"], 2)  # any arrival counts
    assert names(referred_by="medicen") == (["Alpha"], 1)
    assert names(region_code="11", limit=2, offset=2, sort="company_name") == (["Delta"], 3)
    assert names(siren=opened[2].siren, status="open") == (["Charlie"], 1)

"""Eligibility as data, checked rule by rule with its explanation, and the ranking of the
proposals made after a diagnostic (pure: no broker, no database)."""
from datetime import date

import pytest

from programmes.domain import MAX_PROPOSALS, Programme, proposals_for
from programmes.eligibility import MET, NOT_MET, UNKNOWN, Eligibility

TODAY = date(2027, 3, 1)
# a firm of the Auvergne-Rhône-Alpes region: 6 to 9 staff, metalwork, created in 2019
FIRM = {"region_code": "84", "naf_code": "25.62B", "headcount_band": "03",
        "creation_date": date(2019, 5, 14)}
DIAGNOSIS = {"maturity": "first_time_exporter", "programme_kinds": ["preparation",
                                                                    "trade_fair_pavilion"],
             "target_markets": [{"country": "DE", "reason": "named_by_firm"}]}


def verdict(rules, firm=FIRM, diagnosis=DIAGNOSIS, levels=("first_time_exporter",)):
    return Eligibility.of(levels, rules).evaluate(firm, diagnosis, TODAY)


def only_check(rules, **kwargs):
    return verdict(rules, **kwargs).checks[-1]


@pytest.mark.parametrize("rules, outcome, text", [
    ({"headcount_min": 10}, NOT_MET, "headcount 6 to 9 is below this programme's minimum of 10"),
    ({"headcount_max": 5}, NOT_MET, "headcount 6 to 9 is above this programme's maximum of 5"),
    ({"headcount_min": 5, "headcount_max": 249}, MET,
     "headcount 6 to 9 is within this programme's range (5 to 249)"),
    ({"headcount_min": 8}, UNKNOWN,
     "headcount 6 to 9 straddles this programme's range (8 or more): to check with the firm"),
    ({"regions": ["84", "93"]}, MET, "region 84 is among this programme's regions (84, 93)"),
    ({"regions": ["11"]}, NOT_MET, "region 84 is not among this programme's regions (11)"),
    ({"naf_included": ["C"]}, MET, "sector 25.62B is accepted"),
    ({"naf_included": ["10", "11"]}, NOT_MET,
     "sector 25.62B is not among those this programme accepts (10, 11)"),
    ({"naf_excluded": ["25.62B"]}, NOT_MET, "sector 25.62B is excluded by this programme "
                                            "(25.62B)"),
    ({"naf_included": ["C"], "naf_excluded": ["25"]}, NOT_MET,
     "sector 25.62B is excluded by this programme (25)"),
    ({"company_age_min_years": 3}, MET,
     "company created 2019-05-14 (7 years old) is within this programme's range"),
    ({"company_age_max_years": 5}, NOT_MET, "company created 2019-05-14 (7 years old) is older "
                                            "than this programme's maximum of 5 years"),
    ({"company_age_min_years": 8}, NOT_MET, "company created 2019-05-14 (7 years old) is "
                                            "younger than this programme's minimum of 8 years"),
    ({"target_markets": ["DE", "AT"]}, MET,
     "aims at DE, among this programme's markets (DE, AT)"),
    ({"target_markets": ["AE"]}, NOT_MET, "aims at DE, none of this programme's markets (AE)"),
])
def test_each_rule_is_checked_and_explained(rules, outcome, text):
    check = only_check(rules)
    assert (check.outcome, check.text) == (outcome, text)
    assert verdict(rules).eligible == (outcome != NOT_MET)


def test_maturity_is_always_a_rule():
    assert verdict({}).checks[0].text == (
        "maturity first_time_exporter is among this programme's levels (first_time_exporter)")
    refused = verdict({}, levels=("experienced_exporter",))
    assert not refused.eligible and refused.refusals[0].text == (
        "maturity first_time_exporter is not among this programme's levels "
        "(experienced_exporter)")


def test_what_the_firm_s_data_cannot_decide_is_to_check_not_refused():
    result = verdict({"headcount_min": 10, "regions": ["84"], "naf_included": ["C"]},
                     firm={"region_code": "84"})
    assert result.eligible
    assert [(c.rule, c.text) for c in result.to_check] == [
        ("sector", "sector not known (no NAF code)"), ("headcount", "headcount not known")]
    before_diagnostic = verdict({}, diagnosis=None)
    assert before_diagnostic.eligible and before_diagnostic.to_check[0].rule == "maturity"


def programme(programme_id, kind, levels=("first_time_exporter",), **rules):
    return Programme(programme_id, "business-france", "Programme " + programme_id, kind,
                     list(levels), eligibility=rules or None)


def session(session_id, programme_id, market, starts_on, deadline=None):
    return {"id": session_id, "programme_id": programme_id, "market": market,
            "place": "somewhere", "starts_on": starts_on, "enrolment_deadline": deadline}


def test_proposals_rank_a_target_market_session_first_then_a_recommended_kind():
    programmes = {p.id: p for p in [
        programme("fair", "trade_fair_pavilion"), programme("prep", "preparation"),
        programme("vie", "international_volunteer"), programme("germany", "targeted_market"),
        programme("big", "co_export", levels=("experienced_exporter",)),
        programme("large", "preparation", headcount_min=50)]}
    sessions = [(session("s-fair", "fair", "AE", date(2027, 4, 1)), 5),
                (session("s-prep", "prep", "FR", date(2027, 3, 15)), 5),
                (session("s-vie", "vie", "US", date(2027, 3, 10)), 5),
                (session("s-de", "germany", "DE", date(2027, 9, 1)), 5),
                (session("s-big", "big", "DE", date(2027, 3, 5)), 5),
                (session("s-large", "large", "DE", date(2027, 3, 5)), 5)]
    proposals = proposals_for(DIAGNOSIS, FIRM, programmes, sessions, TODAY)
    assert len(proposals) == MAX_PROPOSALS
    assert [(p.rank, p.programme.id) for p in proposals] == [
        (1, "germany"), (2, "prep"), (3, "fair")]
    assert proposals[0].reasons == (("target_market", "DE"),)
    assert proposals[0].reason == "a session in DE, a target market"
    assert proposals[1].reason == "preparation recommended by the diagnostic"


def test_a_full_or_closed_session_is_not_proposed():
    programmes = {"prep": programme("prep", "preparation")}
    closed = session("s-closed", "prep", "DE", date(2027, 4, 1), deadline=date(2027, 2, 28))
    full = session("s-full", "prep", "DE", date(2027, 4, 1))
    started = session("s-started", "prep", "DE", TODAY)
    later = session("s-later", "prep", "BE", date(2027, 6, 1))
    proposals = proposals_for(DIAGNOSIS, FIRM, programmes,
                              [(closed, 5), (full, 0), (started, 5), (later, 5)], TODAY)
    assert [p.session["id"] for p in proposals] == ["s-later"]
    assert proposals_for(DIAGNOSIS, FIRM, programmes, [(full, 0)], TODAY) == []

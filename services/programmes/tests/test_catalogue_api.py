"""The catalogue over HTTP, against the real broker and the service's own database: eligibility
written as data and checked field by field, a firm's eligibility explained from what intake
and its diagnostic said of it, and "who does what" by partner."""
import uuid
from datetime import date, timedelta

import pytest
from parcours_shared.contracts import build_envelope, utc_now
from parcours_testing import example_data, outbox_events, publish_messages, wait_for
from parcours_testing.identity import TEST_PARTNER

from programmes.service import ProgrammesService

SOON = date.today() + timedelta(days=30)
# for small manufacturers of Auvergne-Rhône-Alpes aiming at Germany
RULES = {"naf_included": ["C"], "naf_excluded": ["10"], "regions": ["84"],
         "headcount_min": 1, "headcount_max": 49, "company_age_min_years": 2,
         "target_markets": ["DE", "AT"]}


@pytest.fixture
def programmes(running_service):
    return running_service(ProgrammesService)


def offer(programmes, name, kind="targeted_market", levels=("first_time_exporter",),
          partner=TEST_PARTNER, **more):
    created = programmes.post("/programmes", dict({
        "partner": partner, "name": name, "kind": kind, "maturity_levels": list(levels)},
        **more))
    assert created.status_code == 201, created.text
    session = programmes.post("/programmes/{}/sessions".format(created.json()["id"]), {
        "starts_on": SOON.isoformat(), "ends_on": (SOON + timedelta(days=2)).isoformat(),
        "enrolment_deadline": (SOON - timedelta(days=7)).isoformat(), "market": "DE",
        "place": "Munich", "capacity": 8})
    assert session.status_code == 201, session.text
    return created.json()


def test_eligibility_is_written_as_data_and_checked_field_by_field(programmes):
    created = offer(programmes, "Prospection Allemagne", price_eur=1500, subsidy_percent=50,
                    eligibility=RULES)
    assert created["eligibility"]["naf_excluded"] == ["10"]
    assert (created["price_eur"], created["subsidy_percent"]) == (1500, 50)
    listed = programmes.get("/programmes").json()["programmes"]
    assert listed[0]["sessions"][0]["enrolment_deadline"] == (SOON - timedelta(
        days=7)).isoformat()

    refused = programmes.post("/programmes", {
        "partner": TEST_PARTNER, "name": "Mauvais", "kind": "targeted_market",
        "maturity_levels": ["first_time_exporter"], "eligibility": {
            "naf_included": ["C", "25.62X"], "regions": ["99"], "headcount_min": 50,
            "headcount_max": 10, "target_markets": ["Germany"]}})
    assert refused.status_code == 400
    problems = refused.json()["fields"]["eligibility"]
    assert problems["naf_included"] == {"1": [
        "25.62X is not in the NAF rev. 2 list (INSEE): check the firm's APE code on its Kbis "
        "or on annuaire-entreprises.data.gouv.fr"]}
    assert set(problems) == {"naf_included", "regions", "target_markets"}
    ranges = programmes.post("/programmes", {
        "partner": TEST_PARTNER, "name": "Mauvais", "kind": "targeted_market",
        "maturity_levels": ["first_time_exporter"],
        "eligibility": {"headcount_min": 50, "headcount_max": 10}})
    assert ranges.json()["fields"] == {"eligibility": {"headcount_min": [
        "headcount_min is above headcount_max: headcount_min is the smallest headcount"]}}
    late = programmes.post("/programmes/{}/sessions".format(created["id"]), {
        "starts_on": SOON.isoformat(), "enrolment_deadline": (SOON + timedelta(
            days=1)).isoformat(), "place": "Munich", "capacity": 8})
    assert late.status_code == 400 and list(late.json()["fields"]) == ["enrolment_deadline"]


def announce(programmes, case_id, programme_id, naf_code="25.62B", headcount_band="03"):
    """intake's case.opened, then, once programmes holds the firm's data (as it does long
    before a diagnostic in real life: the two come through different queues),
    diagnostic.completed."""
    publish_messages(programmes.test_amqp_uri, [
        ("intake.events", "case.opened", build_envelope("intake", "case.opened", case_id,
         example_data("case.opened", case_id=case_id, naf_code=naf_code, region_code="84",
                      headcount_band=headcount_band, creation_date=date(2015, 1, 5),
                      opened_at=utc_now())), "application/json")])
    wait_for(lambda: programmes.get("/programmes/{}/eligibility".format(programme_id), params={
        "case_id": case_id}).json()["firm_known"], what="programmes to keep the firm's data")
    publish_messages(programmes.test_amqp_uri, [
        ("diagnostic.events", "diagnostic.completed", build_envelope(
            "diagnostic", "diagnostic.completed", case_id, example_data(
                "diagnostic.completed", case_id=case_id, diagnostic_id=str(uuid.uuid4()),
                completed_at=utc_now())), "application/json")])


def test_a_firm_s_eligibility_is_explained_and_nothing_eligible_is_said(programmes):
    germany = offer(programmes, "Prospection Allemagne", eligibility=RULES)
    eligible, food = str(uuid.uuid4()), str(uuid.uuid4())
    announce(programmes, eligible, germany["id"])
    proposals = wait_for(lambda: programmes.get("/enrolments", params={
        "case_id": eligible}).json()["enrolments"], what="a proposal for the eligible firm")
    assert proposals[0]["rank"] == 1 and proposals[0]["reason"].startswith("a session in DE")
    verdict = programmes.get("/programmes/{}/eligibility".format(germany["id"]),
                             params={"case_id": eligible}).json()
    assert verdict["eligible"] and verdict["firm_known"] and verdict["diagnosed"]
    assert [c["rule"] for c in verdict["checks"]] == [
        "maturity", "sector", "region", "headcount", "company_age", "target_markets"]

    announce(programmes, food, germany["id"], naf_code="10.71C")  # a bakery: section C, but division 10
    [none] = wait_for(lambda: [e for e in outbox_events(
        programmes.config["DATABASE_URL"], "enrolment.none_proposed")
        if e["subject"] == food], what="programmes to say it has nothing for the bakery")
    assert none["data"]["reason"] == "no_eligible_programme"
    refused = programmes.get("/programmes/{}/eligibility".format(germany["id"]),
                             params={"case_id": food}).json()
    assert not refused["eligible"]
    assert refused["checks"][1]["text"] == "sector 10.71C is excluded by this programme (10)"
    assert programmes.get("/programmes/no-such/eligibility",
                          params={"case_id": food}).status_code == 404


def test_who_does_what_lists_the_fitting_programmes_by_partner(programmes):
    offer(programmes, "Prospection Allemagne", eligibility=RULES)
    offer(programmes, "Accélérateur export", kind="financing",
          levels=("occasional_exporter", "experienced_exporter"))
    offer(programmes, "Prépa export", kind="preparation", eligibility={"regions": ["11"]})
    found = programmes.get("/who-does-what", params={
        "maturity": "first_time_exporter", "region_code": "84", "naf_code": "2562B",
        "headcount_band": "03", "target_market": "DE"})
    assert found.status_code == 200, found.text
    [partner] = found.json()["partners"]
    assert partner["partner"] == TEST_PARTNER
    assert [p["name"] for p in partner["programmes"]] == ["Prospection Allemagne"]
    assert partner["programmes"][0]["checks"][0]["outcome"] == "met"
    bad = programmes.get("/who-does-what", params={"maturity": "expert", "naf_code": "xx"})
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"maturity", "naf_code"}


def test_complete_withdraw_and_outcomes_over_http(programmes):
    germany = offer(programmes, "Prospection Allemagne", eligibility=RULES)
    staying, leaving = str(uuid.uuid4()), str(uuid.uuid4())
    for case_id in (staying, leaving):
        announce(programmes, case_id, germany["id"])
    enrolment, other = (wait_for(lambda c=case_id: programmes.get("/enrolments", params={
        "case_id": c}).json()["enrolments"], what="a proposal")[0] for case_id in (
            staying, leaving))
    for step in ("confirm", "complete"):
        moved = programmes.post("/enrolments/{}/{}".format(enrolment["id"], step))
        assert moved.status_code == 200 and moved.json()["status"] == step + (
            "ed" if step == "confirm" else "d")
    withdrawn = programmes.post("/enrolments/{}/withdraw".format(other["id"]),
                                {"reason": "the firm changed its plans"})
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawal_reason"] == "the firm changed its plans"

    vague = programmes.post("/outcomes", {"case_id": staying, "enrolment_id": enrolment["id"],
                                          "kind": "contract_signed"})
    assert vague.status_code == 400 and vague.json()["fields"] == {
        "amount_eur": ["needed for an outcome of kind contract_signed"],
        "country": ["needed for an outcome of kind contract_signed"]}
    for details in ({"kind": "contract_signed", "amount_eur": 180000, "country": "AT"},
                    {"kind": "export_staff_hired", "staff_count": 2}):
        recorded = programmes.post("/outcomes", dict(
            {"case_id": staying, "enrolment_id": enrolment["id"]}, **details))
        assert recorded.status_code == 201, recorded.text
    by_case = programmes.get("/outcomes", params={"case_id": staying}).json()
    assert by_case["total"] == 2
    assert {(o["kind"], o["country"], o["staff_count"]) for o in by_case["outcomes"]} == {
        ("contract_signed", "AT", None), ("export_staff_hired", None, 2)}
    assert programmes.get("/outcomes", params={"programme_id": germany["id"]}).json()[
        "total"] == 2
    assert programmes.get("/outcomes", params={"partner": TEST_PARTNER}).json()["total"] == 2
    assert programmes.get("/outcomes", params={"partner": "bpifrance"}).json()["total"] == 0
    [event] = [e for e in outbox_events(programmes.config["DATABASE_URL"], "outcome.recorded")
               if e["data"]["kind"] == "contract_signed"]
    assert (event["data"]["country"], event["data"]["partner"]) == ("AT", TEST_PARTNER)


def test_a_co_export_call_over_http_from_call_to_decision(programmes):
    germany = offer(programmes, "Prospection Allemagne", eligibility=RULES)
    case_id = str(uuid.uuid4())
    announce(programmes, case_id, germany["id"])
    bad = programmes.post("/co-export-calls", {
        "partner": TEST_PARTNER, "title": "Rail", "country": "Germany", "needs": "x",
        "deadline": "2020-13-01", "sectors": ["ZZ"]})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"country", "deadline", "sectors"}
    call = programmes.post("/co-export-calls", {
        "partner": TEST_PARTNER, "title": "Réseau ferré de Bavière", "country": "DE",
        "needs": "pièces usinées", "deadline": SOON.isoformat(), "sectors": ["25"],
        "maturity_levels": ["first_time_exporter"]})
    assert call.status_code == 201, call.text
    call_id = call.json()["id"]
    assert [c["id"] for c in programmes.get("/co-export-calls").json()["calls"]] == [call_id]
    [match] = programmes.get("/co-export-calls/{}/matches".format(call_id)).json()["matches"]
    assert (match["case_id"], match["score"], match["contact_consent"]) == (case_id, 100, False)
    interest = programmes.post("/co-export-calls/{}/interests".format(call_id),
                               {"case_id": case_id})
    assert interest.status_code == 201 and interest.json()["status"] == "interested"
    decided = programmes.post("/co-export-calls/{}/interests/{}/decision".format(
        call_id, case_id), {"decision": "selected"})
    assert decided.status_code == 200 and decided.json()["status"] == "selected"
    other = programmes.as_caller("airbus", ["referrer"])
    assert other.get("/co-export-calls/{}/matches".format(call_id)).status_code == 403

"""Who did what: every event names the partner and person who caused it, each service keeps
its own changes to a case, and reporting the case's whole timeline across the network."""
from parcours_testing import luhn_valid_sirens, wait_for

from pathway import READY_ANSWERS, add_programme, proposed_enrolment, scheduled_diagnostic


def test_a_cases_timeline_names_who_acted_at_each_step(network):
    add_programme(network, ["first_time_exporter"], partner="business-france")
    chamber = network.intake.as_caller("cci-paris-idf", ["advisor"], person="p-claire-martin")
    opened = chamber.post("/cases", {"siren": next(luhn_valid_sirens(53000000)),
                                     "company_name": "Ateliers Durand", "region_code": "11",
                                     "channel": "walk_in"})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]

    diagnostic = scheduled_diagnostic(network, case_id)
    advisor = network.diagnostic.as_caller("business-france", ["advisor"], person="p-amelie-roux")
    assert advisor.post("/diagnostics/{}/answers".format(diagnostic["id"]),
                        {"answers": READY_ANSWERS}).status_code == 200
    enrolment = proposed_enrolment(network, case_id)
    agency = network.programmes.as_caller("business-france", ["programme_manager"])
    assert agency.post("/enrolments/{}/confirm".format(enrolment["id"])).status_code == 200

    def who(changes):
        return [(c["source"], c["event_type"], c["partner"], c["person"]) for c in changes]

    assert who(chamber.get("/audit", params={"subject": case_id}).json()["changes"]) == [
        ("/parcours/intake", "case.opened", "cci-paris-idf", "p-claire-martin")]
    assert who(advisor.get("/audit", params={"subject": case_id}).json()["changes"]) == [
        ("/parcours/diagnostic", "diagnostic.scheduled", None, None),  # on its own, on the event
        ("/parcours/diagnostic", "diagnostic.completed", "business-france", "p-amelie-roux")]

    expected = [
        ("/parcours/intake", "case.opened", "cci-paris-idf", "p-claire-martin"),
        ("/parcours/diagnostic", "diagnostic.scheduled", None, None),
        ("/parcours/diagnostic", "diagnostic.completed", "business-france", "p-amelie-roux"),
        ("/parcours/programmes", "enrolment.proposed", None, None),
        ("/parcours/programmes", "enrolment.confirmed", "business-france", None)]
    steering = network.reporting.as_caller("steering-committee", ["steering"])
    wait_for(lambda: who(steering.get("/audit", params={"subject": case_id})
                         .json()["changes"]) == expected, what="the whole timeline in reporting")


def test_the_audit_needs_a_subject(network):
    response = network.intake.get("/audit")
    assert response.status_code == 400 and "subject" in response.json()["fields"]

"""Driving one firm along the pathway over HTTP, as a partner's staff would."""
from datetime import date, timedelta

from parcours_testing import wait_for
from parcours_testing.answers import FIRST_TIME_EXPORTER
from parcours_testing.identity import TEST_PARTNER

# the first_time_exporter answers to the latest questionnaire
READY_ANSWERS = FIRST_TIME_EXPORTER


def add_programme(network, maturity_levels, capacity=10, name="Prospection Allemagne",
                  partner=TEST_PARTNER):
    """A programme of ``partner`` (the tests' own caller unless told), with one session."""
    manager = (network.programmes if partner == TEST_PARTNER
               else network.programmes.as_caller(partner, ["programme_manager"]))
    programme = manager.post("/programmes", {
        "partner": partner, "name": name, "kind": "targeted_market",
        "maturity_levels": maturity_levels})
    assert programme.status_code == 201, programme.text
    session = manager.post(
        "/programmes/{}/sessions".format(programme.json()["id"]),
        {"starts_on": (date.today() + timedelta(days=30)).isoformat(), "market": "DE",
         "place": "Düsseldorf", "capacity": capacity})
    assert session.status_code == 201, session.text
    return programme.json(), session.json()


def open_case(network, siren, name="Ateliers Durand"):
    response = network.intake.post("/cases", {
        "siren": siren, "company_name": name, "region_code": "84", "channel": "web"})
    assert response.status_code == 201, response.text
    return response.json()


def scheduled_diagnostic(network, case_id):
    return wait_for(
        lambda: (network.diagnostic.get("/diagnostics", params={"case_id": case_id})
                 .json()["diagnostics"] or [None])[0],
        what="a diagnostic scheduled for case {}".format(case_id))


def proposed_enrolment(network, case_id):
    return wait_for(
        lambda: (network.programmes.get("/enrolments", params={"case_id": case_id})
                 .json()["enrolments"] or [None])[0],
        what="an enrolment proposed for case {}".format(case_id))


def funnel_counts(network):
    stages = network.reporting.get("/funnel").json()["stages"]
    return {stage["stage"]: stage["cases"] for stage in stages}

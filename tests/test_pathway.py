"""The thin pathway end to end, over HTTP and the real broker: intake -> diagnostic ->
programmes -> reporting."""
import json
import os
from datetime import date, timedelta

import jsonschema
from parcours_shared.metrics import EVENTS_CONSUMED
from parcours_testing import luhn_valid_sirens, outbox_events, wait_for
from parcours_testing.identity import TEST_PARTNER

from pathway import (
    READY_ANSWERS, add_programme, funnel_counts, open_case, proposed_enrolment,
    scheduled_diagnostic,
)


def test_a_case_travels_the_pathway_and_reporting_counts_each_stage(network):
    _, session = add_programme(network, ["first_time_exporter"])
    case = open_case(network, next(luhn_valid_sirens()))

    diagnostic = scheduled_diagnostic(network, case["id"])
    assert diagnostic["status"] == "scheduled" and diagnostic["siren"] == case["siren"]

    completed = network.diagnostic.post(
        "/diagnostics/{}/answers".format(diagnostic["id"]), {"answers": READY_ANSWERS})
    assert completed.status_code == 200, completed.text
    assert completed.json()["maturity"] == "first_time_exporter"

    enrolment = proposed_enrolment(network, case["id"])
    assert enrolment["session_id"] == session["id"] and enrolment["status"] == "proposed"

    confirmed = network.programmes.post("/enrolments/{}/confirm".format(enrolment["id"]))
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"

    expected = {"opened": 1, "diagnostic_scheduled": 1, "diagnostic_completed": 1,
                "enrolment_proposed": 1, "enrolment_confirmed": 1,
                "enrolment_completed": 0, "outcome_recorded": 0}
    wait_for(lambda: funnel_counts(network) == expected, what="the funnel to count the case")


SCHEMAS = os.path.join(os.path.dirname(__file__), "..", "docs", "events", "schemas")


def test_the_diagnostic_s_target_market_reaches_programmes_and_chooses_the_session(network):
    """diagnostic.completed v2, as published, matches its schema file, and programmes acts on
    its target markets: the firm aiming at Germany is proposed the Düsseldorf session over an
    earlier one in Spain."""
    programme, germany = add_programme(network, ["first_time_exporter"])
    spain = network.programmes.post("/programmes/{}/sessions".format(programme["id"]), {
        "starts_on": (date.today() + timedelta(days=10)).isoformat(), "market": "ES",
        "place": "Madrid", "capacity": 10})
    assert spain.status_code == 201, spain.text
    case = open_case(network, next(luhn_valid_sirens()))
    diagnostic = scheduled_diagnostic(network, case["id"])
    completed = network.diagnostic.post("/diagnostics/{}/answers".format(diagnostic["id"]),
                                        {"answers": dict(READY_ANSWERS, target_markets=["DE"])})
    assert completed.status_code == 200, completed.text

    [published] = outbox_events(network.config["diagnostic"]["DATABASE_URL"],
                                "diagnostic.completed")
    assert published["dataschema"] == "urn:parcours:schema:diagnostic.completed:v2"
    with open(os.path.join(SCHEMAS, "diagnostic.completed.v2.json"), encoding="utf-8") as file:
        jsonschema.validate(published["data"], json.load(file))
    assert published["data"]["target_markets"][0] == {"country": "DE", "reason": "named_by_firm"}

    enrolment = proposed_enrolment(network, case["id"])
    assert enrolment["session_id"] == germany["id"]


def test_a_full_session_waitlists_the_next_firm(network):
    add_programme(network, ["first_time_exporter"], capacity=1)
    sirens = luhn_valid_sirens()
    enrolments = []
    for name in ("Premier", "Second"):
        case = open_case(network, next(sirens), name)
        diagnostic = scheduled_diagnostic(network, case["id"])
        network.diagnostic.post("/diagnostics/{}/answers".format(diagnostic["id"]),
                                {"answers": READY_ANSWERS})
        enrolments.append(proposed_enrolment(network, case["id"]))
    # Both were proposed while the one seat was free; the second confirmation finds it taken.
    statuses = [network.programmes.post("/enrolments/{}/confirm".format(e["id"])).json()["status"]
                for e in enrolments]
    assert statuses == ["confirmed", "waitlisted"]

    # With the session full, a third firm of the same maturity gets no proposal.
    catalogue = network.programmes.get("/programmes").json()["programmes"]
    assert catalogue[0]["sessions"][0]["seats_left"] == 0
    applied_before = diagnostics_applied_by_programmes()
    third = open_case(network, next(sirens), "Troisième")
    diagnostic = scheduled_diagnostic(network, third["id"])
    completed = network.diagnostic.post(
        "/diagnostics/{}/answers".format(diagnostic["id"]), {"answers": READY_ANSWERS})
    assert completed.json()["maturity"] == "first_time_exporter"
    # no event to wait for when nothing is proposed: wait until programmes has applied it
    wait_for(lambda: diagnostics_applied_by_programmes() == applied_before + 1,
             what="programmes to apply the third firm's diagnostic")
    assert network.programmes.get(
        "/enrolments", params={"case_id": third["id"]}).json()["enrolments"] == []


def test_closing_a_case_cancels_its_diagnostic_and_withdraws_its_proposal(network):
    add_programme(network, ["first_time_exporter"])
    # the tests' caller is the region's single window, which closes cases
    assert network.intake.post("/partners", {"id": TEST_PARTNER, "name": "CCI des tests",
                                             "kind": "chamber_of_commerce",
                                             "regions": ["84"]}).status_code == 201
    sirens = luhn_valid_sirens(57000000)
    diagnosed, waiting = open_case(network, next(sirens)), open_case(network, next(sirens), "Autre")
    diagnostic = scheduled_diagnostic(network, diagnosed["id"])
    network.diagnostic.post("/diagnostics/{}/answers".format(diagnostic["id"]),
                            {"answers": READY_ANSWERS})
    proposal = proposed_enrolment(network, diagnosed["id"])
    scheduled_diagnostic(network, waiting["id"])

    for case in (diagnosed, waiting):
        closed = network.intake.post("/cases/{}/close".format(case["id"]),
                                     {"reason": "firm_declined", "note": "not this year"})
        assert closed.status_code == 200, closed.text

    wait_for(lambda: scheduled_diagnostic(network, waiting["id"])["status"] == "cancelled",
             what="diagnostic to cancel the closed case's diagnostic")
    wait_for(lambda: network.programmes.get("/enrolments/" + proposal["id"]).json()["status"]
             == "withdrawn", what="programmes to withdraw the closed case's proposal")
    # the diagnostic done before the closure stays as it was
    assert scheduled_diagnostic(network, diagnosed["id"])["status"] == "completed"


def diagnostics_applied_by_programmes():
    # the four services run in this process: their metrics are this process's
    return EVENTS_CONSUMED.labels("programmes", "diagnostic.completed", "applied")._value.get()


def test_no_service_of_the_network_connects_to_the_broker_as_guest(
        network, broker, rabbit_manager, rabbit_config):
    open_case(network, next(luhn_valid_sirens()))  # every service busy, publishing or consuming
    own_users = {broker.prefix + name
                 for name in ("intake", "diagnostic", "programmes", "reporting")}

    def users_connected():  # the management API lists a connection a few seconds late
        users = {connection["user"] for connection in
                 rabbit_manager._get("vhosts", rabbit_config["vhost"], "connections")}
        return users if own_users <= users else None

    users = wait_for(users_connected, timeout=30, what="the four services' connections listed")
    assert users == own_users  # no guest, nor anyone else

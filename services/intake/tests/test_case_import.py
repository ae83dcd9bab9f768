"""POST /cases/import: a list of firms opened in one transaction, all or nothing, over HTTP
against the real broker and the service's own database."""
import pytest
from kombu import Connection, Exchange, Queue
from parcours_testing import (
    luhn_valid_sirens, outbox_events, queue_depth, wait_for,
)

from intake.service import IntakeService


@pytest.fixture
def intake(running_service):
    return running_service(IntakeService)


def firm(siren, name="Ateliers Durand", channel="walk_in", **extra):
    return dict({"siren": siren, "company_name": name, "region_code": "84",
                 "channel": channel}, **extra)


def opened_events(intake):
    return outbox_events(intake.config["DATABASE_URL"], "case.opened")


def listed_cases(intake):
    return intake.get("/cases", params={"limit": 1000}).json()["cases"]


def test_an_import_opens_one_case_per_new_firm_and_reports_the_known_ones(intake):
    amqp_uri = intake.test_amqp_uri
    with Connection(amqp_uri) as connection:  # an integrator's queue, bound before the import
        Queue("crm-case-opened", Exchange("intake.events", type="topic", durable=True),
              routing_key="case.opened", durable=True)(connection.channel()).declare()
    known, new, other = [s for s, _ in zip(luhn_valid_sirens(), range(3))]
    before = intake.post("/cases", firm(known, "Déjà Connue", channel="web")).json()

    response = intake.post("/cases/import", {"firms": [
        firm(new, "Nouvelle", naf_code="21.20Z"),
        firm("{} {} {}".format(known[:3], known[3:6], known[6:]), "Déjà Connue"),
        firm(other, "Autre", channel="phone"),
        firm(new, "Nouvelle (bis)"),  # the same firm twice in the list: opened once
    ]})

    assert response.status_code == 201, response.text
    body = response.json()
    assert [(c["siren"], c["status"]) for c in body["cases"]] == [
        (new, "opened"), (known, "existing"), (other, "opened"), (new, "opened")]
    assert body["cases"][1]["case_id"] == before["id"]
    assert body["cases"][3]["case_id"] == body["cases"][0]["case_id"]
    assert (body["opened"], body["existing"]) == (2, 1)

    events = opened_events(intake)
    assert len(events) == 3  # POST /cases, then one per firm the import opened
    by_case = {event["subject"]: event["data"] for event in events[1:]}
    assert set(by_case) == {body["cases"][0]["case_id"], body["cases"][2]["case_id"]}
    assert by_case[body["cases"][0]["case_id"]]["company_name"] == "Nouvelle"
    assert by_case[body["cases"][0]["case_id"]]["naf_code"] == "21.20Z"
    assert by_case[body["cases"][2]["case_id"]]["channel"] == "phone"
    assert len(listed_cases(intake)) == 3
    wait_for(lambda: queue_depth(amqp_uri, "crm-case-opened") == 3,
             what="the three case.opened events on the broker")


def test_an_import_of_known_firms_only_opens_nothing(intake):
    siren = next(luhn_valid_sirens())
    case = intake.post("/cases", firm(siren)).json()

    response = intake.post("/cases/import", {"firms": [firm(siren), firm(siren)]})

    assert response.status_code == 200, response.text
    assert response.json() == {
        "cases": [{"siren": siren, "case_id": case["id"], "status": "existing"}] * 2,
        "opened": 0, "existing": 1}
    assert len(opened_events(intake)) == 1


def test_one_invalid_firm_rejects_the_whole_import(intake):
    sirens = luhn_valid_sirens()
    response = intake.post("/cases/import", {"firms": [
        firm(next(sirens)),
        firm("732829321"),                               # checksum wrong
        firm(next(sirens)),
        {"siren": next(sirens), "company_name": "Sans canal"},
    ]})

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_input"
    assert set(body["fields"]["firms"]) == {"1", "3"}
    assert "checksum" in body["fields"]["firms"]["1"]["siren"][0].lower()
    assert set(body["fields"]["firms"]["3"]) == {"channel"}
    assert listed_cases(intake) == [] and opened_events(intake) == []


@pytest.mark.parametrize("firms", [[], "not a list", None])
def test_an_import_needs_a_list_of_firms(intake, firms):
    response = intake.post("/cases/import", {} if firms is None else {"firms": firms})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["firms"]


def test_an_import_takes_at_most_a_thousand_firms(intake):
    sirens = luhn_valid_sirens()
    response = intake.post("/cases/import", {"firms": [firm(next(sirens)) for _ in range(1001)]})
    assert response.status_code == 400
    assert "1000" in response.json()["fields"]["firms"][0]
    assert listed_cases(intake) == []


def test_five_hundred_firms_in_one_import(intake):
    sirens = [s for s, _ in zip(luhn_valid_sirens(), range(500))]
    response = intake.post("/cases/import", {"firms": [firm(s) for s in sirens]})

    assert response.status_code == 201, response.text
    body = response.json()
    assert [c["siren"] for c in body["cases"]] == sirens
    assert (body["opened"], body["existing"]) == (500, 0)
    assert ([event["subject"] for event in opened_events(intake)]
            == [c["case_id"] for c in body["cases"]])

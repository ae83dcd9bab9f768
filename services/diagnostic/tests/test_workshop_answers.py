"""POST /diagnostics/answers: the answers of many diagnostics (a collective workshop) in one
transaction, all or nothing, over HTTP against the real broker and the service's own database."""
import uuid

import pytest
from parcours_shared.contracts import build_envelope, utc_now
from parcours_testing import (
    luhn_valid_sirens, outbox_events, publish_messages, wait_for,
)

from diagnostic.service import DiagnosticService

READY = {
    "domestic_success": True, "export_share_percent": 5, "export_staff": 1, "languages": ["en"],
    "financial_capacity": "medium", "product_adapted": True, "target_markets": ["DE"],
    "countries_exported_to": 0,
}
NOT_READY = dict(READY, domestic_success=False)


@pytest.fixture
def diagnostic(running_service):
    return running_service(DiagnosticService)


def scheduled(diagnostic, count):
    """``count`` new cases announced by intake, and the diagnostic scheduled for each, in the
    order of the cases."""
    sirens = luhn_valid_sirens()
    case_ids = [str(uuid.uuid4()) for _ in range(count)]
    publish_messages(diagnostic.test_amqp_uri, [
        ("intake.events", "case.opened", build_envelope("intake", "case.opened", case_id, {
            "case_id": case_id, "siren": next(sirens), "company_name": "Firme {}".format(n),
            "region_code": "53", "channel": "walk_in", "opened_at": utc_now()}),
         "application/json")
        for n, case_id in enumerate(case_ids)])
    found = wait_for(lambda: _if_all(listed(diagnostic, "scheduled"), count),
                     what="{} diagnostics scheduled".format(count))
    by_case = {d["case_id"]: d for d in found}
    return [by_case[case_id] for case_id in case_ids]


def _if_all(found, count):
    return found if len(found) == count else None


def listed(diagnostic, status):
    return diagnostic.get("/diagnostics", params={"status": status, "limit": 1000}).json()[
        "diagnostics"]


def completed_events(diagnostic):
    return outbox_events(diagnostic.config["DATABASE_URL"], "diagnostic.completed")


def answers_for(*pairs):
    return {"diagnostics": [{"diagnostic_id": d["id"], "answers": answers}
                            for d, answers in pairs]}


def test_answers_entered_together_complete_each_diagnostic_in_order(diagnostic):
    first, second, untouched = scheduled(diagnostic, 3)

    response = diagnostic.post("/diagnostics/answers",
                               answers_for((second, NOT_READY), (first, READY)))

    assert response.status_code == 200, response.text
    done = response.json()["diagnostics"]
    assert [(d["id"], d["status"], d["maturity"]) for d in done] == [
        (second["id"], "completed", "not_ready"), (first["id"], "completed", "first_time_exporter")]
    events = completed_events(diagnostic)
    assert [(e["subject"], e["data"]["diagnostic_id"], e["data"]["maturity"]) for e in events] == [
        (second["case_id"], second["id"], "not_ready"),
        (first["case_id"], first["id"], "first_time_exporter")]
    assert [d["id"] for d in listed(diagnostic, "scheduled")] == [untouched["id"]]


def test_an_unknown_diagnostic_refuses_the_whole_list(diagnostic):
    first, second = scheduled(diagnostic, 2)
    response = diagnostic.post("/diagnostics/answers", {"diagnostics": [
        {"diagnostic_id": first["id"], "answers": READY},
        {"diagnostic_id": "no-such-diagnostic", "answers": READY},
        {"diagnostic_id": second["id"], "answers": READY}]})

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "no-such-diagnostic" in response.json()["message"]
    assert len(listed(diagnostic, "scheduled")) == 2 and completed_events(diagnostic) == []


def test_an_already_completed_diagnostic_refuses_the_whole_list(diagnostic):
    first, second = scheduled(diagnostic, 2)
    assert diagnostic.post("/diagnostics/{}/answers".format(second["id"]), READY).status_code == 200

    response = diagnostic.post("/diagnostics/answers",
                               answers_for((first, READY), (second, NOT_READY)))

    assert response.status_code == 409
    assert response.json()["error"] == "conflict" and second["id"] in response.json()["message"]
    assert [d["id"] for d in listed(diagnostic, "scheduled")] == [first["id"]]
    assert [e["data"]["diagnostic_id"] for e in completed_events(diagnostic)] == [second["id"]]
    kept = diagnostic.get("/diagnostics/" + second["id"]).json()
    assert kept["maturity"] == "first_time_exporter"  # the answers first recorded stand


def test_a_diagnostic_twice_in_one_list_is_refused(diagnostic):
    first, second = scheduled(diagnostic, 2)
    response = diagnostic.post("/diagnostics/answers",
                               answers_for((first, READY), (second, READY), (first, NOT_READY)))

    assert response.status_code == 400
    assert response.json()["fields"] == {"diagnostics": {"2": {"diagnostic_id": [
        "repeats entry 0: each diagnostic once per request"]}}}
    assert len(listed(diagnostic, "scheduled")) == 2 and completed_events(diagnostic) == []


def test_invalid_answers_refuse_the_whole_list_field_by_field(diagnostic):
    first, second = scheduled(diagnostic, 2)
    response = diagnostic.post("/diagnostics/answers", {"diagnostics": [
        {"diagnostic_id": first["id"], "answers": READY},
        {"diagnostic_id": second["id"], "answers": dict(READY, export_share_percent=140)},
        {"answers": READY}]})

    assert response.status_code == 400
    errors = response.json()["fields"]["diagnostics"]
    assert set(errors) == {"1", "2"}
    assert list(errors["1"]["answers"]) == ["export_share_percent"]
    assert list(errors["2"]) == ["diagnostic_id"]
    assert len(listed(diagnostic, "scheduled")) == 2 and completed_events(diagnostic) == []


@pytest.mark.parametrize("body", [{}, {"diagnostics": []}, {"diagnostics": {}}])
def test_the_list_is_required_and_not_empty(diagnostic, body):
    response = diagnostic.post("/diagnostics/answers", body)
    assert response.status_code == 400 and list(response.json()["fields"]) == ["diagnostics"]


def test_five_hundred_diagnostics_answered_in_one_request(diagnostic):
    waiting = scheduled(diagnostic, 500)
    response = diagnostic.post("/diagnostics/answers",
                               answers_for(*[(d, READY) for d in waiting]))

    assert response.status_code == 200, response.text
    assert [d["id"] for d in response.json()["diagnostics"]] == [d["id"] for d in waiting]
    assert ([e["data"]["diagnostic_id"] for e in completed_events(diagnostic)]
            == [d["id"] for d in waiting])
    assert listed(diagnostic, "scheduled") == []

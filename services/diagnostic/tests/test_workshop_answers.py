"""POST /diagnostics/answers: the answers of many diagnostics (a collective workshop) in one
transaction, all or nothing, over HTTP against the real broker and the service's own database."""
import pytest
from parcours_testing import outbox_events
from parcours_testing.answers import FIRST_TIME_EXPORTER as READY, NOT_READY

from running_diagnostic import listed, scheduled


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
    assert diagnostic.post("/diagnostics/{}/answers".format(second["id"]),
                           {"answers": READY}).status_code == 200

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


def test_invalid_answers_refuse_the_whole_list_question_by_question(diagnostic):
    first, second = scheduled(diagnostic, 2)
    response = diagnostic.post("/diagnostics/answers", {"diagnostics": [
        {"diagnostic_id": first["id"], "answers": READY},
        {"diagnostic_id": second["id"], "answers": dict(READY, export_share_percent=140)}]})

    assert response.status_code == 400
    assert response.json()["fields"] == {"diagnostics": {"1": {"answers": {
        "export_share_percent": ["expected a whole number from 0 to 100"]}}}}
    assert len(listed(diagnostic, "scheduled")) == 2 and completed_events(diagnostic) == []


def test_an_entry_without_its_diagnostic_is_refused_before_any_answer_is_read(diagnostic):
    response = diagnostic.post("/diagnostics/answers", {"diagnostics": [{"answers": READY}]})
    assert response.status_code == 400
    assert list(response.json()["fields"]["diagnostics"]["0"]) == ["diagnostic_id"]


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

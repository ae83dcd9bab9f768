"""POST /enrolments/confirm: a list of enrolments confirmed in one transaction, in order, all or
nothing, over HTTP against the real broker and the service's own database."""
import uuid
from datetime import date, timedelta

import pytest
from parcours_shared.contracts import build_envelope, utc_now
from parcours_testing import example_data, outbox_events, publish_messages, wait_for
from parcours_testing.identity import TEST_PARTNER

from programmes.service import ProgrammesService

STARTS_ON = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture
def programmes(running_service):
    return running_service(ProgrammesService)


def session_for(programmes, maturity, capacity):
    """A programme for firms of that maturity, with one session."""
    programme = programmes.post("/programmes", {
        "partner": TEST_PARTNER, "name": "Programme {}".format(maturity),
        "kind": "targeted_market", "maturity_levels": [maturity]})
    assert programme.status_code == 201, programme.text
    created = programmes.post("/programmes/{}/sessions".format(programme.json()["id"]), {
        "starts_on": STARTS_ON, "market": "DE", "place": "Düsseldorf", "capacity": capacity})
    assert created.status_code == 201, created.text
    return created.json()


def proposed(programmes, maturity, count):
    """``count`` completed diagnostics of that maturity announced by the diagnostic service, and
    the enrolment proposed for each, in the order of the cases."""
    case_ids = [str(uuid.uuid4()) for _ in range(count)]
    publish_messages(programmes.test_amqp_uri, [
        ("diagnostic.events", "diagnostic.completed", build_envelope(
            "diagnostic", "diagnostic.completed", case_id, example_data(
                "diagnostic.completed", diagnostic_id=str(uuid.uuid4()), case_id=case_id,
                maturity=maturity, completed_at=utc_now())),
         "application/json")
        for case_id in case_ids])

    def all_proposed():
        found = {e["case_id"]: e for e in listed(programmes, "proposed")}
        return [found[case_id] for case_id in case_ids] if set(case_ids) <= set(found) else None

    return wait_for(all_proposed, what="{} enrolments proposed".format(count))


def listed(programmes, status):
    return programmes.get("/enrolments", params={"status": status, "limit": 1000}).json()[
        "enrolments"]


def moves(programmes):
    """(event type, enrolment id) of each enrolment move published after the proposals."""
    return [(event["type"], event["data"]["enrolment_id"])
            for event in outbox_events(programmes.config["DATABASE_URL"])
            if event["type"] != "enrolment.proposed"]


def seats_left(programmes):
    return {s["id"]: s["seats_left"] for p in programmes.get("/programmes").json()["programmes"]
            for s in p["sessions"]}


def ids(enrolments):
    return [enrolment["id"] for enrolment in enrolments]


def test_a_list_is_confirmed_in_order_until_its_session_is_full(programmes):
    small = session_for(programmes, "first_time_exporter", capacity=2)
    other = session_for(programmes, "occasional_exporter", capacity=5)
    first, second, third = proposed(programmes, "first_time_exporter", 3)
    elsewhere, = proposed(programmes, "occasional_exporter", 1)

    response = programmes.post("/enrolments/confirm",
                               {"enrolment_ids": ids([third, elsewhere, first, second])})

    assert response.status_code == 200, response.text
    answered = response.json()["enrolments"]
    assert [(e["id"], e["session_id"], e["status"]) for e in answered] == [
        (third["id"], small["id"], "confirmed"), (elsewhere["id"], other["id"], "confirmed"),
        (first["id"], small["id"], "confirmed"), (second["id"], small["id"], "waitlisted")]
    assert moves(programmes) == [
        ("enrolment.confirmed", third["id"]), ("enrolment.confirmed", elsewhere["id"]),
        ("enrolment.confirmed", first["id"]), ("enrolment.waitlisted", second["id"])]
    assert seats_left(programmes) == {small["id"]: 0, other["id"]: 4}


def test_an_unknown_enrolment_refuses_the_whole_list(programmes):
    session_for(programmes, "first_time_exporter", capacity=10)
    first, second = proposed(programmes, "first_time_exporter", 2)

    response = programmes.post("/enrolments/confirm",
                               {"enrolment_ids": [first["id"], "no-such-enrolment", second["id"]]})

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "no-such-enrolment" in response.json()["message"]
    assert sorted(ids(listed(programmes, "proposed"))) == sorted(ids([first, second]))
    assert moves(programmes) == []


def test_an_enrolment_that_cannot_be_confirmed_refuses_the_whole_list(programmes):
    session = session_for(programmes, "first_time_exporter", capacity=10)
    first, second = proposed(programmes, "first_time_exporter", 2)
    assert programmes.post("/enrolments/{}/confirm".format(second["id"])).status_code == 200

    response = programmes.post("/enrolments/confirm", {"enrolment_ids": ids([first, second])})

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert second["id"] in response.json()["message"]
    assert ids(listed(programmes, "proposed")) == [first["id"]]
    assert moves(programmes) == [("enrolment.confirmed", second["id"])]
    assert seats_left(programmes) == {session["id"]: 9}


def test_an_enrolment_twice_in_one_list_is_refused(programmes):
    session_for(programmes, "first_time_exporter", capacity=10)
    first, second = proposed(programmes, "first_time_exporter", 2)

    response = programmes.post("/enrolments/confirm",
                               {"enrolment_ids": ids([first, second, first])})

    assert response.status_code == 400
    assert response.json()["fields"] == {"enrolment_ids": {"2": [
        "repeats entry 0: each enrolment once per request"]}}
    assert len(listed(programmes, "proposed")) == 2 and moves(programmes) == []


@pytest.mark.parametrize("body", [{}, {"enrolment_ids": []}, {"enrolment_ids": "abc"},
                                  {"enrolment_ids": ["abc", ""]}])
def test_the_list_is_required_and_valid(programmes, body):
    response = programmes.post("/enrolments/confirm", body)
    assert response.status_code == 400 and list(response.json()["fields"]) == ["enrolment_ids"]


def test_five_hundred_confirmations_in_one_request(programmes):
    session = session_for(programmes, "first_time_exporter", capacity=1000)
    waiting = proposed(programmes, "first_time_exporter", 500)

    response = programmes.post("/enrolments/confirm", {"enrolment_ids": ids(waiting)})

    assert response.status_code == 200, response.text
    answered = response.json()["enrolments"]
    assert ids(answered) == ids(waiting) and {e["status"] for e in answered} == {"confirmed"}
    assert moves(programmes) == [("enrolment.confirmed", e["id"]) for e in waiting]
    assert seats_left(programmes) == {session["id"]: 500}

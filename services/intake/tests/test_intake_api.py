"""Intake over HTTP against the real broker and its own database."""
import pytest

from parcours_shared.contracts import REGIONS
from parcours_testing.identity import TEST_PARTNER

from intake.service import IntakeService

VALID_SIREN = "732829320"  # Luhn-valid


@pytest.fixture
def intake(running_service):
    client = running_service(IntakeService)
    # the tests' caller is the single window everywhere, with one advisor
    assert client.post("/partners", {"id": TEST_PARTNER, "name": "CCI des tests",
                                     "kind": "chamber_of_commerce",
                                     "regions": sorted(REGIONS)}).status_code == 201
    assert client.post("/partners/{}/people".format(TEST_PARTNER), {
        "id": "p-advisor", "region_code": "84", "role": "advisor", "name": "A. Martin",
        "email": "a.martin@cci.example"}).status_code == 201
    return client


def test_a_firm_gets_one_case_whatever_the_door(intake):
    first = intake.post("/cases", {"siren": "732 829 320", "company_name": "Ateliers Durand",
                                   "region_code": "84", "naf_code": "21.20Z", "channel": "web"})
    assert first.status_code == 201, first.text
    case = first.json()
    assert case["siren"] == VALID_SIREN and case["created"] is True

    again = intake.post("/referrals", {"siren": VALID_SIREN, "company_name": "Ateliers Durand",
                                       "reason": "export potential"})
    assert again.status_code == 200
    assert again.json()["id"] == case["id"] and again.json()["created"] is False

    assert intake.get("/cases/" + case["id"]).json()["company_name"] == "Ateliers Durand"
    listed = intake.get("/cases", params={"siren": VALID_SIREN}).json()["cases"]
    assert [c["id"] for c in listed] == [case["id"]]


def test_invalid_input_gets_a_400_with_field_errors(intake):
    response = intake.post("/cases", {"siren": "732829321", "region_code": "99",
                                      "channel": "fax"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_input"
    assert set(body["fields"]) == {"siren", "company_name", "region_code", "channel"}
    assert "checksum" in body["fields"]["siren"][0].lower()


def test_malformed_json_is_a_400_not_a_crash(intake):
    response = intake.post("/cases", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "_body" in response.json()["fields"]


def test_unknown_case_is_a_404(intake):
    response = intake.get("/cases/no-such-case")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "reason": "case_not_found",
                               "message": "no case with id no-such-case"}


def test_a_closed_case_cannot_be_assigned_a_409_saying_why(intake):
    case = intake.post("/cases", {"siren": "732829320", "company_name": "Ateliers Durand",
                                  "channel": "web"}).json()
    assert intake.post("/cases/{}/close".format(case["id"]), {"reason": "gave up"}).status_code == 200
    response = intake.post("/cases/{}/assign".format(case["id"]),
                           {"advisor": "p-advisor"})
    assert response.status_code == 409
    assert response.json()["reason"] == "case_move_refused"
    assert "is closed: it cannot assign" in response.json()["message"]


def test_closed_case_cannot_be_assigned(intake):
    case = intake.post("/cases", {"siren": VALID_SIREN, "company_name": "Ateliers Durand",
                                  "channel": "phone"}).json()
    closed = intake.post("/cases/{}/close".format(case["id"]), {"reason": "no export project"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    refused = intake.post("/cases/{}/assign".format(case["id"]),
                          {"advisor": "p-advisor"})
    assert refused.status_code == 409


def test_health_and_metrics(intake):
    health = intake.get("/health")
    assert health.status_code == 200, health.text
    assert health.json()["checks"] == {"database": "ok", "broker": "ok"}
    intake.post("/cases", {"siren": VALID_SIREN, "company_name": "X", "channel": "web"})
    metrics = intake.get("/metrics").text
    assert 'parcours_http_requests_total{method="POST",route="/cases",service="intake",status="201"}' in metrics

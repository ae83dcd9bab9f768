"""Intake over HTTP against the real broker and its own database."""
from datetime import datetime, timezone

import pytest

from parcours_shared.contracts import REGIONS, build_envelope
from parcours_testing import example_data, luhn_valid_sirens, publish_raw, wait_for
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
    closed = intake.post("/cases/{}/close".format(case["id"]), {"reason": "firm_declined"})
    assert closed.status_code == 200
    response = intake.post("/cases/{}/assign".format(case["id"]),
                           {"advisor": "p-advisor"})
    assert response.status_code == 409
    assert response.json()["reason"] == "case_move_refused"
    assert "is closed: it cannot assign" in response.json()["message"]


def test_closed_case_cannot_be_assigned(intake):
    case = intake.post("/cases", {"siren": VALID_SIREN, "company_name": "Ateliers Durand",
                                  "channel": "phone"}).json()
    closed = intake.post("/cases/{}/close".format(case["id"]), {"reason": "firm_declined"})
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


def test_a_referral_s_steps_over_http_and_the_stage_the_other_services_report(intake):
    sent = intake.post("/referrals", {"siret": "73282932000074", "company_name": "Ateliers Durand",
                                      "region_code": "84", "reason": "export potential",
                                      "note": "met at the fair"})
    assert sent.status_code == 201, sent.text
    referral_id, case_id = sent.json()["referral"]["id"], sent.json()["id"]
    assert sent.json()["siren"] == VALID_SIREN

    # the new case went to the region's advisor by rotation: accepted, it is in their charge
    assert sent.json()["advisor"] == "p-advisor"
    accepted = intake.post("/referrals/{}/accept".format(referral_id)).json()
    assert accepted["status"] == "taken_in_charge" and accepted["advisor"] == "p-advisor"
    followed = intake.get("/referrals/" + referral_id).json()
    assert followed["status"] == "taken_in_charge" and followed["case"]["stage"] == "assigned"
    refused = intake.post("/referrals/{}/reject".format(referral_id), {"reason": "whatever"})
    assert refused.status_code == 400 and "reason" in refused.json()["fields"]

    # diagnostic reports the firm diagnosed: intake's copy of its stage moves on
    envelope = build_envelope("diagnostic", "diagnostic.completed", case_id, example_data(
        "diagnostic.completed", diagnostic_id="d-1", case_id=case_id,
        completed_at=datetime.now(timezone.utc)))
    publish_raw(intake.test_amqp_uri, "diagnostic.events", "diagnostic.completed", envelope)
    wait_for(lambda: intake.get("/referrals/" + referral_id).json()["case"]["stage"]
             == "diagnosed", what="intake to follow the diagnostic")

    done = intake.post("/referrals/{}/done".format(referral_id), {"outcome": "entered_pathway"})
    assert done.status_code == 200 and done.json()["outcome"] == "entered_pathway"
    listed = intake.get("/referrals", params={"status": "done"}).json()
    assert listed["total"] == 1 and listed["referrals"][0]["id"] == referral_id
    case = intake.get("/cases/" + case_id).json()
    assert case["establishments"] == ["73282932000074"] and case["channels"] == ["referral"]


def test_search_by_name_ignores_accents_and_case_on_this_database(intake):
    """Run on SQLite and, in CI, on PostgreSQL: both must find the same firms."""
    sirens = luhn_valid_sirens(58000000)
    for name in ("Société Générale de Fonderie", "SOCIETE GENERALE DES EAUX", "Générique"):
        assert intake.post("/cases", {"siren": next(sirens), "company_name": name,
                                      "region_code": "84", "channel": "web"}).status_code == 201
    found = intake.get("/cases", params={"name": "société générale", "sort": "company_name",
                                         "limit": 1}).json()
    assert found["total"] == 2 and [c["company_name"] for c in found["cases"]] == [
        "SOCIETE GENERALE DES EAUX"]
    refused = intake.get("/cases", params={"sector": "fonderie", "sort": "name"})
    assert refused.status_code == 400 and set(refused.json()["fields"]) == {"sector", "sort"}


def test_a_member_list_is_imported_as_a_job_with_its_rejected_rows_to_download(intake):
    sirens = luhn_valid_sirens(64000000)
    good, again = next(sirens), next(sirens)
    rows = ("Raison sociale;N° SIREN;Code NAF;Région\r\n"
            "Chocolaterie de Provence;{good};10.82Z;93\r\n"
            "Distillerie du Nord;{again};11.01Z;32\r\n"
            "Distillerie du Nord (bis);{again};;32\r\n"
            "SIREN faux;123456789;;93\r\n").format(good=good, again=again).encode("cp1252")
    rows += "Café Latin;{};;93\r\n".format(next(sirens)).encode("utf-8")  # pasted from elsewhere
    started = intake.post("/imports", params={"filename": "adherents.csv"}, data=rows,
                          headers={"Content-Type": "text/csv"})
    assert started.status_code == 202, started.text
    job = wait_for(lambda: (lambda j: j if j["status"] != "running" else None)(
        intake.get("/imports/" + started.json()["id"]).json()), what="the import to finish")
    # a Windows-1252 file with a UTF-8 row: that row is the one refused
    assert (job["status"], job["opened"], job["repeated"], job["rejected"]) == ("done", 2, 1, 2)
    rejected = intake.get("/imports/{}/rejected.csv".format(job["id"]))
    assert rejected.headers["Content-Type"].startswith("text/csv")
    lines = rejected.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "line;reason;row" and [line.split(";")[0] for line in lines[1:]] == [
        "5", "6"]
    listed = intake.get("/cases", params={"channel": "import", "siren": good}).json()
    assert listed["total"] == 1 and listed["cases"][0]["follow_up_level"] is None


def test_a_file_without_the_firm_s_columns_is_refused_at_once(intake):
    refused = intake.post("/imports", data=b"nom;email\nDurand;c@d.example\n",
                          headers={"Content-Type": "text/csv"})
    assert refused.status_code == 400 and "Raison sociale" in refused.json()["fields"]["file"][0]


def test_the_import_command_shows_its_progress_and_saves_the_rejected_rows(intake, tmp_path):
    from io import StringIO

    from parcours_shared.import_command import run_import

    sirens = luhn_valid_sirens(65000000)
    path = tmp_path / "visiteurs.csv"
    path.write_text("siren,raison sociale\n" + "".join(
        "{},Visiteur {}\n".format(next(sirens), n) for n in range(1200)) + "999,Faux\n")
    out = StringIO()
    token = intake.authorization.split(" ", 1)[1]
    assert run_import(str(path), intake.base, token, out=out, poll_seconds=0.05) == 0
    shown = out.getvalue()
    assert "100%" in shown and "1,200 opened" in shown
    assert "1201 rows: 1200 firms new to the single window" in shown
    saved = tmp_path / "visiteurs.rejected.csv"
    assert "SIREN" in saved.read_text(encoding="utf-8-sig").splitlines()[1]
    assert run_import(str(tmp_path / "visiteurs.csv"), "http://127.0.0.1:9", token,
                      out=StringIO()) == 2  # nothing listens there

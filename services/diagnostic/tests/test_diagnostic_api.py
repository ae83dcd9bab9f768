"""The advisor's diagnostic over HTTP, against the real broker and the service's own database:
the questionnaire, drafts, answers refused question by question, re-assessments and figures."""
from parcours_testing import outbox_events
from parcours_testing.answers import FIRST_TIME_EXPORTER, OCCASIONAL_EXPORTER

from running_diagnostic import scheduled


def test_the_questionnaire_is_served_by_version(diagnostic):
    versions = diagnostic.get("/questionnaires").json()
    assert versions == {"latest": 2, "versions": [1, 2]}
    questionnaire = diagnostic.get("/questionnaires/2").json()
    commitment = questionnaire["questions"][0]
    assert (commitment["id"], commitment["type"], commitment["weight"]) == (
        "management_commitment", "single_choice", 15)
    assert [o["id"] for o in commitment["options"]] == [
        "not_discussed", "interested", "decided", "export_plan"]
    assert questionnaire["rules"]["maturity"][-1] == {"level": "not_ready"}
    missing = diagnostic.get("/questionnaires/9")
    assert missing.status_code == 404 and "no questionnaire version 9" in missing.json()[
        "message"]


def test_a_draft_then_the_last_answers_complete_the_diagnostic(diagnostic):
    [waiting] = scheduled(diagnostic, 1)
    path = "/diagnostics/{}".format(waiting["id"])
    first = {key: FIRST_TIME_EXPORTER[key] for key in list(FIRST_TIME_EXPORTER)[:5]}
    draft = diagnostic.put(path + "/draft", {"answers": first})
    assert draft.status_code == 200, draft.text
    assert draft.json()["status"] == "draft" and draft.json()["questionnaire_version"] == 2
    assert draft.json()["unanswered"] == list(FIRST_TIME_EXPORTER)[5:]

    refused = diagnostic.post(path + "/answers", {"answers": {"export_staff": "two"}})
    assert refused.status_code == 400
    problems = refused.json()["fields"]["answers"]
    assert problems["export_staff"] == ["expected a whole number from 0 to 10000"]
    assert problems["languages"] == ["an answer is needed to complete the diagnostic"]

    rest = {key: FIRST_TIME_EXPORTER[key] for key in list(FIRST_TIME_EXPORTER)[5:]}
    completed = diagnostic.post(path + "/answers", {"answers": rest})
    assert completed.status_code == 200, completed.text
    result = completed.json()
    assert (result["status"], result["maturity"], result["score"]) == (
        "completed", "first_time_exporter", 57)
    assert result["explanation"]["missing_for_next_level"] == [{
        "code": "countries_exported_to.at_least.1", "question": "countries_exported_to",
        "text": "Countries exported to: none (at least 1 needed)"}]
    assert [k["kind"] for k in result["programme_kinds"]] == ["preparation",
                                                              "trade_fair_pavilion"]
    assert diagnostic.put(path + "/draft", {"answers": first}).status_code == 409


def test_a_re_assessment_is_a_new_diagnostic_of_the_case_with_its_progress(diagnostic):
    [first] = scheduled(diagnostic, 1)
    case_path = "/cases/{}/diagnostics".format(first["case_id"])
    assert diagnostic.post(case_path).status_code == 409  # the first is not done yet
    diagnostic.post("/diagnostics/{}/answers".format(first["id"]),
                    {"answers": FIRST_TIME_EXPORTER})
    second = diagnostic.post(case_path)
    assert second.status_code == 201, second.text
    assert (second.json()["assessment_number"], second.json()["previous_id"]) == (2, first["id"])
    done = diagnostic.post("/diagnostics/{}/answers".format(second.json()["id"]),
                           {"answers": OCCASIONAL_EXPORTER}).json()
    assert done["progress"]["scores"]["overall"] == {"before": 57, "after": 63, "change": 6}

    history = diagnostic.get(case_path).json()["diagnostics"]
    assert [(d["assessment_number"], d["maturity"]) for d in history] == [
        (1, "first_time_exporter"), (2, "occasional_exporter")]
    assert history[0]["progress"] is None and history[1]["progress"]["since"] == first["id"]
    assert [e["data"]["assessment_number"] for e in outbox_events(
        diagnostic.config["DATABASE_URL"], "diagnostic.completed")] == [1, 2]
    assert diagnostic.get("/cases/no-such-case/diagnostics").status_code == 404


def test_diagnostics_are_listed_and_counted_by_maturity_and_period(diagnostic):
    waiting = scheduled(diagnostic, 3)
    diagnostic.post("/diagnostics/answers", {"diagnostics": [
        {"diagnostic_id": d["id"], "answers": answers}
        for d, answers in zip(waiting, [FIRST_TIME_EXPORTER, OCCASIONAL_EXPORTER])]})
    listed = diagnostic.get("/diagnostics", params={"maturity": "occasional_exporter"}).json()
    assert listed["total"] == 1 and listed["diagnostics"][0]["id"] == waiting[1]["id"]
    figures = diagnostic.get("/diagnostics/figures", params={
        "region_code": "53", "group_by": "questionnaire_version"}).json()
    assert figures["total"]["by_maturity"] == {"first_time_exporter": 1,
                                               "occasional_exporter": 1}
    assert figures["groups"][0]["key"] == 2
    none_yet = diagnostic.get("/diagnostics/figures", params={"completed_before": "2000-01-01"})
    assert none_yet.json()["total"] == {"completed": 0, "by_maturity": {},
                                        "average_score": None, "average_dimension_scores": {}}
    bad = diagnostic.get("/diagnostics/figures", params={"group_by": "colour"})
    assert bad.status_code == 400 and "group_by" in bad.json()["fields"]

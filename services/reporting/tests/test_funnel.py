"""Reporting consumes events in any order and counts each case once per stage."""
import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from parcours_shared.contracts import build_envelope
from parcours_testing import publish_raw, wait_for

from reporting.service import ReportingService


@pytest.fixture
def reporting(running_service):
    return running_service(ReportingService)


def publish(amqp_uri, service, type_name, case_id, data):
    envelope = build_envelope(service, type_name, case_id, dict(data, case_id=case_id))
    publish_raw(amqp_uri, "{}.events".format(service), type_name, envelope)
    return envelope


def counts(reporting, **params):
    stages = reporting.get("/funnel", params=params).json()["stages"]
    return {s["stage"]: s["cases"] for s in stages}


def test_stages_arriving_out_of_order_and_twice_count_once(reporting):
    case_id, now = str(uuid.uuid4()), datetime.now(timezone.utc)
    enrolment = {"enrolment_id": "e1", "session_id": "s1", "programme_id": "p1",
                 "programme_name": "Pavillon France", "at": now}
    # programmes' event overtakes intake's (they travel on different queues)
    confirmed = publish(reporting.test_amqp_uri, "programmes", "enrolment.confirmed", case_id, enrolment)
    publish(reporting.test_amqp_uri, "intake", "case.opened", case_id, {
        "siren": "732829320", "company_name": "Ateliers Durand", "region_code": "53",
        "channel": "walk_in", "opened_at": now})
    publish_raw(reporting.test_amqp_uri, "programmes.events", "enrolment.confirmed", confirmed)

    wait_for(lambda: counts(reporting)["opened"] == 1, what="the case counted as opened")
    wait_for(lambda: counts(reporting)["enrolment_confirmed"] == 1, what="the confirmation counted")
    # the confirmation arrived before the region did, and still counts for the region
    assert counts(reporting, region_code="53") == dict(
        counts(reporting), opened=1, enrolment_confirmed=1)
    assert counts(reporting, region_code="11")["opened"] == 0
    funnel = reporting.get("/funnel").json()["stages"]
    assert [s["stage"] for s in funnel][:3] == ["opened", "diagnostic_scheduled",
                                                 "diagnostic_completed"]


# case_progress as revision 0001 made it: a column per stage
FIRST_STAGES = ("opened", "diagnostic_scheduled", "diagnostic_completed", "enrolment_proposed",
                "enrolment_confirmed", "enrolment_completed", "outcome_recorded")
CASE_PROGRESS_0001 = sa.table("case_progress", sa.column("case_id"), sa.column("region_code"),
                              *[sa.column(stage + "_at") for stage in FIRST_STAGES])


def test_migrations_carry_cases_recorded_before_the_totals_and_the_stage_rows(database_url):
    """Databases recorded before the running totals (0002), the stage rows (0003) and the
    case facts (0006) existed keep their figures at upgrade."""
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from parcours_shared.engine import create_db_engine, upgrade_to_head
    from parcours_testing import at_revision
    from reporting import handlers, service, store

    engine = create_db_engine(database_url("reporting"))
    now = datetime.now(timezone.utc)
    with at_revision(engine, service.MIGRATIONS, "0001") as connection:
        for row in ({"case_id": "a", "region_code": "53", "opened_at": now,
                     "diagnostic_scheduled_at": now},
                    {"case_id": "b", "region_code": "84", "opened_at": now},
                    {"case_id": "c", "enrolment_confirmed_at": now}):
            connection.execute(insert(CASE_PROGRESS_0001).values(**row))
    upgrade_to_head(engine, service.MIGRATIONS)
    with Session(engine) as session:
        overall = {s["stage"]: s["cases"] for s in handlers.pathway_funnel(session)[0]}
        brittany = {s["stage"]: s["cases"]
                    for s in handlers.pathway_funnel(session, "region", "53")[0]}
        stages = {(row.case_id, stage) for row in session.execute(select(store.case_facts))
                  for stage in row.facts["stages"]}
    assert (overall["opened"], overall["diagnostic_scheduled"], overall["enrolment_confirmed"]) \
        == (2, 1, 1)
    assert (brittany["opened"], brittany["diagnostic_scheduled"], brittany["enrolment_confirmed"]) \
        == (1, 1, 0)
    assert stages == {("a", "opened"), ("a", "diagnostic_scheduled"), ("b", "opened"),
                      ("c", "enrolment_confirmed")}
    engine.dispose()


def test_filters_periods_and_a_rebuild_from_the_command_line(reporting, monkeypatch, capsys):
    from parcours_shared import ops_command
    from parcours_testing.identity import bearer

    january, may = (datetime(2026, 1, 15, tzinfo=timezone.utc),
                    datetime(2026, 5, 15, tzinfo=timezone.utc))
    for region, naf, at in (("53", "25.62B", january), ("53", "47.11A", may),
                            ("84", "25.62B", may)):
        publish(reporting.test_amqp_uri, "intake", "case.opened", str(uuid.uuid4()), {
            "siren": "732829320", "company_name": "Firme", "region_code": region,
            "naf_code": naf, "channel": "web", "opened_at": at})
    wait_for(lambda: counts(reporting)["opened"] == 3, what="three cases counted")
    assert counts(reporting, region_code="53")["opened"] == 2
    assert counts(reporting, region_code="53", sector="C")["opened"] == 1
    assert counts(reporting, **{"from": "2026-Q2", "to": "2026-Q2"})["opened"] == 2
    refused = reporting.get("/funnel", params={"channel": "web", "maturity": "not_ready"})
    assert refused.status_code == 400
    assert "pairs" in refused.json()["fields"]["channel"][0]
    before = reporting.get("/funnel").json()

    monkeypatch.setenv("PARCOURS_REPORTING_URL", reporting.base)
    token = bearer("reporting", roles=["admin"])[len("Bearer "):]
    assert ops_command.rebuild_reporting(token, poll_seconds=0.05) == 0
    assert "rebuilt from 3 events" in capsys.readouterr().out
    assert reporting.get("/funnel").json() == before
    progress = reporting.get("/operations/rebuild").json()
    assert (progress["done"], progress["total"], progress["progress"]) == (3, 3, 1.0)


def test_the_quarterly_report_over_http_and_from_the_command_line(reporting, monkeypatch,
                                                                   tmp_path, capsys):
    from parcours_shared import ops_command
    from parcours_testing.identity import bearer

    publish(reporting.test_amqp_uri, "intake", "case.opened", str(uuid.uuid4()), {
        "siren": "732829320", "company_name": "Firme", "region_code": "53",
        "channel": "web", "opened_at": datetime(2026, 5, 4, tzinfo=timezone.utc)})
    wait_for(lambda: counts(reporting)["opened"] == 1, what="the case counted")
    answers = {fmt: reporting.get("/reports/quarterly", params={"quarter": "2026-Q2",
                                                               "format": fmt})
               for fmt in ("html", "pdf", "csv")}
    assert {fmt: answer.headers["Content-Type"].split(";")[0]
            for fmt, answer in answers.items()} == {
        "html": "text/html", "pdf": "application/pdf", "csv": "text/csv"}
    assert "2026-Q2;Funnel, 2026-Q2;opened;cases;1" in answers["csv"].text
    assert answers["pdf"].content.startswith(b"%PDF-")
    assert reporting.get("/reports/quarterly", params={"quarter": "2026-Q5"}).status_code == 400
    assert reporting.as_caller("cci-aura", ["reader"]).get("/reports/quarterly").status_code \
        == 403

    monkeypatch.setenv("PARCOURS_REPORTING_URL", reporting.base)
    token = bearer("reporting", roles=["steering"])[len("Bearer "):]
    saved = tmp_path / "q2.pdf"
    assert ops_command.quarterly_report(token, "2026-Q2", "pdf", str(saved)) == 0
    assert saved.read_bytes().startswith(b"%PDF-") and str(saved) in capsys.readouterr().out

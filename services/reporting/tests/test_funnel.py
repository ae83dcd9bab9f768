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
    """Databases recorded before the running totals (0002) and the stage rows (0003) existed
    get both at upgrade, with the same figures."""
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
        overall = {s["stage"]: s["cases"] for s in handlers.pathway_funnel(session)}
        brittany = {s["stage"]: s["cases"] for s in handlers.pathway_funnel(session, "53")}
        stages = set(session.execute(select(store.case_stages.c.case_id,
                                            store.case_stages.c.stage)).all())
    assert (overall["opened"], overall["diagnostic_scheduled"], overall["enrolment_confirmed"]) \
        == (2, 1, 1)
    assert (brittany["opened"], brittany["diagnostic_scheduled"], brittany["enrolment_confirmed"]) \
        == (1, 1, 0)
    assert stages == {("a", "opened"), ("a", "diagnostic_scheduled"), ("b", "opened"),
                      ("c", "enrolment_confirmed")}
    engine.dispose()


def test_a_case_reaching_stages_in_any_order_moves_its_counts_to_its_region_once_known():
    from reporting.domain import UNKNOWN_REGION, CaseProgress

    case = CaseProgress("c1")
    reach_stage = CaseProgress.reach
    earlier = datetime(2026, 3, 1, tzinfo=timezone.utc)
    later = datetime(2026, 3, 2)  # without its zone, as SQLite gives a stored time back
    assert reach_stage(case, "enrolment_confirmed", later, {}) == {
        (UNKNOWN_REGION, "enrolment_confirmed"): 1}
    # the same stage again, earlier: the time moves back, the count does not change
    unchanged = reach_stage(case, "enrolment_confirmed", earlier, {})
    assert all(delta == 0 for delta in unchanged.values()), unchanged
    assert case.reached["enrolment_confirmed"] == earlier
    assert reach_stage(case, "opened", earlier, {"region_code": "53", "channel": "web"}) == {
        ("53", "opened"): 1, (UNKNOWN_REGION, "enrolment_confirmed"): -1,
        ("53", "enrolment_confirmed"): 1}
    # a region, once known, is kept
    reach_stage(case, "opened", earlier, {"region_code": "11"})
    assert case.region_code == "53"

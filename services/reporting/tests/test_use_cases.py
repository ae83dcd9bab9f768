"""Reporting's use cases without a broker: events of every counted type move the funnel, in
any order, once per case and stage (parcours_testing.UseCaseDatabase)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from parcours_testing import UseCaseDatabase, event, example_data

from reporting import handlers, store
from reporting.domain import COUNTED_EVENT_TYPES, PATHWAY, STAGES

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def db():
    return UseCaseDatabase("reporting", store.metadata)


def data_for(type_name, case_id, at):
    """Valid data of each counted type, for one case."""
    enrolment = {"enrolment_id": "e-" + case_id, "session_id": "s1", "programme_id": "p1",
                 "programme_name": "Pavillon France", "at": at}
    return {
        "case.opened": {"siren": "732829320", "company_name": "Ateliers Durand",
                        "region_code": "53", "channel": "web", "opened_at": at},
        "diagnostic.scheduled": {"diagnostic_id": "d-" + case_id, "scheduled_at": at},
        "diagnostic.completed": example_data("diagnostic.completed", diagnostic_id="d-" + case_id,
                                             maturity="not_ready", completed_at=at),
        "enrolment.proposed": enrolment, "enrolment.confirmed": enrolment,
        "enrolment.completed": enrolment,
        "outcome.recorded": {"outcome_id": "o-" + case_id, "enrolment_id": None,
                             "kind": "market_entered", "amount_eur": None, "recorded_at": at},
    }[type_name]


def pathway_event(type_name, case_id, at=T0):
    return event(type_name, dict(data_for(type_name, case_id, at), case_id=case_id))


def record(db, *events):
    with db.transaction() as uow:
        handlers.record_progress(uow, list(events))


def funnel(db, region_code=None):
    with db.reading() as session:
        return {s["stage"]: s["cases"] for s in handlers.pathway_funnel(session, region_code)}


def test_every_counted_event_type_moves_its_own_stage():
    assert [reached.stage for reached in PATHWAY] == list(STAGES)
    assert len(set(COUNTED_EVENT_TYPES)) == len(STAGES)


@pytest.mark.parametrize("reached", PATHWAY, ids=lambda reached: reached.event_type)
def test_one_event_counts_its_case_at_its_stage(db, reached):
    record(db, pathway_event(reached.event_type, str(uuid.uuid4())))
    assert funnel(db) == {stage: int(stage == reached.stage) for stage in STAGES}


def test_a_whole_pathway_in_reverse_order_and_twice_counts_each_stage_once(db):
    case_id = str(uuid.uuid4())
    events = [pathway_event(reached.event_type, case_id, T0 + timedelta(days=n))
              for n, reached in enumerate(PATHWAY)]
    record(db, *reversed(events))
    record(db, *events)  # the read model counts stages reached, whoever applies the events
    assert funnel(db) == {stage: 1 for stage in STAGES}
    assert funnel(db, "53") == {stage: 1 for stage in STAGES}
    assert funnel(db, "11") == {stage: 0 for stage in STAGES}


def test_shares_are_of_the_cases_opened(db):
    opened = [str(uuid.uuid4()) for _ in range(4)]
    record(db, *[pathway_event("case.opened", case_id) for case_id in opened])
    record(db, pathway_event("diagnostic.completed", opened[0]))
    with db.reading() as session:
        stages = {s["stage"]: s for s in handlers.pathway_funnel(session)}
    assert stages["diagnostic_completed"]["share_of_opened"] == 0.25
    assert stages["opened"]["share_of_opened"] == 1.0

"""Reporting's use cases: every consumed event moves a case's progress forward."""
from collections import Counter

from parcours_shared.audit import change_out

from . import store
from .domain import STAGE_OF_EVENT, funnel


def record_progress(uow, events):
    """Move each event's case forward, keep the running totals in step and the case's timeline:
    a batch of events costs a few statements, whatever its size (the events come in batches,
    see the inbox)."""
    cases = store.progress_for_update(uow.session, {event.data["case_id"] for event in events})
    before = {case_id: case.copy() for case_id, case in cases.items()}
    totals = Counter()
    for event in events:
        reached = STAGE_OF_EVENT[event.type]
        data = event.data
        attributes = {name: data[name] for name in reached.attributes
                      if data.get(name) is not None}
        totals.update(cases[data["case_id"]].reach(
            reached.stage, data[reached.time_field], attributes))
    store.save_progress(uow.session, before, cases)
    store.add_to_totals(uow.session, totals)
    store.add_to_timeline(uow.session, events)


def pathway_funnel(session, region_code=None):
    return funnel(store.stage_counts(session, region_code))


def timeline_of_case(session, case_id):
    """Every change to the case across the network, oldest first, with who acted."""
    return [change_out(row, row["source"]) for row in store.case_timeline(session, case_id)]

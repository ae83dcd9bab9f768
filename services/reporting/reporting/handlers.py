"""Reporting's use cases: every consumed event moves a case's progress forward."""
from collections import Counter

from . import store
from .domain import STAGE_OF_EVENT, funnel, reach_stage


def record_progress(uow, events):
    """Move each event's case forward and keep the running totals in step: a batch of events
    costs a few statements, whatever its size (the events come in batches, see the inbox)."""
    cases = store.cases_for_update(uow.session, {event.data["case_id"] for event in events})
    changed, totals = {}, Counter()
    for event in events:
        reached = STAGE_OF_EVENT[event.type]
        data = event.data
        case_id = data["case_id"]
        case = changed.get(case_id) or dict(cases[case_id])
        attributes = {name: data[name] for name in reached.attributes
                      if data.get(name) is not None}
        totals.update(reach_stage(case, reached.stage, data[reached.time_field], attributes))
        changed[case_id] = case
    store.save_changes(uow.session, {
        case_id: {name: value for name, value in case.items() if value != cases[case_id][name]}
        for case_id, case in changed.items()})
    store.add_to_totals(uow.session, totals)


def pathway_funnel(session, region_code=None):
    return funnel(store.stage_counts(session, region_code))

"""Reporting's use cases: every consumed event moves a case's progress forward."""
from . import store
from .domain import STAGE_OF_EVENT, funnel


def record_progress(uow, event):
    reached = STAGE_OF_EVENT[event.type]
    data = event.data
    attributes = {name: data[name] for name in reached.attributes if data.get(name) is not None}
    store.record_stage(uow.session, data["case_id"], reached.stage, data[reached.time_field],
                       attributes)


def pathway_funnel(session, region_code=None):
    return funnel(store.stage_counts(session, region_code))

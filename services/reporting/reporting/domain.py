"""The pathway's stages, in order, and what each event says about a case.

Events from different services arrive on different queues, so in any order: a case's progress
is a set of facts (the first time it reached each stage), never a state machine.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import timezone


@dataclass(frozen=True)
class StageReached:
    """What reporting learns from one consumed event type: a stage of the pathway reached."""

    stage: str
    event_type: str           # the event that says so
    time_field: str           # the event data field that says when
    attributes: tuple = ()    # case attributes the event carries (for breakdowns)


# The pathway, in order: one entry per counted event. The consumer subscribes to every event
# type here and the funnel lists every stage (a stage's column needs a migration too).
PATHWAY = (
    StageReached("opened", "case.opened", "opened_at", ("region_code", "channel")),
    StageReached("diagnostic_scheduled", "diagnostic.scheduled", "scheduled_at"),
    StageReached("diagnostic_completed", "diagnostic.completed", "completed_at", ("maturity",)),
    StageReached("enrolment_proposed", "enrolment.proposed", "at"),
    StageReached("enrolment_confirmed", "enrolment.confirmed", "at"),
    StageReached("enrolment_completed", "enrolment.completed", "at"),
    StageReached("outcome_recorded", "outcome.recorded", "recorded_at"),
)
STAGES = tuple(reached.stage for reached in PATHWAY)
STAGE_OF_EVENT = {reached.event_type: reached for reached in PATHWAY}
COUNTED_EVENT_TYPES = tuple(STAGE_OF_EVENT)


UNKNOWN_REGION = ""  # stages of cases whose region (it comes with case.opened) is not known yet


def reach_stage(case, stage, at, attributes):
    """Record in ``case`` (a case_progress row as a dict, updated in place) that the case
    reached ``stage`` at ``at`` (the earliest time wins), with the attributes the event carries.

    Returns the changes to the running totals, {(region_code, stage): delta}. A stage reached
    before the region is known is counted under UNKNOWN_REGION, and moved to the region when
    case.opened brings it.
    """
    reached_before = {s for s in STAGES if case[s + "_at"] is not None}
    region_before = case["region_code"]
    for name, value in attributes.items():
        if name != "region_code" or region_before is None:
            case[name] = value
    column = stage + "_at"
    if case[column] is None or _as_utc(case[column]) > _as_utc(at):
        case[column] = at

    region = case["region_code"] or UNKNOWN_REGION
    deltas = Counter()
    if stage not in reached_before:
        deltas[region, stage] += 1
    if region != UNKNOWN_REGION and region_before is None:
        for earlier in reached_before:  # the region has just arrived
            deltas[UNKNOWN_REGION, earlier] -= 1
            deltas[region, earlier] += 1
    return deltas


def _as_utc(moment):
    # SQLite gives back the stored times without their zone; they were stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def funnel(counts):
    """Stage counts in pathway order, with each stage's share of the cases opened."""
    opened = counts.get("opened", 0)
    return [{"stage": stage, "cases": counts.get(stage, 0),
             "share_of_opened": round(counts.get(stage, 0) / opened, 4) if opened else None}
            for stage in STAGES]

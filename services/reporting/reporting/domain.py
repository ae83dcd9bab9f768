"""The pathway's stages, in order, and what each event says about a case.

Events from different services arrive on different queues, so in any order: a case's progress
is a set of facts (the first time it reached each stage), never a state machine.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import timezone

STAGES = (
    "opened",
    "diagnostic_scheduled",
    "diagnostic_completed",
    "enrolment_proposed",
    "enrolment_confirmed",
    "enrolment_completed",
    "outcome_recorded",
)


@dataclass(frozen=True)
class StageReached:
    stage: str
    time_field: str           # the event data field that says when
    attributes: tuple = ()    # case attributes the event carries (for breakdowns)


# event type -> what reporting learns from it
STAGE_OF_EVENT = {
    "case.opened": StageReached("opened", "opened_at", ("region_code", "channel")),
    "diagnostic.scheduled": StageReached("diagnostic_scheduled", "scheduled_at"),
    "diagnostic.completed": StageReached("diagnostic_completed", "completed_at", ("maturity",)),
    "enrolment.proposed": StageReached("enrolment_proposed", "at"),
    "enrolment.confirmed": StageReached("enrolment_confirmed", "at"),
    "enrolment.completed": StageReached("enrolment_completed", "at"),
    "outcome.recorded": StageReached("outcome_recorded", "recorded_at"),
}


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

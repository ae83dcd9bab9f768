"""The pathway's stages, in order, and what each event says about a case.

Events from different services arrive on different queues, so in any order: a case's progress
is a set of facts (the first time it reached each stage), never a state machine.
"""
from dataclasses import dataclass

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


def funnel(counts):
    """Stage counts in pathway order, with each stage's share of the cases opened."""
    opened = counts.get("opened", 0)
    return [{"stage": stage, "cases": counts.get(stage, 0),
             "share_of_opened": round(counts.get(stage, 0) / opened, 4) if opened else None}
            for stage in STAGES]

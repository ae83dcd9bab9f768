"""The pathway's stages, in order, and what each event says about a case.

Events from different services arrive on different queues, so in any order: a case's progress
is a set of facts (the first time it reached each stage), never a state machine.
"""
from collections import Counter
from dataclasses import dataclass, field, replace

from parcours_shared.domain import as_utc


@dataclass(frozen=True)
class StageReached:
    """What reporting learns from one consumed event type: a stage of the pathway reached."""

    stage: str
    event_type: str           # the event that says so
    time_field: str           # the event data field that says when
    attributes: tuple = ()    # case attributes the event carries (for breakdowns)


# The pathway, in order: one entry per counted event. The consumer subscribes to every event
# type here, the store keeps a row per case and stage reached, and the funnel lists every
# stage: a new stage, or a new counted event, is one entry here and nothing else.
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
CASE_ATTRIBUTES = ("region_code", "channel", "maturity")  # what the events tell of a case


@dataclass
class CaseProgress:
    """What reporting knows of one case: its attributes, and the first time it reached each
    stage (a stage reached is a fact; events bring them in any order)."""

    case_id: str
    region_code: str | None = None
    channel: str | None = None
    maturity: str | None = None
    reached: dict = field(default_factory=dict)   # stage -> the earliest time it was reached

    def reach(self, stage, at, attributes):
        """Record that the case reached ``stage`` at ``at`` (the earliest time wins), with the
        attributes the event carries; return the changes to the running totals,
        {(region_code, stage): delta}.

        A stage reached before the region is known is counted under UNKNOWN_REGION, and moved
        to the region when case.opened brings it; a region, once known, is kept.
        """
        reached_before = set(self.reached)
        region_before = self.region_code
        for name, value in attributes.items():
            if name != "region_code" or region_before is None:
                setattr(self, name, value)
        if stage not in self.reached or as_utc(self.reached[stage]) > as_utc(at):
            self.reached[stage] = at

        region = self.region_code or UNKNOWN_REGION
        deltas = Counter()
        if stage not in reached_before:
            deltas[region, stage] += 1
        if region != UNKNOWN_REGION and region_before is None:
            for earlier in reached_before:  # the region has just arrived
                deltas[UNKNOWN_REGION, earlier] -= 1
                deltas[region, earlier] += 1
        return deltas

    def copy(self):
        return replace(self, reached=dict(self.reached))


def funnel(counts):
    """Stage counts in pathway order, with each stage's share of the cases opened."""
    opened = counts.get("opened", 0)
    return [{"stage": stage, "cases": counts.get(stage, 0),
             "share_of_opened": round(counts.get(stage, 0) / opened, 4) if opened else None}
            for stage in STAGES]

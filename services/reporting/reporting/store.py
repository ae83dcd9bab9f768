"""Reporting's tables and queries: one row per case, a column per stage reached, and running
totals per stage (overall and per region) so the funnel reads a few rows whatever the volume."""
from collections import Counter

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select, update
from parcours_shared.db import dialect_insert, inbox_table

from .domain import STAGES

metadata = MetaData()

case_progress = Table(
    "case_progress", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("region_code", String(3)),
    Column("channel", String(20)),
    Column("maturity", String(30)),
    *[Column(stage + "_at", DateTime(timezone=True), index=True) for stage in STAGES],
)

UNKNOWN_REGION = ""  # stages of cases whose region (it comes with case.opened) is not known yet

# How many cases reached each stage, per region; kept in step with case_progress in the same
# transaction. The overall funnel is their sum (a few dozen rows whatever the number of cases).
stage_totals = Table(
    "stage_totals", metadata,
    Column("region_code", String(3), primary_key=True),
    Column("stage", String(30), primary_key=True),
    Column("cases", Integer, nullable=False),
)

inbox = inbox_table(metadata)


def record_stage(session, case_id, stage, at, attributes):
    """Note that the case reached ``stage`` at ``at`` (the earliest time wins), and count it.

    Events arrive in any order: a stage reached before the region is known is counted under
    UNKNOWN_REGION, and moved to the region when case.opened brings it.
    """
    case = _case_for_update(session, case_id)
    reached_before = {s for s in STAGES if case[s + "_at"] is not None}
    changes = {name: value for name, value in attributes.items()
               if name != "region_code" or case["region_code"] is None}
    column = stage + "_at"
    if case[column] is None or case[column] > at:
        changes[column] = at
    if changes:
        session.execute(update(case_progress).where(case_progress.c.case_id == case_id)
                        .values(**changes))

    region = changes.get("region_code") or case["region_code"] or UNKNOWN_REGION
    deltas = Counter()
    if stage not in reached_before:
        deltas[region, stage] += 1
    if region != UNKNOWN_REGION and case["region_code"] is None:
        for earlier in reached_before:  # the region has just arrived
            deltas[UNKNOWN_REGION, earlier] -= 1
            deltas[region, earlier] += 1
    for (region_code, counted_stage), delta in deltas.items():
        if delta:
            _add_to_total(session, region_code, counted_stage, delta)


def _add_to_total(session, region_code, stage, delta):
    # A plain UPDATE first: SQLAlchemy caches it, while INSERT ... ON CONFLICT is compiled anew
    # at every call. The upsert only runs the first time a (region, stage) pair is counted.
    row = (stage_totals.c.region_code == region_code) & (stage_totals.c.stage == stage)
    updated = session.execute(update(stage_totals).where(row)
                              .values(cases=stage_totals.c.cases + delta))
    if updated.rowcount == 0:
        session.execute(dialect_insert(session)(stage_totals)
                        .values(region_code=region_code, stage=stage, cases=delta)
                        .on_conflict_do_update(index_elements=["region_code", "stage"],
                                               set_={"cases": stage_totals.c.cases + delta}))


def _case_for_update(session, case_id):
    """The case's progress row, created if new, locked (PostgreSQL) so that two of its events
    cannot both count a first arrival."""
    query = select(case_progress).where(case_progress.c.case_id == case_id).with_for_update()
    case = session.execute(query).first()
    if case is None:
        session.execute(dialect_insert(session)(case_progress).values(case_id=case_id)
                        .on_conflict_do_nothing(index_elements=["case_id"]))
        case = session.execute(query).one()
    return case._mapping


def stage_counts(session, region_code=None):
    if region_code:
        query = (select(stage_totals.c.stage, stage_totals.c.cases)
                 .where(stage_totals.c.region_code == region_code))
    else:
        query = select(stage_totals.c.stage, func.sum(stage_totals.c.cases)).group_by(
            stage_totals.c.stage)
    return {stage: int(cases) for stage, cases in session.execute(query)}

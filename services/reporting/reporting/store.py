"""Reporting's tables and queries: a row per case (its attributes), a row per case and stage
reached, and running totals per stage (overall and per region) so the funnel reads a few rows
whatever the volume. A new stage needs no new column: it is a new value of ``stage``."""
from sqlalchemy import (
    Column, DateTime, Index, Integer, MetaData, String, Table, bindparam, func, insert, select,
    update,
)

from parcours_shared.directory import DirectoryTables
from parcours_shared.inbox import inbox_table
from parcours_shared.sql import insert_new_rows

from .domain import CASE_ATTRIBUTES, CaseProgress

metadata = MetaData()
# the network directory, as intake's events tell it (parcours_shared.directory)
directory = DirectoryTables(metadata)

case_progress = Table(
    "case_progress", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("region_code", String(3)),
    Column("channel", String(20)),
    Column("maturity", String(30)),
)

# When each case first reached each stage (the median time between stages reads these).
case_stages = Table(
    "case_stages", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("stage", String(40), primary_key=True),
    Column("reached_at", DateTime(timezone=True), nullable=False),
    Index("ix_case_stages_stage_reached_at", "stage", "reached_at"),
)

# Every event about a case, from every service, with who acted: the case's whole timeline
# across the network (GET /audit?subject=<case id>).
timeline = Table(
    "timeline", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("event_type", String(100), nullable=False),
    Column("source", String(100), nullable=False),
    Column("partner", String(64)),
    Column("person", String(64)),
    Column("at", DateTime(timezone=True), nullable=False),
)

# How many cases reached each stage, per region; kept in step with case_progress in the same
# transaction. The overall funnel is their sum (a few dozen rows whatever the number of cases).
stage_totals = Table(
    "stage_totals", metadata,
    Column("region_code", String(3), primary_key=True),
    Column("stage", String(40), primary_key=True),
    Column("cases", Integer, nullable=False),
)

inbox = inbox_table(metadata)


def progress_for_update(session, case_ids):
    """{case_id: CaseProgress} of these cases, rows created as needed and locked (PostgreSQL).

    Creating first, then reading: a case's events travel on different queues, and a batch that
    found no row must not overwrite the row another batch has just created. In a fixed order,
    so that two batches sharing cases cannot deadlock. The case's row lock covers its stages.
    """
    case_ids = sorted(case_ids)
    insert_new_rows(session, case_progress, [{"case_id": case_id} for case_id in case_ids],
                    ("case_id",))
    query = (select(case_progress)
             .where(case_progress.c.case_id.in_(bindparam("case_ids", expanding=True)))
             .order_by(case_progress.c.case_id).with_for_update())
    cases = {row.case_id: CaseProgress(**row._mapping)
             for row in session.execute(query, {"case_ids": case_ids})}
    stages = select(case_stages).where(
        case_stages.c.case_id.in_(bindparam("case_ids", expanding=True)))
    for row in session.execute(stages, {"case_ids": case_ids}):
        cases[row.case_id].reached[row.stage] = row.reached_at
    return cases


_update_stage = (update(case_stages)
                 .where((case_stages.c.case_id == bindparam("b_case_id"))
                        & (case_stages.c.stage == bindparam("b_stage")))
                 .values(reached_at=bindparam("b_reached_at")))


def save_progress(session, before, after):
    """Write what changed from ``before`` to ``after`` ({case_id: CaseProgress}): attributes
    with one UPDATE per set of changed columns (a batch of one event type changes the same few
    of every case), new stages in one INSERT, earlier times in one UPDATE."""
    by_columns, new_stages, earlier = {}, [], []
    for case_id, case in sorted(after.items()):
        old = before[case_id]
        values = {name: getattr(case, name) for name in CASE_ATTRIBUTES
                  if getattr(case, name) != getattr(old, name)}
        if values:
            by_columns.setdefault(tuple(sorted(values)), []).append(
                dict({"b_case_id": case_id}, **{"b_" + name: v for name, v in values.items()}))
        for stage, at in case.reached.items():
            if stage not in old.reached:
                new_stages.append({"case_id": case_id, "stage": stage, "reached_at": at})
            elif at != old.reached[stage]:
                earlier.append({"b_case_id": case_id, "b_stage": stage, "b_reached_at": at})
    for columns, rows in by_columns.items():
        session.execute(
            update(case_progress).where(case_progress.c.case_id == bindparam("b_case_id"))
            .values({name: bindparam("b_" + name) for name in columns}), rows)
    if new_stages:
        session.execute(insert(case_stages), new_stages)
    if earlier:
        session.execute(_update_stage, earlier)


def add_to_totals(session, deltas):
    """Add ``{(region_code, stage): delta}`` to the running totals, rows created as needed, in
    a fixed order (concurrent batches lock the same few rows)."""
    changes = [{"b_region_code": region_code, "b_stage": stage, "b_delta": delta}
               for (region_code, stage), delta in sorted(deltas.items()) if delta]
    if not changes:
        return
    insert_new_rows(
        session, stage_totals,
        [{"region_code": change["b_region_code"], "stage": change["b_stage"], "cases": 0}
         for change in changes],
        ("region_code", "stage"))
    session.execute(
        update(stage_totals)
        .where((stage_totals.c.region_code == bindparam("b_region_code"))
               & (stage_totals.c.stage == bindparam("b_stage")))
        .values(cases=stage_totals.c.cases + bindparam("b_delta")),
        changes)


def stage_counts(session, region_code=None):
    if region_code:
        query = (select(stage_totals.c.stage, stage_totals.c.cases)
                 .where(stage_totals.c.region_code == region_code))
    else:
        query = select(stage_totals.c.stage, func.sum(stage_totals.c.cases)).group_by(
            stage_totals.c.stage)
    return {stage: int(cases) for stage, cases in session.execute(query)}


def add_to_timeline(session, events):
    """One row per event (an event delivered again adds nothing)."""
    insert_new_rows(session, timeline, [
        {"case_id": event.data["case_id"], "event_id": event.id, "event_type": event.type,
         "source": event.source, "partner": event.partner, "person": event.person,
         "at": event.time} for event in events], ["case_id", "event_id"])


def case_timeline(session, case_id):
    return session.execute(select(timeline).where(timeline.c.case_id == case_id)
                           .order_by(timeline.c.at, timeline.c.event_id)).mappings().all()

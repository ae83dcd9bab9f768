"""Reporting's tables and queries: one row per case, a column per stage reached, and running
totals per stage (overall and per region) so the funnel reads a few rows whatever the volume."""
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from parcours_shared.db import inbox_table

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

ALL_REGIONS = "*"

# How many cases reached each stage, overall (region "*") and per region; kept in step with
# case_progress in the same transaction.
stage_totals = Table(
    "stage_totals", metadata,
    Column("region_code", String(3), primary_key=True),
    Column("stage", String(30), primary_key=True),
    Column("cases", Integer, nullable=False),
)

inbox = inbox_table(metadata)


def _dialect_insert(session):
    return postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


def record_stage(session, case_id, stage, at, attributes):
    """Note that the case reached ``stage`` at ``at`` (the earliest time wins), and count it.

    Events arrive in any order: the region comes with case.opened, possibly after later stages,
    so the stages reached before it are counted for the region when it arrives.
    """
    insert = _dialect_insert(session)
    session.execute(insert(case_progress).values(case_id=case_id)
                    .on_conflict_do_nothing(index_elements=["case_id"]))
    # lock the case's row (PostgreSQL) so two of its events cannot both count a first arrival
    case = session.execute(select(case_progress).where(case_progress.c.case_id == case_id)
                           .with_for_update()).one()._mapping
    reached_before = {s for s in STAGES if case[s + "_at"] is not None}
    changes = {name: value for name, value in attributes.items()
               if name != "region_code" or case["region_code"] is None}
    column = stage + "_at"
    if case[column] is None or case[column] > at:
        changes[column] = at
    if changes:
        session.execute(update(case_progress).where(case_progress.c.case_id == case_id)
                        .values(**changes))

    counted = []
    if stage not in reached_before:
        counted.append((ALL_REGIONS, stage))
        if case["region_code"]:
            counted.append((case["region_code"], stage))
    new_region = changes.get("region_code")
    if new_region:
        counted += [(new_region, s) for s in reached_before | {stage}]
    for region_code, counted_stage in counted:
        session.execute(insert(stage_totals)
                        .values(region_code=region_code, stage=counted_stage, cases=1)
                        .on_conflict_do_update(index_elements=["region_code", "stage"],
                                               set_={"cases": stage_totals.c.cases + 1}))


def stage_counts(session, region_code=None):
    rows = session.execute(select(stage_totals.c.stage, stage_totals.c.cases)
                           .where(stage_totals.c.region_code == (region_code or ALL_REGIONS)))
    return dict(rows.all())

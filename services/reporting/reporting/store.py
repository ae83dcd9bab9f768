"""Reporting's tables and queries: one row per case, a column per stage reached."""
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select, update
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

inbox = inbox_table(metadata)


def record_stage(session, case_id, stage, at, attributes):
    """Note that the case reached ``stage`` at ``at`` (the earliest time wins)."""
    insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(case_progress).values(case_id=case_id)
                    .on_conflict_do_nothing(index_elements=["case_id"]))
    column = case_progress.c[stage + "_at"]
    session.execute(update(case_progress)
                    .where(case_progress.c.case_id == case_id)
                    .where((column.is_(None)) | (column > at))
                    .values({column: at}))
    if attributes:
        session.execute(update(case_progress).where(case_progress.c.case_id == case_id)
                        .values(**attributes))


def stage_counts(session, region_code=None):
    query = select(*[func.count(case_progress.c[stage + "_at"]).label(stage) for stage in STAGES])
    if region_code:
        query = query.where(case_progress.c.region_code == region_code)
    return dict(session.execute(query).one()._mapping)

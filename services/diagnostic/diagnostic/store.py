"""Diagnostic's tables and queries. Nothing outside this service reads them."""
from sqlalchemy import (
    JSON, Column, DateTime, Integer, MetaData, String, Table, bindparam, insert, select, update,
)

from parcours_shared.db import inbox_table, outbox_table

metadata = MetaData()

diagnostics = Table(
    "diagnostics", metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, unique=True),  # one diagnostic per case
    Column("siren", String(9), nullable=False),
    Column("company_name", String(200), nullable=False),
    Column("region_code", String(3)),
    Column("status", String(20), nullable=False),
    Column("scheduled_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Column("answers", JSON),
    Column("score", Integer),
    Column("maturity", String(30)),
    Column("recommendations", JSON),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


# Built once: answers entered together run these hundreds of times in one request, and a
# statement with its values baked in is compiled again (cache key included) at each run.
_by_id = select(diagnostics).where(diagnostics.c.id == bindparam("diagnostic_id"))
_update_by_id = update(diagnostics).where(diagnostics.c.id == bindparam("diagnostic_id"))


def diagnostic_by_id(session, diagnostic_id):
    row = session.execute(_by_id, {"diagnostic_id": diagnostic_id}).first()
    return dict(row._mapping) if row else None


def diagnostic_for_case(session, case_id):
    row = session.execute(select(diagnostics).where(diagnostics.c.case_id == case_id)).first()
    return dict(row._mapping) if row else None


def list_diagnostics(session, status, limit, offset):
    query = select(diagnostics).order_by(diagnostics.c.scheduled_at, diagnostics.c.id)
    if status:
        query = query.where(diagnostics.c.status == status)
    return [dict(row._mapping) for row in session.execute(query.limit(limit).offset(offset))]


def cases_with_diagnostic(session, case_ids):
    """The ones among ``case_ids`` that have a diagnostic."""
    query = select(diagnostics.c.case_id).where(
        diagnostics.c.case_id.in_(bindparam("case_ids", expanding=True)))
    return set(session.execute(query, {"case_ids": list(case_ids)}).scalars())


def add_diagnostics(session, new_diagnostics):
    if new_diagnostics:
        session.execute(insert(diagnostics), new_diagnostics)


def update_diagnostic(session, diagnostic_id, **values):
    # SET the columns named in the parameters
    session.execute(_update_by_id, dict(values, diagnostic_id=diagnostic_id))

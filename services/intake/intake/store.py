"""Intake's tables and queries. Nothing outside this service reads them."""
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert, select, update

from parcours_shared.inbox import inbox_table
from parcours_shared.outbox import outbox_table

from .domain import Case

metadata = MetaData()

cases = Table(
    "cases", metadata,
    Column("id", String(36), primary_key=True),
    # one case per firm: the single window deduplicates by SIREN
    Column("siren", String(9), nullable=False, unique=True),
    Column("company_name", String(200), nullable=False),
    Column("region_code", String(3)),
    Column("naf_code", String(6)),
    Column("channel", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("advisor", String(100)),
    Column("partner", String(100)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("closure_reason", String(200)),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def _to_case(row):
    return Case(**row._mapping) if row is not None else None


def case_by_id(session, case_id):
    return _to_case(session.execute(select(cases).where(cases.c.id == case_id)).first())


def case_by_siren(session, siren):
    return _to_case(session.execute(select(cases).where(cases.c.siren == siren)).first())


def cases_by_siren(session, sirens):
    """{siren: case} for those of ``sirens`` that have a case (one query, on the unique key)."""
    found = session.execute(select(cases).where(cases.c.siren.in_(sorted(sirens))))
    return {row.siren: _to_case(row) for row in found}


def list_cases(session, limit, offset):
    rows = session.execute(select(cases).order_by(cases.c.opened_at, cases.c.id)
                           .limit(limit).offset(offset))
    return [_to_case(row) for row in rows]


def add_cases(session, new_cases):
    """One statement for all (an import opens hundreds)."""
    session.execute(insert(cases), [vars(case) for case in new_cases])


def save_case(session, case):
    values = dict(vars(case))
    session.execute(update(cases).where(cases.c.id == values.pop("id")).values(**values))

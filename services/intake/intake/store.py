"""Intake's tables and queries. Nothing outside this service reads them."""
from sqlalchemy import (
    JSON, Column, DateTime, ForeignKey, MetaData, String, Table, insert, or_, select, update,
)

from parcours_shared.audit import audit_table
from parcours_shared.inbox import inbox_table
from parcours_shared.outbox import outbox_table

from .domain import ACTIVE, Case, Partner, Person

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

# the network directory (intake keeps it; the others copy it from its events)
partners = Table(
    "partners", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("regions", JSON, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)

people = Table(
    "people", metadata,
    Column("id", String(64), primary_key=True),
    Column("partner_id", String(64), ForeignKey("partners.id"), nullable=False, index=True),
    Column("region_code", String(3), nullable=False),
    Column("role", String(40), nullable=False),
    # personal data: never in an event, never in a log
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(40)),
    Column("status", String(20), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
    Column("left_at", DateTime(timezone=True)),
)

outbox = outbox_table(metadata)
audit = audit_table(metadata)  # who did what (parcours_shared.audit)
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


def list_cases(session, limit, offset, scope=None, siren=None):
    """``scope``: a domain.CaseScope, in SQL (None: every case)."""
    query = select(cases)
    if siren is not None:
        query = query.where(cases.c.siren == siren)
    if scope is not None:
        visible = cases.c.partner == scope.partner
        if scope.regions is not None:
            visible = or_(visible, cases.c.region_code.in_(scope.regions),
                          cases.c.region_code.is_(None))
        query = query.where(visible)
    rows = session.execute(query.order_by(cases.c.opened_at, cases.c.id)
                           .limit(limit).offset(offset))
    return [_to_case(row) for row in rows]


def add_cases(session, new_cases):
    """One statement for all (an import opens hundreds)."""
    session.execute(insert(cases), [vars(case) for case in new_cases])


def save_case(session, case):
    values = dict(vars(case))
    session.execute(update(cases).where(cases.c.id == values.pop("id")).values(**values))


def partner_by_id(session, partner_id):
    row = session.execute(select(partners).where(partners.c.id == partner_id)).first()
    return Partner(**row._mapping) if row is not None else None


def list_partners(session):
    return [Partner(**row._mapping)
            for row in session.execute(select(partners).order_by(partners.c.id))]


def add_partner(session, partner):
    session.execute(insert(partners).values(**vars(partner)))


def save_partner(session, partner):
    values = dict(vars(partner))
    session.execute(update(partners).where(partners.c.id == values.pop("id")).values(**values))


def person_by_id(session, person_id):
    row = session.execute(select(people).where(people.c.id == person_id)).first()
    return Person(**row._mapping) if row is not None else None


def people_of(session, partner_id):
    return [Person(**row._mapping) for row in session.execute(
        select(people).where(people.c.partner_id == partner_id).order_by(people.c.id))]


def staffed_regions(session, partner_id):
    """The regions where the partner's active people work."""
    return set(session.execute(select(people.c.region_code).distinct().where(
        people.c.partner_id == partner_id, people.c.status == ACTIVE)).scalars())


def add_person(session, person):
    session.execute(insert(people).values(**vars(person)))


def save_person(session, person):
    values = dict(vars(person))
    session.execute(update(people).where(people.c.id == values.pop("id")).values(**values))

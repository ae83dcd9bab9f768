"""Diagnostic's tables and queries. Nothing outside this service reads them."""
from sqlalchemy import (
    JSON, Column, Date, DateTime, Integer, MetaData, String, Table, bindparam, insert, select,
    update,
)

from parcours_shared.audit import audit_table
from parcours_shared.closed_cases import closed_cases_table
from parcours_shared.directory import DirectoryTables
from parcours_shared.inbox import inbox_table
from parcours_shared.outbox import outbox_table

from .domain import Diagnostic

metadata = MetaData()
# the network directory, as intake's events tell it (parcours_shared.directory)
directory = DirectoryTables(metadata)

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
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancellation_reason", String(200)),
    Column("advisor", String(100)),
    Column("partner", String(100)),
    Column("due_on", Date),
)
# who each case was last assigned to, as case.assigned tells it: a diagnostic scheduled after
# (events come in any order) goes to that advisor too
case_assignments = Table(
    "case_assignments", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("advisor", String(100), nullable=False),
    Column("partner", String(100), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
)
# the cases intake closed (parcours_shared.closed_cases)
closed_cases = closed_cases_table(metadata)

outbox = outbox_table(metadata)
audit = audit_table(metadata)  # who did what (parcours_shared.audit)
inbox = inbox_table(metadata)


_by_ids = select(diagnostics).where(
    diagnostics.c.id.in_(bindparam("diagnostic_ids", expanding=True)))
# SETs the columns named in its parameters: one statement for a whole workshop's answers.
_update_by_id = update(diagnostics).where(diagnostics.c.id == bindparam("diagnostic_id"))
_COMPLETION_FIELDS = ("status", "completed_at", "answers", "score", "maturity",
                      "recommendations")


def diagnostic_by_id(session, diagnostic_id):
    return diagnostics_by_id(session, [diagnostic_id]).get(diagnostic_id)


def diagnostics_by_id(session, diagnostic_ids):
    """{diagnostic id: diagnostic} for those of the ids that exist."""
    rows = session.execute(_by_ids, {"diagnostic_ids": list(diagnostic_ids)})
    return {row.id: Diagnostic(**row._mapping) for row in rows}


def diagnostic_for_case(session, case_id):
    row = session.execute(select(diagnostics).where(diagnostics.c.case_id == case_id)).first()
    return Diagnostic(**row._mapping) if row else None


def list_diagnostics(session, status, limit, offset):
    query = select(diagnostics).order_by(diagnostics.c.scheduled_at, diagnostics.c.id)
    if status:
        query = query.where(diagnostics.c.status == status)
    return [Diagnostic(**row._mapping)
            for row in session.execute(query.limit(limit).offset(offset))]


def cases_with_diagnostic(session, case_ids):
    """The ones among ``case_ids`` that have a diagnostic."""
    query = select(diagnostics.c.case_id).where(
        diagnostics.c.case_id.in_(bindparam("case_ids", expanding=True)))
    return set(session.execute(query, {"case_ids": list(case_ids)}).scalars())


def add_diagnostics(session, new_diagnostics):
    if new_diagnostics:
        session.execute(insert(diagnostics), [d.as_row() for d in new_diagnostics])


def record_completions(session, completed):
    """Write the answers and results of these diagnostics (one executemany)."""
    if completed:
        session.execute(_update_by_id, [
            dict({field: getattr(diagnostic, field) for field in _COMPLETION_FIELDS},
                 diagnostic_id=diagnostic.id) for diagnostic in completed])


def save_cancellation(session, diagnostic):
    session.execute(update(diagnostics).where(diagnostics.c.id == diagnostic.id).values(
        status=diagnostic.status, cancelled_at=diagnostic.cancelled_at,
        cancellation_reason=diagnostic.cancellation_reason))


def assignments_of(session, case_ids):
    """{case id: its latest assignment} for those of ``case_ids`` that were assigned."""
    if not case_ids:
        return {}
    return {row.case_id: dict(row._mapping) for row in session.execute(
        select(case_assignments).where(case_assignments.c.case_id.in_(sorted(case_ids))))}


def keep_assignment(session, assignment, known):
    values = {name: assignment[name] for name in ("advisor", "partner", "assigned_at")}
    if known:
        session.execute(update(case_assignments).where(
            case_assignments.c.case_id == assignment["case_id"]).values(**values))
    else:
        session.execute(insert(case_assignments).values(case_id=assignment["case_id"], **values))


def save_assignment(session, diagnostic):
    session.execute(update(diagnostics).where(diagnostics.c.id == diagnostic.id).values(
        advisor=diagnostic.advisor, partner=diagnostic.partner))

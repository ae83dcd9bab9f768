"""Diagnostic's tables and queries. Nothing outside this service reads them."""
from sqlalchemy import (
    JSON, Column, Date, DateTime, Integer, MetaData, String, Table, UniqueConstraint, bindparam,
    func, insert, select, update,
)
from sqlalchemy.exc import IntegrityError

from parcours_shared.audit import audit_table
from parcours_shared.closed_cases import closed_cases_table
from parcours_shared.directory import DirectoryTables
from parcours_shared.inbox import inbox_table
from parcours_shared.outbox import outbox_table
from parcours_shared.unit_of_work import for_update

from .domain import Diagnostic

metadata = MetaData()
# the network directory, as intake's events tell it (parcours_shared.directory)
directory = DirectoryTables(metadata)

diagnostics = Table(
    "diagnostics", metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
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
    Column("assessment_number", Integer, nullable=False, server_default="1"),
    Column("previous_id", String(36)),
    Column("questionnaire_version", Integer),
    Column("draft_saved_at", DateTime(timezone=True)),
    Column("dimension_scores", JSON),
    Column("explanation", JSON),
    Column("programme_kinds", JSON),
    Column("target_markets", JSON),
    # a case's assessments are numbered 1, 2...: two advisors reassessing at once make one
    UniqueConstraint("case_id", "assessment_number", name="uq_diagnostics_case_assessment"),
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
    diagnostics.c.id.in_(bindparam("diagnostic_ids", expanding=True))).order_by(diagnostics.c.id)
# SETs the columns named in its parameters: one statement for a whole workshop's answers.
_update_by_id = update(diagnostics).where(diagnostics.c.id == bindparam("diagnostic_id"))
_COMPLETION_FIELDS = ("status", "completed_at", "answers", "score", "maturity",
                      "recommendations", "questionnaire_version", "dimension_scores",
                      "explanation", "programme_kinds", "target_markets")


def diagnostic_by_id(session, diagnostic_id):
    return diagnostics_by_id(session, [diagnostic_id]).get(diagnostic_id)


# A diagnostic loaded in a unit of work is locked until it commits (unit_of_work.for_update):
# answers sent while the case is closed must not each change a copy of its status.

def diagnostics_by_id(session, diagnostic_ids):
    """{diagnostic id: diagnostic} for those of the ids that exist (locked in id order)."""
    rows = session.execute(for_update(session, _by_ids),
                           {"diagnostic_ids": sorted(diagnostic_ids)})
    return {row.id: Diagnostic(**row._mapping) for row in rows}


def diagnostic_for_case(session, case_id):
    """The case's latest assessment, or None."""
    row = session.execute(for_update(session, select(diagnostics).where(
        diagnostics.c.case_id == case_id).order_by(
        diagnostics.c.assessment_number.desc()).limit(1))).first()
    return Diagnostic(**row._mapping) if row else None


def history_of_case(session, case_id):
    """Every assessment of the case, the first first."""
    return [Diagnostic(**row._mapping) for row in session.execute(
        select(diagnostics).where(diagnostics.c.case_id == case_id).order_by(
            diagnostics.c.assessment_number))]


def _filtered(query, filters):
    """Diagnostics by status, region, advisor, partner, maturity, case, and completion date
    (``completed_from`` included, ``completed_before`` not)."""
    for name in ("status", "region_code", "advisor", "partner", "maturity", "case_id"):
        if filters.get(name):
            query = query.where(diagnostics.c[name] == filters[name])
    if filters.get("completed_from"):
        query = query.where(diagnostics.c.completed_at >= filters["completed_from"])
    if filters.get("completed_before"):
        query = query.where(diagnostics.c.completed_at < filters["completed_before"])
    return query


def list_diagnostics(session, filters, limit, offset):
    """(one page of the diagnostics that match, how many match)."""
    total = session.execute(_filtered(select(func.count()).select_from(diagnostics),
                                      filters)).scalar_one()
    query = _filtered(select(diagnostics), filters).order_by(
        diagnostics.c.scheduled_at, diagnostics.c.id)
    return [Diagnostic(**row._mapping)
            for row in session.execute(query.limit(limit).offset(offset))], total


def completed_results(session, filters, group_by=None):
    """(group, maturity, score, dimension scores) of each completed diagnostic that matches:
    the figures are summed from them (a region has thousands, not millions)."""
    group = diagnostics.c[group_by] if group_by else None
    query = _filtered(select(
        (group if group is not None else func.cast(None, String)).label("group"),
        diagnostics.c.maturity, diagnostics.c.score, diagnostics.c.dimension_scores),
        dict(filters, status="completed"))
    return session.execute(query).all()


def cases_with_diagnostic(session, case_ids):
    """The ones among ``case_ids`` that have a diagnostic."""
    query = select(diagnostics.c.case_id).where(
        diagnostics.c.case_id.in_(bindparam("case_ids", expanding=True)))
    return set(session.execute(query, {"case_ids": list(case_ids)}).scalars())


def add_diagnostics(session, new_diagnostics):
    if new_diagnostics:
        session.execute(insert(diagnostics), [d.as_row() for d in new_diagnostics])


def add_assessment(session, diagnostic):
    """Add a re-assessment; False if the case has one of that number already (two advisors
    reassessing at once: the first one counts)."""
    try:
        with session.begin_nested():
            add_diagnostics(session, [diagnostic])
    except IntegrityError:
        return False
    return True


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


def save_draft(session, diagnostic):
    session.execute(_update_by_id, {
        "diagnostic_id": diagnostic.id, "status": diagnostic.status,
        "answers": diagnostic.answers, "questionnaire_version": diagnostic.questionnaire_version,
        "draft_saved_at": diagnostic.draft_saved_at})


def save_assignment(session, diagnostic):
    session.execute(update(diagnostics).where(diagnostics.c.id == diagnostic.id).values(
        advisor=diagnostic.advisor, partner=diagnostic.partner))

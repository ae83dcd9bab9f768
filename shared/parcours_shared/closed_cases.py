"""The cases intake closed, as a consumer keeps them from case.closed.

A closed case cancels what was pending for it downstream (a diagnostic, enrolment proposals).
Events arrive in any order: case.closed may come before the event that would have started that
work (case.opened at diagnostic, diagnostic.completed at programmes), so each consumer keeps the
closures it heard of and checks them before starting anything for a case.
"""
from sqlalchemy import Column, DateTime, String, Table, insert, select


def closed_cases_table(metadata):
    return Table(
        "closed_cases", metadata,
        Column("case_id", String(36), primary_key=True),
        Column("reason", String(200), nullable=False),
        Column("closed_at", DateTime(timezone=True), nullable=False),
    )


def record_closures(session, table, events):
    """Keep the closures of these case.closed events (a case is closed once)."""
    closures = {event.data["case_id"]: event.data for event in events}
    known = closed_among(session, table, closures)
    new = [{"case_id": case_id, "reason": data["reason"], "closed_at": data["closed_at"]}
           for case_id, data in closures.items() if case_id not in known]
    if new:
        session.execute(insert(table), new)
    return closures


def closed_among(session, table, case_ids):
    """The ids among ``case_ids`` of cases known to be closed."""
    if not case_ids:
        return set()
    return set(session.execute(select(table.c.case_id).where(
        table.c.case_id.in_(sorted(case_ids)))).scalars())


def create_closed_cases_table_v1(op):
    """The table as first released, for a service's migration."""
    import sqlalchemy as sa
    op.create_table(
        "closed_cases",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id"))


def drop_closed_cases_table_v1(op):
    op.drop_table("closed_cases")

"""Who did what: every change a service makes is kept with who acted, and served back.

Each change a service makes publishes its events through its unit of work, which also writes one
row per event into the service's ``audit`` table, in the same transaction: the event's subject
(the case, the partner...), type and id, when it became true, and who acted (the partner and the
person of the request's token; none when the service acted by itself, in reaction to another
event). ``GET /audit?subject=<id>`` answers with a service's own changes to that subject;
reporting, which hears every case event, answers with the case's whole timeline.
"""
from marshmallow import Schema, fields, validate
from sqlalchemy import Column, DateTime, Integer, String, Table, select

from .contracts import ROLES, source_uri
from .http import api


def audit_table(metadata):
    return Table(
        "audit", metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("subject", String(64), nullable=False, index=True),
        Column("event_type", String(100), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("partner", String(64)),
        Column("person", String(64)),
        Column("at", DateTime(timezone=True), nullable=False),
    )


def audit_row(envelope, at):
    return {"subject": envelope["subject"], "event_type": envelope["type"],
            "event_id": envelope["id"], "partner": envelope.get("partner"),
            "person": envelope.get("person"), "at": at}


class AuditQuery(Schema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=64))


class Change(Schema):
    at = fields.String(required=True, metadata={"format": "date-time"})
    source = fields.String(required=True)
    event_type = fields.String(required=True)
    event_id = fields.String(required=True)
    partner = fields.String(allow_none=True, required=True)
    person = fields.String(allow_none=True, required=True)


class AuditOut(Schema):
    subject = fields.String(required=True)
    changes = fields.List(fields.Nested(Change), required=True)


def change_out(row, source):
    return {"at": row["at"].isoformat(), "source": source, "event_type": row["event_type"],
            "event_id": row["event_id"], "partner": row["partner"], "person": row["person"]}


class AuditTrail:
    """Mixed into a publishing service class: ``GET /audit?subject=<id>``, its own changes."""

    @api("GET", "/audit", roles=tuple(ROLES), query=AuditQuery, returns=AuditOut)
    def audit(self, request):
        """This service's own changes to a subject (a case, a partner...), with who acted."""
        subject = request.query["subject"]
        audit = self.db.audit_table
        with self.db.reading() as session:
            rows = session.execute(select(audit).where(audit.c.subject == subject)
                                   .order_by(audit.c.seq)).mappings().all()
        source = source_uri(self.name)
        return {"subject": subject, "changes": [change_out(row, source) for row in rows]}


def create_audit_table_v1(op):
    """The audit table as first released, for a service's migration."""
    import sqlalchemy as sa
    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=True),
        sa.Column("person", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"))
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_subject"), ["subject"], unique=False)


def drop_audit_table_v1(op):
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_subject"))
    op.drop_table("audit")

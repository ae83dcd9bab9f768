"""A service's own copy of the network directory, kept from intake's events.

Intake keeps the directory (partners and their people). Every other service mixes in
``DirectoryCopy`` and so knows the network's partner and person ids, their kinds, regions and
roles, without calling intake: it applies ``partner.*`` and ``person.*`` events to two tables of
its own database, and serves them at ``GET /partners``. No contact detail is copied: the events
carry none.

Each event type has its own queue, so a person's ``person.registered`` may arrive before their
partner's ``partner.registered``, or an update before what it updates: each row keeps the time
of the event it reflects (``as_of``), an older event never overwrites a newer one, and a
departure is final.
"""
import sqlalchemy as sa
from marshmallow import Schema, fields
from sqlalchemy import JSON, Column, DateTime, String, Table, select, update

from .contracts import ROLES
from .http import api, listing
from .inbox import inbox_handler
from .sql import insert_new_rows

DIRECTORY_EVENT_TYPES = ("partner.registered", "partner.updated", "person.registered",
                         "person.updated", "person.left")


class DirectoryTables:
    def __init__(self, metadata):
        self.partners = Table(
            "directory_partners", metadata,
            Column("id", String(64), primary_key=True),
            Column("name", String(200), nullable=False),
            Column("kind", String(40), nullable=False),
            Column("regions", JSON, nullable=False),
            Column("as_of", DateTime(timezone=True), nullable=False),
        )
        self.people = Table(
            "directory_people", metadata,
            Column("id", String(64), primary_key=True),
            Column("partner_id", String(64), nullable=False, index=True),
            # unknown while only the departure of a person registered elsewhere has arrived
            Column("region_code", String(3)),
            Column("role", String(40)),
            Column("left_at", DateTime(timezone=True)),
            Column("as_of", DateTime(timezone=True), nullable=False),
        )

    def apply(self, session, events):
        for event in events:
            data = event.data
            if event.type.startswith("partner."):
                values = {"name": data["name"], "kind": data["kind"],
                          "regions": sorted(data["regions"])}
                self._upsert(session, self.partners, data["partner_id"], values,
                             data.get("registered_at") or data["updated_at"])
            elif event.type == "person.left":
                self._record_departure(session, data)
            else:
                values = {"partner_id": data["partner_id"], "region_code": data["region_code"],
                          "role": data["role"]}
                self._upsert(session, self.people, data["person_id"], values,
                             data.get("registered_at") or data["updated_at"])

    @staticmethod
    def _upsert(session, table, row_id, values, as_of):
        inserted = insert_new_rows(session, table, [dict(values, id=row_id, as_of=as_of)],
                                   ["id"], returning=[table.c.id])
        if not inserted:  # known already: take these values unless what we have is newer
            session.execute(update(table).where(table.c.id == row_id, table.c.as_of <= as_of)
                            .values(as_of=as_of, **values))

    def _record_departure(self, session, data):
        people = self.people
        inserted = insert_new_rows(session, people, [{
            "id": data["person_id"], "partner_id": data["partner_id"], "left_at": data["left_at"],
            "as_of": data["left_at"]}], ["id"], returning=[people.c.id])
        if not inserted:
            session.execute(update(people).where(people.c.id == data["person_id"],
                                                 people.c.left_at.is_(None))
                            .values(left_at=data["left_at"]))

    def partners_list(self, session):
        return [dict(row._mapping) for row in
                session.execute(select(self.partners).order_by(self.partners.c.id))]

    def partner(self, session, partner_id):
        row = session.execute(select(self.partners).where(
            self.partners.c.id == partner_id)).first()
        return dict(row._mapping) if row is not None else None

    def has_left(self, session, person_id):
        """Whether the directory said this person left their partner."""
        return session.execute(select(self.people.c.id).where(
            self.people.c.id == person_id, self.people.c.left_at.is_not(None))).first() is not None

    def active_person(self, session, person_id):
        """The person, if known and still with their partner."""
        row = session.execute(select(self.people).where(
            self.people.c.id == person_id, self.people.c.left_at.is_(None),
            self.people.c.role.is_not(None))).first()
        return dict(row._mapping) if row is not None else None


class PartnerCopy(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    regions = fields.List(fields.String(), required=True)


class DirectoryCopy:
    """Mixed into a service class that declares ``directory = DirectoryTables(metadata)``."""

    @classmethod
    def person_has_left(cls, session, person_id):
        """The HTTP layer refuses the tokens of people who left (parcours_shared.http)."""
        return cls.directory.has_left(session, person_id)

    @inbox_handler(*DIRECTORY_EVENT_TYPES)
    def on_directory_event(self, uow, events):
        self.directory.apply(uow.session, events)

    @api("GET", "/partners", roles=tuple(ROLES),
         returns=listing("PartnerCopyList", "partners", PartnerCopy))
    def directory_partners(self, request):
        """This service's copy of the directory's partners (intake keeps the directory)."""
        with self.db.reading() as session:
            partners = self.directory.partners_list(session)
        return {"partners": [{"id": p["id"], "name": p["name"], "kind": p["kind"],
                              "regions": p["regions"]} for p in partners]}


def create_directory_tables_v1(op):
    """The directory copy's tables as first released, for a service's migration."""
    op.create_table(
        "directory_partners",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"))
    op.create_table(
        "directory_people",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=3), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"))
    with op.batch_alter_table("directory_people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directory_people_partner_id"), ["partner_id"],
                              unique=False)


def drop_directory_tables_v1(op):
    with op.batch_alter_table("directory_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_people_partner_id"))
    op.drop_table("directory_people")
    op.drop_table("directory_partners")

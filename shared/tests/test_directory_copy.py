"""A service's copy of the directory, from intake's events in whatever order they arrive."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import MetaData
from parcours_testing import UseCaseDatabase, event

from parcours_shared.directory import DirectoryTables

T0 = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def copy():
    metadata = MetaData()
    tables = DirectoryTables(metadata)
    return tables, UseCaseDatabase("programmes", metadata)


def apply(copy, *events):
    tables, db = copy
    with db.transaction() as uow:
        tables.apply(uow.session, list(events))


def partner_event(kind, at, **data):
    time_field = "registered_at" if kind == "partner.registered" else "updated_at"
    return event(kind, dict({"partner_id": "medicen", "name": "Medicen Paris Region",
                             "kind": "competitiveness_cluster", "regions": ["11"]},
                            **data, **{time_field: at}), subject="medicen")


def person_event(kind, at, **data):
    time_field = {"person.registered": "registered_at", "person.updated": "updated_at",
                  "person.left": "left_at"}[kind]
    fields = {"person_id": "p-1", "partner_id": "medicen"}
    if kind != "person.left":
        fields.update(region_code="11", role="referrer")
    return event(kind, dict(fields, **data, **{time_field: at}), subject="p-1")


def read(copy, what, *args):
    tables, db = copy
    with db.reading() as session:
        return getattr(tables, what)(session, *args)


def test_a_later_update_wins_whichever_arrives_first(copy):
    renamed = partner_event("partner.updated", T0 + timedelta(days=30), name="Medicen")
    apply(copy, renamed, partner_event("partner.registered", T0))
    assert read(copy, "partner", "medicen")["name"] == "Medicen"
    apply(copy, partner_event("partner.updated", T0 + timedelta(days=1), regions=["11", "24"]))
    assert read(copy, "partner", "medicen")["regions"] == ["11"]  # older than the rename


def test_a_person_known_before_their_partner_is_kept(copy):
    apply(copy, person_event("person.registered", T0))
    assert read(copy, "active_person", "p-1")["partner_id"] == "medicen"
    assert read(copy, "partner", "medicen") is None
    apply(copy, partner_event("partner.registered", T0))
    assert [p["id"] for p in read(copy, "partners_list")] == ["medicen"]


def test_a_departure_is_final_even_when_it_arrives_first(copy):
    apply(copy, person_event("person.left", T0 + timedelta(days=90)))
    apply(copy, person_event("person.registered", T0),
          person_event("person.updated", T0 + timedelta(days=10), role="advisor"))
    assert read(copy, "active_person", "p-1") is None
    apply(copy, person_event("person.registered", T0))  # delivered again: still gone
    assert read(copy, "active_person", "p-1") is None


def test_the_same_event_twice_changes_nothing(copy):
    registered = partner_event("partner.registered", T0)
    apply(copy, registered)
    apply(copy, registered)
    assert read(copy, "partners_list") == [{"id": "medicen", "name": "Medicen Paris Region",
                                           "kind": "competitiveness_cluster",
                                           "regions": ["11"],
                                           "as_of": read(copy, "partner", "medicen")["as_of"]}]

"""The network directory, as intake keeps it: partners, their people, and the events that let
every other service copy it without ever seeing a person's contact details."""
import pytest
from parcours_testing import UseCaseDatabase

from intake import handlers, store
from intake.domain import (
    LEFT, DirectoryIdTaken, OutsidePartnerRegions, PersonMoveRefused, RegionStillStaffed,
    may_see_contact_details,
)
from parcours_shared.identity import Caller

CLUSTER = {"id": "pole-mer-mediterranee", "name": "Pôle Mer Méditerranée",
           "kind": "competitiveness_cluster", "regions": ["93", "76"]}
CONTACT = {"name": "Claire Martin", "email": "claire.martin@polemermediterranee.com",
           "phone": "+33 4 94 00 00 00"}


@pytest.fixture
def db():
    return UseCaseDatabase("intake", store.metadata)


def register(db, partner=CLUSTER, **person):
    with db.transaction() as uow:
        handlers.register_partner(uow, partner)
        if person:
            return handlers.register_person(uow, partner["id"], dict(CONTACT, **person))


def test_a_partner_and_its_people_are_published_without_contact_details(db):
    register(db, id="p-claire-martin", region_code="93", role="referrer")
    [partner] = db.published_data("partner.registered")
    assert partner["partner_id"] == "pole-mer-mediterranee"
    assert partner["regions"] == ["76", "93"]
    [person] = db.published_data("person.registered")
    assert person["partner_id"] == "pole-mer-mediterranee" and person["role"] == "referrer"
    published = repr([db.published_data(type_name) for type_name in db.published_types()])
    for detail in CONTACT.values():
        assert detail not in published


def test_an_id_is_the_networks_name_for_one_partner_or_person_only(db):
    register(db, id="p-claire-martin", region_code="93", role="referrer")
    with pytest.raises(DirectoryIdTaken):
        register(db, dict(CLUSTER, name="Another"))
    with db.transaction() as uow, pytest.raises(DirectoryIdTaken):
        handlers.register_person(uow, CLUSTER["id"], dict(
            CONTACT, id="p-claire-martin", region_code="76", role="reader"))


def test_a_person_works_in_a_region_their_partner_serves(db):
    with pytest.raises(OutsidePartnerRegions) as refused:
        register(db, id="p-1", region_code="11", role="referrer")
    assert refused.value.fields == {"region_code": [
        "pole-mer-mediterranee serves regions 76, 93, not 11"]}


def test_a_partner_keeps_serving_a_region_while_its_people_work_there(db):
    register(db, id="p-1", region_code="76", role="referrer")
    with db.transaction() as uow, pytest.raises(RegionStillStaffed, match="still has people in 76"):
        handlers.update_partner(uow, CLUSTER["id"], dict(CLUSTER, regions=["93"]))
    with db.transaction() as uow:
        handlers.record_departure(uow, "p-1")
    with db.transaction() as uow:
        updated = handlers.update_partner(uow, CLUSTER["id"], dict(CLUSTER, regions=["93"]))
    assert updated.regions == ["93"]
    assert db.published_data("partner.updated")[0]["regions"] == ["93"]


def test_someone_who_left_cannot_be_updated_or_leave_twice(db):
    register(db, id="p-1", region_code="93", role="referrer")
    with db.transaction() as uow:
        assert handlers.record_departure(uow, "p-1").status == LEFT
    [left] = db.published_data("person.left")
    assert left == {"person_id": "p-1", "partner_id": CLUSTER["id"], "left_at": left["left_at"]}
    for move in (lambda uow: handlers.record_departure(uow, "p-1"),
                 lambda uow: handlers.update_person(uow, "p-1", dict(
                     CONTACT, region_code="93", role="advisor"))):
        with db.transaction() as uow, pytest.raises(PersonMoveRefused):
            move(uow)


def test_contact_details_are_for_the_persons_own_partner_and_the_directory_keepers(db):
    person = register(db, id="p-1", region_code="93", role="referrer")
    own = Caller("p-2", CLUSTER["id"], frozenset({"reader"}))
    keeper = Caller("p-9", "cci-france", frozenset({"admin"}))
    other = Caller("p-3", "business-france", frozenset({"programme_manager", "reader"}))
    assert may_see_contact_details(own, person) and may_see_contact_details(keeper, person)
    assert not may_see_contact_details(other, person)

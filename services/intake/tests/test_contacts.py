"""The firm's contact persons are personal data: they leave intake only in contact.shared, for
the purposes the firm consented to, and a withdrawal tells every copy to go. Use cases without a
broker (the bus-level check is tests/test_consent.py)."""
import json

import pytest
from parcours_shared.domain import NotYours
from parcours_shared.identity import Caller
from parcours_testing import UseCaseDatabase, luhn_valid_sirens

from intake import handlers, store
from intake.domain import ContactNotFound

SIRENS = luhn_valid_sirens(61000000)
CLAIRE = {"name": "Claire Durand", "role": "export manager",
          "email": "claire.durand@ateliers.example", "phone": "+33 4 72 00 00 00"}


@pytest.fixture
def db():
    return UseCaseDatabase("intake", store.metadata)


@pytest.fixture
def case(db):
    with db.transaction() as uow:
        case, _ = handlers.open_case(uow, {"siren": next(SIRENS), "company_name": "Ateliers",
                                           "region_code": "84"}, "walk_in")
    db.take_published()
    return case


def consent(db, case, purpose, granted=True):
    with db.transaction() as uow:
        return handlers.record_consent(uow, case.id, purpose, granted, "walk_in")


def add(db, case, person=CLAIRE):
    with db.transaction() as uow:
        return handlers.add_contact(uow, case.id, person)


def personal_data_in_events(db):
    return [envelope["type"] for envelope in db.published
            if CLAIRE["email"] in json.dumps(envelope) or CLAIRE["name"] in json.dumps(envelope)]


def test_without_consent_no_event_carries_a_contact(db, case):
    contact = add(db, case)
    with db.transaction() as uow:
        handlers.update_contact(uow, case.id, contact.id, dict(CLAIRE, role="CEO"))
    consent(db, case, "satisfaction_surveys", granted=False)
    assert personal_data_in_events(db) == []
    assert "contact.shared" not in db.published_types()


def test_consenting_shares_the_contacts_for_what_is_consented_to_and_changes_follow(db, case):
    contact = add(db, case)
    consent(db, case, "co_export_matching")
    [shared] = db.published_data("contact.shared")
    assert shared["purposes"] == ["co_export_matching"]
    assert shared["contacts"] == [dict(CLAIRE, contact_id=contact.id)]

    consent(db, case, "orientation")
    add(db, case, {"name": "Paul Martin"})
    latest = db.published_data("contact.shared")[-1]
    assert latest["purposes"] == ["co_export_matching", "orientation"]
    assert [c["name"] for c in latest["contacts"]] == ["Claire Durand", "Paul Martin"]


def test_withdrawing_says_which_purposes_remain_and_stops_the_sharing(db, case):
    add(db, case)
    consent(db, case, "co_export_matching")
    consent(db, case, "orientation")
    db.take_published()
    consents = consent(db, case, "co_export_matching", granted=False)
    assert consents.granted() == ["orientation"]
    [withdrawn] = db.published_data("contact.withdrawn")
    assert (withdrawn["purposes"], withdrawn["remaining_purposes"]) == (
        ["co_export_matching"], ["orientation"])
    consent(db, case, "orientation", granted=False)
    db.take_published()
    add(db, case, {"name": "Paul Martin"})  # nothing consented any more: nothing leaves
    assert db.published_types() == []


def test_the_consent_keeps_its_history_with_who_recorded_it(db, case):
    window = Caller("p-sophie-laurent", "cci-international-aura", frozenset({"advisor"}),
                    person="p-sophie-laurent")
    with db.transaction() as uow:
        handlers.register_partner(uow, {"id": "cci-international-aura", "name": "CCI AURA",
                                        "kind": "chamber_of_commerce", "regions": ["84"]})
    with db.transaction(window) as uow:
        handlers.record_consent(uow, case.id, "orientation", True, "phone")
    consent(db, case, "orientation", granted=False)
    with db.reading() as session:
        _, consents = handlers.contacts_and_consent(session, case.id, None)
    assert [(r.purpose, r.granted, r.channel, r.person) for r in consents.history] == [
        ("orientation", True, "phone", "p-sophie-laurent"),
        ("orientation", False, "walk_in", None)]


def test_contacts_are_the_case_s_readers_and_removing_one_is_shared_too(db, case):
    contact = add(db, case)
    consent(db, case, "orientation")
    with db.transaction() as uow:
        assert handlers.remove_contact(uow, case.id, contact.id) == []
    assert db.published_data("contact.shared")[-1]["contacts"] == []
    with db.transaction() as uow, pytest.raises(ContactNotFound):
        handlers.remove_contact(uow, case.id, contact.id)
    stranger = Caller("p-x", "bpifrance", frozenset({"advisor"}), person="p-x")
    with db.reading() as session, pytest.raises(NotYours):
        handlers.contacts_and_consent(session, case.id, stranger)

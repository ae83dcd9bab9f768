"""Lifecycles refuse the same way everywhere, and a domain error reaches HTTP through its
service's table."""
import pytest

from parcours_shared.domain import DomainError, Lifecycle, Move, MoveRefused
from parcours_shared.http import error_body


class ParcelNotFound(DomainError):
    pass


class ParcelMoveRefused(MoveRefused):
    pass


PARCEL = Lifecycle("parcel", {
    "send": Move(allowed_from=("packed",), to=("sent",)),
    "deliver": Move(allowed_from=("sent",), to=("delivered", "returned")),
}, refused=ParcelMoveRefused)


def test_a_move_allowed_from_the_status_gives_the_next_one():
    assert PARCEL.next_status("p1", "packed", "send") == "sent"
    assert PARCEL.next_status("p1", "sent", "deliver", to="returned") == "returned"


def test_a_move_not_allowed_is_refused_saying_from_where_it_is():
    with pytest.raises(ParcelMoveRefused) as refused:
        PARCEL.next_status("p1", "delivered", "send")
    assert str(refused.value) == "parcel p1 is delivered: it cannot send (only when packed)"


def test_a_move_that_may_lead_to_several_statuses_must_say_which():
    with pytest.raises(ValueError):
        PARCEL.next_status("p1", "sent", "deliver")
    with pytest.raises(ValueError):
        PARCEL.next_status("p1", "sent", "deliver", to="lost")


def test_statuses_are_listed_in_the_order_the_moves_name_them():
    assert PARCEL.statuses() == ("packed", "sent", "delivered", "returned")


TABLE = {ParcelNotFound: 404, MoveRefused: 409}


def test_a_domain_error_gets_its_status_from_the_table_and_its_name_as_reason():
    status, body = error_body(ParcelNotFound("no parcel with id p9"), TABLE)
    assert status == 404
    assert body == {"error": "not_found", "reason": "parcel_not_found",
                    "message": "no parcel with id p9"}


def test_the_nearest_mapped_ancestor_decides():
    status, body = error_body(ParcelMoveRefused("parcel p1 is sent"), TABLE)
    assert (status, body["error"], body["reason"]) == (409, "conflict", "parcel_move_refused")


def test_fields_travel_with_the_error_and_an_unmapped_error_is_a_400():
    status, body = error_body(DomainError("bad siren", fields={"siren": ["9 digits"]}), TABLE)
    assert status == 400 and body["fields"] == {"siren": ["9 digits"]}

"""A v1 message published after v2 exists is still consumed, and its handler sees v2's shape."""
import uuid
from datetime import date, datetime, timezone

import pytest
from marshmallow import fields
from sqlalchemy import MetaData

from parcours_shared.contracts import REGISTRY, build_envelope
from parcours_shared.contracts.schema_fields import EventData, Timestamp, required_id
from parcours_shared.db import Database
from parcours_shared.inbox import inbox_handler, inbox_table
from parcours_testing import publish_raw, wait_for

TYPE = "probe.noted"  # registered for these tests only, as if intake published it
RECEIVED = []


class NotedV1(EventData):
    case_id = required_id()
    advisor = fields.String(required=True)
    noted_at = Timestamp(required=True)


class NotedV2(EventData):
    case_id = required_id()
    followed_by = fields.String(required=True)  # v2 renamed advisor
    noted_at = Timestamp(required=True)


def upcast_v1(data):
    data = dict(data)
    data["followed_by"] = data.pop("advisor")
    return data


@pytest.fixture
def two_versions():
    publishes = REGISTRY.publisher("intake")
    example = {"case_id": "case-1", "advisor": "advisor-7",
               "noted_at": "2026-03-02T09:15:00+00:00"}
    publishes(TYPE, 1, NotedV1, meaning="probe v1", example=example,
              accepted_until=date(2027, 6, 30))
    publishes(TYPE, 2, NotedV2, meaning="probe v2", example=upcast_v1(example),
              upcast=upcast_v1)
    yield
    REGISTRY.unregister(TYPE)


metadata = MetaData()
inbox_table(metadata)


def test_a_v1_message_published_after_v2_exists_reaches_the_handler_as_v2(
        two_versions, container_factory, service_config):
    class Notebook:  # defined once the type is registered: an unknown type fails at once
        name = "notebook"
        db = Database(metadata, migrations_dir=None, publishes=False)

        @inbox_handler(TYPE)
        def on_noted(self, uow, events):
            RECEIVED.extend(events)

    config = service_config("notebook")
    container_factory(Notebook, config).start()
    RECEIVED.clear()
    v2 = build_envelope("intake", TYPE, "case-2", {
        "case_id": "case-2", "followed_by": "advisor-9", "noted_at": datetime(2026, 3, 3, 10, tzinfo=timezone.utc)})
    assert v2["dataschema"].endswith(":v2")  # the publisher emits the latest version
    v1 = dict(v2, id=str(uuid.uuid4()), subject="case-1",
              dataschema="urn:parcours:schema:{}:v1".format(TYPE),
              data={"case_id": "case-1", "advisor": "advisor-7",
                    "noted_at": "2026-03-02T09:15:00+00:00"})
    for envelope in (v1, v2):
        publish_raw(config["AMQP_URI"], "intake.events", TYPE, envelope)

    wait_for(lambda: len(RECEIVED) == 2, what="both versions consumed")
    by_case = {event.data["case_id"]: event for event in RECEIVED}
    assert by_case["case-1"].data["followed_by"] == "advisor-7"
    assert "advisor" not in by_case["case-1"].data
    assert by_case["case-2"].data["followed_by"] == "advisor-9"
    assert {event.dataschema for event in RECEIVED} == {
        "urn:parcours:schema:{}:v2".format(TYPE)}

"""A released version is frozen: a breaking change to it is refused until the version is bumped,
and a consumer still reads the released version once the next one exists."""
import json
from datetime import date, datetime, timezone

import pytest
from marshmallow import fields

from parcours_shared.contracts import ContractViolation, Registry, build_envelope, parse_envelope
from parcours_shared.contracts.documents import breaks_released, generated_files
from parcours_shared.contracts.json_schema import schema_file_name
from parcours_shared.contracts.schema_fields import EventData, Timestamp, required_id

EXAMPLE_V1 = {"case_id": "case-1", "advisor": "advisor-7", "partner": "CCI Lyon",
              "noted_at": "2026-03-02T09:15:00+00:00"}
ACCEPTED_UNTIL = date(2027, 6, 30)
NOTED_AT = datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc)


class NotedV1(EventData):
    case_id = required_id()
    advisor = fields.String(required=True)
    partner = fields.String(required=True)
    noted_at = Timestamp(required=True)


class NotedWithoutAdvisor(EventData):  # v1 with a field removed
    case_id = required_id()
    partner = fields.String(required=True)
    noted_at = Timestamp(required=True)


class NotedV2(EventData):  # the same change, released as a new version
    case_id = required_id()
    partner = fields.String(required=True)
    followed_by = fields.String(required=True)  # renamed from advisor
    noted_at = Timestamp(required=True)


def upcast_noted_v1(data):
    data = dict(data)
    data["followed_by"] = data.pop("advisor")
    return data


def registry_with(*versions):
    registry = Registry()
    publishes = registry.publisher("intake")
    for version, schema, extra in versions:
        if version < len(versions):
            extra = dict(extra, accepted_until=ACCEPTED_UNTIL)
        example = dict(EXAMPLE_V1)
        if version == 2:
            example = upcast_noted_v1(example)
        if schema is NotedWithoutAdvisor:
            example.pop("advisor")
        publishes("case.noted", version, schema, meaning="An advisor noted the case.",
                  example=example, **extra)
    return registry


def released_files(registry):
    """What main holds once ``registry``'s contract is released (make contracts)."""
    files = generated_files([], registry)
    return {path.split("/", 1)[1]: json.loads(text)
            for path, text in files.items() if path.startswith("schemas/")}


def test_removing_a_field_from_a_released_version_is_refused():
    released = released_files(registry_with((1, NotedV1, {})))
    problems = breaks_released(released, registry_with((1, NotedWithoutAdvisor, {})))
    assert problems == ["case.noted v1 data.advisor: removed"]


def test_the_same_change_passes_once_the_version_is_bumped():
    released = released_files(registry_with((1, NotedV1, {})))
    bumped = registry_with((1, NotedV1, {}), (2, NotedV2, {"upcast": upcast_noted_v1}))
    assert breaks_released(released, bumped) == []
    # and once v2 is released too, its own file is frozen in turn
    released = released_files(bumped)
    assert set(released) == {"case.noted.v1.json", "case.noted.v2.json"}
    assert breaks_released(released, bumped) == []


def test_a_compatible_change_to_a_released_version_passes():
    class NotedWithOptionalNote(NotedV1):
        note = fields.String(load_default=None, allow_none=True)

    released = released_files(registry_with((1, NotedV1, {})))
    assert breaks_released(released, registry_with((1, NotedWithOptionalNote, {}))) == []


def test_a_superseded_version_must_say_until_when_it_is_accepted():
    registry = Registry()
    publishes = registry.publisher("intake")
    publishes("case.noted", 1, NotedV1, meaning="v1", example=EXAMPLE_V1)
    with pytest.raises(ValueError, match="without saying until when"):
        publishes("case.noted", 2, NotedV2, meaning="v2", example=upcast_noted_v1(EXAMPLE_V1),
                  upcast=upcast_noted_v1)


def test_a_new_version_needs_its_upcast():
    with pytest.raises(ValueError, match="needs an upcast from version 1"):
        registry_with((1, NotedV1, {}), (2, NotedV2, {}))


def test_a_publisher_emits_the_latest_version_and_a_consumer_reads_both_as_the_latest():
    registry = registry_with((1, NotedV1, {}), (2, NotedV2, {"upcast": upcast_noted_v1}))
    v2_envelope = build_envelope("intake", "case.noted", "case-1", {
        "case_id": "case-1", "partner": "CCI Lyon", "followed_by": "advisor-7",
        "noted_at": NOTED_AT}, registry=registry)
    assert v2_envelope["dataschema"] == "urn:parcours:schema:case.noted:v2"

    v1_envelope = dict(v2_envelope, dataschema="urn:parcours:schema:case.noted:v1",
                       data=EXAMPLE_V1)
    from_v1 = parse_envelope(v1_envelope, registry=registry)
    from_v2 = parse_envelope(v2_envelope, registry=registry)
    assert from_v1.dataschema == from_v2.dataschema == "urn:parcours:schema:case.noted:v2"
    assert from_v1.data == from_v2.data
    assert from_v1.data["followed_by"] == "advisor-7" and "advisor" not in from_v1.data


def test_a_version_that_is_not_registered_is_refused():
    registry = registry_with((1, NotedV1, {}))
    envelope = build_envelope("intake", "case.noted", "case-1", dict(EXAMPLE_V1, noted_at=NOTED_AT),
                              registry=registry)
    with pytest.raises(ContractViolation, match="unsupported dataschema"):
        parse_envelope(dict(envelope, dataschema="urn:parcours:schema:case.noted:v2"),
                       registry=registry)


def test_schema_files_are_named_by_type_and_version():
    registry = registry_with((1, NotedV1, {}))
    assert schema_file_name(registry.latest("case.noted")) == "case.noted.v1.json"

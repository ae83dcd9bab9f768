"""The event contracts: strict when publishing, tolerant of additions when consuming."""
from datetime import datetime, timezone

import pytest
from marshmallow import Schema, ValidationError, fields

from parcours_shared.contracts import (
    REGISTRY, ContractViolation, build_envelope, parse_envelope,
)
from parcours_shared.contracts.schema_fields import Timestamp

CASE_OPENED = {
    "case_id": "c-1", "siren": "732829320", "company_name": "Ateliers Durand",
    "region_code": "84", "naf_code": "21.20Z", "channel": "web",
    "opened_at": datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc),
}


def test_envelope_is_cloudevents_1_0_with_a_versioned_dataschema():
    envelope = build_envelope("intake", "case.opened", "c-1", CASE_OPENED)
    assert envelope["specversion"] == "1.0"
    assert envelope["source"] == "/parcours/intake"
    assert envelope["type"] == "case.opened" and envelope["subject"] == "c-1"
    assert envelope["datacontenttype"] == "application/json"
    assert envelope["dataschema"] == "urn:parcours:schema:case.opened:v1"
    assert envelope["data"]["opened_at"] == "2026-11-23T09:30:00+00:00"
    assert datetime.fromisoformat(envelope["time"]).tzinfo is not None

    event = parse_envelope(envelope)
    assert event.data["opened_at"] == CASE_OPENED["opened_at"]
    assert event.id == envelope["id"]


def test_publishing_invalid_data_is_refused_field_by_field():
    with pytest.raises(ContractViolation) as refused:
        build_envelope("intake", "case.opened", "c-1", dict(CASE_OPENED, siren="12", channel="fax"))
    assert set(refused.value.errors) == {"siren", "channel"}


def test_a_service_publishes_only_its_own_event_types():
    with pytest.raises(ContractViolation, match="intake publishes"):
        build_envelope("diagnostic", "case.opened", "c-1", CASE_OPENED)


def test_consumers_ignore_unknown_fields_but_reject_a_wrong_schema_version():
    envelope = build_envelope("intake", "case.opened", "c-1", CASE_OPENED)
    envelope["data"]["added_in_a_later_minor"] = True
    envelope["partnerextension"] = "crm-42"  # CloudEvents extension attribute
    assert "added_in_a_later_minor" not in parse_envelope(envelope).data

    envelope["dataschema"] = "urn:parcours:schema:case.opened:v9"
    with pytest.raises(ContractViolation, match="unsupported dataschema"):
        parse_envelope(envelope)


def test_an_envelope_missing_attributes_is_rejected_with_each_one_named():
    with pytest.raises(ContractViolation) as rejected:
        parse_envelope({"specversion": "0.3", "type": "case.opened", "data": {}})
    assert {"specversion", "id", "source", "subject", "time", "datacontenttype",
            "dataschema"} <= set(rejected.value.errors)


def test_every_event_type_has_a_schema_and_a_publisher():
    assert set(REGISTRY.names()) == {
        "case.opened", "case.enriched", "case.referred", "case.assigned", "case.closed",
        "case.follow_up_due", "contact.shared", "contact.withdrawn",
        "outcome.reviewed", "survey.answered", "request.received",
        "referral.accepted", "referral.rejected", "referral.taken_in_charge", "referral.done",
        "diagnostic.scheduled", "diagnostic.completed", "diagnostic.cancelled",
        "enrolment.proposed", "enrolment.confirmed", "enrolment.waitlisted",
        "enrolment.completed", "enrolment.withdrawn", "enrolment.none_proposed", "outcome.recorded",
        "co_export.call_published", "co_export.interest_expressed", "co_export.decided",
        "partner.registered", "partner.updated", "person.registered", "person.updated",
        "person.left"}
    assert REGISTRY.publishers() == ["diagnostic", "intake", "programmes"]


@pytest.mark.parametrize("value", [
    "2026-11-23T10:00:00+00:00", "2026-11-23T10:00:00.123456Z", "2026-11-23T12:00:00+02:00",
    "2026-11-23T10:00", "2026-11-23", "2026-13-01T00:00:00", "yesterday", 12, None])
def test_timestamps_read_as_marshmallow_reads_them(value):
    """The contracts' faster datetime field accepts and refuses what marshmallow's does."""
    def load(field):
        try:
            return Schema.from_dict({"at": field})().load({"at": value})["at"]
        except ValidationError as exc:
            return exc.messages

    assert load(Timestamp()) == load(fields.DateTime())


def _envelope_variants():
    """A valid envelope, then the same with each attribute missing or given odd values."""
    valid = build_envelope("intake", "case.opened", "c-1", CASE_OPENED)
    yield valid
    odd_values = [None, 1, 1.5, True, "", " ", "x", [], {}, "1.0\n", "2026-11-23",
                  "2026-11-23T10:00:00", "2026-11-23T10:00:00+02:00", "2026-13-23T10:00:00Z",
                  "0c6e1f0e-4a6a-4f5e-9c1e-2b8f0f3f9d1a", "{0c6e1f0e-4a6a-4f5e-9c1e-2b8f0f3f9d1a}",
                  "0c6e1f0e4a6a4f5e9c1e2b8f0f3f9d1a", "/parcours/intake", "/parcours/intake\n",
                  "/parcours/Intake", "case.opened", "no.such.type", "application/json",
                  "application/json; charset=utf-8", "urn:parcours:schema:case.opened:v1"]
    for name in valid:
        missing = dict(valid)
        del missing[name]
        yield missing
        for value in odd_values:
            yield dict(valid, **{name: value})
    yield dict(valid, extension="allowed")


@pytest.mark.parametrize("envelope", list(_envelope_variants()))
def test_the_envelope_fast_path_answers_as_the_envelope_schema(envelope):
    """Consumers check envelopes without marshmallow's field machinery when nothing is unusual;
    EnvelopeSchema remains the definition: same result, same errors."""
    from parcours_shared.contracts.envelope import EnvelopeSchema, load_envelope

    def outcome(load):
        try:
            return load(envelope)
        except ValidationError as exc:
            return exc.messages

    assert outcome(load_envelope) == outcome(EnvelopeSchema().load)


ODD_DATA_VALUES = [None, 0, 1, -1, 100, 101, 1.5, 2.0, True, "", " ", "x" * 300, "42", [], {},
                   ["advice"], ["advice", 1], "732829320", "73282932", "2026-11-23",
                   "2026-11-23T10:00:00Z", "2026-11-23T10:00:00", "first_time_exporter",
                   "market_entered", "web", "walk_in\n"]


def _valid_value(field):
    """A value the field accepts (checked against marshmallow below)."""
    for validator in field.validators:
        if hasattr(validator, "choices"):
            return list(validator.choices)[0]
        if hasattr(validator, "regex"):
            pattern = validator.regex.pattern
            return ("DE" if "[A-Z]" in pattern else "73282932000074" if "14" in pattern
                    else "732829320")
        if hasattr(validator, "min_inclusive"):
            return validator.min if validator.max is not None else 50
    if isinstance(field, Timestamp):
        return "2026-11-23T10:00:00+00:00"
    if isinstance(field, fields.Date):
        return "2026-11-23"
    if isinstance(field, fields.Boolean):
        return True
    if isinstance(field, fields.Nested):
        return {name: _valid_value(inner) for name, inner in field.schema.fields.items()}
    if isinstance(field, fields.Dict) and field.value_field is not None:
        return {"value": _valid_value(field.value_field)}
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
        return [{name: _valid_value(inner) for name, inner in field.inner.schema.fields.items()}]
    if isinstance(field, fields.List):
        return [_valid_value(field.inner)] if field.inner.validators else ["advice"]
    if isinstance(field, fields.Integer):
        return 7
    return "value"


def _data_variants():
    for event_type in REGISTRY.every_version():
        type_name, schema = event_type.name, event_type.schema()
        valid = {name: _valid_value(field) for name, field in schema.fields.items()}
        assert schema.validate(valid) == {}, (type_name, schema.validate(valid))
        yield type_name, valid
        yield type_name, dict(valid, unknown_field="extra")
        for name in valid:
            missing = dict(valid)
            del missing[name]
            yield type_name, missing
            for value in ODD_DATA_VALUES:
                yield type_name, dict(valid, **{name: value})


@pytest.mark.parametrize("unknown_allowed", [True, False], ids=["consume", "publish"])
def test_plainly_valid_data_loads_as_its_marshmallow_schema_loads_it(unknown_allowed):
    """Event data is loaded without marshmallow's machinery when plainly valid; the schema
    remains the definition: for every type, same result or same errors, tolerant on consume
    (unknown fields dropped) and strict on publish (unknown fields refused)."""
    checked = 0
    for type_name, document in _data_variants():
        def outcome(load):
            try:
                return load()
            except ValidationError as exc:
                return exc.messages

        event_type = REGISTRY.latest(type_name)
        fast = outcome(lambda: event_type.load(document, unknown_allowed))
        reference = outcome(lambda: event_type.schema().load(
            document, unknown="exclude" if unknown_allowed else "raise"))
        assert fast == reference, (type_name, document)
        checked += 1
    assert checked > 1500  # every type, every field, every odd value

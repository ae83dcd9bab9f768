"""Comparing a released event schema with the current one: what breaks an integrator."""
import copy

import pytest

from parcours_shared.contracts.compatibility import breaking_changes

CASE_OPENED = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:parcours:schema:case.opened:v1",
    "title": "case.opened",
    "type": "object",
    "properties": {
        "case_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "siren": {"type": "string", "pattern": "^\\d{9}$"},
        "region_code": {"type": ["string", "null"], "default": None},
        "channel": {"type": "string", "enum": ["walk_in", "web", "phone", "referral"]},
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "recommendations": {"type": "array", "items": {"type": "string"}},
        "opened_at": {"type": "string", "format": "date-time"},
        "maturity": {
            "type": ["string", "null"], "enum": ["not_ready", "first_time_exporter", None],
        },
    },
    "required": ["case_id", "siren", "channel", "opened_at"],
}


def field(schema):
    """An object schema with one optional field ``f``."""
    return {"type": "object", "properties": {"f": schema}}


def test_identical_schemas_are_compatible():
    assert breaking_changes(CASE_OPENED, copy.deepcopy(CASE_OPENED)) == []


def test_a_removed_field_is_breaking():
    current = copy.deepcopy(CASE_OPENED)
    del current["properties"]["siren"]
    current["required"].remove("siren")
    assert breaking_changes(CASE_OPENED, current) == ["data.siren: removed"]


def test_a_new_optional_field_is_compatible():
    current = copy.deepcopy(CASE_OPENED)
    current["properties"]["naf_code"] = {"type": "string", "pattern": "^\\d{2}\\.\\d{2}[A-Z]$"}
    assert breaking_changes(CASE_OPENED, current) == []


@pytest.mark.parametrize("released", [
    {"type": "object", "properties": {}},
    {"type": "object", "properties": {"reason": {"type": "string"}}},
], ids=["field that was absent", "field that was optional"])
def test_a_newly_required_field_is_breaking(released):
    current = {"type": "object", "properties": {"reason": {"type": "string"}},
               "required": ["reason"]}
    assert breaking_changes(released, current) == ["data.reason: new required field"]


def test_a_required_field_made_optional_is_compatible():
    released = {"type": "object", "properties": {"reason": {"type": "string"}},
                "required": ["reason"]}
    current = {"type": "object", "properties": {"reason": {"type": "string"}}, "required": []}
    assert breaking_changes(released, current) == []


@pytest.mark.parametrize("released, current, change", [
    ({"type": "integer"}, {"type": "string"}, "type changed from integer to string"),
    ({"type": ["string", "null"]}, {"type": "string"}, "null no longer allowed"),
    ({"type": ["string", "integer"]}, {"type": "string"},
     "type changed from string or integer to string"),
    ({"type": "number"}, {"type": "integer"}, "type changed from number to integer"),
    ({}, {"type": "string"}, "type narrowed from any to string"),
])
def test_a_changed_or_narrowed_type_is_breaking(released, current, change):
    assert breaking_changes(field(released), field(current)) == [f"data.f: {change}"]


@pytest.mark.parametrize("released, current", [
    ({"type": "string"}, {"type": ["string", "null"]}),
    ({"type": "string"}, {"type": ["string", "integer"]}),
    ({"type": "integer"}, {"type": "number"}),
    ({"type": "string"}, {}),
    ({"type": ["string", "null"]}, {"type": ["null", "string"]}),
])
def test_a_widened_type_is_compatible(released, current):
    assert breaking_changes(field(released), field(current)) == []


def test_a_narrowed_enum_is_breaking():
    released = field({"type": "string", "enum": ["not_ready", "first_time_exporter"]})
    current = field({"type": "string", "enum": ["first_time_exporter"]})
    assert breaking_changes(released, current) == [
        "data.f: enum narrowed (no longer allows 'not_ready')"
    ]


def test_an_enum_where_there_was_none_is_breaking():
    released = field({"type": "string"})
    current = field({"type": "string", "enum": ["web", "phone"]})
    assert breaking_changes(released, current) == [
        "data.f: enum added (only allows 'web', 'phone')"
    ]


@pytest.mark.parametrize("current", [
    {"type": "string", "enum": ["walk_in", "web", "phone"]},
    {"type": "string"},
], ids=["value added", "enum removed"])
def test_a_widened_or_removed_enum_is_compatible(current):
    released = field({"type": "string", "enum": ["walk_in", "web"]})
    assert breaking_changes(released, field(current)) == []


def test_a_nullable_enum_made_not_nullable_is_reported_once():
    released = field({"type": ["string", "null"], "enum": ["not_ready", None]})
    current = field({"type": "string", "enum": ["not_ready"]})
    assert breaking_changes(released, current) == ["data.f: null no longer allowed"]


def test_null_dropped_from_an_enum_alone_is_breaking():
    released = field({"enum": ["not_ready", None]})
    current = field({"enum": ["not_ready"]})
    assert breaking_changes(released, current) == ["data.f: enum narrowed (no longer allows null)"]


def test_a_nullable_enum_made_nullable_is_compatible():
    released = field({"type": "string", "enum": ["not_ready"]})
    current = field({"type": ["string", "null"], "enum": ["not_ready", None]})
    assert breaking_changes(released, current) == []


@pytest.mark.parametrize("keyword", ["minLength", "minimum", "exclusiveMinimum", "minItems"])
def test_a_lower_bound_raised_or_added_is_breaking(keyword):
    assert breaking_changes(field({keyword: 1}), field({keyword: 2})) == [
        f"data.f: {keyword} raised from 1 to 2"
    ]
    assert breaking_changes(field({}), field({keyword: 1})) == [f"data.f: {keyword} added (1)"]


@pytest.mark.parametrize("keyword", ["minLength", "minimum", "exclusiveMinimum", "minItems"])
def test_a_lower_bound_lowered_or_removed_is_compatible(keyword):
    assert breaking_changes(field({keyword: 2}), field({keyword: 1})) == []
    assert breaking_changes(field({keyword: 2}), field({})) == []


@pytest.mark.parametrize("keyword", ["maxLength", "maximum", "exclusiveMaximum", "maxItems"])
def test_an_upper_bound_lowered_or_added_is_breaking(keyword):
    assert breaking_changes(field({keyword: 64}), field({keyword: 32})) == [
        f"data.f: {keyword} lowered from 64 to 32"
    ]
    assert breaking_changes(field({}), field({keyword: 64})) == [f"data.f: {keyword} added (64)"]


@pytest.mark.parametrize("keyword", ["maxLength", "maximum", "exclusiveMaximum", "maxItems"])
def test_an_upper_bound_raised_or_removed_is_compatible(keyword):
    assert breaking_changes(field({keyword: 32}), field({keyword: 64})) == []
    assert breaking_changes(field({keyword: 32}), field({})) == []


@pytest.mark.parametrize("keyword, before, after", [
    ("pattern", "^\\d{9}$", "^\\d{14}$"),
    ("format", "date", "date-time"),
    ("const", "v1", "v2"),
])
def test_a_pattern_format_or_const_changed_or_added_is_breaking(keyword, before, after):
    assert breaking_changes(field({keyword: before}), field({keyword: after})) == [
        f"data.f: {keyword} changed from {before!r} to {after!r}"
    ]
    assert breaking_changes(field({}), field({keyword: after})) == [
        f"data.f: {keyword} added ({after!r})"
    ]


@pytest.mark.parametrize("keyword, value", [
    ("pattern", "^\\d{9}$"), ("format", "date-time"), ("const", "v1"),
])
def test_a_pattern_format_or_const_kept_or_removed_is_compatible(keyword, value):
    assert breaking_changes(field({keyword: value}), field({keyword: value})) == []
    assert breaking_changes(field({keyword: value}), field({})) == []


@pytest.mark.parametrize("released", [{}, {"additionalProperties": True}])
def test_closing_an_object_to_additional_properties_is_breaking(released):
    released = dict(released, type="object")
    current = {"type": "object", "additionalProperties": False}
    assert breaking_changes(released, current) == ["data: additional properties no longer allowed"]


@pytest.mark.parametrize("current", [{}, {"additionalProperties": True}])
def test_opening_an_object_to_additional_properties_is_compatible(current):
    released = {"type": "object", "additionalProperties": False}
    assert breaking_changes(released, dict(current, type="object")) == []


def test_documentation_and_extension_keywords_are_not_breaking():
    released = copy.deepcopy(CASE_OPENED)
    current = copy.deepcopy(CASE_OPENED)
    current.update({"$id": "urn:parcours:schema:case.opened:v1#draft", "title": "Case opened",
                    "description": "A case was opened."})
    current["properties"]["siren"].update({
        "description": "French company number", "title": "SIREN", "examples": ["732829320"],
        "default": "000000000", "x-parcours-personal": True,
    })
    released["properties"]["region_code"]["x-parcours-personal"] = True
    assert breaking_changes(released, current) == []


def test_changes_inside_a_nested_object_are_reported_with_their_path():
    released = field({"type": "object", "properties": {
        "name": {"type": "string"}, "size": {"type": "integer"},
    }})
    current = field({"type": "object", "properties": {"size": {"type": "string"}},
                     "required": ["size"]})
    assert breaking_changes(released, current) == [
        "data.f.name: removed",
        "data.f.size: type changed from integer to string",
        "data.f.size: new required field",
    ]


def test_changes_inside_array_items_are_reported_with_their_path():
    released = {"type": "object", "properties": {"recommendations": {
        "type": "array",
        "items": {"type": "object", "properties": {"code": {"type": ["string", "null"]}}},
    }}}
    current = copy.deepcopy(released)
    current["properties"]["recommendations"]["items"]["properties"]["code"]["type"] = "string"
    current["properties"]["recommendations"]["items"]["required"] = ["code"]
    assert breaking_changes(released, current) == [
        "data.recommendations[].code: null no longer allowed",
        "data.recommendations[].code: new required field",
    ]


def test_array_items_of_a_narrower_type_are_breaking():
    released = field({"type": "array", "items": {"type": ["string", "integer"]}})
    current = field({"type": "array", "items": {"type": "string", "maxLength": 8}})
    assert breaking_changes(released, current) == [
        "data.f[]: type changed from string or integer to string",
        "data.f[]: maxLength added (8)",
    ]


def test_items_constrained_where_any_was_allowed_are_breaking():
    current = field({"type": "array", "items": {"type": "string"}})
    assert breaking_changes(field({"type": "array"}), current) == [
        "data.f[]: type narrowed from any to string"
    ]


def test_several_changes_are_all_reported():
    current = copy.deepcopy(CASE_OPENED)
    props = current["properties"]
    del props["siren"]
    current["required"].remove("siren")
    props["score"]["type"] = "string"
    props["region_code"]["type"] = "string"
    props["maturity"]["enum"] = ["first_time_exporter", None]
    props["reason"] = {"type": "string"}
    current["required"].append("reason")
    assert breaking_changes(CASE_OPENED, current) == [
        "data.siren: removed",
        "data.region_code: null no longer allowed",
        "data.score: type changed from integer to string",
        "data.maturity: enum narrowed (no longer allows 'not_ready')",
        "data.reason: new required field",
    ]


def test_the_root_path_label_can_be_chosen():
    current = copy.deepcopy(CASE_OPENED)
    del current["properties"]["siren"]
    assert breaking_changes(CASE_OPENED, current, path="case.opened") == [
        "case.opened.siren: removed"
    ]

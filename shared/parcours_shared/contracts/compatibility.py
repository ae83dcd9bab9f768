"""Is the current JSON Schema of an event still compatible with the one we released?

An event schema is a promise to integrators. Consumers keep reading messages written under the
released schema (they sit in queues, outboxes and archives) next to new ones, and they validate
both against the schema they were built with. Publishers write the current shape. So the current
schema must accept every message the released one accepted: it may only stay the same or get
wider.

Breaking (it rejects a message the released schema accepted, or drops a field readers use):

- a property removed;
- a type changed or narrowed, including "null" no longer allowed;
- a property newly required, whether it was optional or did not exist;
- an enum narrowed, or an enum added where any value was allowed;
- a constraint tightened: ``pattern`` changed or added (regexes cannot be compared),
  a lower bound (``minLength``, ``minimum``, ``exclusiveMinimum``, ``minItems``) raised or added,
  an upper bound (``maxLength``, ``maximum``, ``exclusiveMaximum``, ``maxItems``) lowered or
  added, ``format`` or ``const`` changed or added;
- ``additionalProperties`` becoming false;

and all of these inside nested objects and array items too.

Compatible: a new optional property, a required property made optional, a type or an enum
widened (adding "null" or another type, or new values), a constraint relaxed or removed.
Documentation (``description``, ``title``, ``examples``, ``default``) and ``x-*`` extension
keywords are not part of the compatibility promise and are ignored. An "integer" may become a
"number": every integer is a number.

When ``breaking_changes`` returns anything, either undo the change or release a new version of
the event type.

Only the keywords above are compared; composition (``$ref``, ``anyOf``, ``allOf``, ``oneOf``)
is not.
"""

LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems")
UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems")


def breaking_changes(released: dict, current: dict, path: str = "data") -> list[str]:
    """Every change from ``released`` to ``current`` that would break an integrator, as
    one-line messages starting with the field's path (``data.siren: removed``). Empty when the
    current schema is compatible."""
    return (
        _type_changes(released, current, path)
        + _enum_changes(released, current, path)
        + _bound_changes(released, current, path)
        + _exact_value_changes(released, current, path)
        + _additional_properties_changes(released, current, path)
        + _property_changes(released, current, path)
        + _required_changes(released, current, path)
        + _items_changes(released, current, path)
    )


def _types(schema):
    """The set of types a schema allows, or None when it allows any."""
    declared = schema.get("type")
    if declared is None:
        return None
    return {declared} if isinstance(declared, str) else set(declared)


def _lost_types(released, current):
    """The types the released schema allowed that the current one no longer does."""
    before, after = _types(released), _types(current)
    if after is None or before is None:
        return set()
    lost = before - after
    if "number" in after:
        lost.discard("integer")
    return lost


def _show_type(schema):
    declared = schema.get("type")
    if declared is None:
        return "any"
    return declared if isinstance(declared, str) else " or ".join(declared)


def _type_changes(released, current, path):
    if _types(current) is None:
        return []
    if _types(released) is None:
        return [f"{path}: type narrowed from any to {_show_type(current)}"]
    lost = _lost_types(released, current)
    if not lost:
        return []
    if lost == {"null"}:
        return [f"{path}: null no longer allowed"]
    return [f"{path}: type changed from {_show_type(released)} to {_show_type(current)}"]


def _show_value(value):
    return "null" if value is None else repr(value)


def _enum_changes(released, current, path):
    if "enum" not in current:
        return []
    if "enum" not in released:
        return [f"{path}: enum added (only allows {', '.join(map(_show_value, current['enum']))})"]
    missing = [value for value in released["enum"] if value not in current["enum"]]
    if "null" in _lost_types(released, current):
        # apispec lists null in the enum of a nullable field; the type change already says it.
        missing = [value for value in missing if value is not None]
    if not missing:
        return []
    return [f"{path}: enum narrowed (no longer allows {', '.join(map(_show_value, missing))})"]


def _bound_changes(released, current, path):
    changes = []
    for keyword in LOWER_BOUNDS + UPPER_BOUNDS:
        if keyword not in current:
            continue
        before, after = released.get(keyword), current[keyword]
        if before is None:
            changes.append(f"{path}: {keyword} added ({after})")
        elif keyword in LOWER_BOUNDS and after > before:
            changes.append(f"{path}: {keyword} raised from {before} to {after}")
        elif keyword in UPPER_BOUNDS and after < before:
            changes.append(f"{path}: {keyword} lowered from {before} to {after}")
    return changes


def _exact_value_changes(released, current, path):
    """``pattern``, ``format`` and ``const``: any new or different value narrows."""
    changes = []
    for keyword in ("pattern", "format", "const"):
        if keyword not in current:
            continue
        if keyword not in released:
            changes.append(f"{path}: {keyword} added ({_show_value(current[keyword])})")
        elif current[keyword] != released[keyword]:
            changes.append(
                f"{path}: {keyword} changed from {_show_value(released[keyword])}"
                f" to {_show_value(current[keyword])}"
            )
    return changes


def _additional_properties_changes(released, current, path):
    closed_now = current.get("additionalProperties") is False
    if closed_now and released.get("additionalProperties") is not False:
        return [f"{path}: additional properties no longer allowed"]
    return []


def _property_changes(released, current, path):
    """Removed properties, and breaking changes inside those that remain."""
    before, after = released.get("properties", {}), current.get("properties", {})
    changes = []
    for name, schema in before.items():
        if name not in after:
            changes.append(f"{path}.{name}: removed")
        else:
            changes += breaking_changes(schema, after[name], f"{path}.{name}")
    return changes


def _required_changes(released, current, path):
    was_required = set(released.get("required", ()))
    return [
        f"{path}.{name}: new required field"
        for name in current.get("required", ())
        if name not in was_required
    ]


def _items_changes(released, current, path):
    if "items" not in current:
        return []
    return breaking_changes(released.get("items", {}), current["items"], f"{path}[]")

"""What a marshmallow schema's ``load`` returns, computed directly for plainly valid documents.

Every event is validated against its marshmallow schema when it is published and when it is
consumed, and marshmallow's per-field machinery (about 5 us a field) was a large share of a
consumer's CPU. ``plain_loader(schema)`` reads the schema's own fields and validators and returns
a function that gives the same result as ``schema.load`` for a document where every value is
plainly right, and None for anything else: the caller then runs ``schema.load``, which stays the
definition and says what is wrong. Schemas with fields, validators or hooks it does not know get
no plain loader at all.

Known: String, Integer, UUID, Date (ISO), Float (finite), Boolean, Dict (of anything), List of
String, the contracts' Timestamp;
validators Length, OneOf, Equal, Regexp, Range; ``required``, ``allow_none``, ``load_default``.
``shared/tests/test_contracts.py`` checks, for the envelope and every event type, that both ways
agree on valid and odd documents.
"""
import math
import re
import uuid
from datetime import date, datetime

from marshmallow import fields, missing, validate

_INVALID = object()


def plain_loader(schema, timestamp_field):
    """A function ``load(document, unknown_allowed) -> dict or None`` for ``schema`` (an
    instance), or None if the schema has anything this module does not know."""
    if any(schema._hooks.values()):
        return None
    checks = []
    for name, field in schema.fields.items():
        if field.data_key not in (None, name) or field.attribute not in (None, name):
            return None
        convert = _converter(field, timestamp_field)
        validators = [_validator(v) for v in field.validators]
        if convert is None or None in validators:
            return None
        checks.append((name, field.required, field.load_default, field.allow_none, convert,
                       validators))
    names = frozenset(schema.fields)

    def load(document, unknown_allowed=True):
        if type(document) is not dict:
            return None
        if not unknown_allowed and not names.issuperset(document):
            return None
        loaded = {}
        for name, required, default, allow_none, convert, validators in checks:
            if name not in document:
                if required:
                    return None
                if default is not missing:
                    loaded[name] = default() if callable(default) else default
                continue
            value = document[name]
            if value is None:
                if not allow_none:
                    return None
                loaded[name] = None
                continue
            value = convert(value)
            if value is _INVALID or not all(valid(value) for valid in validators):
                return None
            loaded[name] = value
        return loaded

    return load


def _converter(field, timestamp_field):
    kind = type(field)
    if kind is timestamp_field:
        return _timestamp
    if kind is fields.String:
        return lambda value: value if type(value) is str else _INVALID
    if kind is fields.Integer and not field.strict:
        return lambda value: value if type(value) is int else _INVALID
    if kind is fields.UUID:
        return _uuid
    if kind is fields.Date:
        return _date
    if kind is fields.Float and not field.allow_nan:
        return _finite_float
    if kind is fields.Boolean:
        return lambda value: value if type(value) is bool else _INVALID
    if kind is fields.Dict and field.key_field is None and field.value_field is None:
        return lambda value: dict(value) if type(value) is dict else _INVALID
    if (kind is fields.List and type(field.inner) is fields.String
            and not field.inner.validators):
        return _list_of_strings
    return None


def _uuid(value):
    if type(value) is not str:
        return _INVALID
    try:
        return uuid.UUID(value)
    except ValueError:
        return _INVALID


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value):
    # only the plain ISO form: anything else is for marshmallow to accept or refuse
    if type(value) is not str or not _ISO_DATE.match(value):
        return _INVALID
    try:
        return date.fromisoformat(value)
    except ValueError:
        return _INVALID


def _finite_float(value):
    if type(value) not in (int, float) or not math.isfinite(value):
        return _INVALID
    return float(value)


def _timestamp(value):
    if type(value) is not str or len(value) <= 10:  # a date alone is not a time
        return _INVALID
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return _INVALID


def _list_of_strings(value):
    if type(value) is list and all(type(item) is str for item in value):
        return list(value)
    return _INVALID


def _validator(validator):
    """The check marshmallow's validator makes, as a predicate; None if it is not known."""
    kind = type(validator)
    if kind is validate.Length:
        low, high, equal = validator.min, validator.max, validator.equal
        if equal is not None:
            return lambda value: len(value) == equal
        return lambda value: ((low is None or len(value) >= low)
                              and (high is None or len(value) <= high))
    if kind is validate.Equal:
        comparable = validator.comparable
        return lambda value: value == comparable
    if kind is validate.OneOf:
        choices = validator.choices
        return lambda value: value in choices
    if kind is validate.Regexp:
        regex = validator.regex
        return lambda value: regex.match(value) is not None
    if kind is validate.Range:
        low, high = validator.min, validator.max
        low_inclusive, high_inclusive = validator.min_inclusive, validator.max_inclusive
        return lambda value: (
            (low is None or (value >= low if low_inclusive else value > low))
            and (high is None or (value <= high if high_inclusive else value < high)))
    return None

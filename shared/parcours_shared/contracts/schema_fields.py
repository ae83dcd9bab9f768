"""What the event schemas are written with: the base of every payload, and its common fields."""
from datetime import datetime

from marshmallow import EXCLUDE, Schema, fields, validate

# Marks a field as personal data in its metadata (``fields.String(metadata=PERSONAL)``): it may
# leave its service only with the firm's recorded consent. The generated JSON Schemas carry it,
# so a check (or an integrator) can tell which fields are personal.
PERSONAL_DATA_KEY = "x-parcours-personal"
PERSONAL = {PERSONAL_DATA_KEY: True}


class Timestamp(fields.DateTime):
    """An ISO 8601 date and time, read with the standard library when it can (a third of the
    cost of validating an event went into marshmallow's own parser); anything it refuses gets
    marshmallow's parsing and error message."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and len(value) > 10:  # a date alone is not a time
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        return super()._deserialize(value, attr, data, **kwargs)


class EventData(Schema):
    """Base of every event payload: tolerant readers, strict writers (see EventType.validate)."""

    class Meta:
        unknown = EXCLUDE


def siren(**kwargs):
    return fields.String(required=True, validate=validate.Regexp(r"^\d{9}$"), **kwargs)


def required_id(**kwargs):
    return fields.String(required=True, validate=validate.Length(min=1, max=64), **kwargs)


def is_personal(field):
    return bool(field.metadata.get(PERSONAL_DATA_KEY))

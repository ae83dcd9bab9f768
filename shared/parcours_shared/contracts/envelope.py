"""The CloudEvents 1.0 envelope every event travels in, made by publishers and read by consumers.

Every event travels as a CloudEvents 1.0 JSON envelope (structured mode) on the topic exchange
``<publisher>.events`` with the event type as routing key. ``dataschema`` names the data's
schema and version (``urn:parcours:schema:<type>:v<version>``) so a consumer can tell which
contract it reads. Publishers validate before an event enters their outbox; consumers validate
before a handler sees it, ignore unknown fields (adding an optional field is a compatible
change) and receive the data in the latest version's shape.

Who acted travels in two CloudEvents extension attributes, on every event that a partner's
caller caused: ``partner`` (the acting partner's id in the network directory) and ``person``
(the acting person's id, when a person acted rather than a partner's system). An event a
service published by itself, in reaction to another event, has neither.
"""
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from .errors import ContractViolation
from .plain_load import plain_loader
from .registry import REGISTRY
from .schema_fields import Timestamp

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
SOURCE_PATTERN = r"^/parcours/[a-z]+$"


def source_uri(service_name):
    return "/parcours/{}".format(service_name)


def exchange_name(service_name):
    """nameko's convention: one durable topic exchange per publishing service."""
    return "{}.events".format(service_name)


def utc_now():
    return datetime.now(timezone.utc)


class EnvelopeSchema(Schema):
    """CloudEvents 1.0 attributes that Parcours requires on every event."""

    class Meta:
        unknown = EXCLUDE  # CloudEvents allows extension attributes

    specversion = fields.String(required=True, validate=validate.Equal(SPEC_VERSION))
    id = fields.UUID(required=True)
    source = fields.String(required=True, validate=validate.Regexp(SOURCE_PATTERN))
    type = fields.String(required=True, validate=validate.Length(min=1, max=100))
    subject = fields.String(required=True, validate=validate.Length(min=1))
    time = Timestamp(required=True)
    datacontenttype = fields.String(required=True, validate=validate.Equal(CONTENT_TYPE))
    dataschema = fields.String(required=True)
    data = fields.Dict(required=True)
    # extension attributes: who acted (absent when the service acted by itself)
    partner = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    person = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


_ENVELOPE_SCHEMA = EnvelopeSchema()
_PLAIN_ENVELOPE_LOADER = plain_loader(_ENVELOPE_SCHEMA, Timestamp)


def load_envelope(body):
    """``EnvelopeSchema().load(body)``, without marshmallow's machinery when every attribute is
    plainly right (see plain_load): its nine fields cost more than the event's data."""
    envelope = _PLAIN_ENVELOPE_LOADER(body)
    return envelope if envelope is not None else _ENVELOPE_SCHEMA.load(body)


@dataclass(frozen=True)
class Event:
    """A validated event as a consumer's handler receives it: ``data`` deserialised, in the
    shape of the type's latest version (named by ``dataschema``)."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    dataschema: str
    data: dict
    partner: str = None  # who acted: the partner's id (extension attribute)
    person: str = None   # and the person's, when a person acted


def build_envelope(service_name, type_name, subject, data, event_id=None, time=None,
                   registry=REGISTRY, actor=None):
    """Make the JSON-ready envelope of a new event of the type's latest version, validating
    ``data`` against its schema.

    Raises ContractViolation if the type is not registered, this service does not publish it,
    or the data is invalid.
    """
    event_type = registry.latest(type_name)
    if event_type.publisher != service_name:
        raise ContractViolation("{} publishes {!r}, not {}".format(
            event_type.publisher, type_name, service_name))
    envelope = {
        "specversion": SPEC_VERSION,
        "id": str(event_id or uuid.uuid4()),
        "source": source_uri(service_name),
        "type": type_name,
        "subject": str(subject),
        "time": (time or utc_now()).isoformat(),
        "datacontenttype": CONTENT_TYPE,
        "dataschema": event_type.dataschema,
        "data": event_type.dump(data),
    }
    if actor is not None:  # anything with .partner and .person (identity.Caller)
        envelope["partner"] = actor.partner
        if actor.person:
            envelope["person"] = actor.person
    return envelope


def parse_envelope(body, registry=REGISTRY):
    """Validate a received envelope (a dict decoded from JSON) and return an Event whose data
    has the shape of the type's latest version (an earlier version is upcast).

    Raises ContractViolation with field-by-field errors when the envelope or its data is
    invalid, names a version not registered, or comes from a source that does not publish it.
    """
    if not isinstance(body, dict):
        raise ContractViolation("the message body is not a JSON object")
    try:
        envelope = load_envelope(body)
    except ValidationError as exc:
        raise ContractViolation("invalid CloudEvents envelope", exc.messages) from None
    event_type = registry.by_dataschema(envelope["dataschema"])
    if event_type is None or event_type.name != envelope["type"]:
        raise ContractViolation("unsupported dataschema {!r} for type {!r}".format(
            envelope["dataschema"], envelope["type"]))
    if envelope["source"] != source_uri(event_type.publisher):
        raise ContractViolation("{} comes from {}, but only {} publishes it".format(
            event_type.name, envelope["source"], source_uri(event_type.publisher)))
    try:
        data = event_type.load(envelope["data"])
    except ValidationError as exc:
        raise ContractViolation("invalid {} data".format(event_type.name), exc.messages) from None
    latest, data = registry.upcast(event_type, data)
    return Event(
        id=str(envelope["id"]),
        source=envelope["source"],
        type=envelope["type"],
        subject=envelope["subject"],
        time=envelope["time"],
        dataschema=latest.dataschema,
        data=data,
        partner=envelope["partner"],
        person=envelope["person"],
    )

"""Event contracts v1: the public interface between Parcours services and integrators.

Every event travels as a CloudEvents 1.0 JSON envelope (structured mode) on the topic exchange
``<service>.events`` with the event type as routing key. ``dataschema`` names the schema and its
version (``urn:parcours:schema:<type>:v<version>``) so a consumer can tell which contract it reads.

Each event type has exactly one marshmallow schema per version here. Publishers validate before an
event enters their outbox; consumers validate before a handler sees it. Consumers ignore unknown
fields, so adding an optional field is a compatible change; removing or retyping one is a new
version.
"""
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from .plain_load import plain_loader

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
SCHEMA_URN_PREFIX = "urn:parcours:schema:"

MATURITY_LEVELS = (
    "not_ready",
    "first_time_exporter",
    "occasional_exporter",
    "experienced_exporter",
)
INTAKE_CHANNELS = ("walk_in", "web", "phone", "referral")
OUTCOME_KINDS = (
    "contract_signed",
    "market_entered",
    "export_staff_hired",
    "financing_obtained",
)


class ContractViolation(Exception):
    """An event does not match its contract (on publish: a bug; on consume: a poison message)."""

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.errors = errors or {}

    def __str__(self):
        if self.errors:
            return "{}: {}".format(self.args[0], self.errors)
        return self.args[0]


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
    """Base of every event payload: tolerant readers, strict writers (see `validate_data`)."""

    class Meta:
        unknown = EXCLUDE


def _siren():
    return fields.String(required=True, validate=validate.Regexp(r"^\d{9}$"))


def _required_id():
    return fields.String(required=True, validate=validate.Length(min=1, max=64))


# --- intake -------------------------------------------------------------------------------------

class CaseOpenedV1(EventData):
    case_id = _required_id()
    siren = _siren()
    company_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    region_code = fields.String(load_default=None, allow_none=True)
    naf_code = fields.String(load_default=None, allow_none=True)
    channel = fields.String(required=True, validate=validate.OneOf(INTAKE_CHANNELS))
    opened_at = Timestamp(required=True)


class CaseReferredV1(EventData):
    case_id = _required_id()
    siren = _siren()
    referred_by = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(load_default=None, allow_none=True)
    referred_at = Timestamp(required=True)


class CaseAssignedV1(EventData):
    case_id = _required_id()
    advisor = fields.String(required=True, validate=validate.Length(min=1, max=100))
    partner = fields.String(required=True, validate=validate.Length(min=1, max=100))
    assigned_at = Timestamp(required=True)


class CaseClosedV1(EventData):
    case_id = _required_id()
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))
    closed_at = Timestamp(required=True)


# --- diagnostic ---------------------------------------------------------------------------------

class DiagnosticScheduledV1(EventData):
    diagnostic_id = _required_id()
    case_id = _required_id()
    scheduled_at = Timestamp(required=True)


class DiagnosticCompletedV1(EventData):
    diagnostic_id = _required_id()
    case_id = _required_id()
    maturity = fields.String(required=True, validate=validate.OneOf(MATURITY_LEVELS))
    score = fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    recommendations = fields.List(fields.String(), required=True)
    completed_at = Timestamp(required=True)


# --- programmes ---------------------------------------------------------------------------------

class EnrolmentEventV1(EventData):
    enrolment_id = _required_id()
    case_id = _required_id()
    session_id = _required_id()
    programme_id = _required_id()
    programme_name = fields.String(required=True)
    at = Timestamp(required=True)


class EnrolmentWithdrawnV1(EnrolmentEventV1):
    reason = fields.String(load_default=None, allow_none=True)


class OutcomeRecordedV1(EventData):
    outcome_id = _required_id()
    case_id = _required_id()
    enrolment_id = fields.String(load_default=None, allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(OUTCOME_KINDS))
    amount_eur = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    recorded_at = Timestamp(required=True)


@dataclass(frozen=True)
class EventType:
    name: str
    source_service: str
    version: int
    schema: type

    @property
    def dataschema(self):
        return "{}{}:v{}".format(SCHEMA_URN_PREFIX, self.name, self.version)


_TYPES = [
    EventType("case.opened", "intake", 1, CaseOpenedV1),
    EventType("case.referred", "intake", 1, CaseReferredV1),
    EventType("case.assigned", "intake", 1, CaseAssignedV1),
    EventType("case.closed", "intake", 1, CaseClosedV1),
    EventType("diagnostic.scheduled", "diagnostic", 1, DiagnosticScheduledV1),
    EventType("diagnostic.completed", "diagnostic", 1, DiagnosticCompletedV1),
    EventType("enrolment.proposed", "programmes", 1, EnrolmentEventV1),
    EventType("enrolment.confirmed", "programmes", 1, EnrolmentEventV1),
    EventType("enrolment.waitlisted", "programmes", 1, EnrolmentEventV1),
    EventType("enrolment.completed", "programmes", 1, EnrolmentEventV1),
    EventType("enrolment.withdrawn", "programmes", 1, EnrolmentWithdrawnV1),
    EventType("outcome.recorded", "programmes", 1, OutcomeRecordedV1),
]
EVENT_TYPES = {t.name: t for t in _TYPES}
_BY_DATASCHEMA = {t.dataschema: t for t in _TYPES}
# Schemas keep no state between calls: build each once (building one costs more than using it).
_DATA_SCHEMAS = {t.name: t.schema() for t in _TYPES}
_PLAIN_DATA_LOADERS = {name: plain_loader(schema, Timestamp)
                       for name, schema in _DATA_SCHEMAS.items()}


def _load_data(type_name, document, unknown_allowed=True):
    """``schema.load`` of the type's data schema, without marshmallow's machinery when the
    document is plainly valid (see plain_load); marshmallow otherwise, and for its errors."""
    plain = _PLAIN_DATA_LOADERS[type_name]
    loaded = plain(document, unknown_allowed) if plain is not None else None
    if loaded is None:
        loaded = _DATA_SCHEMAS[type_name].load(
            document, unknown=EXCLUDE if unknown_allowed else RAISE)
    return loaded


def event_type(name):
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise ContractViolation("unknown event type {!r}".format(name)) from None


def source_uri(service_name):
    return "/parcours/{}".format(service_name)


def exchange_name(service_name):
    """nameko's convention: one durable topic exchange per publishing service."""
    return "{}.events".format(service_name)


class EnvelopeSchema(Schema):
    """CloudEvents 1.0 attributes that Parcours requires on every event."""

    class Meta:
        unknown = EXCLUDE  # CloudEvents allows extension attributes

    specversion = fields.String(required=True, validate=validate.Equal(SPEC_VERSION))
    id = fields.UUID(required=True)
    source = fields.String(required=True, validate=validate.Regexp(r"^/parcours/[a-z]+$"))
    type = fields.String(required=True, validate=validate.OneOf(sorted(EVENT_TYPES)))
    subject = fields.String(required=True, validate=validate.Length(min=1))
    time = Timestamp(required=True)
    datacontenttype = fields.String(required=True, validate=validate.Equal(CONTENT_TYPE))
    dataschema = fields.String(required=True)
    data = fields.Dict(required=True)


_ENVELOPE_SCHEMA = EnvelopeSchema()
_PLAIN_ENVELOPE_LOADER = plain_loader(_ENVELOPE_SCHEMA, Timestamp)


def _load_envelope(body):
    """``EnvelopeSchema().load(body)``, without marshmallow's machinery when every attribute is
    plainly right (see plain_load): its nine fields cost more than the event's data."""
    envelope = _PLAIN_ENVELOPE_LOADER(body)
    return envelope if envelope is not None else _ENVELOPE_SCHEMA.load(body)


@dataclass(frozen=True)
class Event:
    """A validated event as a consumer's handler receives it (``data`` already deserialised)."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    dataschema: str
    data: dict


def utc_now():
    return datetime.now(timezone.utc)


def build_envelope(service_name, type_name, subject, data, event_id=None, time=None):
    """Make the JSON-ready envelope of a new event, validating ``data`` against its schema.

    Raises ContractViolation if this service may not publish the type or the data is invalid.
    """
    etype = event_type(type_name)
    if etype.source_service != service_name:
        raise ContractViolation(
            "{} publishes {!r}, not {}".format(etype.source_service, type_name, service_name))
    json_data = _DATA_SCHEMAS[type_name].dump(data)
    try:
        _load_data(type_name, json_data, unknown_allowed=False)
    except ValidationError as exc:
        raise ContractViolation("invalid {} data".format(type_name), exc.messages) from None
    return {
        "specversion": SPEC_VERSION,
        "id": str(event_id or uuid.uuid4()),
        "source": source_uri(service_name),
        "type": type_name,
        "subject": str(subject),
        "time": (time or utc_now()).isoformat(),
        "datacontenttype": CONTENT_TYPE,
        "dataschema": etype.dataschema,
        "data": json_data,
    }


def parse_envelope(body):
    """Validate a received envelope (a dict decoded from JSON) and return an Event.

    Raises ContractViolation with field-by-field errors when the envelope or its data is invalid.
    """
    if not isinstance(body, dict):
        raise ContractViolation("the message body is not a JSON object")
    try:
        envelope = _load_envelope(body)
    except ValidationError as exc:
        raise ContractViolation("invalid CloudEvents envelope", exc.messages) from None
    etype = _BY_DATASCHEMA.get(envelope["dataschema"])
    if etype is None or etype.name != envelope["type"]:
        raise ContractViolation(
            "unsupported dataschema {!r} for type {!r}".format(
                envelope["dataschema"], envelope["type"]))
    try:
        data = _load_data(etype.name, envelope["data"])
    except ValidationError as exc:
        raise ContractViolation("invalid {} data".format(etype.name), exc.messages) from None
    return Event(
        id=str(envelope["id"]),
        source=envelope["source"],
        type=envelope["type"],
        subject=envelope["subject"],
        time=envelope["time"],
        dataschema=envelope["dataschema"],
        data=data,
    )

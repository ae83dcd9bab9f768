"""The register of event types: every type and version of the network, each registered once by
the module of the service that publishes it.

A type's versions are numbered from 1 without gaps. A publisher emits the latest version only;
consumers still accept an earlier one while it is registered (its ``accepted_until`` says for how
long), and each version after the first carries the ``upcast`` that turns the data of the
version before it into its own, so handlers only ever see the latest shape.
"""
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from marshmallow import EXCLUDE, RAISE, ValidationError

from .errors import ContractViolation
from .plain_load import plain_loader
from .schema_fields import Timestamp, is_personal

SCHEMA_URN_PREFIX = "urn:parcours:schema:"


@dataclass(frozen=True)
class EventType:
    """One version of one event type, as the network's contract defines it."""

    name: str
    version: int
    publisher: str                # the service whose exchange carries it
    schema: type                  # marshmallow schema of the data
    meaning: str                  # one line: what has happened when this event is published
    example: dict                 # the data of a typical event, as JSON carries it
    upcast: Callable | None = None      # data of version - 1 -> data of this version
    accepted_until: date | None = None  # for a superseded version: consumers accept it until then
    _schema: object = field(init=False, repr=False, compare=False)
    _plain_load: object = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # Schemas keep no state between calls: build each once (building costs more than using).
        schema = self.schema()
        object.__setattr__(self, "_schema", schema)
        object.__setattr__(self, "_plain_load", plain_loader(schema, Timestamp))

    @property
    def dataschema(self):
        """The CloudEvents ``dataschema`` of this version: its name in every envelope."""
        return "{}{}:v{}".format(SCHEMA_URN_PREFIX, self.name, self.version)

    @property
    def personal_fields(self):
        """Names of the data fields that are personal data (marked in the schema's metadata)."""
        return tuple(name for name, schema_field in self._schema.fields.items()
                     if is_personal(schema_field))

    def load(self, document, unknown_allowed=True):
        """The data of a received event, deserialised; raises marshmallow's ValidationError.

        Without marshmallow's machinery when the document is plainly valid (see plain_load);
        marshmallow otherwise, and for its errors."""
        loaded = self._plain_load(document, unknown_allowed) if self._plain_load else None
        if loaded is None:
            loaded = self._schema.load(document, unknown=EXCLUDE if unknown_allowed else RAISE)
        return loaded

    def dump(self, data):
        """The data of a new event as JSON carries it, checked strictly: a publisher writes
        exactly its contract. Raises ContractViolation with field-by-field errors."""
        document = self._schema.dump(data)
        try:
            self.load(document, unknown_allowed=False)
        except ValidationError as exc:
            raise ContractViolation("invalid {} data".format(self.name), exc.messages) from None
        return document


class Registry:
    """Every registered version of every event type."""

    def __init__(self):
        self._versions = {}      # name -> [EventType], version 1 first
        self._by_dataschema = {}

    def publisher(self, service_name):
        """``publishes = REGISTRY.publisher("intake")``, then ``publishes(name, version, schema,
        meaning=..., example=...)`` for each type that service publishes."""
        def publishes(name, version, schema, **details):
            return self.register(EventType(name, version, service_name, schema, **details))
        return publishes

    def register(self, event_type):
        versions = self._versions.setdefault(event_type.name, [])
        expected = len(versions) + 1
        problem = None
        if event_type.version != expected:
            problem = "is registered out of order (expected version {})".format(expected)
        elif versions and versions[0].publisher != event_type.publisher:
            problem = "is published by {}, not {}".format(
                versions[0].publisher, event_type.publisher)
        elif (event_type.upcast is None) != (expected == 1):
            problem = ("needs an upcast from version {}".format(expected - 1) if expected > 1
                       else "has no earlier version to upcast from")
        elif versions and versions[-1].accepted_until is None:
            problem = ("supersedes version {} without saying until when consumers accept it: "
                       "give that version's registration accepted_until= (at least six months "
                       "from now, docs/events/README.md)".format(expected - 1))
        if problem is None:
            try:
                event_type.dump(event_type.load(event_type.example, unknown_allowed=False))
            except (ValidationError, ContractViolation) as exc:
                problem = "has an example that breaks its own schema: {}".format(exc)
        if problem is not None:
            if not versions:
                del self._versions[event_type.name]
            raise ValueError("{} v{} {}".format(event_type.name, event_type.version, problem))
        versions.append(event_type)
        self._by_dataschema[event_type.dataschema] = event_type
        return event_type

    def unregister(self, name):
        """Forget every version of a type (tests that register one of their own)."""
        for event_type in self._versions.pop(name, []):
            del self._by_dataschema[event_type.dataschema]

    def latest(self, name):
        """The version a publisher emits; raises ContractViolation for an unknown type."""
        try:
            return self._versions[name][-1]
        except KeyError:
            raise ContractViolation("unknown event type {!r}".format(name)) from None

    def versions(self, name):
        """Every registered version of a type, version 1 first."""
        return list(self._versions.get(name, ()))

    def by_dataschema(self, dataschema):
        return self._by_dataschema.get(dataschema)

    def names(self):
        return sorted(self._versions)

    def latest_types(self):
        """The latest version of every type, by name."""
        return [self._versions[name][-1] for name in self.names()]

    def every_version(self):
        return [event_type for name in self.names() for event_type in self._versions[name]]

    def publishers(self):
        return sorted({event_type.publisher for event_type in self.latest_types()})

    def published_by(self, service_name):
        return [t for t in self.latest_types() if t.publisher == service_name]

    def upcast(self, event_type, data):
        """``(latest type, data in its shape)`` for data of ``event_type`` (any version)."""
        versions = self._versions[event_type.name]
        for newer in versions[event_type.version:]:
            data = newer.upcast(data)
        return versions[-1], data


# The network's contract: filled by the publishers' modules of this package when it is imported.
REGISTRY = Registry()

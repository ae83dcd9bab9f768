"""The event contract of the Parcours network: the public interface between its services and
the integrators who subscribe to their events.

- ``envelope``: the CloudEvents 1.0 envelope, made by publishers and read by consumers;
- ``registry``: every type and version, with its schema, meaning, example and upcast;
- one module per publishing service (``intake``, ``diagnostic``, ``programmes``) holding the
  schemas of the events it publishes, each registered once, and ``directory``, the network
  directory's (partners and people, published by intake);
- ``json_schema`` and ``asyncapi``: the documents generated from the registry, and
  ``documents``: the files ``make contracts`` writes into docs/events, and the check that no
  released version is broken (``compatibility``: what would break an integrator).
"""
from . import diagnostic, directory, intake, programmes  # noqa: F401  (they register their types)
from .diagnostic import MATURITY_LEVELS
from .directory import PARTNER_KINDS, REGIONS, ROLES
from .envelope import (
    CONTENT_TYPE, SPEC_VERSION, Event, EnvelopeSchema, build_envelope, exchange_name,
    parse_envelope, source_uri, utc_now,
)
from .errors import ContractViolation
from .intake import INTAKE_CHANNELS
from .programmes import OUTCOME_KINDS, PROGRAMME_KINDS
from .registry import REGISTRY, SCHEMA_URN_PREFIX, EventType, Registry

__all__ = [
    "CONTENT_TYPE", "INTAKE_CHANNELS", "MATURITY_LEVELS", "OUTCOME_KINDS", "PARTNER_KINDS",
    "PROGRAMME_KINDS", "REGIONS", "REGISTRY", "ROLES",
    "SCHEMA_URN_PREFIX", "SPEC_VERSION", "ContractViolation", "EnvelopeSchema", "Event",
    "EventType", "Registry", "build_envelope", "exchange_name", "parse_envelope", "source_uri",
    "utc_now",
]

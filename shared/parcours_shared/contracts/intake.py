"""Events published by intake, the single window (chamber of commerce network)."""
from marshmallow import fields, validate

from .registry import REGISTRY
from .schema_fields import EventData, Timestamp, required_id, siren

INTAKE_CHANNELS = ("walk_in", "web", "phone", "referral")

publishes = REGISTRY.publisher("intake")


class CaseOpenedV1(EventData):
    case_id = required_id()
    siren = siren()
    company_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    region_code = fields.String(load_default=None, allow_none=True)
    naf_code = fields.String(load_default=None, allow_none=True)
    channel = fields.String(required=True, validate=validate.OneOf(INTAKE_CHANNELS))
    opened_at = Timestamp(required=True)


publishes(
    "case.opened", 1, CaseOpenedV1,
    meaning="The single window opened the case of a firm new to the pathway (one per SIREN).",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "siren": "732829320",
             "company_name": "Ateliers Durand", "region_code": "84", "naf_code": "25.62B",
             "channel": "web", "opened_at": "2026-03-02T09:15:00+00:00"})


class CaseReferredV1(EventData):
    case_id = required_id()
    siren = siren()
    referred_by = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(load_default=None, allow_none=True)
    referred_at = Timestamp(required=True)


publishes(
    "case.referred", 1, CaseReferredV1,
    meaning="A partner flagged a firm with export potential to the single window (detection).",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "siren": "732829320",
             "referred_by": "Pôle Mer Méditerranée", "reason": "export potential in Asia",
             "referred_at": "2026-03-02T09:15:00+00:00"})


class CaseAssignedV1(EventData):
    case_id = required_id()
    advisor = fields.String(required=True, validate=validate.Length(min=1, max=100))
    partner = fields.String(required=True, validate=validate.Length(min=1, max=100))
    assigned_at = Timestamp(required=True)


publishes(
    "case.assigned", 1, CaseAssignedV1,
    meaning="The single window gave the case to an advisor of a partner, who follows it.",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "advisor": "advisor-0142",
             "partner": "CCI Auvergne-Rhône-Alpes", "assigned_at": "2026-03-03T14:00:00+00:00"})


class CaseClosedV1(EventData):
    case_id = required_id()
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))
    closed_at = Timestamp(required=True)


publishes(
    "case.closed", 1, CaseClosedV1,
    meaning="The case left the pathway: the firm was followed to the end, or gave up.",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "reason": "the firm postponed its export plans",
             "closed_at": "2026-09-30T16:45:00+00:00"})

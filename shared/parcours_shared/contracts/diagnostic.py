"""Events published by diagnostic, the regional advisors' export-readiness assessment."""
from marshmallow import fields, validate

from .registry import REGISTRY
from .schema_fields import EventData, Timestamp, required_id

MATURITY_LEVELS = (
    "not_ready",
    "first_time_exporter",
    "occasional_exporter",
    "experienced_exporter",
)

publishes = REGISTRY.publisher("diagnostic")


class DiagnosticScheduledV1(EventData):
    diagnostic_id = required_id()
    case_id = required_id()
    scheduled_at = Timestamp(required=True)
    # added after release, optional: where and by whom, and by when
    region_code = fields.String(load_default=None, allow_none=True)
    advisor = fields.String(load_default=None, allow_none=True, validate=validate.Length(
        min=1, max=100), metadata={"description": "the case's advisor, once it is assigned"})
    partner = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(min=1, max=100))
    due_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "the diagnostic should be made by then (working days from scheduling)"})


publishes(
    "diagnostic.scheduled", 1, DiagnosticScheduledV1,
    meaning="An in-depth diagnostic was scheduled for a new case, in its region, by a due date; "
            "sent again, with the same diagnostic_id, when the case's advisor is known.",
    example={"diagnostic_id": "9d7e3b52-61f0-4a8e-b1c4-7f2a0e5d9c13",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "scheduled_at": "2026-03-02T09:15:01+00:00", "region_code": "84",
             "advisor": "p-sophie-laurent", "partner": "cci-international-aura",
             "due_on": "2026-03-23"})


class DiagnosticCompletedV1(EventData):
    diagnostic_id = required_id()
    case_id = required_id()
    maturity = fields.String(required=True, validate=validate.OneOf(MATURITY_LEVELS))
    score = fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    recommendations = fields.List(fields.String(), required=True)
    completed_at = Timestamp(required=True)


publishes(
    "diagnostic.completed", 1, DiagnosticCompletedV1,
    meaning="The advisor recorded the diagnostic's answers: the firm's maturity and what next.",
    example={"diagnostic_id": "9d7e3b52-61f0-4a8e-b1c4-7f2a0e5d9c13",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "maturity": "first_time_exporter", "score": 62,
             "recommendations": ["dedicate_staff_to_export", "trade_fair_pavilion"],
             "completed_at": "2026-03-20T11:30:00+00:00"})


class DiagnosticCancelledV1(EventData):
    diagnostic_id = required_id()
    case_id = required_id()
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))
    cancelled_at = Timestamp(required=True)


publishes(
    "diagnostic.cancelled", 1, DiagnosticCancelledV1,
    meaning="The case was closed before its diagnostic: the diagnostic will not take place.",
    example={"diagnostic_id": "9c2e7b14-6f0a-4d3b-8e51-2a7c9d0b3f68",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "reason": "case closed: firm_declined", "cancelled_at": "2026-03-05T16:00:00+00:00"})

"""Events published by diagnostic, the regional advisors' export-readiness assessment."""
from datetime import date

from marshmallow import Schema, fields, validate

from .programmes import PROGRAMME_KINDS
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
    assessment_number = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(
        min=1), metadata={"description": "1 for the case's first diagnostic, 2 and more for "
                                         "a re-assessment"})


publishes(
    "diagnostic.scheduled", 1, DiagnosticScheduledV1,
    meaning="An in-depth diagnostic was scheduled for a new case, in its region, by a due date; "
            "sent again, with the same diagnostic_id, when the case's advisor is known.",
    example={"diagnostic_id": "9d7e3b52-61f0-4a8e-b1c4-7f2a0e5d9c13",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "scheduled_at": "2026-03-02T09:15:01+00:00", "region_code": "84",
             "advisor": "p-sophie-laurent", "partner": "cci-international-aura",
             "due_on": "2026-03-23", "assessment_number": 1})


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
             "completed_at": "2026-03-20T11:30:00+00:00"},
    accepted_until=date(2027, 6, 30))


class MaturityExplanationV2(Schema):
    because = fields.List(fields.String(), required=True, metadata={
        "description": "codes of the conditions that gave the level (for the lowest level: "
                       "those the level above missed), e.g. countries_exported_to.at_least.1"})
    next_level = fields.String(required=True, allow_none=True, validate=validate.OneOf(
        MATURITY_LEVELS), metadata={"description": "null at the highest level"})
    missing_for_next_level = fields.List(fields.String(), required=True)


class SuggestedMarketV2(Schema):
    country = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z]{2}$", error="expected an ISO 3166 alpha-2 country code"))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=60), metadata={
        "description": "named_by_firm, staff_speak_its_language, already_sells_there, "
                       "nearby_first_market..."})


class DiagnosticCompletedV2(EventData):
    diagnostic_id = required_id()
    case_id = required_id()
    assessment_number = fields.Integer(required=True, validate=validate.Range(min=1), metadata={
        "description": "1 for the case's first diagnostic, 2 and more for a re-assessment"})
    questionnaire_version = fields.Integer(required=True, validate=validate.Range(min=1))
    maturity = fields.String(required=True, validate=validate.OneOf(MATURITY_LEVELS))
    score = fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    dimension_scores = fields.Dict(
        keys=fields.String(), values=fields.Integer(validate=validate.Range(min=0, max=100)),
        required=True, metadata={"description": "dimension -> score, 0 to 100; the dimensions "
                                                "are the questionnaire version's"})
    explanation = fields.Nested(MaturityExplanationV2, required=True)
    recommendations = fields.List(fields.String(), required=True)
    programme_kinds = fields.List(fields.String(validate=validate.OneOf(PROGRAMME_KINDS)),
                                  required=True, metadata={
                                      "description": "the kinds of programme that fit"})
    target_markets = fields.List(fields.Nested(SuggestedMarketV2), required=True,
                                 validate=validate.Length(max=3), metadata={
                                     "description": "up to three markets to aim at, each "
                                                    "with its reason"})
    completed_at = Timestamp(required=True)


def completed_v1_to_v2(data):
    """A version 1 diagnostic: its first assessment, by the first questionnaire, scored before
    dimensions, explanations and orientation existed."""
    return dict(data, assessment_number=1, questionnaire_version=1, dimension_scores={},
                explanation={"because": [], "next_level": None, "missing_for_next_level": []},
                programme_kinds=[], target_markets=[])


publishes(
    "diagnostic.completed", 2, DiagnosticCompletedV2, upcast=completed_v1_to_v2,
    meaning="The advisor completed a diagnostic (a first one, or a re-assessment): the firm's "
            "maturity, why, its scores by dimension, and the programme kinds and markets that "
            "fit.",
    example={"diagnostic_id": "9d7e3b52-61f0-4a8e-b1c4-7f2a0e5d9c13",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "assessment_number": 1, "questionnaire_version": 2,
             "maturity": "first_time_exporter", "score": 57,
             "dimension_scores": {"commitment": 67, "home_market": 83, "experience": 0,
                                  "team": 50, "finance": 50, "product": 75, "digital": 33,
                                  "markets": 100},
             "explanation": {
                 "because": ["domestic_success.is.yes",
                             "management_commitment.one_of.interested-decided-export_plan",
                             "score.overall.at_least.30"],
                 "next_level": "occasional_exporter",
                 "missing_for_next_level": ["countries_exported_to.at_least.1"]},
             "recommendations": ["build_foreign_language_website"],
             "programme_kinds": ["preparation", "trade_fair_pavilion"],
             "target_markets": [{"country": "DE", "reason": "named_by_firm"},
                                {"country": "GB", "reason": "staff_speak_its_language"}],
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

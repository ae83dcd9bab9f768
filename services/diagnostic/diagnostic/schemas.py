"""HTTP bodies of the diagnostic API, in and out."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from parcours_shared.contracts import MATURITY_LEVELS
from parcours_shared.http import Count, PageQuery, UtcDateTime, listing, repeated_entries

from .domain import CANCELLED, COMPLETED, FINANCIAL_CAPACITY_POINTS, SCHEDULED


class AnswersRequest(Schema):
    """The advisor's findings during the in-depth diagnostic."""
    domestic_success = fields.Boolean(required=True)
    export_share_percent = Count(required=True, validate=validate.Range(min=0, max=100))
    export_staff = Count(required=True, validate=validate.Range(min=0, max=10000))
    languages = fields.List(fields.String(validate=validate.Length(min=2, max=30)),
                            required=True)
    financial_capacity = fields.String(required=True, validate=validate.OneOf(
        sorted(FINANCIAL_CAPACITY_POINTS)))
    product_adapted = fields.Boolean(required=True)
    target_markets = fields.List(fields.String(validate=validate.Regexp(
        r"^[A-Z]{2}$", error="expected an ISO 3166 alpha-2 country code")), required=True)
    countries_exported_to = Count(required=True, validate=validate.Range(min=0, max=250))


class DiagnosticAnswers(Schema):
    diagnostic_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    answers = fields.Nested(AnswersRequest, required=True)


class BulkAnswersRequest(Schema):
    """Answers entered together (e.g. collected at a collective diagnostic workshop)."""
    diagnostics = fields.Nested(DiagnosticAnswers, many=True, required=True,
                                validate=validate.Length(min=1, max=1000))

    @validates_schema  # once every entry is valid
    def _each_diagnostic_once(self, data, **_):
        # two sets of answers for one diagnostic: which is right is for the advisor to say
        repeats = repeated_entries([item["diagnostic_id"] for item in data["diagnostics"]],
                                   "diagnostic")
        if repeats:
            raise ValidationError({index: {"diagnostic_id": message}
                                   for index, message in repeats.items()}, "diagnostics")


class DiagnosticListQuery(PageQuery):
    case_id = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(
        [SCHEDULED, COMPLETED, CANCELLED]))


class DiagnosticOut(Schema):
    id = fields.String()
    case_id = fields.String()
    siren = fields.String()
    company_name = fields.String()
    region_code = fields.String(allow_none=True)
    status = fields.String()
    scheduled_at = UtcDateTime()
    completed_at = UtcDateTime(allow_none=True)
    answers = fields.Dict(allow_none=True)
    score = fields.Integer(allow_none=True)
    maturity = fields.String(allow_none=True, validate=validate.OneOf(MATURITY_LEVELS))
    recommendations = fields.List(fields.String(), allow_none=True)
    cancelled_at = UtcDateTime(allow_none=True)
    cancellation_reason = fields.String(allow_none=True)
    advisor = fields.String(allow_none=True, metadata={"description": "the case's advisor"})
    partner = fields.String(allow_none=True)
    due_on = fields.Date(allow_none=True)


DiagnosticList = listing("DiagnosticList", "diagnostics", DiagnosticOut)

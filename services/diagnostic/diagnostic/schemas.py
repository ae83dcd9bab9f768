"""HTTP bodies of the diagnostic API, in and out.

The answers themselves are checked against the diagnostic's questionnaire version
(``questionnaire``), not here: which questions there are is configuration, not code.
"""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from parcours_shared.contracts import MATURITY_LEVELS
from parcours_shared.http import PageQuery, UtcDateTime, listing, repeated_entries

from .domain import CANCELLED, COMPLETED, DRAFT, SCHEDULED

ANSWERS_DESCRIPTION = ("question id -> answer, as the diagnostic's questionnaire version says "
                       "(GET /questionnaires/<version>): true or false, an option id, a whole "
                       "number, or a list of codes")


def _answers(**kwargs):
    return fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=60)),
                       metadata={"description": ANSWERS_DESCRIPTION}, **kwargs)


class DraftRequest(Schema):
    """Answers given so far: kept over those saved before; nothing is scored yet."""
    answers = _answers(required=True)


class AnswersRequest(Schema):
    """The last answers of the diagnostic: with those of its draft, every question."""
    answers = _answers(load_default=dict)


class DiagnosticAnswers(Schema):
    diagnostic_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    answers = _answers(required=True)


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


class DiagnosticFilters(Schema):
    """Which diagnostics: an advisor's own work, a region's whole, a quarter."""
    region_code = fields.String(load_default=None, validate=validate.Length(min=1, max=3))
    advisor = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    partner = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    maturity = fields.String(load_default=None, validate=validate.OneOf(MATURITY_LEVELS))
    completed_from = fields.Date(load_default=None, metadata={
        "description": "completed on or after this day (UTC)"})
    completed_before = fields.Date(load_default=None, metadata={
        "description": "completed before this day (UTC)"})


class DiagnosticListQuery(PageQuery, DiagnosticFilters):
    case_id = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(
        [SCHEDULED, DRAFT, COMPLETED, CANCELLED]))


class FiguresQuery(DiagnosticFilters):
    group_by = fields.String(load_default=None, validate=validate.OneOf(
        ["region_code", "advisor", "partner", "questionnaire_version"]))


class Finding(Schema):
    code = fields.String()
    text = fields.String()
    question = fields.String()


class Explanation(Schema):
    because = fields.List(fields.Nested(Finding), metadata={
        "description": "why this maturity: the answers and scores that gave it"})
    next_level = fields.String(allow_none=True)
    missing_for_next_level = fields.List(fields.Nested(Finding), metadata={
        "description": "what would move the firm to the next level"})


class ProgrammeKind(Schema):
    kind = fields.String()
    reasons = fields.List(fields.String())


class SuggestedMarket(Schema):
    country = fields.String()
    reason = fields.String()


class ScoreChange(Schema):
    before = fields.Integer()
    after = fields.Integer()
    change = fields.Integer()


class Progress(Schema):
    since = fields.String(metadata={"description": "the case's assessment compared with"})
    since_assessment = fields.Integer()
    maturity = fields.Dict(keys=fields.String(), values=fields.String())
    scores = fields.Dict(keys=fields.String(), values=fields.Nested(ScoreChange), metadata={
        "description": "overall and per dimension"})


class DiagnosticOut(Schema):
    id = fields.String()
    case_id = fields.String()
    assessment_number = fields.Integer(metadata={
        "description": "1 for the case's first diagnostic, 2 and more for re-assessments"})
    previous_id = fields.String(allow_none=True)
    siren = fields.String()
    company_name = fields.String()
    region_code = fields.String(allow_none=True)
    status = fields.String()
    scheduled_at = UtcDateTime()
    due_on = fields.Date(allow_none=True)
    advisor = fields.String(allow_none=True, metadata={"description": "the case's advisor"})
    partner = fields.String(allow_none=True)
    questionnaire_version = fields.Integer(allow_none=True, metadata={
        "description": "the version it is answered with, from its first answers"})
    answers = fields.Dict(allow_none=True)
    unanswered = fields.List(fields.String(), metadata={
        "description": "questions still to answer before it can be completed"})
    draft_saved_at = UtcDateTime(allow_none=True)
    completed_at = UtcDateTime(allow_none=True)
    score = fields.Integer(allow_none=True)
    dimension_scores = fields.Dict(keys=fields.String(), values=fields.Integer(),
                                   allow_none=True)
    maturity = fields.String(allow_none=True, validate=validate.OneOf(MATURITY_LEVELS))
    explanation = fields.Nested(Explanation, allow_none=True)
    recommendations = fields.List(fields.String(), allow_none=True)
    programme_kinds = fields.List(fields.Nested(ProgrammeKind), allow_none=True)
    target_markets = fields.List(fields.Nested(SuggestedMarket), allow_none=True)
    progress = fields.Nested(Progress, allow_none=True, metadata={
        "description": "a re-assessment: how the firm moved since the assessment before"})
    cancelled_at = UtcDateTime(allow_none=True)
    cancellation_reason = fields.String(allow_none=True)


DiagnosticList = listing("DiagnosticList", "diagnostics", DiagnosticOut, total=fields.Integer(
    metadata={"description": "how many match, over every page"}))
DiagnosticHistory = listing("DiagnosticHistory", "diagnostics", DiagnosticOut)


class FigureGroup(Schema):
    key = fields.Raw(allow_none=True, metadata={"description": "the group's value (group_by)"})
    completed = fields.Integer()
    by_maturity = fields.Dict(keys=fields.String(), values=fields.Integer())
    average_score = fields.Float(allow_none=True)
    average_dimension_scores = fields.Dict(keys=fields.String(), values=fields.Float())


class Figures(Schema):
    total = fields.Nested(FigureGroup)
    groups = fields.List(fields.Nested(FigureGroup))


class QuestionnaireOut(Schema):
    version = fields.Integer()
    title = fields.String()
    dimensions = fields.List(fields.Dict())
    questions = fields.List(fields.Dict(), metadata={
        "description": "id, type, dimension, label, text, weight, and options or bounds"})
    rules = fields.Dict(metadata={"description": "maturity, advice, orientation and markets, "
                                                 "as the configuration file writes them"})


class QuestionnaireVersions(Schema):
    latest = fields.Integer()
    versions = fields.List(fields.Integer())

"""Export readiness: a case's diagnostics, from the advisor's answers to a maturity level.

What the questions are and how answers are scored is the questionnaire's (``questionnaire``,
read from versioned files); a diagnostic keeps the version it was answered with. A case has one
diagnostic at a time: scheduled when the case opens, saved as a draft while the advisor works on
it, completed once; redone later as a new assessment of the same case, with its history kept.
"""
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime

from parcours_shared.domain import DomainError, Lifecycle, Move, MoveRefused

from .questionnaire import OVERALL

SCHEDULED, DRAFT, COMPLETED, CANCELLED = "scheduled", "draft", "completed", "cancelled"
IN_PROGRESS = (SCHEDULED, DRAFT)


class DiagnosticNotFound(DomainError):
    pass


class DiagnosticMoveRefused(MoveRefused):
    """A diagnostic is completed once: answers for a completed one are refused."""


class ReassessmentRefused(DomainError):
    """A case is reassessed once its latest diagnostic is completed, not while one is open."""


class InvalidAnswersInList(DomainError):
    """Answers entered together, some invalid: each named by its place in the list."""

    def __init__(self, problems):
        super().__init__("some answers are invalid; see fields.diagnostics, by place in the list",
                         {"diagnostics": problems})


# A case closed before its diagnostic cancels it; a completed one stays as it was.
DIAGNOSTIC_LIFECYCLE = Lifecycle("diagnostic", {
    "save_draft": Move(allowed_from=IN_PROGRESS, to=(DRAFT,)),
    "complete": Move(allowed_from=IN_PROGRESS, to=(COMPLETED,)),
    "cancel": Move(allowed_from=IN_PROGRESS, to=(CANCELLED,)),
}, refused=DiagnosticMoveRefused)


def no_diagnostic(diagnostic_id):
    return DiagnosticNotFound("no diagnostic with id {}".format(diagnostic_id))


def no_diagnostic_for_case(case_id):
    return DiagnosticNotFound("case {} has no diagnostic (none was scheduled: is the case id "
                              "right?)".format(case_id))


@dataclass
class Diagnostic:
    """One assessment of one case: scheduled, answered (a draft, then complete) and scored by
    one questionnaire version."""

    id: str
    case_id: str
    siren: str
    company_name: str
    region_code: str | None
    status: str
    scheduled_at: datetime
    completed_at: datetime | None = None
    answers: dict | None = None     # complete once completed; those given so far in a draft
    score: int | None = None
    maturity: str | None = None
    recommendations: list | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    advisor: str | None = None    # the case's advisor, from case.assigned
    partner: str | None = None
    due_on: date | None = None
    assessment_number: int = 1    # 2 and more: a re-assessment of the case
    previous_id: str | None = None
    questionnaire_version: int | None = None   # set by the first answers, draft or complete
    draft_saved_at: datetime | None = None
    dimension_scores: dict | None = None       # dimension -> 0-100
    explanation: dict | None = None            # why this maturity, what the next one needs
    programme_kinds: list | None = None        # [{"kind", "reasons"}]
    target_markets: list | None = None         # [{"country", "reason"}]

    @classmethod
    def schedule(cls, case, at, due_on, assignment=None):
        """The diagnostic of a case just opened (``case``: the case.opened data), due on
        ``due_on``, for its advisor if the case was assigned already (``assignment``: the
        latest case.assigned data heard of)."""
        diagnostic = cls(id=str(uuid.uuid4()), case_id=case["case_id"], siren=case["siren"],
                         company_name=case["company_name"], region_code=case["region_code"],
                         status=SCHEDULED, scheduled_at=at, due_on=due_on)
        if assignment is not None:
            diagnostic.assign(assignment["advisor"], assignment["partner"])
        return diagnostic

    def reassessment(self, at, due_on):
        """A new assessment of this diagnostic's case, to see how far the firm has come;
        raises ReassessmentRefused unless this one is completed."""
        if self.status != COMPLETED:
            raise ReassessmentRefused(
                "diagnostic {} of case {} is {}: {}".format(
                    self.id, self.case_id, self.status,
                    "complete it before reassessing the firm" if self.status in IN_PROGRESS
                    else "the case was closed"))
        return Diagnostic(
            id=str(uuid.uuid4()), case_id=self.case_id, siren=self.siren,
            company_name=self.company_name, region_code=self.region_code, status=SCHEDULED,
            scheduled_at=at, due_on=due_on, advisor=self.advisor, partner=self.partner,
            assessment_number=self.assessment_number + 1, previous_id=self.id)

    def assign(self, advisor, partner):
        """The case went to an advisor: theirs to make, while it is still to be made. True if
        it changed."""
        if self.status not in IN_PROGRESS or (self.advisor, self.partner) == (advisor, partner):
            return False
        self.advisor, self.partner = advisor, partner
        return True

    def questionnaire(self, questionnaires):
        """The version this diagnostic is answered with: its own once answered, else the
        latest published."""
        if self.questionnaire_version is None:
            return questionnaires.latest
        return questionnaires.version(self.questionnaire_version)

    def save_draft(self, questionnaires, answers, at):
        """Keep these answers, checked one by one, over those saved before; the diagnostic
        stays open. Raises InvalidAnswers, or DiagnosticMoveRefused once completed."""
        status = DIAGNOSTIC_LIFECYCLE.next_status(self.id, self.status, "save_draft")
        questionnaire = self.questionnaire(questionnaires)
        checked = questionnaire.check(answers, complete=False)
        self.status, self.questionnaire_version = status, questionnaire.version
        self.answers = dict(self.answers or {}, **checked)
        self.draft_saved_at = at

    def complete(self, questionnaires, answers, at):
        """Score these answers, with those of the draft: every question must be answered.
        Raises InvalidAnswers, or DiagnosticMoveRefused if it was completed before."""
        status = DIAGNOSTIC_LIFECYCLE.next_status(self.id, self.status, "complete")
        questionnaire = self.questionnaire(questionnaires)
        given = dict(self.answers or {}, **answers) if self.status == DRAFT else answers
        checked = questionnaire.check(given, complete=True)
        result = questionnaire.assess(checked)
        self.status, self.completed_at, self.answers = status, at, checked
        self.questionnaire_version = questionnaire.version
        self.score, self.maturity = result.score, result.maturity
        self.dimension_scores, self.explanation = result.dimension_scores, result.explanation
        self.recommendations = result.recommendations
        self.programme_kinds, self.target_markets = result.programme_kinds, result.target_markets
        return result

    def cancel(self, reason, at):
        self.status = DIAGNOSTIC_LIFECYCLE.next_status(self.id, self.status, "cancel")
        self.cancelled_at, self.cancellation_reason = at, reason

    def progress_since(self, earlier):
        """How the firm moved between an earlier completed assessment and this one, overall
        and per dimension (the dimensions both were scored on); None unless both completed."""
        if self.status != COMPLETED or earlier is None or earlier.status != COMPLETED:
            return None
        before = dict(earlier.dimension_scores or {}, **{OVERALL: earlier.score})
        after = dict(self.dimension_scores or {}, **{OVERALL: self.score})
        return {
            "since": earlier.id, "since_assessment": earlier.assessment_number,
            "maturity": {"before": earlier.maturity, "after": self.maturity},
            "scores": {dimension: {"before": before[dimension], "after": after[dimension],
                                   "change": after[dimension] - before[dimension]}
                       for dimension in after if dimension in before}}

    def as_row(self):
        return asdict(self)


def figures_of(results):
    """Counts by maturity and average scores of completed diagnostics, for comparing advisors,
    regions and periods: ``results`` are (maturity, score, dimension scores) rows."""
    by_maturity, scores, dimensions = {}, [], {}
    for maturity, score, dimension_scores in results:
        by_maturity[maturity] = by_maturity.get(maturity, 0) + 1
        scores.append(score)
        for dimension, value in (dimension_scores or {}).items():
            dimensions.setdefault(dimension, []).append(value)
    return {"completed": len(scores), "by_maturity": by_maturity,
            "average_score": _average(scores),
            "average_dimension_scores": {d: _average(v) for d, v in dimensions.items()}}


def _average(values):
    return round(sum(values) / len(values), 1) if values else None

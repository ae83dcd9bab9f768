"""Export readiness: from the advisor's answers to a score, a maturity level and recommendations.

The articles' rule of thumb comes first: a firm must succeed at home before it goes abroad.
Then staff, languages, finances, norms, product fit and target markets.
"""
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime

from parcours_shared.domain import DomainError, Lifecycle, Move, MoveRefused

SCHEDULED, COMPLETED, CANCELLED = "scheduled", "completed", "cancelled"
FINANCIAL_CAPACITY_POINTS = {"low": 0, "medium": 10, "high": 20}


class DiagnosticNotFound(DomainError):
    pass


class DiagnosticMoveRefused(MoveRefused):
    """A diagnostic is completed once: answers for a completed one are refused."""


# A case closed before its diagnostic cancels it; a completed one stays as it was.
DIAGNOSTIC_LIFECYCLE = Lifecycle("diagnostic", {
    "complete": Move(allowed_from=(SCHEDULED,), to=(COMPLETED,)),
    "cancel": Move(allowed_from=(SCHEDULED,), to=(CANCELLED,)),
}, refused=DiagnosticMoveRefused)


def no_diagnostic(diagnostic_id):
    return DiagnosticNotFound("no diagnostic with id {}".format(diagnostic_id))


@dataclass(frozen=True)
class Assessment:
    score: int
    maturity: str
    recommendations: list


@dataclass
class Diagnostic:
    """The in-depth diagnostic of one case: scheduled when the case opens, completed once
    with the advisor's answers."""

    id: str
    case_id: str
    siren: str
    company_name: str
    region_code: str | None
    status: str
    scheduled_at: datetime
    completed_at: datetime | None = None
    answers: dict | None = None
    score: int | None = None
    maturity: str | None = None
    recommendations: list | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    advisor: str | None = None    # the case's advisor, from case.assigned
    partner: str | None = None
    due_on: date | None = None

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

    def assign(self, advisor, partner):
        """The case went to an advisor: theirs to make, while it is still to be made. True if
        it changed."""
        if self.status != SCHEDULED or (self.advisor, self.partner) == (advisor, partner):
            return False
        self.advisor, self.partner = advisor, partner
        return True

    def complete(self, answers, at):
        """Score the answers; raises DiagnosticMoveRefused if it was completed before."""
        self.status = DIAGNOSTIC_LIFECYCLE.next_status(self.id, self.status, "complete")
        assessment = assess(answers)
        self.completed_at, self.answers = at, answers
        self.score, self.maturity = assessment.score, assessment.maturity
        self.recommendations = assessment.recommendations
        return assessment

    def cancel(self, reason, at):
        self.status = DIAGNOSTIC_LIFECYCLE.next_status(self.id, self.status, "cancel")
        self.cancelled_at, self.cancellation_reason = at, reason

    def as_row(self):
        return asdict(self)


def assess(answers):
    """Score (0-100), maturity level and recommendations for one firm's answers."""
    staff = answers["export_staff"]
    languages = len(set(answers["languages"]))
    countries = answers["countries_exported_to"]
    score = (
        (20 if answers["domestic_success"] else 0)
        + FINANCIAL_CAPACITY_POINTS[answers["financial_capacity"]]
        + 5 * min(staff, 3)
        + 5 * min(languages, 3)
        + (10 if answers["product_adapted"] else 0)
        + (5 if answers["target_markets"] else 0)
        + (0 if countries == 0 else 8 if countries < 3 else 15)
    )
    return Assessment(score, _maturity(answers, score), _recommendations(answers))


def _maturity(answers, score):
    countries = answers["countries_exported_to"]
    if not answers["domestic_success"] or score < 35:
        return "not_ready"
    if countries == 0:
        return "first_time_exporter"
    if countries < 5 or answers["export_share_percent"] < 20:
        return "occasional_exporter"
    return "experienced_exporter"


def _recommendations(answers):
    advice = []
    if not answers["domestic_success"]:
        advice.append("consolidate_domestic_market")
    if answers["export_staff"] == 0:
        advice.append("dedicate_staff_to_export")
    if not answers["languages"]:
        advice.append("language_training")
    if answers["financial_capacity"] == "low":
        advice.append("export_financing_and_insurance")
    if not answers["product_adapted"]:
        advice.append("adapt_product_to_target_norms")
    if not answers["target_markets"]:
        advice.append("select_target_markets")
    elif answers["domestic_success"]:
        advice.append("trade_fair_pavilion")
    if answers["countries_exported_to"] >= 3:
        advice.append("co_export_with_large_group")
    return advice

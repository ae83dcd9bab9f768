"""Diagnostic's use cases: one function per command or consumed event."""
import uuid

from parcours_shared.contracts import utc_now
from parcours_shared.http import Conflict, NotFound

from . import store
from .domain import COMPLETED, SCHEDULED, assess


def schedule_diagnostics(uow, events):
    """case.opened: every new case gets an in-depth diagnostic to schedule with an advisor.

    Takes a batch of events: one query finds the cases that have a diagnostic already (a case
    opened again upstream), one statement adds the others'.
    """
    scheduled_before = store.cases_with_diagnostic(
        uow.session, [event.data["case_id"] for event in events])
    now = utc_now()
    new_diagnostics = []
    for event in events:
        case = event.data
        if case["case_id"] in scheduled_before:
            continue
        scheduled_before.add(case["case_id"])
        diagnostic = {
            "id": str(uuid.uuid4()), "case_id": case["case_id"], "siren": case["siren"],
            "company_name": case["company_name"], "region_code": case["region_code"],
            "status": SCHEDULED, "scheduled_at": now,
        }
        new_diagnostics.append(diagnostic)
        uow.publish("diagnostic.scheduled", case["case_id"], {
            "diagnostic_id": diagnostic["id"], "case_id": case["case_id"],
            "scheduled_at": now})
    store.add_diagnostics(uow.session, new_diagnostics)


def get_diagnostic(session, diagnostic_id):
    diagnostic = store.diagnostic_by_id(session, diagnostic_id)
    if diagnostic is None:
        raise NotFound("no diagnostic with id {}".format(diagnostic_id))
    return diagnostic


def complete_diagnostic(uow, diagnostic_id, answers):
    """The advisor records the answers: score, maturity and recommendations follow."""
    diagnostic = get_diagnostic(uow.session, diagnostic_id)
    if diagnostic["status"] == COMPLETED:
        raise Conflict("diagnostic {} was completed on {}".format(
            diagnostic_id, diagnostic["completed_at"]))
    assessment = assess(answers)
    completed = dict(
        status=COMPLETED, completed_at=utc_now(), answers=answers, score=assessment.score,
        maturity=assessment.maturity, recommendations=assessment.recommendations)
    store.update_diagnostic(uow.session, diagnostic_id, **completed)
    diagnostic.update(completed)
    uow.publish("diagnostic.completed", diagnostic["case_id"], {
        "diagnostic_id": diagnostic_id, "case_id": diagnostic["case_id"],
        "maturity": assessment.maturity, "score": assessment.score,
        "recommendations": assessment.recommendations, "completed_at": completed["completed_at"]})
    return diagnostic


def complete_diagnostics(uow, answered):
    """Answers entered together (a collective workshop): each diagnostic completed as
    ``complete_diagnostic`` does, in order. One unknown or already completed diagnostic refuses
    them all (the unit of work rolls back)."""
    return [complete_diagnostic(uow, item["diagnostic_id"], item["answers"])
            for item in answered]

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
    return complete_diagnostics(uow, [{"diagnostic_id": diagnostic_id, "answers": answers}])[0]


def complete_diagnostics(uow, answered):
    """Answers entered together (a collective workshop): each diagnostic completed in order,
    all of them read in one query and written in one statement. One unknown or already
    completed diagnostic refuses them all (the unit of work rolls back)."""
    found = store.diagnostics_by_id(uow.session, [item["diagnostic_id"] for item in answered])
    completed_at = utc_now()
    completed = []
    for item in answered:
        diagnostic = found.get(item["diagnostic_id"])
        if diagnostic is None:
            raise NotFound("no diagnostic with id {}".format(item["diagnostic_id"]))
        if diagnostic["status"] == COMPLETED:
            raise Conflict("diagnostic {} was completed on {}".format(
                diagnostic["id"], diagnostic["completed_at"]))
        assessment = assess(item["answers"])
        diagnostic.update(
            status=COMPLETED, completed_at=completed_at, answers=item["answers"],
            score=assessment.score, maturity=assessment.maturity,
            recommendations=assessment.recommendations)
        completed.append(diagnostic)
    store.record_completions(uow.session, completed)
    for diagnostic in completed:
        uow.publish("diagnostic.completed", diagnostic["case_id"], {
            "diagnostic_id": diagnostic["id"], "case_id": diagnostic["case_id"],
            "maturity": diagnostic["maturity"], "score": diagnostic["score"],
            "recommendations": diagnostic["recommendations"], "completed_at": completed_at})
    return completed

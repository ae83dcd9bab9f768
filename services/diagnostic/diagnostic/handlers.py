"""Diagnostic's use cases: one function per command or consumed event."""
from parcours_shared.closed_cases import closed_among, record_closures
from parcours_shared.contracts import utc_now

from . import store
from .domain import SCHEDULED, Diagnostic, no_diagnostic


def schedule_diagnostics(uow, events):
    """case.opened: every new case gets an in-depth diagnostic to schedule with an advisor.

    Takes a batch of events: one query finds the cases that have a diagnostic already (a case
    opened again upstream), one statement adds the others'.
    """
    case_ids = [event.data["case_id"] for event in events]
    # a case closed already (its case.closed came first) gets no diagnostic
    scheduled_before = store.cases_with_diagnostic(uow.session, case_ids) | closed_among(
        uow.session, store.closed_cases, case_ids)
    now = utc_now()
    new_diagnostics = []
    for event in events:
        if event.data["case_id"] in scheduled_before:
            continue
        diagnostic = Diagnostic.schedule(event.data, at=now)
        scheduled_before.add(diagnostic.case_id)
        new_diagnostics.append(diagnostic)
        uow.publish("diagnostic.scheduled", diagnostic.case_id, {
            "diagnostic_id": diagnostic.id, "case_id": diagnostic.case_id, "scheduled_at": now})
    store.add_diagnostics(uow.session, new_diagnostics)


def cancel_for_closed_cases(uow, events):
    """case.closed: a diagnostic not taken yet will not be; a completed one stays."""
    closures = record_closures(uow.session, store.closed_cases, events)
    now = utc_now()
    for case_id, closure in closures.items():
        diagnostic = store.diagnostic_for_case(uow.session, case_id)
        if diagnostic is None or diagnostic.status != SCHEDULED:
            continue
        diagnostic.cancel("case closed: " + closure["reason"], at=now)
        store.save_cancellation(uow.session, diagnostic)
        uow.publish("diagnostic.cancelled", case_id, {
            "diagnostic_id": diagnostic.id, "case_id": case_id,
            "reason": diagnostic.cancellation_reason[:200], "cancelled_at": now})


def get_diagnostic(session, diagnostic_id):
    diagnostic = store.diagnostic_by_id(session, diagnostic_id)
    if diagnostic is None:
        raise no_diagnostic(diagnostic_id)
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
            raise no_diagnostic(item["diagnostic_id"])
        diagnostic.complete(item["answers"], at=completed_at)
        completed.append(diagnostic)
    store.record_completions(uow.session, completed)
    for diagnostic in completed:
        uow.publish("diagnostic.completed", diagnostic.case_id, {
            "diagnostic_id": diagnostic.id, "case_id": diagnostic.case_id,
            "maturity": diagnostic.maturity, "score": diagnostic.score,
            "recommendations": diagnostic.recommendations, "completed_at": completed_at})
    return completed

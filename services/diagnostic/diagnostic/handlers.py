"""Diagnostic's use cases: one function per command or consumed event."""
from parcours_shared.closed_cases import closed_among, record_closures
from parcours_shared.contracts import utc_now
from parcours_shared.domain import as_utc
from parcours_shared.working_days import add_working_days

from . import store
from .domain import (
    COMPLETED, IN_PROGRESS, Diagnostic, InvalidAnswersInList, ReassessmentRefused, figures_of,
    no_diagnostic, no_diagnostic_for_case,
)
from .questionnaire import InvalidAnswers


DUE_WORKING_DAYS = 15  # a diagnostic is due three weeks after it was scheduled


def _scheduled_data(diagnostic):
    return {"diagnostic_id": diagnostic.id, "case_id": diagnostic.case_id,
            "scheduled_at": diagnostic.scheduled_at, "region_code": diagnostic.region_code,
            "advisor": diagnostic.advisor, "partner": diagnostic.partner,
            "due_on": diagnostic.due_on, "assessment_number": diagnostic.assessment_number}


def _completed_data(diagnostic):
    return {"diagnostic_id": diagnostic.id, "case_id": diagnostic.case_id,
            "assessment_number": diagnostic.assessment_number,
            "questionnaire_version": diagnostic.questionnaire_version,
            "maturity": diagnostic.maturity, "score": diagnostic.score,
            "dimension_scores": diagnostic.dimension_scores,
            "explanation": {
                "because": [f["code"] for f in diagnostic.explanation["because"]],
                "next_level": diagnostic.explanation["next_level"],
                "missing_for_next_level": [
                    f["code"] for f in diagnostic.explanation["missing_for_next_level"]]},
            "recommendations": diagnostic.recommendations,
            "programme_kinds": [line["kind"] for line in diagnostic.programme_kinds],
            "target_markets": diagnostic.target_markets,
            "completed_at": diagnostic.completed_at}


def schedule_diagnostics(uow, events, due_working_days=DUE_WORKING_DAYS):
    """case.opened: every new case gets an in-depth diagnostic to schedule with an advisor.

    Takes a batch of events: one query finds the cases that have a diagnostic already (a case
    opened again upstream), one statement adds the others'.
    """
    case_ids = [event.data["case_id"] for event in events]
    # a case closed already (its case.closed came first) gets no diagnostic
    scheduled_before = store.cases_with_diagnostic(uow.session, case_ids) | closed_among(
        uow.session, store.closed_cases, case_ids)
    now = utc_now()
    due_on = add_working_days(now.date(), due_working_days)
    assignments = store.assignments_of(uow.session, set(case_ids) - scheduled_before)
    new_diagnostics = []
    for event in events:
        if event.data["case_id"] in scheduled_before:
            continue
        diagnostic = Diagnostic.schedule(event.data, at=now, due_on=due_on,
                                         assignment=assignments.get(event.data["case_id"]))
        scheduled_before.add(diagnostic.case_id)
        new_diagnostics.append(diagnostic)
        uow.publish("diagnostic.scheduled", diagnostic.case_id, _scheduled_data(diagnostic))
    store.add_diagnostics(uow.session, new_diagnostics)


def follow_assignments(uow, events):
    """case.assigned: the case's diagnostic, while still to be made, is its advisor's; it is
    announced again with them (diagnostic.scheduled, same id). The latest assignment wins,
    whatever the order events come in, and is kept for a diagnostic scheduled later."""
    latest = {}
    for event in events:
        data = event.data
        if (data["case_id"] not in latest
                or as_utc(data["assigned_at"]) > as_utc(latest[data["case_id"]]["assigned_at"])):
            latest[data["case_id"]] = data
    known = store.assignments_of(uow.session, set(latest))
    for case_id, assignment in latest.items():
        before = known.get(case_id)
        if before is not None and as_utc(before["assigned_at"]) >= as_utc(
                assignment["assigned_at"]):
            continue  # an older assignment arriving late
        store.keep_assignment(uow.session, assignment, before is not None)
        diagnostic = store.diagnostic_for_case(uow.session, case_id)
        if diagnostic is not None and diagnostic.assign(assignment["advisor"],
                                                        assignment["partner"]):
            store.save_assignment(uow.session, diagnostic)
            uow.publish("diagnostic.scheduled", case_id, _scheduled_data(diagnostic))


def cancel_for_closed_cases(uow, events):
    """case.closed: a diagnostic not taken yet will not be; a completed one stays."""
    closures = record_closures(uow.session, store.closed_cases, events)
    now = utc_now()
    for case_id, closure in closures.items():
        diagnostic = store.diagnostic_for_case(uow.session, case_id)
        if diagnostic is None or diagnostic.status not in IN_PROGRESS:
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


def diagnostic_history(session, case_id):
    """The case's assessments, first first, each with its progress since the one before."""
    history = store.history_of_case(session, case_id)
    if not history:
        raise no_diagnostic_for_case(case_id)
    return [(diagnostic, diagnostic.progress_since(_completed_before(history, index)))
            for index, diagnostic in enumerate(history)]


def diagnostic_with_progress(session, diagnostic_id):
    """The diagnostic, and how the firm moved since the case's assessment before it."""
    diagnostic = get_diagnostic(session, diagnostic_id)
    if diagnostic.previous_id is None:
        return diagnostic, None
    history = store.history_of_case(session, diagnostic.case_id)
    index = next(i for i, d in enumerate(history) if d.id == diagnostic.id)
    return diagnostic, diagnostic.progress_since(_completed_before(history, index))


def _completed_before(history, index):
    return next((d for d in reversed(history[:index]) if d.status == COMPLETED), None)


def diagnostic_figures(session, filters, group_by=None):
    """The figures of the diagnostics that match, in total and by ``group_by``."""
    rows = store.completed_results(session, filters, group_by)
    groups = {}
    for row in rows:
        groups.setdefault(row.group, []).append((row.maturity, row.score, row.dimension_scores))
    return {"total": figures_of((r.maturity, r.score, r.dimension_scores) for r in rows),
            "groups": [dict(figures_of(results), key=key) for key, results in sorted(
                groups.items(), key=lambda item: str(item[0]))] if group_by else []}


def save_draft(uow, questionnaires, diagnostic_id, answers):
    """The advisor saves the answers given so far: checked, kept, nothing scored yet."""
    diagnostic = get_diagnostic(uow.session, diagnostic_id)
    diagnostic.save_draft(questionnaires, answers, at=utc_now())
    store.save_draft(uow.session, diagnostic)
    return diagnostic


def reassess(uow, case_id, due_working_days=DUE_WORKING_DAYS):
    """The advisor redoes the case's diagnostic, later: a new assessment, scheduled like the
    first (diagnostic.scheduled), its results compared with the one before."""
    latest = store.diagnostic_for_case(uow.session, case_id)
    if latest is None:
        raise no_diagnostic_for_case(case_id)
    now = utc_now()
    diagnostic = latest.reassessment(at=now, due_on=add_working_days(now.date(),
                                                                      due_working_days))
    if not store.add_assessment(uow.session, diagnostic):
        raise ReassessmentRefused("case {} was reassessed by someone else a moment ago: see "
                                  "GET /cases/{}/diagnostics".format(case_id, case_id))
    uow.publish("diagnostic.scheduled", case_id, _scheduled_data(diagnostic))
    return diagnostic


def complete_diagnostic(uow, questionnaires, diagnostic_id, answers):
    """The advisor records the answers: score, maturity, explanation and orientation follow."""
    return complete_diagnostics(uow, questionnaires, [
        {"diagnostic_id": diagnostic_id, "answers": answers}])[0]


def complete_diagnostics(uow, questionnaires, answered):
    """Answers entered together (a collective workshop): each diagnostic completed in order,
    all of them read in one query and written in one statement. One unknown, invalid or
    already completed diagnostic refuses them all (the unit of work rolls back); invalid
    answers are named by their place in the list."""
    found = store.diagnostics_by_id(uow.session, [item["diagnostic_id"] for item in answered])
    completed_at = utc_now()
    completed, problems = [], {}
    for index, item in enumerate(answered):
        diagnostic = found.get(item["diagnostic_id"])
        if diagnostic is None:
            raise no_diagnostic(item["diagnostic_id"])
        try:
            diagnostic.complete(questionnaires, item["answers"], at=completed_at)
        except InvalidAnswers as invalid:
            problems[index] = invalid.fields
        completed.append(diagnostic)
    if problems:
        if len(answered) == 1:
            raise InvalidAnswers(problems[0]["answers"])
        raise InvalidAnswersInList(problems)
    store.record_completions(uow.session, completed)
    for diagnostic in completed:
        uow.publish("diagnostic.completed", diagnostic.case_id, _completed_data(diagnostic))
    return completed

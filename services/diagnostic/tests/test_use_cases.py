"""Diagnostic's use cases, each on its own, without a broker (parcours_testing.UseCaseDatabase)."""
import uuid

import pytest
from parcours_shared.contracts import utc_now
from parcours_testing import UseCaseDatabase, event

from parcours_testing.answers import FIRST_TIME_EXPORTER as READY, NOT_READY, OCCASIONAL_EXPORTER

from diagnostic import handlers, store
from diagnostic.domain import (
    CANCELLED, COMPLETED, DRAFT, SCHEDULED, DiagnosticMoveRefused, DiagnosticNotFound,
    InvalidAnswersInList, ReassessmentRefused,
)
from diagnostic.questionnaire import InvalidAnswers, Questionnaires

QUESTIONNAIRES = Questionnaires()


@pytest.fixture
def db():
    return UseCaseDatabase("diagnostic", store.metadata)


def case_opened(case_id=None):
    case_id = case_id or str(uuid.uuid4())
    return event("case.opened", {"case_id": case_id, "siren": "732829320",
                                 "company_name": "Ateliers Durand", "region_code": "53",
                                 "channel": "web", "opened_at": utc_now()})


def scheduled(db, *case_events):
    with db.transaction() as uow:
        handlers.schedule_diagnostics(uow, list(case_events))
    with db.reading() as session:
        return [store.diagnostic_for_case(session, e.data["case_id"]) for e in case_events]


def test_each_new_case_gets_a_diagnostic_scheduled(db):
    first, second = case_opened(), case_opened()
    diagnostics = scheduled(db, first, second)
    assert [d.status for d in diagnostics] == [SCHEDULED, SCHEDULED]
    assert [d["case_id"] for d in db.published_data("diagnostic.scheduled")] == [
        first.data["case_id"], second.data["case_id"]]


def test_a_case_that_has_a_diagnostic_gets_no_second_one(db):
    opened = case_opened()
    [diagnostic] = scheduled(db, opened)
    db.take_published()
    again = case_opened(opened.data["case_id"])  # the same case, announced again upstream
    assert scheduled(db, again, again) == [diagnostic, diagnostic]
    assert db.published == []


def test_completing_a_diagnostic_scores_it_and_publishes_the_maturity(db):
    [diagnostic] = scheduled(db, case_opened())
    with db.transaction() as uow:
        completed = handlers.complete_diagnostic(uow, QUESTIONNAIRES, diagnostic.id, READY)
    assert completed.status == COMPLETED and completed.maturity == "first_time_exporter"
    [result] = db.published_data("diagnostic.completed")
    assert result["maturity"] == "first_time_exporter" and result["score"] == completed.score
    assert (result["questionnaire_version"], result["assessment_number"]) == (2, 1)
    assert result["programme_kinds"] == ["preparation", "trade_fair_pavilion"]
    assert result["target_markets"][0] == {"country": "DE", "reason": "named_by_firm"}
    assert result["explanation"]["missing_for_next_level"] == ["countries_exported_to.at_least.1"]
    with db.reading() as session:
        assert handlers.get_diagnostic(session, diagnostic.id).answers == READY


def test_a_diagnostic_is_completed_once(db):
    [diagnostic] = scheduled(db, case_opened())
    with db.transaction() as uow:
        handlers.complete_diagnostic(uow, QUESTIONNAIRES, diagnostic.id, READY)
    with pytest.raises(DiagnosticMoveRefused, match="is completed"), db.transaction() as uow:
        handlers.complete_diagnostic(uow, QUESTIONNAIRES, diagnostic.id, NOT_READY)
    with db.reading() as session:
        assert handlers.get_diagnostic(session, diagnostic.id).maturity == "first_time_exporter"


def test_a_workshop_s_answers_are_all_recorded_or_none(db):
    first, second = scheduled(db, case_opened(), case_opened())
    db.take_published()
    with pytest.raises(DiagnosticNotFound, match="no-such-diagnostic"), db.transaction() as uow:
        handlers.complete_diagnostics(uow, QUESTIONNAIRES, [
            {"diagnostic_id": first.id, "answers": READY},
            {"diagnostic_id": "no-such-diagnostic", "answers": READY}])
    assert db.published == []
    with db.transaction() as uow:
        completed = handlers.complete_diagnostics(uow, QUESTIONNAIRES, [
            {"diagnostic_id": second.id, "answers": NOT_READY},
            {"diagnostic_id": first.id, "answers": READY}])
    assert [d.maturity for d in completed] == ["not_ready", "first_time_exporter"]
    assert [d["diagnostic_id"] for d in db.published_data("diagnostic.completed")] == [
        second.id, first.id]


def test_getting_an_unknown_diagnostic_is_refused(db):
    with db.reading() as session, pytest.raises(DiagnosticNotFound):
        handlers.get_diagnostic(session, "no-such-diagnostic")


def case_closed(case_id, reason="firm_declined"):
    return event("case.closed", {"case_id": case_id, "reason": reason, "closed_at": utc_now()})


def test_a_case_closed_before_its_diagnostic_cancels_it_and_a_completed_one_stays(db):
    pending, done = case_opened(), case_opened()
    [waiting, completed] = scheduled(db, pending, done)
    with db.transaction() as uow:
        handlers.complete_diagnostic(uow, QUESTIONNAIRES, completed.id, READY)
    db.take_published()
    with db.transaction() as uow:
        handlers.cancel_for_closed_cases(uow, [case_closed(waiting.case_id),
                                               case_closed(completed.case_id)])
    with db.reading() as session:
        assert store.diagnostic_for_case(session, waiting.case_id).status == CANCELLED
        assert store.diagnostic_for_case(session, completed.case_id).status == COMPLETED
    [cancelled] = db.published_data("diagnostic.cancelled")
    assert cancelled["case_id"] == waiting.case_id
    assert cancelled["reason"] == "case closed: firm_declined"


def test_a_case_closed_before_it_was_seen_opened_gets_no_diagnostic(db):
    opened = case_opened()
    with db.transaction() as uow:  # case.closed overtook case.opened
        handlers.cancel_for_closed_cases(uow, [case_closed(opened.data["case_id"])])
    assert scheduled(db, opened) == [None]
    assert db.published == []


def case_assigned(case_id, advisor, at=None):
    return event("case.assigned", {"case_id": case_id, "advisor": advisor,
                                   "partner": "cci-international-aura",
                                   "assigned_at": at or utc_now()})


def test_a_diagnostic_is_due_in_working_days_and_goes_to_the_case_s_advisor(db):
    from parcours_shared.working_days import working_days_between

    opened = case_opened()
    [diagnostic] = scheduled(db, opened)
    assert working_days_between(diagnostic.scheduled_at.date(), diagnostic.due_on) == 15
    with db.transaction() as uow:
        handlers.follow_assignments(uow, [case_assigned(diagnostic.case_id, "p-sophie-laurent")])
    with db.reading() as session:
        assert store.diagnostic_for_case(session, diagnostic.case_id).advisor == "p-sophie-laurent"
    first, again = db.published_data("diagnostic.scheduled")
    assert first["advisor"] is None and first["region_code"] == "53"
    assert (again["diagnostic_id"], again["advisor"]) == (diagnostic.id, "p-sophie-laurent")


def test_an_assignment_heard_before_the_case_opened_is_kept_and_a_late_older_one_ignored(db):
    from datetime import timedelta

    opened = case_opened()
    case_id, now = opened.data["case_id"], utc_now()
    with db.transaction() as uow:  # case.assigned overtook case.opened; an older one comes late
        handlers.follow_assignments(uow, [case_assigned(case_id, "p-new", now)])
        handlers.follow_assignments(uow, [case_assigned(case_id, "p-old",
                                                        now - timedelta(minutes=5))])
    [diagnostic] = scheduled(db, opened)
    assert diagnostic.advisor == "p-new"
    assert db.published_data("diagnostic.scheduled")[0]["advisor"] == "p-new"


def test_a_draft_is_saved_in_parts_then_completed_with_the_last_answers(db):
    [diagnostic] = scheduled(db, case_opened())
    first_half = {key: READY[key] for key in list(READY)[:6]}
    with db.transaction() as uow:
        handlers.save_draft(uow, QUESTIONNAIRES, diagnostic.id, first_half)
    with db.transaction() as uow:
        draft = handlers.save_draft(uow, QUESTIONNAIRES, diagnostic.id, {"export_staff": 3})
    assert (draft.status, draft.questionnaire_version) == (DRAFT, 2)
    assert draft.answers == dict(first_half, export_staff=3)
    assert db.published_data("diagnostic.completed") == []
    # completing with what is still missing: the draft's answers count, the last ones win
    rest = {key: READY[key] for key in list(READY)[6:]}
    with pytest.raises(InvalidAnswers) as refused, db.transaction() as uow:
        handlers.complete_diagnostic(uow, QUESTIONNAIRES, diagnostic.id, {})
    assert set(refused.value.problems) == set(rest)
    with db.transaction() as uow:
        completed = handlers.complete_diagnostic(uow, QUESTIONNAIRES, diagnostic.id, rest)
    assert completed.answers == dict(READY, export_staff=3)
    assert completed.status == COMPLETED and completed.dimension_scores["team"] == 83


def test_an_invalid_draft_keeps_nothing(db):
    [diagnostic] = scheduled(db, case_opened())
    with pytest.raises(InvalidAnswers) as refused, db.transaction() as uow:
        handlers.save_draft(uow, QUESTIONNAIRES, diagnostic.id,
                            {"export_staff": -1, "languages": ["en"]})
    assert refused.value.fields == {"answers": {
        "export_staff": ["expected a whole number from 0 to 10000"]}}
    with db.reading() as session:
        assert handlers.get_diagnostic(session, diagnostic.id).status == SCHEDULED


def test_a_workshop_s_invalid_answers_are_named_by_their_place(db):
    first, second = scheduled(db, case_opened(), case_opened())
    with pytest.raises(InvalidAnswersInList) as refused, db.transaction() as uow:
        handlers.complete_diagnostics(uow, QUESTIONNAIRES, [
            {"diagnostic_id": first.id, "answers": READY},
            {"diagnostic_id": second.id, "answers": dict(READY, target_markets="DE")}])
    assert refused.value.fields == {"diagnostics": {1: {"answers": {"target_markets": [
        "expected a list, each item an ISO 3166 alpha-2 country code"]}}}}


def test_a_reassessment_keeps_the_history_and_shows_the_progress(db):
    [first] = scheduled(db, case_opened())
    with db.transaction() as uow:
        handlers.complete_diagnostic(uow, QUESTIONNAIRES, first.id, READY)
    db.take_published()
    with db.transaction() as uow:
        second = handlers.reassess(uow, first.case_id)
    assert (second.assessment_number, second.previous_id, second.status) == (2, first.id,
                                                                            SCHEDULED)
    [announced] = db.published_data("diagnostic.scheduled")
    assert (announced["diagnostic_id"], announced["assessment_number"]) == (second.id, 2)
    with pytest.raises(ReassessmentRefused, match="complete it before"), db.transaction() as uow:
        handlers.reassess(uow, first.case_id)
    with db.transaction() as uow:  # a year on, the firm has made its first sales abroad
        handlers.complete_diagnostic(uow, QUESTIONNAIRES, second.id, OCCASIONAL_EXPORTER)
    with db.reading() as session:
        history = handlers.diagnostic_history(session, first.case_id)
    [(before, no_progress), (after, progress)] = history
    assert (before.maturity, after.maturity) == ("first_time_exporter", "occasional_exporter")
    assert no_progress is None
    assert progress["maturity"] == {"before": "first_time_exporter",
                                    "after": "occasional_exporter"}
    assert progress["scores"]["experience"] == {"before": 0, "after": 42, "change": 42}
    assert progress["scores"]["overall"] == {"before": 57, "after": 63, "change": 6}
    assert progress["scores"]["commitment"]["change"] == 0
    [completed] = db.published_data("diagnostic.completed")
    assert completed["assessment_number"] == 2


def test_a_case_closed_during_a_draft_cancels_it(db):
    [diagnostic] = scheduled(db, case_opened())
    with db.transaction() as uow:
        handlers.save_draft(uow, QUESTIONNAIRES, diagnostic.id, {"export_staff": 2})
        handlers.cancel_for_closed_cases(uow, [case_closed(diagnostic.case_id)])
    with db.reading() as session:
        assert handlers.get_diagnostic(session, diagnostic.id).status == CANCELLED
    with pytest.raises(ReassessmentRefused, match="closed"), db.transaction() as uow:
        handlers.reassess(uow, diagnostic.case_id)


def test_figures_compare_advisors_by_maturity_and_dimension(db):
    diagnostics = scheduled(db, case_opened(), case_opened(), case_opened())
    with db.transaction() as uow:
        for diagnostic, advisor in zip(diagnostics, ["p-anna", "p-anna", "p-bruno"]):
            handlers.follow_assignments(uow, [case_assigned(diagnostic.case_id, advisor)])
    with db.transaction() as uow:
        handlers.complete_diagnostics(uow, QUESTIONNAIRES, [
            {"diagnostic_id": d.id, "answers": answers}
            for d, answers in zip(diagnostics[:2], [READY, OCCASIONAL_EXPORTER])])
    with db.reading() as session:
        figures = handlers.diagnostic_figures(session, {}, group_by="advisor")
        anna = handlers.diagnostic_figures(session, {"advisor": "p-anna"})
    assert figures["total"]["completed"] == 2
    assert [(g["key"], g["completed"]) for g in figures["groups"]] == [("p-anna", 2)]
    assert anna["total"]["by_maturity"] == {"first_time_exporter": 1, "occasional_exporter": 1}
    assert anna["total"]["average_score"] == 60.0
    assert anna["total"]["average_dimension_scores"]["experience"] == 21.0


def test_two_advisors_reassessing_at_once_make_one_reassessment(db):
    [first] = scheduled(db, case_opened())
    with db.transaction() as uow:
        handlers.complete_diagnostic(uow, QUESTIONNAIRES, first.id, READY)
    with db.reading() as session:
        latest = store.diagnostic_for_case(session, first.case_id)
    mine, theirs = (latest.reassessment(at=utc_now(), due_on=None) for _ in range(2))
    with db.transaction() as uow:
        assert store.add_assessment(uow.session, mine) is True
        assert store.add_assessment(uow.session, theirs) is False
    with db.reading() as session:
        assert [d.id for d in store.history_of_case(session, first.case_id)] == [first.id,
                                                                                  mine.id]

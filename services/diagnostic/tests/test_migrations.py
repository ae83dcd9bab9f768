"""Diagnostic's migrations carry the diagnostics made before them."""
from datetime import datetime, timezone

import sqlalchemy as sa
from parcours_testing import UseCaseDatabase, at_revision
from parcours_testing.answers import OCCASIONAL_EXPORTER

from parcours_shared.engine import create_db_engine, upgrade_to_head

from diagnostic import handlers, service, store
from diagnostic.questionnaire import Questionnaires

FIRST_ANSWERS = {"domestic_success": True, "export_share_percent": 5, "export_staff": 1,
                 "languages": ["en"], "financial_capacity": "medium", "product_adapted": True,
                 "target_markets": ["DE"], "countries_exported_to": 0}
DIAGNOSTICS_0005 = sa.table("diagnostics", *[sa.column(name) for name in (
    "id", "case_id", "siren", "company_name", "region_code", "status", "scheduled_at",
    "completed_at", "score", "maturity")], sa.column("answers", sa.JSON),
    sa.column("recommendations", sa.JSON))


def test_a_diagnostic_made_before_questionnaire_versions_keeps_version_1_and_can_be_redone(
        database_url):
    engine = create_db_engine(database_url("diagnostic"))
    now = datetime.now(timezone.utc)
    with at_revision(engine, service.MIGRATIONS, "0005") as connection:
        connection.execute(sa.insert(DIAGNOSTICS_0005).values(
            id="d-old", case_id="c-1", siren="732829320", company_name="Ateliers Durand",
            region_code="84", status="completed", scheduled_at=now, completed_at=now,
            answers=FIRST_ANSWERS, score=55, maturity="first_time_exporter",
            recommendations=["trade_fair_pavilion"]))
    upgrade_to_head(engine, service.MIGRATIONS)

    db = UseCaseDatabase("diagnostic", store.metadata, engine=engine)
    questionnaires = Questionnaires()
    with db.reading() as session:
        old = handlers.get_diagnostic(session, "d-old")
    assert (old.questionnaire_version, old.assessment_number, old.score) == (1, 1, 55)
    # scored again by its version, it is what it was
    assert questionnaires.version(1).assess(FIRST_ANSWERS).score == old.score
    with db.transaction() as uow:
        again = handlers.reassess(uow, "c-1")
        handlers.complete_diagnostic(uow, questionnaires, again.id, OCCASIONAL_EXPORTER)
    with db.reading() as session:
        [(first, _), (second, progress)] = handlers.diagnostic_history(session, "c-1")
    assert (first.id, second.assessment_number, second.questionnaire_version) == ("d-old", 2, 2)
    assert progress["scores"]["overall"] == {"before": 55, "after": 63, "change": 8}
    engine.dispose()

"""The last seat under real concurrency: partners confirming at the same moment, each in its
own process and connection, against PostgreSQL, many rounds over. Exactly one takes the seat;
the others are waitlisted, in order."""
import multiprocessing
import os
import uuid
from datetime import date, timedelta

import pytest
from parcours_shared.engine import create_db_engine, upgrade_to_head
from parcours_shared.contracts import utc_now
from parcours_testing import UseCaseDatabase

from programmes import handlers, service, store
from programmes.domain import Enrolment

from last_seat_worker import confirm_each_round

ROUNDS, PARTNERS = 25, 4

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="row locks are PostgreSQL's: set DATABASE_URL=postgresql://... (CI does)")


def test_two_partners_cannot_both_take_the_last_seat(database_url):
    url = database_url("programmes")
    engine = create_db_engine(url)
    upgrade_to_head(engine, service.MIGRATIONS)
    db = UseCaseDatabase("programmes", store.metadata, engine=engine)
    rounds = []
    for number in range(ROUNDS):
        with db.transaction() as uow:
            programme = handlers.create_programme(uow, {
                "partner": "business-france", "name": "Pavillon {}".format(number),
                "kind": "trade_fair_pavilion", "maturity_levels": ["first_time_exporter"]})
            last_seat = handlers.add_session(uow, programme.id, {
                "starts_on": date.today() + timedelta(days=30), "market": "DE",
                "place": "Düsseldorf", "capacity": 1})
            proposals = [Enrolment.propose(str(uuid.uuid4()), last_seat, at=utc_now())
                         for _ in range(PARTNERS)]
            store.add_enrolments(uow.session, proposals)
        rounds.append([proposal.id for proposal in proposals])

    context = multiprocessing.get_context("spawn")  # fresh interpreters: no eventlet patching
    barrier, results = context.Barrier(PARTNERS), context.Queue()
    workers = [context.Process(target=confirm_each_round, args=(
        url, [ids[partner] for ids in rounds], barrier, results)) for partner in range(PARTNERS)]
    for worker in workers:
        worker.start()
    reported = [results.get(timeout=120) for _ in range(ROUNDS * PARTNERS)]
    for worker in workers:
        worker.join(timeout=60)

    assert [error for *_, error in reported if error] == []
    for number in range(ROUNDS):
        statuses = sorted(status for round_number, _, status, _ in reported
                          if round_number == number)
        assert statuses == ["confirmed"] + ["waitlisted"] * (PARTNERS - 1), number
    with db.reading() as session:
        positions = store.waitlist_positions(session, [
            enrolment_id for _, enrolment_id, status, _ in reported if status == "waitlisted"])
    assert set(positions.values()) == set(range(1, PARTNERS))
    engine.dispose()

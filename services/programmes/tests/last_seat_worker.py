"""One partner's confirmations, in a process of its own, for the last-seat test: each round it
waits for the others at the barrier, then confirms its enrolment at the same moment."""
from parcours_shared.engine import create_db_engine
from parcours_testing import UseCaseDatabase

from programmes import handlers, store


def confirm_each_round(database_url, enrolment_ids, barrier, results):
    """``enrolment_ids``: this worker's enrolment for each round; ``results``: a queue that
    gets (round, enrolment id, status, error) for each."""
    engine = create_db_engine(database_url)
    db = UseCaseDatabase("programmes", store.metadata, engine=engine)
    for round_number, enrolment_id in enumerate(enrolment_ids):
        barrier.wait(timeout=60)
        try:
            with db.transaction() as uow:
                status = handlers.confirm_enrolment(uow, enrolment_id).status
            results.put((round_number, enrolment_id, status, None))
        except Exception as exc:  # reported to the test, which fails on it
            results.put((round_number, enrolment_id, None, repr(exc)))
    engine.dispose()

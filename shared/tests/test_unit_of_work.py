"""UnitOfWork: the events of a transaction, written to its outbox just before the commit."""
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session

from parcours_shared.outbox import outbox_table
from parcours_shared.unit_of_work import UnitOfWork

metadata = MetaData()
outbox = outbox_table(metadata)


@pytest.fixture
def engine(engine_with_tables):
    return engine_with_tables(metadata, "uowtest")


def test_an_event_is_timed_when_its_transaction_writes_it_just_before_committing(engine):
    """The lag consumers measure starts at the commit that makes the event true, not when the
    event was prepared early in a long transaction (a list of firms)."""
    with Session(engine) as session, session.begin():
        uow = UnitOfWork(session, "intake", outbox)
        envelope = uow.publish("case.closed", "c-1", {
            "case_id": "c-1", "reason": "exporting on its own",
            "closed_at": datetime.now(timezone.utc)})
        prepared_at = envelope["time"]
        written_after = datetime.now(timezone.utc)
        uow.write_outbox()
    with engine.connect() as connection:
        [body] = connection.execute(select(outbox.c.body)).scalars()
    assert datetime.fromisoformat(prepared_at) < written_after
    assert datetime.fromisoformat(json.loads(body)["time"]) >= written_after
    assert json.loads(body)["time"] == envelope["time"]

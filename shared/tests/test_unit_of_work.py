"""UnitOfWork: the events of a transaction, written to its outbox just before the commit."""
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session

from parcours_shared.audit import audit_table
from parcours_shared.contracts import parse_envelope
from parcours_shared.identity import Caller
from parcours_shared.outbox import outbox_table
from parcours_shared.unit_of_work import UnitOfWork

metadata = MetaData()
outbox = outbox_table(metadata)
audit = audit_table(metadata)


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


def closure(uow, case_id):
    return uow.publish("case.closed", case_id, {
        "case_id": case_id, "reason": "exporting on its own",
        "closed_at": datetime.now(timezone.utc)})


def test_who_acted_travels_with_each_event_and_stays_in_the_audit_trail(engine):
    advisor = Caller("p-claire-martin", "cci-paris-idf", frozenset({"advisor"}),
                     person="p-claire-martin")
    system = Caller("partner:bpifrance", "bpifrance", frozenset({"referrer"}))
    envelopes = []
    for case_id, actor in (("c-1", advisor), ("c-2", system), ("c-3", None)):
        with Session(engine) as session, session.begin():
            uow = UnitOfWork(session, "intake", outbox, actor=actor, audit=audit)
            envelopes.append(closure(uow, case_id))
            uow.write_outbox()
    by_person, by_system, on_its_own = envelopes

    assert (by_person["partner"], by_person["person"]) == ("cci-paris-idf", "p-claire-martin")
    assert by_system["partner"] == "bpifrance" and "person" not in by_system
    assert "partner" not in on_its_own and "person" not in on_its_own
    received = parse_envelope(json.loads(json.dumps(by_person)))
    assert (received.partner, received.person) == ("cci-paris-idf", "p-claire-martin")
    assert parse_envelope(json.loads(json.dumps(on_its_own))).partner is None
    with engine.connect() as connection:
        rows = connection.execute(select(audit.c.subject, audit.c.event_type, audit.c.partner,
                                         audit.c.person).order_by(audit.c.seq)).all()
    assert [tuple(row) for row in rows] == [
        ("c-1", "case.closed", "cci-paris-idf", "p-claire-martin"),
        ("c-2", "case.closed", "bpifrance", None),
        ("c-3", "case.closed", None, None)]

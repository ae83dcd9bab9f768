"""Dead letters seen with their reason, sent back once the cause is fixed and applied once, or
discarded: over a service's operations endpoints and ``parcours dead-letters``, against the
real broker."""
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from parcours_shared import http as parcours_http
from parcours_shared import ops_command
from parcours_shared import operations as parcours_operations
from parcours_shared.contracts import build_envelope
from parcours_shared.db import Database
from parcours_shared.inbox import inbox_handler, inbox_table
from parcours_testing import publish_raw, wait_for
from parcours_testing.identity import bearer

metadata = MetaData()
inbox_table(metadata)
applied = Table("applied", metadata,
                Column("n", Integer, primary_key=True, autoincrement=True),
                Column("case_id", String(36), nullable=False))
# the cause of the failures: a missing setting, say, that the operator fixes
CAUSE = {"fixed": False}


class Ledger(parcours_http.OperationalEndpoints, parcours_operations.DeadLetterEndpoints):
    name = "ledger"
    db = Database(metadata, migrations_dir=None, publishes=False)

    @inbox_handler("case.opened")
    def on_case_opened(self, uow, events):
        if not CAUSE["fixed"]:
            raise RuntimeError("the ledger's account is not configured")
        for event in events:
            uow.session.execute(insert(applied).values(case_id=event.data["case_id"]))


@pytest.fixture
def ledger(running_service):
    CAUSE["fixed"] = False
    return running_service(Ledger, PARCOURS_RETRY={"max_attempts": 1, "delay_ms": 10,
                                                   "max_delay_ms": 10})


def case_opened():
    case_id = str(uuid.uuid4())
    return build_envelope("intake", "case.opened", case_id, {
        "case_id": case_id, "siren": "732829320", "company_name": "Ateliers Durand",
        "channel": "web", "opened_at": datetime.now(timezone.utc)})


def applied_cases(ledger):
    engine = create_engine(ledger.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(select(applied.c.case_id)).scalars().all()
    finally:
        engine.dispose()


def dead(ledger):
    return ledger.get("/operations/dead-letters").json()["dead_letters"]


def test_a_dead_letter_sent_back_after_its_cause_is_fixed_is_applied_once(ledger):
    failed = case_opened()
    publish_raw(ledger.test_amqp_uri, "intake.events", "case.opened", failed)
    [letter] = wait_for(lambda: dead(ledger), what="the event to be dead-lettered")
    assert (letter["event_id"], letter["type"], letter["subject"]) == (
        failed["id"], "case.opened", failed["data"]["case_id"])
    assert "the ledger's account is not configured" in letter["reason"]
    [queue] = ledger.get("/operations/queues").json()["queues"]
    assert (queue["dead_letters"], queue["consumers"]) == (1, 1)

    refused = ledger.post("/operations/dead-letters/requeue", {})
    assert refused.status_code == 400  # say which
    CAUSE["fixed"] = True
    moved = ledger.post("/operations/dead-letters/requeue", {"event_ids": [failed["id"]]})
    assert moved.status_code == 200, moved.text
    assert ([m["event_id"] for m in moved.json()["moved"]], moved.json()["left"]) == (
        [failed["id"]], 0)
    wait_for(lambda: applied_cases(ledger) == [failed["data"]["case_id"]],
             what="the event sent back to be applied")
    # sent again by mistake: the inbox applies it once
    publish_raw(ledger.test_amqp_uri, "intake.events", "case.opened", failed)
    second = case_opened()
    publish_raw(ledger.test_amqp_uri, "intake.events", "case.opened", second)
    wait_for(lambda: len(applied_cases(ledger)) == 2, what="the next event")
    assert sorted(applied_cases(ledger)) == sorted([failed["data"]["case_id"],
                                                    second["data"]["case_id"]])
    assert dead(ledger) == []


def test_the_command_lists_and_discards_dead_letters(ledger, monkeypatch, capsys):
    poisons = [case_opened(), case_opened()]
    for poison in poisons:
        publish_raw(ledger.test_amqp_uri, "intake.events", "case.opened", poison)
    publish_raw(ledger.test_amqp_uri, "intake.events", "case.opened", {"not": "an event"})
    wait_for(lambda: len(dead(ledger)) == 3, what="three dead letters")
    monkeypatch.setenv("PARCOURS_INTAKE_URL", ledger.base)
    token = bearer("ledger", roles=["admin"])[len("Bearer "):]

    assert len(ledger.get("/operations/dead-letters", params={"limit": 2}).json()[
        "dead_letters"]) == 2
    assert ops_command.dead_letters(token, "list", services=("intake",)) == 0
    listed = capsys.readouterr().out
    assert "3 dead letters" in listed and poisons[0]["id"] in listed
    assert "the ledger's account is not configured" in listed
    assert ops_command.dead_letters(token, "show", services=("intake",),
                                    event_ids=[poisons[0]["id"]]) == 0
    shown = capsys.readouterr().out  # the one chosen, each field on its line
    assert "1 dead letters" in shown and "subject    " + poisons[0]["data"]["case_id"] in shown
    assert ops_command.dead_letters(token, "discard", services=("intake",),
                                    event_ids=[poisons[1]["id"]], as_json=True) == 0
    assert [d["event_id"] for d in ops_command_json(capsys)["discarded"]] == [poisons[1]["id"]]
    left = dead(ledger)
    assert sorted(str(d["event_id"]) for d in left) == sorted([poisons[0]["id"], "None"])
    not_an_event = next(d for d in left if d["event_id"] is None)
    assert (not_an_event["type"], not_an_event["attempts"]) == (None, 0)
    assert not_an_event["reason"] != "no reason recorded"

    assert ops_command.status(token, services=("intake",), as_json=True) == 0
    [service] = ops_command_json(capsys)["services"]
    assert service["health"] == "ok" and service["queues"][0]["dead_letters"] == 2
    monkeypatch.setenv("PARCOURS_DIAGNOSTIC_URL", "http://127.0.0.1:9")
    assert ops_command.status(token, services=("diagnostic",)) == 1
    assert "diagnostic did not answer" in capsys.readouterr().out
    assert ledger.anonymous().get("/operations/dead-letters").status_code == 401


def ops_command_json(capsys):
    import json
    return json.loads(capsys.readouterr().out)

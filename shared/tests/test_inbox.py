"""The inbox entrypoint against the real broker: apply once, retry, dead-letter, keep flowing.

The handler here is deliberately not idempotent (it appends a row per call), so only the inbox
stands between a redelivery and a double count.
"""
import uuid
from datetime import datetime, timezone

import eventlet
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import OperationalError

from eventlet.event import Event as GreenEvent

from parcours_shared.contracts import ContractViolation, build_envelope, parse_envelope
from parcours_shared.db import Database, DatabaseAccess
from parcours_shared.inbox import InboxConsumer, dead_letter_queue_name, inbox_handler, inbox_table
from parcours_shared.metrics import BATCH_EVENTS, EVENTS_CONSUMED
from parcours_testing import BrokerLink, publish_raw, queue_depth, queue_messages, wait_for

metadata = MetaData()
inbox_table(metadata)
applied = Table("applied", metadata,
                Column("n", Integer, primary_key=True, autoincrement=True),
                Column("case_id", String(36), nullable=False))

QUEUE = "evt-intake-case.opened--listener.on_case_opened"


DATABASE_OUTAGE = {"failures_left": 0}
IN_FLIGHT = {"entered": 0, "gate": None}


def count_firm(uow, event):
    if event.data["company_name"] == "IN FLIGHT":
        IN_FLIGHT["entered"] += 1
        IN_FLIGHT["gate"].wait()  # held here until the test has cut the connection
    if event.data["company_name"] == "POISON":
        raise RuntimeError("cannot apply this firm")
    if event.data["company_name"] == "DURING OUTAGE" and DATABASE_OUTAGE["failures_left"] > 0:
        DATABASE_OUTAGE["failures_left"] -= 1
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))
    uow.session.execute(insert(applied).values(case_id=event.data["case_id"]))


class Listener:
    name = "listener"
    db = Database(metadata, migrations_dir=None, publishes=False)

    @inbox_handler("case.opened")
    def on_case_opened(self, uow, events):
        for event in events:
            count_firm(uow, event)


def count_firms(uow, events):
    for event in events:
        count_firm(uow, event)


def apply_once(listener, events, handler=count_firms):
    """What the entrypoint does with a batch: claim and apply it in the service's group commit."""
    return listener.db.group_commit.apply(listener.db, events, handler)


def case_opened(company_name="Ateliers Durand"):
    case_id = str(uuid.uuid4())
    return build_envelope("intake", "case.opened", case_id, {
        "case_id": case_id, "siren": "732829320", "company_name": company_name,
        "channel": "web", "opened_at": datetime.now(timezone.utc)})


@pytest.fixture
def listener(container_factory, service_config):
    return start_listener(container_factory, service_config("listener"))


def start_listener(container_factory, config):
    container = container_factory(Listener, config)
    container.start()
    dependency = next(d for d in container.dependencies if isinstance(d, Database))

    def rows_for(case_id):
        with dependency.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(applied)
                                      .where(applied.c.case_id == case_id)).scalar_one()

    def publish(body, content_type="application/json"):
        publish_raw(config["AMQP_URI"], "intake.events", "case.opened", body, content_type)

    container.rows_for, container.publish, container.amqp_uri = rows_for, publish, config["AMQP_URI"]
    container.db = DatabaseAccess(dependency)
    return container


def consumed(outcome):
    return EVENTS_CONSUMED.labels("listener", "case.opened", outcome)._value.get()


def test_a_redelivered_event_is_applied_once(listener):
    duplicates_before = consumed("duplicate")
    event = case_opened()
    for _ in range(3):
        listener.publish(event)

    wait_for(lambda: consumed("duplicate") - duplicates_before == 2, what="two duplicates seen")
    assert listener.rows_for(event["data"]["case_id"]) == 1


def test_a_poison_message_is_retried_then_dead_lettered_and_the_queue_keeps_flowing(listener):
    poison, good = case_opened("POISON"), case_opened()
    listener.publish(poison)
    listener.publish(good)

    wait_for(lambda: listener.rows_for(good["data"]["case_id"]) == 1, what="the good event applied")
    dlq = dead_letter_queue_name(QUEUE)
    wait_for(lambda: queue_depth(listener.amqp_uri, dlq) == 1, what="the poison dead-lettered")
    [(body, headers)] = queue_messages(listener.amqp_uri, dlq)
    assert body["id"] == poison["id"]
    assert headers["x-parcours-attempts"] == 3
    assert "cannot apply this firm" in headers["x-parcours-error"]
    assert headers["x-parcours-queue"] == QUEUE
    assert listener.rows_for(poison["data"]["case_id"]) == 0


def test_a_batch_applies_each_new_event_once_and_isolates_the_one_that_fails(listener):
    first, poison, second = case_opened(), case_opened("POISON"), case_opened()
    apply_once(listener, [parse_envelope(first)])  # applied before
    batch = [parse_envelope(envelope) for envelope in (first, poison, second, second)]

    outcomes = apply_once(listener, batch)

    assert outcomes[0] is False  # applied before: a duplicate
    assert isinstance(outcomes[1], RuntimeError) and "cannot apply" in str(outcomes[1])
    assert outcomes[2:] == [True, False]  # the second copy in the same batch is a duplicate
    assert [listener.rows_for(envelope["data"]["case_id"])
            for envelope in (first, poison, second)] == [1, 0, 1]


def hand_in(listener, transactions, name, *envelopes):
    """A queue's batch handed in from its own green thread; its handler notes its transaction."""
    def handler(uow, events):
        transactions[name] = uow  # kept, so that no later transaction can reuse its id
        for event in events:
            count_firm(uow, event)

    events = [parse_envelope(envelope) for envelope in envelopes]
    return eventlet.spawn(apply_once, listener, events, handler)


def wait_until_waiting(listener, batches):
    wait_for(lambda: len(listener.db.group_commit._waiting) == batches,
             what="{} batches waiting behind the transaction under way".format(batches))


def hold_a_transaction(listener, transactions):
    IN_FLIGHT.update(entered=0, gate=GreenEvent())
    first = hand_in(listener, transactions, "first", case_opened("IN FLIGHT"))
    wait_for(lambda: IN_FLIGHT["entered"] == 1, what="the first transaction under way")
    return first


def test_batches_that_wait_for_a_transaction_commit_together_in_the_next(listener):
    transactions = {}
    first = hold_a_transaction(listener, transactions)
    waiting = [hand_in(listener, transactions, name, case_opened())
               for name in ("second", "third")]
    wait_until_waiting(listener, 2)  # both batches handed in behind the first
    IN_FLIGHT["gate"].send()

    assert [first.wait()] + [batch.wait() for batch in waiting] == [[True]] * 3
    assert transactions["second"] is transactions["third"]
    assert transactions["second"] is not transactions["first"]


def test_queues_sharing_a_handler_reach_it_in_one_call_per_transaction(listener):
    calls = []

    def shared_handler(uow, events):
        calls.append([event.id for event in events])
        for event in events:
            count_firm(uow, event)

    first = hold_a_transaction(listener, {})
    envelopes = [case_opened(), case_opened()]
    waiting = [eventlet.spawn(apply_once, listener, [parse_envelope(envelope)], shared_handler)
               for envelope in envelopes]
    wait_until_waiting(listener, 2)
    IN_FLIGHT["gate"].send()

    assert first.wait() == [True] and [batch.wait() for batch in waiting] == [[True], [True]]
    assert calls == [[envelope["id"] for envelope in envelopes]]


def test_a_batch_that_fails_in_a_group_commit_does_not_fail_the_others(listener):
    transactions = {}
    first = hold_a_transaction(listener, transactions)
    goods, poison = [case_opened(), case_opened()], case_opened("POISON")
    second = hand_in(listener, transactions, "second", *goods)
    third = hand_in(listener, transactions, "third", poison, case_opened())
    wait_until_waiting(listener, 2)
    IN_FLIGHT["gate"].send()

    assert first.wait() == [True]
    assert second.wait() == [True, True]
    poison_outcome, good_outcome = third.wait()
    assert isinstance(poison_outcome, RuntimeError) and good_outcome is True
    assert all(listener.rows_for(good["data"]["case_id"]) == 1 for good in goods)
    assert listener.rows_for(poison["data"]["case_id"]) == 0


def test_events_that_arrive_during_a_batch_are_applied_together_in_the_next(listener):
    """The second batch holds everything received while the first was held in its handler,
    and the poison message among them is dead-lettered alone."""
    IN_FLIGHT.update(entered=0, gate=GreenEvent())
    big_batches_before = _batches_of_more_than(20)
    holder = case_opened("IN FLIGHT")
    listener.publish(holder)
    wait_for(lambda: IN_FLIGHT["entered"] == 1, what="the first batch in its handler")

    goods = [case_opened() for _ in range(30)]
    poison = case_opened("POISON")
    for envelope in goods[:15] + [poison] + goods[15:]:
        listener.publish(envelope)
    [entrypoint] = [e for e in listener.entrypoints if e.method_name == "on_case_opened"]
    wait_for(lambda: entrypoint._waiting.qsize() == 31, what="31 events waiting for a batch")
    IN_FLIGHT["gate"].send()

    wait_for(lambda: all(listener.rows_for(g["data"]["case_id"]) == 1 for g in goods),
             what="the 30 good events applied")
    assert _batches_of_more_than(20) == big_batches_before + 1  # the 31, in one batch
    assert listener.rows_for(holder["data"]["case_id"]) == 1
    wait_for(lambda: queue_depth(listener.amqp_uri, dead_letter_queue_name(QUEUE)) == 1,
             what="the poison dead-lettered")
    [(body, _)] = queue_messages(listener.amqp_uri, dead_letter_queue_name(QUEUE))
    assert body["id"] == poison["id"]


def test_a_batch_is_acked_in_one_and_an_invalid_message_in_it_holds_back_no_ack(listener):
    """The messages of a batch are acked with one multiple ack. An invalid message among them
    is acked once its dead-letter copy is confirmed, and the acks after it wait for it. In the
    end nothing stays unacked and no ack erred (an ack of an unknown delivery would close the
    channel and bring duplicates)."""
    IN_FLIGHT.update(entered=0, gate=GreenEvent())
    duplicates_before = consumed("duplicate")
    [entrypoint] = [e for e in listener.entrypoints if e.method_name == "on_case_opened"]
    acks = []
    channel = entrypoint.ack_window.channel
    send_ack = channel.basic_ack
    channel.basic_ack = lambda *args, **kwargs: (acks.append(args), send_ack(*args, **kwargs))
    holder = case_opened("IN FLIGHT")
    listener.publish(holder)
    wait_for(lambda: IN_FLIGHT["entered"] == 1, what="the first batch in its handler")

    goods = [case_opened() for _ in range(20)]
    for envelope in goods[:10]:
        listener.publish(envelope)
    listener.publish(b"not json", content_type="application/json")
    for envelope in goods[10:]:
        listener.publish(envelope)
    wait_for(lambda: entrypoint._waiting.qsize() == 20, what="20 events waiting for a batch")
    IN_FLIGHT["gate"].send()

    wait_for(lambda: all(listener.rows_for(g["data"]["case_id"]) == 1 for g in goods),
             what="the 20 good events applied")
    wait_for(lambda: queue_depth(listener.amqp_uri, dead_letter_queue_name(QUEUE)) == 1,
             what="the invalid message dead-lettered")
    wait_for(lambda: not entrypoint.ack_window._delivered, what="every delivery acked")
    assert 2 <= len(acks) <= 3  # the holder's batch; the 20 and the invalid one, in one or two
    listener.stop()  # anything left unacked would go back to the queue now
    assert queue_depth(listener.amqp_uri, QUEUE) == 0
    assert consumed("duplicate") == duplicates_before


def _batches_of_more_than(size):
    samples = [sample for metric in BATCH_EVENTS.collect() for sample in metric.samples
               if sample.labels.get("service") == "listener"]
    count = next(s.value for s in samples if s.name.endswith("_count"))
    at_most = next(s.value for s in samples
                   if s.name.endswith("_bucket") and float(s.labels["le"]) == size)
    return count - at_most


class ListenerWithoutInbox:
    """A service whose database has no inbox table: it cannot apply events once."""
    name = "without_inbox"
    db = Database(MetaData(), migrations_dir=None, publishes=False)

    @inbox_handler("case.opened")
    def on_case_opened(self, uow, events):
        pass  # never reached


def test_an_inbox_handler_without_the_inbox_table_refuses_to_start(
        container_factory, service_config):
    container = container_factory(ListenerWithoutInbox, service_config("without_inbox"))
    with pytest.raises(RuntimeError, match="no Database whose metadata has the inbox table"):
        container.start()


def test_a_handler_never_sees_an_event_it_has_applied(listener):
    """The entrypoint claims before it calls: a redelivered copy does not reach the method."""
    seen = []
    event = parse_envelope(case_opened())
    for _ in range(3):
        apply_once(listener, [event], lambda uow, events: seen.extend(events))
    assert [e.id for e in seen] == [event.id]


def test_an_unknown_event_type_fails_when_the_service_is_defined():
    with pytest.raises(ContractViolation, match="unknown event type 'case.reopened'"):
        inbox_handler("case.reopened")(lambda self, uow, events: None)


def test_invalid_messages_go_straight_to_the_dead_letter_queue_with_the_reason(listener):
    broken = case_opened()
    del broken["data"]["siren"]
    listener.publish(b"\x00 not json at all", content_type="application/json")
    listener.publish(broken)
    listener.publish(b"plain words", content_type="text/plain")
    good = case_opened()
    listener.publish(good)

    wait_for(lambda: listener.rows_for(good["data"]["case_id"]) == 1, what="the good event applied")
    dlq = dead_letter_queue_name(QUEUE)
    wait_for(lambda: queue_depth(listener.amqp_uri, dlq) == 3, what="three messages dead-lettered")
    dead = queue_messages(listener.amqp_uri, dlq)
    reasons = [headers["x-parcours-error"] for _, headers in dead]
    assert any("not valid JSON" in reason for reason in reasons)
    assert any("siren" in reason and "Missing data" in reason for reason in reasons)
    assert any("unsupported content type 'text/plain'" in reason for reason in reasons)
    # never handed to the handler, so never retried
    assert [headers["x-parcours-attempts"] for _, headers in dead] == [0, 0, 0]


def test_a_database_outage_longer_than_the_retry_budget_dead_letters_nothing(listener):
    """Regression (fault suite): infrastructure errors used to consume attempts, so an outage
    longer than the retry budget dead-lettered good events."""
    DATABASE_OUTAGE["failures_left"] = 6  # twice max_attempts
    event = case_opened("DURING OUTAGE")
    listener.publish(event)

    wait_for(lambda: listener.rows_for(event["data"]["case_id"]) == 1,
             what="the event applied once the database is back")
    assert DATABASE_OUTAGE["failures_left"] == 0
    assert queue_depth(listener.amqp_uri, dead_letter_queue_name(QUEUE)) == 0


def test_an_ack_on_a_reset_socket_is_dropped_for_the_broker_to_redeliver(caplog):
    """Regression (fault suite, broker restart): a worker acked on a connection whose socket the
    restart had reset, before the consumer thread noticed; nameko 2.14 does not catch
    ConnectionResetError there, the worker failed and the whole container died."""
    class ChannelStillLooksOpen:
        connection = object()

    class MessageOnAResetSocket:
        channel = ChannelStillLooksOpen()

        def ack(self):
            raise ConnectionResetError(104, "Connection reset by peer")

        def requeue(self):
            raise BrokenPipeError(32, "Broken pipe")

    consumer = InboxConsumer()
    consumer.ack_message(MessageOnAResetSocket())      # logged, not raised
    consumer.requeue_message(MessageOnAResetSocket())
    lost = [r.getMessage() for r in caplog.records if "the connection is gone" in r.getMessage()]
    assert len(lost) == 2
    assert lost[0].startswith("could not ack") and lost[1].startswith("could not requeue")


def test_a_connection_lost_while_a_handler_runs_neither_kills_the_service_nor_counts_twice(
        container_factory, service_config, rabbit_config):
    """The handler commits after the connection is gone: its message comes back once the
    service has reconnected, and the inbox discards the copy."""
    link = BrokerLink(rabbit_config["AMQP_URI"])
    try:
        listener = start_listener(container_factory,
                                  service_config("listener", AMQP_URI=link.amqp_uri))
        IN_FLIGHT.update(entered=0, gate=GreenEvent())
        duplicates_before = consumed("duplicate")
        event = case_opened("IN FLIGHT")
        publish_raw(rabbit_config["AMQP_URI"], "intake.events", "case.opened", event)

        wait_for(lambda: IN_FLIGHT["entered"] == 1, what="the handler in flight")
        link.cut()
        IN_FLIGHT["gate"].send()  # the handler commits; its ack meets a dead connection
        link.restore()

        wait_for(lambda: consumed("duplicate") > duplicates_before,
                 what="the redelivered copy discarded by the inbox")
        assert not listener._died.ready(), "the service died"
        assert listener.rows_for(event["data"]["case_id"]) == 1
    finally:
        link.close()


def test_an_event_of_another_type_put_in_the_queue_is_dead_lettered(listener):
    """Through the default exchange, any publisher can put a message in any queue: the queue
    takes its own event type only."""
    other = build_envelope("diagnostic", "diagnostic.scheduled", "c1", {
        "diagnostic_id": "d1", "case_id": "c1", "scheduled_at": datetime.now(timezone.utc)})
    publish_raw(listener.amqp_uri, "", QUEUE, other)
    dlq = dead_letter_queue_name(QUEUE)
    wait_for(lambda: queue_depth(listener.amqp_uri, dlq) == 1, what="the stray event dead-lettered")
    [(body, headers)] = queue_messages(listener.amqp_uri, dlq)
    assert body["id"] == other["id"]
    assert "diagnostic.scheduled is not for this queue: it takes case.opened only" in headers[
        "x-parcours-error"]

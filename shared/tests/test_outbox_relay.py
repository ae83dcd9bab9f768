"""The outbox relay against the real broker and database: nothing lost, nothing counted twice.

On PostgreSQL the relay pipelines its batches (the next batch is locked while one is published,
the previous one marked sent meanwhile); these tests check that it still marks a row sent only
once the broker has acked it, releases every row it could not confirm, and shares an outbox
with another relay without publishing a row twice.
"""
import json
import uuid

import eventlet
import pytest
from kombu import Connection
from sqlalchemy import MetaData, func, insert, select

from parcours_shared.contracts import utc_now
from parcours_shared.outbox import outbox_table
from parcours_shared.metrics import RELAY_ERRORS
from parcours_shared.outbox import ConfirmTimeout, OutboxRelay
from parcours_testing import BrokerLink, queue_messages, wait_for

metadata = MetaData()
outbox = outbox_table(metadata)

EXCHANGE = "relaytest.events"
QUEUE = "relaytest.all-events"


@pytest.fixture
def engine(engine_with_tables):
    return engine_with_tables(metadata, "relaytest")


@pytest.fixture
def amqp_uri(rabbit_config):
    """The test's vhost, with a queue bound to every event of the exchange the rows go to."""
    uri = rabbit_config["AMQP_URI"]
    with Connection(uri) as connection:
        channel = connection.channel()
        channel.exchange_declare(EXCHANGE, "topic", durable=True, auto_delete=False)
        channel.queue_declare(QUEUE, durable=True, auto_delete=False)
        channel.queue_bind(QUEUE, EXCHANGE, "#")
    return uri


def fill_outbox(engine, count):
    """``count`` committed events; returns their ids in outbox order."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with engine.begin() as connection:
        connection.execute(insert(outbox), [
            {"event_id": event_id, "exchange": EXCHANGE, "routing_key": "thing.happened",
             "body": json.dumps({"id": event_id}), "created_at": utc_now()}
            for event_id in ids])
    return ids


def unsent_ids(engine):
    with engine.connect() as connection:
        return set(connection.execute(select(outbox.c.event_id)
                                      .where(outbox.c.published_at.is_(None))).scalars())


def unsent_count(engine):
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(outbox)
                                  .where(outbox.c.published_at.is_(None))).scalar_one()


def ids_in_queue(amqp_uri):
    return [body["id"] for body, _headers in queue_messages(amqp_uri, QUEUE)]


def assert_nothing_locked(engine):
    """Every unsent row can be taken by another relay at once (PostgreSQL's row locks)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        lockable = connection.execute(
            select(func.count()).select_from(
                select(outbox.c.seq).where(outbox.c.published_at.is_(None))
                .with_for_update(skip_locked=True).subquery())).scalar_one()
    assert lockable == unsent_count(engine)


class AcksLostAfter(OutboxRelay):
    """The broker's acks stop reaching the relay after the ``last_acked``-th message (of the
    relay's channel): the broker got every message, the relay never hears of the later ones."""

    def __init__(self, *args, last_acked, **kwargs):
        super().__init__(*args, **kwargs)
        self.last_acked = last_acked

    def _settle(self, delivery_tag, multiple, acked):
        if delivery_tag > self.last_acked:
            if not multiple:
                return
            delivery_tag = self.last_acked
        super()._settle(delivery_tag, multiple, acked)


class NackedFrom(OutboxRelay):
    """The broker refuses messages from the ``first_nacked``-th on (a nack instead of an ack)."""

    def __init__(self, *args, first_nacked, **kwargs):
        super().__init__(*args, **kwargs)
        self.first_nacked = first_nacked

    def _settle(self, delivery_tag, multiple, acked):
        if multiple and delivery_tag >= self.first_nacked:
            super()._settle(self.first_nacked - 1, True, True)
        super()._settle(delivery_tag, multiple, acked and delivery_tag < self.first_nacked)


def test_rows_whose_confirm_never_came_stay_unsent_and_free(engine, amqp_uri):
    ids = fill_outbox(engine, 450)
    relay = AcksLostAfter("relaytest", engine, outbox, amqp_uri, batch_size=100,
                          confirm_timeout=1.0, last_acked=250)
    try:
        with pytest.raises(ConfirmTimeout):
            relay.relay_pending()
    finally:
        relay._disconnect()

    # the first two batches were confirmed in full; the third only in part: none of it counts
    assert unsent_ids(engine) == set(ids[200:])
    assert_nothing_locked(engine)

    retry = OutboxRelay("relaytest", engine, outbox, amqp_uri, batch_size=100)
    try:
        assert retry.relay_pending() == 250
    finally:
        retry._disconnect()
    assert unsent_count(engine) == 0
    arrived = ids_in_queue(amqp_uri)
    assert set(arrived) == set(ids)
    assert all(arrived.count(event_id) == 1 for event_id in ids[:200])  # confirmed: sent once


def test_refused_rows_stay_unsent_and_the_acked_ones_are_marked_sent(engine, amqp_uri):
    ids = fill_outbox(engine, 300)
    relay = NackedFrom("relaytest", engine, outbox, amqp_uri, batch_size=100, first_nacked=151)
    try:
        with pytest.raises(RuntimeError, match="broker refused 50 event"):
            relay.relay_pending()
    finally:
        relay._disconnect()

    # the second batch is marked sent in part; the third was published, then released
    assert unsent_ids(engine) == set(ids[150:])
    assert_nothing_locked(engine)


def test_a_connection_lost_mid_pipeline_loses_nothing(engine, amqp_uri):
    ids = fill_outbox(engine, 3000)
    link = BrokerLink(amqp_uri)
    relay = OutboxRelay("relaytest", engine, outbox, link.amqp_uri, batch_size=100,
                        idle_interval=0.2, max_backoff=0.5)
    errors_before = RELAY_ERRORS.labels("relaytest")._value.get()
    running = eventlet.spawn(relay.run)
    try:
        wait_for(lambda: unsent_count(engine) < 2500, what="the relay under way")
        link.cut()
        wait_for(lambda: RELAY_ERRORS.labels("relaytest")._value.get() > errors_before,
                 what="the relay to fail")
        assert_nothing_locked(engine)
        link.restore()
        wait_for(lambda: unsent_count(engine) == 0, what="every row sent")
    finally:
        relay.stop()
        running.wait()
        link.close()
    assert set(ids_in_queue(amqp_uri)) == set(ids)


def test_two_relays_sharing_an_outbox_publish_every_row_once(engine, amqp_uri):
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas share an outbox on PostgreSQL only (row locks)")
    ids = fill_outbox(engine, 3000)
    relays = [OutboxRelay("relaytest", engine, outbox, amqp_uri, batch_size=100)
              for _ in range(2)]
    try:
        running = [eventlet.spawn(relay.relay_pending) for relay in relays]
        sent = [thread.wait() for thread in running]
    finally:
        for relay in relays:
            relay._disconnect()

    assert sum(sent) == len(ids)
    assert all(sent), "both relays took a share: {}".format(sent)
    assert unsent_count(engine) == 0
    arrived = ids_in_queue(amqp_uri)
    assert len(arrived) == len(ids)
    assert set(arrived) == set(ids)

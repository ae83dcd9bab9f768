"""The outbox relay: publishes committed outbox rows and marks them sent once the broker confirms.

A batch is published on one channel in confirm mode and the relay then waits for the broker's
acks of the whole batch (a confirm per message costs ten times the throughput). Only acked rows
are marked sent; a nack, a timeout or a lost connection leaves rows unsent, to be published again
(consumers are idempotent, so a copy is harmless; a loss would not be).
"""
import logging
import socket
import threading
import time

import amqp
from kombu import Connection
from sqlalchemy import Integer, any_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql

from .contracts import utc_now
from .metrics import EVENTS_PUBLISHED, OUTBOX_PENDING, RELAY_ERRORS

log = logging.getLogger(__name__)


class ConfirmTimeout(Exception):
    pass


class OutboxRelay:
    def __init__(self, service_name, engine, outbox, amqp_uri, batch_size=500,
                 confirm_timeout=10.0, idle_interval=1.0, max_backoff=10.0):
        self.service_name = service_name
        self.engine = engine
        self.outbox = outbox
        self.amqp_uri = amqp_uri
        self.batch_size = batch_size
        self.confirm_timeout = confirm_timeout
        self.idle_interval = idle_interval
        self.max_backoff = max_backoff
        # PostgreSQL lets several relays (replicas) share an outbox: each locks the rows it sends.
        self._lock_rows = engine.dialect.name == "postgresql"
        self._wakeup = threading.Event()
        self._stopping = False
        self._connection = None
        self._channel = None
        self._declared = set()
        self._next_tag = 0
        self._outstanding = {}   # delivery tag -> outbox seq, for the batch in flight
        self._acked = []
        self._nacked = 0

    # --- lifecycle -----------------------------------------------------------------------------

    def wake(self):
        """Called after a commit that added outbox rows: publish now rather than at the next poll."""
        self._wakeup.set()

    def stop(self):
        self._stopping = True
        self._wakeup.set()

    def run(self):
        failures = 0
        while not self._stopping:
            self._wakeup.clear()
            try:
                sent = self.relay_batch()
                failures = 0
            except Exception as exc:  # broker or database unreachable: back off, keep the rows
                failures += 1
                RELAY_ERRORS.labels(self.service_name).inc()
                self._disconnect()
                delay = min(self.max_backoff, 0.25 * 2 ** min(failures, 6))
                log.warning("%s outbox relay: %s; retrying in %.1fs (events stay in the outbox)",
                            self.service_name, exc, delay)
                self._wakeup.wait(delay)
                continue
            if sent < self.batch_size:
                self._idle()
        self._disconnect()

    def _idle(self):
        try:
            OUTBOX_PENDING.labels(self.service_name).set(self.pending_count())
            if self._connection is not None:
                self._connection.heartbeat_check()
        except Exception as exc:
            log.info("%s outbox relay idle check failed: %s", self.service_name, exc)
            self._disconnect()
        self._wakeup.wait(self.idle_interval)

    def pending_count(self):
        with self.engine.connect() as connection:
            return connection.execute(
                select(func.count()).select_from(self.outbox)
                .where(self.outbox.c.published_at.is_(None))).scalar_one()

    # --- one batch -----------------------------------------------------------------------------

    def relay_batch(self):
        """Publish up to ``batch_size`` unsent rows; return how many were confirmed."""
        query = (select(self.outbox.c.seq, self.outbox.c.event_id, self.outbox.c.exchange,
                        self.outbox.c.routing_key, self.outbox.c.body)
                 .where(self.outbox.c.published_at.is_(None))
                 .order_by(self.outbox.c.seq)
                 .limit(self.batch_size))
        if self._lock_rows:
            with self.engine.begin() as connection:
                rows = connection.execute(query.with_for_update(skip_locked=True)).all()
                confirmed = self._publish(rows)
                self._mark_sent(connection, confirmed)
        else:
            # SQLite: never hold the (single) connection while waiting on the broker.
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
            confirmed = self._publish(rows)
            with self.engine.begin() as connection:
                self._mark_sent(connection, confirmed)
        for row in rows:
            if row.seq in confirmed:
                EVENTS_PUBLISHED.labels(self.service_name, row.routing_key).inc()
        if self._nacked:
            raise RuntimeError("broker refused {} event(s)".format(self._nacked))
        return len(confirmed)

    def _mark_sent(self, connection, seqs):
        if not seqs:
            return
        if self._lock_rows:
            # one array parameter rather than an IN list of up to batch_size parameters
            sent = self.outbox.c.seq == any_(bindparam("seqs", value=sorted(seqs),
                                                       type_=postgresql.ARRAY(Integer)))
        else:
            sent = self.outbox.c.seq.in_(seqs)
        connection.execute(update(self.outbox).where(sent).values(published_at=utc_now()))

    def _publish(self, rows):
        if not rows:
            return set()
        channel = self._ensure_channel()
        self._outstanding = {}
        self._acked = []
        self._nacked = 0
        for row in rows:
            self._declare_exchange(channel, row.exchange)
            message = amqp.Message(
                row.body,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=row.event_id,
                type=row.routing_key,  # the routing key is the event type
                app_id=self.service_name,
                timestamp=int(time.time()),
            )
            self._next_tag += 1
            self._outstanding[self._next_tag] = row.seq
            channel.basic_publish(message, exchange=row.exchange, routing_key=row.routing_key)
        self._wait_for_confirms()
        return set(self._acked)

    def _wait_for_confirms(self):
        deadline = time.monotonic() + self.confirm_timeout
        while self._outstanding:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConfirmTimeout("{} event(s) not confirmed within {}s".format(
                    len(self._outstanding), self.confirm_timeout))
            try:
                self._connection.drain_events(timeout=remaining)
            except socket.timeout:
                continue

    def _settle(self, delivery_tag, multiple, acked):
        tags = [t for t in self._outstanding if t <= delivery_tag] if multiple else [delivery_tag]
        for tag in tags:
            seq = self._outstanding.pop(tag, None)
            if seq is None:
                continue
            if acked:
                self._acked.append(seq)
            else:
                self._nacked += 1

    # --- connection ----------------------------------------------------------------------------

    def _ensure_channel(self):
        if self._channel is None:
            self._connection = Connection(self.amqp_uri, heartbeat=30, connect_timeout=5)
            self._connection.ensure_connection(max_retries=1)
            channel = self._connection.channel()
            channel.confirm_select()
            channel.events["basic_ack"].add(lambda tag, multiple: self._settle(tag, multiple, True))
            channel.events["basic_nack"].add(
                lambda tag, multiple: self._settle(tag, multiple, False))
            self._channel = channel
            self._next_tag = 0
            self._declared = set()
        return self._channel

    def _declare_exchange(self, channel, exchange):
        if exchange not in self._declared:
            channel.exchange_declare(exchange=exchange, type="topic", durable=True,
                                     auto_delete=False)
            self._declared.add(exchange)

    def _disconnect(self):
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # already broken: nothing to release
                pass

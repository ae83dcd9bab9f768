"""The outbox relay: publishes committed outbox rows and marks them sent once the broker confirms.

Rows go out in batches on one channel in confirm mode (a confirm per message costs ten times the
throughput). Only acked rows are marked sent; a nack, a timeout or a lost connection leaves rows
unsent, to be published again (consumers are idempotent, so a copy is harmless; a loss would not
be).

On PostgreSQL several relays (replicas) can share one outbox: a batch is taken with
``SELECT ... FOR UPDATE SKIP LOCKED`` in a transaction of its own, and its rows stay locked until
that transaction marks them sent (commit) or lets them go (rollback). With a backlog the batches
are pipelined: batch N+1 is locked on another connection while batch N is published, and batch
N is marked sent while the broker takes batch N+1, so that database and broker times overlap
instead of adding up. SQLite (one pooled connection, one writer) takes its batches one at a time
and never holds its connection while waiting on the broker.
"""
import logging
import socket
import threading
import time
from collections import Counter

import eventlet
from kombu import Connection
from sqlalchemy import (
    Column, DateTime, Index, Integer, MetaData, String, Table, Text, any_, bindparam, func, select,
    text, update,
)
from sqlalchemy.dialects import postgresql

from .contracts import utc_now
from .domain import as_utc
from .metrics import EVENTS_PUBLISHED, OUTBOX_OLDEST_SECONDS, OUTBOX_PENDING, RELAY_ERRORS
from .publish_frames import PublishFrames

log = logging.getLogger(__name__)

YIELD_EVERY = 100  # messages published between two turns of the eventlet hub


def outbox_table(metadata: MetaData) -> Table:
    """Events committed with the state change that caused them, waiting for the relay."""
    table = Table(
        "outbox", metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("exchange", String(100), nullable=False),
        Column("routing_key", String(100), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
    )
    # The relay only ever looks for unsent rows: keep that index small.
    Index("ix_outbox_unsent", table.c.seq,
          postgresql_where=table.c.published_at.is_(None),
          sqlite_where=table.c.published_at.is_(None))
    return table


class ConfirmTimeout(Exception):
    pass


class Batch:
    """Outbox rows published together. On PostgreSQL ``connection`` is the open transaction that
    locks them; on SQLite it is None (nothing is held while the broker is waited on)."""

    def __init__(self, rows, connection=None):
        self.rows = rows
        self.connection = connection
        self.last_tag = None  # delivery tag of its last message, once published

    def release(self):
        """Roll back: the rows are unlocked, unsent, for this relay or another to publish."""
        if self.connection is None:
            return
        connection, self.connection = self.connection, None
        try:
            connection.close()
        except Exception as exc:  # the database is gone: its locks went with the session
            log.info("outbox relay: releasing a batch failed: %s", exc)


class InBackground:
    """A call running in a green thread of its own. ``wait()`` returns its result or raises its
    error in the caller, instead of letting the error reach the eventlet hub (which prints any
    error a green thread ends with, as if nobody handled it)."""

    def __init__(self, function, *args):
        self._thread = eventlet.spawn(self._outcome, function, args)

    @staticmethod
    def _outcome(function, args):
        try:
            return function(*args), None
        except Exception as exc:
            return None, exc

    def wait(self):
        result, error = self._thread.wait()
        if error is not None:
            raise error
        return result


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
        self._unsent_query = (
            select(outbox.c.seq, outbox.c.event_id, outbox.c.exchange, outbox.c.routing_key,
                   outbox.c.body)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.seq)
            .limit(batch_size))
        self._wakeup = threading.Event()
        self._pending_counted_at = float("-inf")
        self._stopping = False
        self._connection = None
        self._channel = None
        self._declared = set()
        self._next_tag = 0
        self._unconfirmed = {}   # delivery tag -> outbox seq, in tag order
        self._acked = set()      # seqs acked by the broker, not yet marked sent
        self._nacked = set()

    # --- lifecycle -----------------------------------------------------------------------------

    def wake(self):
        """Called after a commit that added outbox rows: publish now rather than at the next poll."""
        self._wakeup.set()

    def stop(self):
        self._stopping = True
        self._wakeup.set()

    def run(self):
        failures = 0
        try:
            while not self._stopping:
                self._wakeup.clear()
                try:
                    self.relay_pending()
                    failures = 0
                except Exception as exc:  # broker or database unreachable: back off, keep rows
                    failures += 1
                    RELAY_ERRORS.labels(self.service_name).inc()
                    self._disconnect()
                    delay = min(self.max_backoff, 0.25 * 2 ** min(failures, 6))
                    log.warning("%s outbox relay: %s; retrying in %.1fs (events stay in the "
                                "outbox)", self.service_name, exc, delay)
                    self._wakeup.wait(delay)
                    continue
                # relay_pending() returns once a batch comes back short: the outbox is drained
                # (or other replicas hold the rest)
                self._idle()
        finally:
            self._disconnect()

    def _idle(self):
        try:
            # At most once per idle interval: under a steady trickle the relay idles after
            # every few events, and counting each time was a sixteenth of intake's CPU.
            if time.monotonic() >= self._pending_counted_at + self.idle_interval:
                pending, oldest = self.pending_rows()
                OUTBOX_PENDING.labels(self.service_name).set(pending)
                OUTBOX_OLDEST_SECONDS.labels(self.service_name).set(
                    max(0.0, (utc_now() - as_utc(oldest)).total_seconds())
                    if oldest is not None else 0)
                self._pending_counted_at = time.monotonic()
            if self._connection is not None:
                self._connection.heartbeat_check()
        except Exception as exc:
            log.info("%s outbox relay idle check failed: %s", self.service_name, exc)
            self._disconnect()
        self._wakeup.wait(self.idle_interval)

    def pending_count(self):
        return self.pending_rows()[0]

    def pending_rows(self):
        """(how many rows wait for the broker, when the oldest of them was committed)."""
        with self.engine.connect() as connection:
            return tuple(connection.execute(
                select(func.count(), func.min(self.outbox.c.created_at))
                .where(self.outbox.c.published_at.is_(None))).one())

    # --- batches -------------------------------------------------------------------------------

    def relay_pending(self):
        """Publish unsent rows batch after batch until a batch comes back short of
        ``batch_size``; return how many were confirmed by the broker and marked sent."""
        self._unconfirmed.clear()
        self._acked.clear()
        self._nacked.clear()
        if self._lock_rows:
            return self._relay_locked_batches()
        return self._relay_batches_one_at_a_time()

    def _relay_batches_one_at_a_time(self):
        sent = 0
        while True:
            # SQLite: never hold the (single) connection while waiting on the broker.
            with self.engine.connect() as connection:
                batch = Batch(connection.execute(self._unsent_query).all())
            if not batch.rows:
                return sent
            self._publish(batch)
            self._wait_for_confirms(batch)
            with self.engine.begin() as connection:
                acked = self._mark_sent(connection, batch)
            sent += self._count_sent(batch, acked)
            if len(batch.rows) < self.batch_size or self._stopping:
                return sent

    def _relay_locked_batches(self):
        """The pipeline (PostgreSQL). While batch N is published, batch N+1 is being locked on
        another connection; once the broker has confirmed batch N-1, it is marked sent on its
        own connection while batch N+1 is published. This green thread only publishes and
        reads confirms; the database works meanwhile."""
        sent = 0
        batch = published = None   # being published; published before it, being confirmed
        locking = marking = None   # green threads: locking the next batch, marking one sent
        try:
            batch = self._lock_batch()
            while True:
                more = len(batch.rows) == self.batch_size and not self._stopping
                if more:
                    locking = InBackground(self._lock_batch)
                self._publish(batch)
                if published is not None:
                    self._wait_for_confirms(published)
                    if marking is not None:
                        sent += marking.wait()
                    # the marking thread owns the published batch (and its transaction) now
                    marking = InBackground(self._mark_sent_and_commit, published)
                    published = None
                published, batch = batch, None
                if not more:
                    break
                batch, locking = locking.wait(), None
            self._wait_for_confirms(published)
            last, published = published, None
            sent += self._mark_sent_and_commit(last)
            if marking is not None:
                sent += marking.wait()
            return sent
        except BaseException:
            self._let_go(batch, published, locking, marking)
            raise

    @staticmethod
    def _let_go(batch, published, locking, marking):
        """After an error, leave nothing locked: rows not marked sent are released unsent (some
        may have been confirmed already: they will go out again, a harmless copy)."""
        for held in (batch, published):
            if held is not None:
                held.release()
        if locking is not None:
            try:
                locking.wait().release()
            except Exception:  # it failed: nothing was locked
                pass
        if marking is not None:
            try:
                marking.wait()  # it commits or rolls back, then closes its connection
            except Exception:
                pass

    def _lock_batch(self):
        """Take the oldest unsent rows no other relay holds, in a transaction left open."""
        connection = self.engine.connect()
        try:
            # An outbox is a queue: its statistics are stale whenever a backlog builds up, and
            # the planner then sorts every unsent row (on disk) to lock the first batch_size;
            # the partial index on unsent rows already yields them in seq order.
            connection.execute(text("SET LOCAL enable_sort = off"))
            rows = connection.execute(
                self._unsent_query.with_for_update(skip_locked=True)).all()
        except BaseException:
            connection.close()
            raise
        return Batch(rows, connection)

    def _mark_sent_and_commit(self, batch):
        connection, batch.connection = batch.connection, None
        try:
            acked = self._mark_sent(connection, batch)
            connection.commit()
        finally:
            connection.close()
        return self._count_sent(batch, acked)

    def _mark_sent(self, connection, batch):
        """Mark the rows of ``batch`` the broker acked as sent (the caller commits); return
        them."""
        acked = [row for row in batch.rows if row.seq in self._acked]
        if acked:
            seqs = sorted(row.seq for row in acked)
            if self._lock_rows:
                # one array parameter rather than an IN list of up to batch_size parameters
                sent = self.outbox.c.seq == any_(bindparam("seqs", value=seqs,
                                                           type_=postgresql.ARRAY(Integer)))
            else:
                sent = self.outbox.c.seq.in_(seqs)
            connection.execute(update(self.outbox).where(sent).values(published_at=utc_now()))
            self._acked.difference_update(seqs)
        return acked

    def _count_sent(self, batch, acked):
        """Once the acked rows are committed as sent: count them, and raise if the broker
        refused any row of the batch (those stay unsent)."""
        for routing_key, count in Counter(row.routing_key for row in acked).items():
            EVENTS_PUBLISHED.labels(self.service_name, routing_key).inc(count)
        refused = sum(1 for row in batch.rows if row.seq in self._nacked)
        if refused:
            raise RuntimeError("broker refused {} event(s)".format(refused))
        return len(acked)

    # --- broker --------------------------------------------------------------------------------

    def _publish(self, batch):
        if not batch.rows:
            return
        channel = self._ensure_channel()
        amqp_connection = self._connection.connection
        # user_id: the broker checks it is the connection's user, so a consumer can tell who
        # really published (inbox.consumer.check_publisher)
        frames = PublishFrames(channel.channel_id, amqp_connection.frame_max,
                               content_type="application/json", content_encoding="utf-8",
                               delivery_mode=2, app_id=self.service_name,
                               user_id=self._connection.userid)
        timestamp = int(time.time())
        pending = []  # frames not written yet: a write per YIELD_EVERY messages, not per message

        def write_pending():
            if pending:
                amqp_connection.transport.write(b"".join(pending))
                amqp_connection.bytes_sent += 1  # what py-amqp counts for its heartbeats
                pending.clear()

        for count, row in enumerate(batch.rows, 1):
            if row.exchange not in self._declared:
                write_pending()
                self._declare_exchange(channel, row.exchange)
            # The routing key is the event type. Written straight to the socket, as
            # channel.basic_publish would, without the non-blocking read it makes before each
            # message (for connection.blocked notices): acks and notices are read while
            # waiting for confirms.
            pending.append(frames.message(row.exchange, row.routing_key,
                                          row.body.encode("utf-8"), row.event_id, timestamp,
                                          row.routing_key))
            self._next_tag += 1
            self._unconfirmed[self._next_tag] = row.seq
            if count % YIELD_EVERY == 0:
                write_pending()
                # Publishing alone never yields to the hub: let the pipeline's database work
                # (and the service's other green threads) move on meanwhile.
                eventlet.sleep(0)
        write_pending()
        batch.last_tag = self._next_tag

    def _wait_for_confirms(self, batch):
        """Wait until the broker has acked or nacked every message of ``batch`` (and so every
        message published before it)."""
        if batch.last_tag is None:
            return
        deadline = time.monotonic() + self.confirm_timeout
        while self._unconfirmed and next(iter(self._unconfirmed)) <= batch.last_tag:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                late = sum(1 for tag in self._unconfirmed if tag <= batch.last_tag)
                raise ConfirmTimeout("{} event(s) not confirmed within {}s".format(
                    late, self.confirm_timeout))
            try:
                self._connection.drain_events(timeout=remaining)
            except socket.timeout:
                continue

    def _settle(self, delivery_tag, multiple, acked):
        if multiple:
            tags = []
            for tag in self._unconfirmed:  # in tag order
                if tag > delivery_tag:
                    break
                tags.append(tag)
        else:
            tags = [delivery_tag]
        settled = self._acked if acked else self._nacked
        for tag in tags:
            seq = self._unconfirmed.pop(tag, None)
            if seq is not None:
                settled.add(seq)

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

"""The consumer's once-only machinery: each event applied once per service, several queues'
batches in one transaction.

The inbox table keeps the (source, id) of every event the service applied. A batch's events are
claimed in it in the same transaction as the handler's writes: the claim of an event applied
before inserts nothing, so the handler never sees it again, and a crash before the commit
undoes both.
"""
import logging

from eventlet.event import Event as GreenEvent
from eventlet.semaphore import Semaphore
from sqlalchemy import Column, DateTime, MetaData, String, Table

from ..contracts import utc_now
from ..engine import DATABASE_UNAVAILABLE
from ..sql import insert_new_rows

log = logging.getLogger(__name__)


def inbox_table(metadata: MetaData) -> Table:
    """Ids of the events this service has applied; CloudEvents makes (source, id) unique."""
    return Table(
        "inbox", metadata,
        Column("source", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("applied_at", DateTime(timezone=True), nullable=False),
    )


class _Batch:
    """A queue's batch waiting for a group commit, and then its outcomes."""

    def __init__(self, events, handler, key):
        self.events = events
        self.handler = handler
        self.key = key      # batches with the same key are applied by one call of their handler
        self.done = GreenEvent()


class GroupCommit:
    """Applies consumed batches once, several queues' batches in one transaction.

    A service consumes several queues, and each commit waits for the disk; SQLite, moreover,
    has a single writer. So a batch handed in while another is being applied waits, and the
    next transaction takes every batch waiting by then: one commit for all of them, however many
    queues are busy (PostgreSQL calls this group commit).
    """

    def __init__(self, inbox):
        self._inbox = inbox
        self._waiting = []
        self._writer = Semaphore(1)

    def apply(self, db, events, handler, key=None):
        """Claim ``events`` and call ``handler(uow, new_events)`` in one transaction; returns
        one outcome per event: True (applied now), False (a duplicate) or the exception that
        event raised. Batches of the same ``key`` (default: the handler) waiting together get
        one call of the handler for all their new events.

        If the transaction fails, each batch is applied on its own, then each event, so that
        one bad event cannot hold back the others (nor be retried with them). An unreachable
        database fails the whole batch: that raises.
        """
        batch = _Batch(events, handler, handler if key is None else key)
        self._waiting.append(batch)
        with self._writer:
            if not batch.done.ready():  # else an earlier transaction took it along
                batches, self._waiting = self._waiting, []
                self._apply_together(db, batches)
        return batch.done.wait()  # the outcomes, or raises DATABASE_UNAVAILABLE

    def _apply_together(self, db, batches):
        try:
            results = self._in_one_transaction(db, batches)
        except DATABASE_UNAVAILABLE as exc:
            for batch in batches:
                batch.done.send_exception(exc)
            return
        except Exception as exc:
            log.info("%d events failed together (%s): applying them apart",
                     sum(len(batch.events) for batch in batches), exc)
            for batch in batches:
                self._apply_apart(db, batch, exc, tried_alone=len(batches) == 1)
            return
        for batch, outcomes in zip(batches, results):
            batch.done.send(outcomes)

    def _in_one_transaction(self, db, batches):
        with db.transaction() as uow:
            new = self._claim_in_inbox(uow.session, [e for b in batches for e in b.events])
            results, new_events_by_key = [], {}
            for batch in batches:
                outcomes = []
                for event in batch.events:
                    key = (event.source, event.id)
                    outcomes.append(key in new)
                    if key in new:
                        new.discard(key)  # a second copy in the same batch is a duplicate
                        new_events_by_key.setdefault(batch.key, (batch.handler, []))[1].append(
                            event)
                results.append(outcomes)
            # Queues served by the same method (reporting's, one per counted event type) get one
            # call for all their new events: its statements per batch are paid once per
            # transaction.
            for handler, new_events in new_events_by_key.values():
                if new_events:
                    handler(uow, new_events)
        return results

    def _apply_apart(self, db, batch, error, tried_alone):
        """After a failure: the batch in a transaction of its own (unless it was alone), then,
        if it fails again, each of its events in its own."""
        try:
            if not tried_alone:
                try:
                    [outcomes] = self._in_one_transaction(db, [batch])
                    batch.done.send(outcomes)
                    return
                except DATABASE_UNAVAILABLE:
                    raise
                except Exception as exc:
                    error = exc
            if len(batch.events) == 1:
                batch.done.send([error])
            else:
                batch.done.send([self._apply_alone(db, event, batch.handler)
                                 for event in batch.events])
        except DATABASE_UNAVAILABLE as exc:
            batch.done.send_exception(exc)

    def _apply_alone(self, db, event, handler):
        try:
            [[outcome]] = self._in_one_transaction(db, [_Batch([event], handler, handler)])
            return outcome
        except DATABASE_UNAVAILABLE:
            raise
        except Exception as exc:
            return exc

    def _claim_in_inbox(self, session, events):
        return claim_in_inbox(session, self._inbox, events)


def claim_in_inbox(session, inbox, events):
    """Insert the events' inbox rows in one statement; the (source, id) pairs inserted are the
    events new to this service (the others were applied before). Whatever brings an event (the
    consumer, or an operator recovering lost ones) claims it so, and it is applied once."""
    now = utc_now()
    new_keys = {(event.source, event.id): event.type for event in events}  # copies once
    rows = [{"source": source, "event_id": event_id, "event_type": event_type,
             "applied_at": now} for (source, event_id), event_type in new_keys.items()]
    inserted = insert_new_rows(session, inbox, rows, ("source", "event_id"),
                               returning=(inbox.c.source, inbox.c.event_id))
    return {(source, event_id) for source, event_id in inserted}

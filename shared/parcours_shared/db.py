"""Each service's own database: engine, outbox and inbox tables, unit of work, migrations at start.

A service's state change, the events it publishes (outbox rows) and the events it has applied
(inbox rows) are written in one transaction, so a crash can delay an event but never lose or
double-apply one.
"""
import json
import logging
import os
import weakref
from contextlib import contextmanager

from eventlet import tpool
from eventlet.event import Event as GreenEvent
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider
from sqlalchemy import (
    Column, DateTime, Index, Integer, MetaData, String, Table, Text, create_engine, event, insert,
    text,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from .contracts import build_envelope, exchange_name, utc_now

log = logging.getLogger(__name__)

DATABASE_URL_CONFIG_KEY = "DATABASE_URL"

# The database is unreachable (refused, dropped, pool exhausted): nothing wrong with the request
# or the event, try again later. HTTP answers 503; consumers retry without using up attempts.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


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


def inbox_table(metadata: MetaData) -> Table:
    """Ids of the events this service has applied; CloudEvents makes (source, id) unique."""
    return Table(
        "inbox", metadata,
        Column("source", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("applied_at", DateTime(timezone=True), nullable=False),
    )


def create_db_engine(url):
    """An engine fit for eventlet: one pooled connection for SQLite, psycopg2 for PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        # SQLite's own lock busy-waits in C and blocks the eventlet hub; with a single pooled
        # connection greenlets queue in Python instead (NAMEKO-NOTES, pitfall 10).
        engine = create_engine(
            url, poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=60,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        # A commit waits for the disk (fsync; a WAL checkpoint now and then): milliseconds under
        # load, during which a plain call would block every green thread of the service. In a
        # native thread the hub goes on (sqlite3 lets go of the GIL). The connection is checked
        # out by the committing green thread, so nothing else touches it meanwhile.
        engine.dialect.do_commit = _commit_in_native_thread
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() not in (
            "psycopg2", "pg8000"):
        # psycopg 3 blocks the whole eventlet hub (NAMEKO-NOTES, pitfall 9).
        raise ValueError(
            "use postgresql+psycopg2:// (or postgresql://) in DATABASE_URL; "
            "{} is not green under eventlet".format(parsed.drivername))
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _commit_in_native_thread(dbapi_connection):
    tpool.execute(dbapi_connection.commit)


def upgrade_to_head(engine, migrations_dir):
    """Apply the service's Alembic migrations; run at start so a fresh database just works."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", migrations_dir)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class UnitOfWork:
    """One transaction of a service: its session plus the events to publish when it commits.

    ``DatabaseAccess.transaction()`` writes the outbox just before committing; code that builds
    a UnitOfWork itself calls ``write_outbox()`` before its commit.
    """

    def __init__(self, session: Session, service_name, outbox: Table):
        self.session = session
        self.service_name = service_name
        self._outbox = outbox
        self.published = []

    def publish(self, type_name, subject, data):
        """Validate the event against its contract and add it to the outbox of this transaction
        (written just before the commit, all of the transaction's events in one statement)."""
        if self._outbox is None:
            raise RuntimeError("{} has no outbox: it publishes no events".format(self.service_name))
        envelope = build_envelope(self.service_name, type_name, subject, data)
        self.published.append(envelope)
        return envelope

    def write_outbox(self):
        """Write the transaction's events, just before its commit. Their ``time`` is this
        moment, when what they tell becomes true: not when each was prepared (the first firm
        of a long list is opened with the last, when the list commits)."""
        if not self.published:
            return
        now = utc_now()
        stamp = now.isoformat()
        exchange = exchange_name(self.service_name)
        rows = []
        for envelope in self.published:
            envelope["time"] = stamp
            rows.append({"event_id": envelope["id"], "exchange": exchange,
                         "routing_key": envelope["type"],
                         "body": json.dumps(envelope, separators=(",", ":")), "created_at": now})
        self.session.execute(insert(self._outbox), rows)


class DatabaseAccess:
    """What a worker sees as ``self.db``."""

    def __init__(self, provider):
        self._provider = provider

    @property
    def engine(self):
        return self._provider.engine

    @contextmanager
    def transaction(self):
        """A unit of work committed at the end of the block (rolled back on error)."""
        provider = self._provider
        with Session(provider.engine) as session:
            uow = UnitOfWork(session, provider.service_name, provider.outbox)
            with session.begin():
                yield uow
                uow.write_outbox()
        if uow.published and provider.relay is not None:
            provider.relay.wake()

    @contextmanager
    def reading(self):
        """A session for queries only."""
        with Session(self._provider.engine) as session:
            yield session

    def apply_each_once(self, events, handler):
        """Apply ``handler(uow, event)`` to each event not applied before, in one transaction.

        Returns one outcome per event, as ``apply_all_once`` does.
        """
        def apply_each(uow, new_events):
            for event in new_events:
                handler(uow, event)

        return self.apply_all_once(events, apply_each)

    def apply_all_once(self, events, handler):
        """Apply ``handler(uow, new_events)`` to the events not applied before, in one
        transaction: for handlers that do one statement per batch rather than per event.

        Returns one outcome per event, in order: True (applied now), False (a duplicate), or
        the exception the event raised. Batches that other queues of the service hand in
        meanwhile share the transaction (see GroupCommit). If it fails, each batch is applied
        on its own, then each event, so that one bad event cannot hold back the others (nor be
        retried with them). An unreachable database fails the whole batch: that raises.
        """
        return self._provider.group_commit.apply(self, events, handler)

    def ping(self):
        with self._provider.engine.connect() as connection:
            connection.execute(text("SELECT 1"))


class _Batch:
    """A queue's batch waiting for a group commit, and then its outcomes."""

    def __init__(self, events, handler):
        self.events = events
        self.handler = handler
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

    def apply(self, db, events, handler):
        batch = _Batch(events, handler)
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
            results, new_events_by_handler = [], {}
            for batch in batches:
                outcomes = []
                for event in batch.events:
                    key = (event.source, event.id)
                    outcomes.append(key in new)
                    if key in new:
                        new.discard(key)  # a second copy in the same batch is a duplicate
                        new_events_by_handler.setdefault(batch.handler, []).append(event)
                results.append(outcomes)
            # Queues served by the same handler (reporting's seven) get one call for all their
            # new events: its statements per batch are paid once per transaction.
            for handler, new_events in new_events_by_handler.items():
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
            [[outcome]] = self._in_one_transaction(db, [_Batch([event], handler)])
            return outcome
        except DATABASE_UNAVAILABLE:
            raise
        except Exception as exc:
            return exc

    def _claim_in_inbox(self, session, events):
        """Insert the events' inbox rows in one statement; the (source, id) pairs inserted are
        the events new to this service (the others were applied before)."""
        now = utc_now()
        new_keys = {(event.source, event.id): event.type for event in events}  # copies once
        rows = [{"source": source, "event_id": event_id, "event_type": event_type,
                 "applied_at": now} for (source, event_id), event_type in new_keys.items()]
        inserted = insert_new_rows(session, self._inbox, rows, ("source", "event_id"),
                                   returning=(self._inbox.c.source, self._inbox.c.event_id))
        return {(source, event_id) for source, event_id in inserted}


def _dialect_insert(session):
    """INSERT with ON CONFLICT for the session's database (SQLite or PostgreSQL)."""
    return (postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert)


# {dialect: {statement's shape: Compiled}}, for insert_new_rows
_COMPILED_INSERTS = weakref.WeakKeyDictionary()


def insert_new_rows(session, table, rows, conflict_columns, returning=()):
    """``INSERT ... ON CONFLICT (conflict_columns) DO NOTHING [RETURNING ...]`` of ``rows``
    (dicts with the same keys), in one statement; returns the RETURNING rows, i.e. those
    inserted.

    Compiled once per database and statement shape: SQLAlchemy has no cache key for an
    ON CONFLICT clause, so it compiled such a statement anew at each execution, 0.3 to 0.4 ms
    each time, several times in every transaction of a consumer.
    """
    if not rows:
        return []
    dialect = session.bind.dialect
    column_keys = tuple(rows[0])
    many = len(rows) > 1
    shape = (table, tuple(conflict_columns), tuple(column.key for column in returning),
             column_keys, many)
    compiled_by_shape = _COMPILED_INSERTS.setdefault(dialect, {})
    compiled = compiled_by_shape.get(shape)
    if compiled is None:
        statement = _dialect_insert(session)(table).on_conflict_do_nothing(
            index_elements=list(conflict_columns))
        if returning:
            statement = statement.returning(*returning)
        compiled = compiled_by_shape[shape] = statement.compile(
            dialect=dialect, column_keys=list(column_keys), for_executemany=many)
    # Connection.execute runs a Compiled statement as it runs a cached one (the tests run this
    # on both databases, so an upgrade of SQLAlchemy that changed it would show there).
    result = session.connection().execute(compiled, rows)
    return result.all() if returning else []


class Database(DependencyProvider):
    """nameko dependency: the service's own database, migrated at start, with its outbox relay.

    ``migrations_dir``: the service's Alembic folder (None: create the tables as they are, for
    throwaway services in tests).
    ``publishes``: start an outbox relay in this container (the service emits events).
    """

    def __init__(self, metadata: MetaData, migrations_dir, publishes=True):
        self.metadata = metadata
        self.migrations_dir = migrations_dir
        self.publishes = publishes
        self.engine = None
        self.group_commit = None
        self.relay = None
        self._relay_thread = None

    @property
    def outbox(self):
        return self.metadata.tables.get("outbox")

    @property
    def inbox(self):
        return self.metadata.tables.get("inbox")

    @property
    def service_name(self):
        return self.container.service_name

    def setup(self):
        from .outbox import OutboxRelay

        url = self.container.config.get(DATABASE_URL_CONFIG_KEY)
        if not url:
            raise RuntimeError(
                "{} needs DATABASE_URL in its config (e.g. sqlite:///data/{}.sqlite3)".format(
                    self.service_name, self.service_name))
        self.engine = create_db_engine(url)
        if self.inbox is not None:
            self.group_commit = GroupCommit(self.inbox)
        if self.migrations_dir is None:
            self.metadata.create_all(self.engine)  # throwaway services in tests and tools
        else:
            upgrade_to_head(self.engine, self.migrations_dir)
        if self.publishes:
            self.relay = OutboxRelay(
                service_name=self.service_name,
                engine=self.engine,
                outbox=self.outbox,
                amqp_uri=self.container.config["AMQP_URI"],
                **self.container.config.get("PARCOURS_RELAY", {}),
            )

    def start(self):
        if self.relay is not None:
            self._relay_thread = self.container.spawn_managed_thread(
                self.relay.run, identifier="{}.outbox_relay".format(self.service_name))

    def stop(self):
        self._stop_relay()
        if self.engine is not None:
            self.engine.dispose()

    def kill(self):
        self.stop()

    def _stop_relay(self):
        if self.relay is not None:
            self.relay.stop()
        if self._relay_thread is not None:
            self._relay_thread.wait()
            self._relay_thread = None

    def get_dependency(self, worker_ctx):
        return DatabaseAccess(self)

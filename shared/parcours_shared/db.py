"""The nameko dependency that gives a service its own database: the engine, migrated at start,
units of work for its workers, and the relay of its outbox when it publishes.

What it is made of lives apart: ``engine`` (the engine and migrations), ``unit_of_work`` (a
transaction and the events it publishes), ``outbox`` (the relay and its table), and
``inbox.once`` (the consumer's inbox table and group commit).
"""
from contextlib import contextmanager

from nameko.extensions import DependencyProvider
from sqlalchemy import MetaData, select, text
from sqlalchemy.orm import Session

from .engine import DATABASE_URL_CONFIG_KEY, create_db_engine, upgrade_to_head
from .unit_of_work import UnitOfWork


class DatabaseAccess:
    """What a worker sees as ``self.db``."""

    def __init__(self, provider):
        self._provider = provider

    @property
    def engine(self):
        return self._provider.engine

    @property
    def audit_table(self):
        return self._provider.audit

    @property
    def publishes(self):
        """Whether this service relays an outbox (it publishes events)."""
        return self._provider.relay is not None

    def outbox_page(self, after_seq, limit):
        """Outbox rows (seq, routing_key, body) after ``after_seq``, oldest first, sent or
        not."""
        outbox = self._provider.outbox
        with self._provider.engine.connect() as connection:
            return connection.execute(
                select(outbox.c.seq, outbox.c.routing_key, outbox.c.body)
                .where(outbox.c.seq > after_seq)
                .order_by(outbox.c.seq).limit(limit)).all()

    def outbox_status(self):
        """(rows waiting for the broker, when the oldest of them was committed), read from the
        outbox now (the metrics' gauges are counted when the relay idles); None if the
        service publishes nothing."""
        relay = self._provider.relay
        return relay.pending_rows() if relay is not None else None

    @contextmanager
    def transaction(self, actor=None):
        """A unit of work committed at the end of the block (rolled back on error). ``actor``:
        who asked for it (the request's ``Caller``), carried by every event it publishes and
        kept in the service's audit trail."""
        provider = self._provider
        with Session(provider.engine) as session:
            uow = UnitOfWork(session, provider.service_name, provider.outbox, actor=actor,
                             audit=provider.audit)
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

    @property
    def group_commit(self):
        """The service's once-only consumer transactions (the inbox entrypoint uses it)."""
        return self._provider.group_commit

    def ping(self):
        with self._provider.engine.connect() as connection:
            connection.execute(text("SELECT 1"))


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
    def audit(self):
        return self.metadata.tables.get("audit")

    @property
    def service_name(self):
        return self.container.service_name

    def setup(self):
        from .inbox.once import GroupCommit
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

"""Use cases tested in milliseconds, without a broker: a service's tables in an in-memory
SQLite database, units of work as the service's own, and every event they publish recorded.

    db = UseCaseDatabase("intake", store.metadata)
    with db.transaction() as uow:
        case, created = handlers.open_case(uow, firm, "web")
    assert db.published_types() == ["case.opened"]

Events are validated against the contract as the service's would be, and only those of
committed transactions are recorded (a use case that raises publishes nothing). A consumed
event is made with ``event(...)``, validated as a consumer would receive it.
"""
import itertools
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from parcours_shared.contracts import REGISTRY, build_envelope, parse_envelope
from parcours_shared.unit_of_work import UnitOfWork


class UseCaseDatabase:
    def __init__(self, service_name, metadata, engine=None):
        """``engine``: a database migrated already (a migration's test); by default a new
        in-memory one with the service's tables."""
        self.service_name = service_name
        self._outbox = metadata.tables.get("outbox")
        self._audit = metadata.tables.get("audit")
        self.engine = engine
        if engine is None:
            # one connection for the whole test: an in-memory database lives as long as it
            self.engine = create_engine("sqlite://", poolclass=StaticPool,
                                        connect_args={"check_same_thread": False})
            metadata.create_all(self.engine)
        self.published = []   # envelopes of the committed transactions' events, in order

    @contextmanager
    def transaction(self, actor=None):
        with Session(self.engine) as session:
            uow = UnitOfWork(session, self.service_name, self._outbox, actor=actor,
                             audit=self._audit)
            with session.begin():
                yield uow
                uow.write_outbox()
        self.published.extend(uow.published)

    @contextmanager
    def reading(self):
        with Session(self.engine) as session:
            yield session

    def published_types(self):
        return [envelope["type"] for envelope in self.published]

    def published_data(self, type_name):
        """The data of every event of this type published so far (as JSON carries it)."""
        return [envelope["data"] for envelope in self.published if envelope["type"] == type_name]

    def take_published(self):
        """The events published since the last call, then forgotten."""
        published, self.published = self.published, []
        return published


_event_ids = itertools.count(1)


@contextmanager
def at_revision(engine, migrations_dir, revision):
    """A connection to a database migrated up to ``revision`` only, in a transaction: a
    migration's test writes there the rows of that time, then upgrades to head."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", migrations_dir)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        yield connection


def example_data(type_name, **values):
    """The data of an event of ``type_name`` (its latest version): the contract's example,
    with ``values`` set, so a test names only what it is about and stays valid when a later
    version adds fields."""
    event_type = REGISTRY.latest(type_name)
    return dict(event_type.load(event_type.example), **values)


def event(type_name, data, subject=None):
    """An event of ``type_name`` as a consumer's handler receives it: built by its publisher's
    rules and parsed by a consumer's, so ``data`` must be valid for the contract."""
    publisher = REGISTRY.latest(type_name).publisher
    envelope = build_envelope(publisher, type_name, subject or data.get("case_id", "subject"),
                              data, event_id="00000000-0000-4000-8000-{:012d}".format(
                                  next(_event_ids)))
    return parse_envelope(envelope)


class Clock:
    """A clock a test moves by hand (``clock.now += timedelta(days=91)``), for code that takes
    its clock as a function: ``FirmLinks(..., clock)``, the mail ``Outbox(..., clock=clock)``."""

    def __init__(self, now=None):
        self.now = now or datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

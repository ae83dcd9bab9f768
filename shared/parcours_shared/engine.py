"""A service's database engine, fit for eventlet, and its migrations applied at start."""
import os

from eventlet import tpool
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

from .checkout import data_path

DATABASE_URL_CONFIG_KEY = "DATABASE_URL"

# The database is unreachable (refused, dropped, pool exhausted): nothing wrong with the request
# or the event, try again later. HTTP answers 503; consumers retry without using up attempts.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def create_db_engine(url):
    """An engine fit for eventlet: one pooled connection for SQLite, psycopg2 for PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # the same database from whatever folder the service starts (checkout.data_path)
            parsed = parsed.set(database=data_path(parsed.database))
            url = parsed.render_as_string(hide_password=False)
            os.makedirs(os.path.dirname(parsed.database), exist_ok=True)
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

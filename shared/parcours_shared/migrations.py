"""Alembic environment shared by every service: each service's ``env.py`` calls ``run``.

At service start the connection comes from ``engine.upgrade_to_head``; from the ``alembic`` command
line it comes from ``DATABASE_URL``.
"""
import os

from alembic import context

from .engine import create_db_engine


def run(target_metadata):
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection, target_metadata)
        return
    url = os.environ.get("DATABASE_URL") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set DATABASE_URL to the database to migrate")
    engine = create_db_engine(url)
    with engine.begin() as connection:
        _run_on(connection, target_metadata)
    engine.dispose()


def _run_on(connection, target_metadata):
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite can only alter tables by copying them: let Alembic do that.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()

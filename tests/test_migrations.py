"""Each service's migrations build exactly the tables its code declares (on the database the
suite runs on: SQLite, or PostgreSQL in CI)."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from parcours_shared.engine import create_db_engine, upgrade_to_head

from conftest import SERVICES


@pytest.mark.parametrize("service_cls", SERVICES.values(), ids=lambda cls: cls.name)
def test_migrations_at_head_match_the_tables_the_code_declares(service_cls, database_url):
    database = service_cls.db
    engine = create_db_engine(database_url(service_cls.name))
    try:
        upgrade_to_head(engine, database.migrations_dir)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection),
                                           database.metadata)
    finally:
        engine.dispose()
    assert differences == [], "write a migration for these (alembic revision --autogenerate)"

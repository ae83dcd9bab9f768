"""insert_new_rows: INSERT ... ON CONFLICT DO NOTHING, compiled once, on SQLite and PostgreSQL
(with DATABASE_URL set)."""
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import compiler

from parcours_shared.sql import insert_new_rows

metadata = MetaData()
claims = Table("claims", metadata,
               Column("source", String(20), primary_key=True),
               Column("event_id", String(36), primary_key=True),
               Column("n", Integer, nullable=False))


@pytest.fixture
def engine(engine_with_tables):
    return engine_with_tables(metadata, "inserttest")


@pytest.fixture
def compilations(monkeypatch):
    counted = []
    compile_statement = compiler.SQLCompiler.__init__

    def counting(self, *args, **kwargs):
        counted.append(self)
        compile_statement(self, *args, **kwargs)

    monkeypatch.setattr(compiler.SQLCompiler, "__init__", counting)
    return counted


def rows(*event_ids):
    return [{"source": "intake", "event_id": event_id, "n": 1} for event_id in event_ids]


def test_only_new_rows_are_inserted_and_returned(engine):
    returning = (claims.c.source, claims.c.event_id)
    with Session(engine) as session, session.begin():
        first = insert_new_rows(session, claims, rows("a", "b"), ("source", "event_id"),
                                returning=returning)
        second = insert_new_rows(session, claims, rows("b", "c", "d"), ("source", "event_id"),
                                 returning=returning)
        alone = insert_new_rows(session, claims, rows("d"), ("source", "event_id"),
                                returning=returning)
        without_returning = insert_new_rows(session, claims, rows("e", "a"),
                                            ("source", "event_id"))
    assert sorted(first) == [("intake", "a"), ("intake", "b")]
    assert sorted(second) == [("intake", "c"), ("intake", "d")]
    assert alone == []
    assert without_returning == []
    with engine.connect() as connection:
        assert sorted(connection.execute(select(claims.c.event_id)).scalars()) == list("abcde")


def test_a_statement_is_compiled_once_per_shape(engine, compilations):
    """SQLAlchemy compiles an ON CONFLICT statement at every execution (it has no cache key);
    insert_new_rows keeps the compiled statement."""
    with Session(engine) as session, session.begin():
        for batch in (rows("a", "b"), rows("c", "d", "e"), rows("f", "g")):
            insert_new_rows(session, claims, batch, ("source", "event_id"),
                            returning=(claims.c.event_id,))
        insert_claims = [c for c in compilations if "INSERT INTO claims" in c.string]
        assert len(insert_claims) == 1

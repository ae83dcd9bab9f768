"""SQL the services share: INSERT with ON CONFLICT on either database, one INSERT of many rows
that skips those already there, and a turn taken among a service's replicas."""
import hashlib
import weakref

from sqlalchemy import text

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def dialect_insert(session):
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
        statement = dialect_insert(session)(table).on_conflict_do_nothing(
            index_elements=list(conflict_columns))
        if returning:
            statement = statement.returning(*returning)
        compiled = compiled_by_shape[shape] = statement.compile(
            dialect=dialect, column_keys=list(column_keys), for_executemany=many)
    # Connection.execute runs a Compiled statement as it runs a cached one (the tests run this
    # on both databases, so an upgrade of SQLAlchemy that changed it would show there).
    result = session.connection().execute(compiled, rows)
    return result.all() if returning else []


def my_turn(session, job):
    """True if this transaction may do ``job``, the periodic work every replica of a service
    has a timer for (follow-up deadlines, say): on PostgreSQL a transaction-scoped advisory
    lock named after the job, so that two replicas never do it at once (the second finds it
    taken and skips this round; the next round finds the work done). SQLite serves one
    process: always its turn."""
    if session.bind.dialect.name != "postgresql":
        return True
    key = int.from_bytes(hashlib.sha256(job.encode()).digest()[:8], "big", signed=True)
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                {"key": key}).scalar())

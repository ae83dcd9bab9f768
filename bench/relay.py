"""Part 2: the outbox relay, from a full outbox to every row confirmed by the broker and sent.

The relay is parcours_shared.outbox.OutboxRelay exactly as a service runs it (batch_size 500, the
services' setting), called batch after batch until the outbox is empty. It runs in this process
under eventlet, as in a nameko container. A queue bound to ``intake.events`` checks afterwards
that every event reached the broker once.
"""
import cProfile
import os
import pstats
import uuid

import psycopg2
from kombu import Connection, Exchange, Queue
from sqlalchemy import func, select, text

from intake.service import MIGRATIONS as INTAKE_MIGRATIONS
from intake.store import outbox
from parcours_shared.contracts import exchange_name, utc_now
from parcours_shared.engine import create_db_engine, upgrade_to_head
from parcours_shared.outbox import OutboxRelay

from common import (
    PG_BASE, Progress, Stopwatch, case_opened_envelopes, insert_in_chunks, per_second, to_json,
    wait_queue_depth,
)

BATCH_SIZE = 500  # services/*/config.yaml: PARCOURS_RELAY.batch_size
VERIFY_QUEUE = "bench.relay.all-intake-events"
INSERT_CHUNK = 5000


def run_sqlite(amqp_uri, events, repeat, tmp_dir, step, profile_to=None, baseline=None):
    url = "sqlite:///{}".format(os.path.join(tmp_dir, "relay-intake.sqlite3"))
    return _measure(amqp_uri, url, events, repeat, Progress(step, "outbox relay (SQLite)"),
                    profile_to, baseline)


def postgres_reachable():
    try:
        psycopg2.connect(PG_BASE, connect_timeout=3).close()
        return True
    except psycopg2.Error:
        return False


def run_postgres(amqp_uri, events, repeat, step, profile_to=None, baseline=None):
    """In a schema of our own, dropped afterwards whatever happens."""
    schema = "parcours_bench_{}".format(uuid.uuid4().hex[:8])
    admin = create_db_engine(PG_BASE)
    try:
        with admin.begin() as connection:
            connection.execute(text('CREATE SCHEMA "{}"'.format(schema)))
        url = "{}?options=-csearch_path%3D{}".format(PG_BASE, schema)
        return _measure(amqp_uri, url, events, repeat,
                        Progress(step, "outbox relay (PostgreSQL)"), profile_to, baseline)
    finally:
        with admin.begin() as connection:
            connection.execute(text('DROP SCHEMA IF EXISTS "{}" CASCADE'.format(schema)))
        admin.dispose()


def _measure(amqp_uri, url, events, repeat, progress, profile_to, baseline=None):
    """Rates (events/s) of ``repeat`` runs, each filling the outbox anew and draining it. The
    rows sent by earlier runs stay, as in a real outbox. ``baseline()``, if given, is measured
    right before each run: then returns (rates, baseline rates)."""
    engine = create_db_engine(url)
    try:
        upgrade_to_head(engine, INTAKE_MIGRATIONS)
        rates, baselines = [], []
        for attempt in range(1, repeat + 1):
            if baseline is not None:
                baselines.append(baseline())
            profile = profile_to if attempt == 1 else None
            rates.append(_one_run(amqp_uri, engine, events, progress, profile))
            progress.say("run {}/{}: {:,.0f} events/s".format(attempt, repeat, rates[-1]))
        return (rates, baselines) if baseline is not None else rates
    finally:
        engine.dispose()


def _one_run(amqp_uri, engine, events, progress, profile_to):
    fill_outbox(engine, events, progress)
    _declare_verify_queue(amqp_uri)
    try:
        relay = OutboxRelay(service_name="intake", engine=engine, outbox=outbox,
                            amqp_uri=amqp_uri, batch_size=BATCH_SIZE)
        profiler = cProfile.Profile() if profile_to else None
        try:
            seconds = drain(relay, events, progress, profiler)
        finally:
            relay._disconnect()  # what the relay's own run() does when it stops
        if profiler:
            _save_profile(profiler, profile_to, progress)
        _check_everything_arrived(amqp_uri, engine, events, progress)
        return per_second(events, seconds)
    finally:
        _delete_verify_queue(amqp_uri)


def fill_outbox(engine, events, progress):
    """Rows as UnitOfWork.publish writes them, inserted in bulk (filling is not what we time)."""
    rows = ({"event_id": envelope["id"], "exchange": exchange_name("intake"),
             "routing_key": envelope["type"], "body": to_json(envelope),
             "created_at": utc_now()}
            for envelope in case_opened_envelopes(events))
    insert_in_chunks(engine, outbox, rows, INSERT_CHUNK)
    progress.say("outbox filled with {} events".format(_pending(engine)))


def drain(relay, events, progress, profiler=None):
    """Call relay_pending() until the outbox is empty; return the seconds it took."""
    published = 0
    clock = Stopwatch()
    if profiler:
        profiler.enable()
    while True:
        sent = relay.relay_pending()
        published += sent
        progress.update(published, events, "published")
        if sent == 0 and relay.pending_count() == 0:
            break
    seconds = clock.stop()
    if profiler:
        profiler.disable()
    progress.update(published, events, "published in {:.2f}s".format(seconds), force=True)
    return seconds


def _pending(engine):
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(outbox)
                                  .where(outbox.c.published_at.is_(None))).scalar_one()


def _declare_verify_queue(amqp_uri):
    """Before the relay publishes: a message routed nowhere would be dropped, not counted."""
    exchange = Exchange(exchange_name("intake"), type="topic", durable=True)
    with Connection(amqp_uri) as connection:
        queue = Queue(VERIFY_QUEUE, exchange=exchange, routing_key="#", durable=True)
        queue(connection.channel()).declare()
        queue(connection.channel()).purge()


def _delete_verify_queue(amqp_uri):
    with Connection(amqp_uri) as connection:
        Queue(VERIFY_QUEUE)(connection.channel()).delete()


def _check_everything_arrived(amqp_uri, engine, events, progress):
    depth = wait_queue_depth(amqp_uri, VERIFY_QUEUE, events, timeout=10)
    pending = _pending(engine)
    if depth != events or pending != 0:
        raise RuntimeError("relay check failed: {} of {} events in the queue, {} still unsent"
                           .format(depth, events, pending))
    progress.say("checked: all {} events are in a queue bound to intake.events, none unsent"
                 .format(depth))


def _save_profile(profiler, path, progress):
    profiler.dump_stats(path)
    stats = pstats.Stats(path)
    progress.say("cProfile saved to {}; top functions by own time:".format(path))
    stats.sort_stats("tottime").print_stats(12)

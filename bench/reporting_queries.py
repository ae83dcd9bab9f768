"""Part 4: reporting's funnel query (GET /funnel) at 10,000 then 100,000 cases.

The query timed is the one the endpoint runs, reporting.handlers.pathway_funnel, on the service's
own engine (create_db_engine) and schema, the median of repeated runs after one warm-up, the
sizes taking turns run after run.

Cases are bulk-inserted into case_progress, shaped like a real funnel (every case opened, fewer
and fewer reaching each later stage, each stage days after the previous one). Inserting them
directly skips whatever else reporting keeps up to date as events arrive (running totals, say),
so each size gets a fresh database: the first migration creates case_progress, the cases go in,
then the remaining migrations run, which is where reporting derives what it keeps from the cases
already recorded (as for a real database upgraded after it grew). The funnel read back must count
exactly the cases inserted, or the figure is refused.
"""
import os
import random
import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
import sqlalchemy as sa
from sqlalchemy.orm import Session

from parcours_shared.engine import create_db_engine
from reporting.domain import STAGES
from reporting.handlers import pathway_funnel
from reporting.service import MIGRATIONS as REPORTING_MIGRATIONS

from common import Progress, insert_in_chunks

# Share of opened cases that reach each stage (a funnel seen on export-support schemes).
REACHED = {
    "opened": 1.0, "diagnostic_scheduled": 0.95, "diagnostic_completed": 0.75,
    "enrolment_proposed": 0.6, "enrolment_confirmed": 0.45, "enrolment_completed": 0.3,
    "outcome_recorded": 0.12,
}
REGIONS = ["84", "11", "53", "76", "32", "93", "44", "75", "52", "28", "24", "27", "94"]
CHANNELS = ["walk_in", "web", "phone", "referral"]
MATURITIES = ["not_ready", "first_time_exporter", "occasional_exporter", "experienced_exporter"]
INSERT_CHUNK = 10000
# case_progress as the first migration makes it (a column per stage): the cases go in there,
# and the later migrations turn them into what reporting keeps now
CASE_PROGRESS_AT_FIRST_REVISION = sa.table(
    "case_progress", sa.column("case_id"), sa.column("region_code"), sa.column("channel"),
    sa.column("maturity"), *[sa.column(stage + "_at") for stage in STAGES])


def run(tmp_dir, sizes, runs, step):
    progress = Progress(step, "reporting query")
    engines, expected = {}, {}
    try:
        for size in sizes:
            url = "sqlite:///{}".format(os.path.join(tmp_dir, "reporting-{}.sqlite3".format(size)))
            engines[size] = create_db_engine(url)
            expected[size] = load_cases(engines[size], size)
        # The sizes take turns, run after run: the machine's speed drifts from minute to minute
        # (other tenants), and a sub-millisecond query timed at one size, then a minute later at
        # the other, measured the drift as much as the query.
        durations = {size: [] for size in sizes}
        funnels = {}
        for attempt in range(runs + 1):
            for size in sizes:
                elapsed, funnels[size] = time_funnel_once(engines[size])
                if attempt > 0:  # the first run warms SQLite's page cache
                    durations[size].append(elapsed)
    finally:
        for engine in engines.values():
            engine.dispose()
    figures = {}
    for size in sizes:
        _check(funnels[size], expected[size], size)
        median_ms = statistics.median(durations[size])
        figures["report_query_{}k_ms".format(size // 1000)] = round(median_ms, 2)
        progress.say("{:,} cases: funnel query median {:.2f} ms over {} runs (opened {}, "
                     "confirmed {}: as inserted)".format(size, median_ms, runs,
                                                         expected[size]["opened"],
                                                         expected[size]["enrolment_confirmed"]))
    return figures


def load_cases(engine, size):
    """A database at head holding ``size`` cases; returns how many reached each stage.

    The same seed every time: the 100k database holds the 10k one's cases and 90k more.
    """
    _migrate(engine, "first")
    rng = random.Random(42)
    reached = dict.fromkeys(STAGES, 0)

    def rows():
        for _ in range(size):
            row = _case_row(rng)
            for stage in STAGES:
                reached[stage] += row[stage + "_at"] is not None
            yield row

    insert_in_chunks(engine, CASE_PROGRESS_AT_FIRST_REVISION, rows(), INSERT_CHUNK)
    _migrate(engine, "head")
    return reached


def _migrate(engine, revision):
    """Like parcours_shared.engine.upgrade_to_head, but to ``revision`` ("first" or "head")."""
    config = Config()
    config.set_main_option("script_location", REPORTING_MIGRATIONS)
    if revision == "first":
        revision = ScriptDirectory.from_config(config).get_base()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _case_row(rng):
    """One case's progress: the stages it reached, each a few days after the previous one."""
    at = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(525600))
    draw = rng.random()
    row = {"case_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
           "region_code": rng.choice(REGIONS), "channel": rng.choice(CHANNELS),
           "maturity": None}
    for stage in STAGES:
        reached = draw < REACHED[stage]
        row[stage + "_at"] = at if reached else None
        if reached:
            at += timedelta(days=rng.randrange(1, 30), minutes=rng.randrange(1440))
    if row["diagnostic_completed_at"] is not None:
        row["maturity"] = rng.choice(MATURITIES)
    return row


def time_funnel_once(engine):
    """Milliseconds of one pathway_funnel, in its own session as a request would; and its
    result."""
    with Session(engine) as session:
        started = time.perf_counter()
        funnel = pathway_funnel(session)
        return (time.perf_counter() - started) * 1000, funnel


def _check(funnel, expected, size):
    counted = {stage["stage"]: stage["cases"] for stage in funnel}
    if counted != expected:
        raise RuntimeError("the funnel over {} inserted cases counts {}, not {}: the benchmark "
                           "no longer fills reporting's tables the way the service reads them"
                           .format(size, counted, expected))

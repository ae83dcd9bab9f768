"""Part 4: reporting's dashboard queries and quarterly report at 10k, 100k and 1M cases, and its
rebuild rate against the raw broker's consume rate.

Each size gets a fresh database at head. Its cases are made of events shaped like a real
pathway (every case opened, fewer and fewer reaching each later stage, days apart, over two
years, in 13 regions, by 20 partners), applied to each case's facts as the consumer applies
them (reporting.domain.CaseFacts), and the figures the consumer would have kept are summed and
written in bulk: the tables the dashboard reads hold what they would after those events, with
the event store and the case facts left out (no query of the dashboard or the report touches
them). The dashboard's data (reporting.handlers.dashboard_data) and the quarterly report
(quarterly_report, rendered as HTML) are timed on the service's own engine, the median of
repeated runs after one warm-up, the sizes taking turns run after run. The funnel read back
must count exactly the cases made, or the figure is refused.

The rebuild replays a store of real events (the same generator, kept in received_events as the
consumer keeps them) through reporting.handlers.continue_rebuild, and is compared with the raw
broker's consume + ack rate measured just before, in the same run.
"""
import json
import os
import random
import statistics
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert
from sqlalchemy.orm import Session

from parcours_shared.contracts import Event
from parcours_shared.engine import create_db_engine, upgrade_to_head
from parcours_shared.identity import Caller
from parcours_shared.unit_of_work import UnitOfWork
from reporting import handlers, quarterly, store
from reporting.domain import CaseFacts
from reporting.service import MIGRATIONS as REPORTING_MIGRATIONS

from common import Progress, insert_in_chunks

# Share of opened cases that reach each stage (a funnel seen on export-support schemes).
REACHED = (("diagnostic.scheduled", 0.95), ("diagnostic.completed", 0.75),
           ("enrolment.proposed", 0.6), ("enrolment.confirmed", 0.45),
           ("enrolment.completed", 0.3), ("outcome.recorded", 0.12))
REGIONS = ["84", "11", "53", "76", "32", "93", "44", "75", "52", "28", "24", "27", "94"]
NAF_CODES = ["25.62B", "10.71C", "28.11Z", "47.11A", "62.01Z", "20.14Z", "46.90Z"]
CHANNELS = ["walk_in", "web", "phone", "referral", "import"]
MATURITIES = ["not_ready", "first_time_exporter", "occasional_exporter", "experienced_exporter"]
PARTNERS = ["partner-{:02d}".format(n) for n in range(20)]
PROGRAMMES = ["programme-{:02d}".format(n) for n in range(40)]
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 15, tzinfo=timezone.utc)
STEERING = Caller(subject="bench", partner="steering-committee", roles=frozenset({"steering"}))
INSERT_CHUNK = 20000
REBUILD_CASES = 5000


def case_events(rng):
    """The events of one case, in order, as the consumer receives them."""
    case_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    at = START + timedelta(minutes=rng.randrange(700 * 1440))
    partner = rng.choice(PARTNERS)
    events = [("case.opened", partner, {
        "case_id": case_id, "region_code": rng.choice(REGIONS),
        "naf_code": rng.choice(NAF_CODES), "channel": rng.choice(CHANNELS),
        "opened_at": at.isoformat(), "partner": partner})]
    if rng.random() < 0.2:
        referred = at + timedelta(hours=1)
        events.append(("case.referred", None, {
            "case_id": case_id, "referred_by": rng.choice(PARTNERS), "referral_id": "r",
            "referred_at": referred.isoformat()}))
        events.append(("referral.taken_in_charge", partner, {
            "case_id": case_id, "referral_id": "r", "partner": partner,
            "at": (referred + timedelta(days=rng.randrange(1, 10))).isoformat()}))
    draw = rng.random()
    programme, runner = rng.choice(PROGRAMMES), rng.choice(PARTNERS)
    enrolment = {"enrolment_id": case_id + "-e", "case_id": case_id, "session_id": "s",
                 "programme_id": programme, "programme_name": programme, "partner": runner}
    for event_type, share in REACHED:
        if draw >= share:
            break
        at += timedelta(days=rng.randrange(1, 30), minutes=rng.randrange(1440))
        if event_type == "diagnostic.scheduled":
            events.append((event_type, None, {"case_id": case_id, "scheduled_at": at.isoformat()}))
        elif event_type == "diagnostic.completed":
            events.append((event_type, partner, {
                "case_id": case_id, "maturity": rng.choice(MATURITIES),
                "completed_at": at.isoformat()}))
        elif event_type == "outcome.recorded":
            events.append((event_type, runner, {
                "case_id": case_id, "outcome_id": case_id + "-o", "kind": "export_staff_hired",
                "staff_count": rng.randrange(1, 4), "amount_eur": None,
                "programme_id": programme, "partner": runner,
                "recorded_at": at.isoformat()}))
        else:
            events.append((event_type, runner, dict(enrolment, at=at.isoformat())))
    return case_id, events


def _event(number, event_type, partner, data):
    return Event(id="{:032x}".format(number), source="/parcours/bench", type=event_type,
                 subject=data["case_id"], time=datetime.fromisoformat(
                     next(value for key, value in data.items()
                          if key.endswith("_at") or key == "at")),
                 dataschema="", data=data, partner=partner)


def _figures_of(args):
    """The figures ``count`` cases add: Counters of counts and durations, and the cases."""
    seed, count = args
    rng = random.Random(seed)
    counts, durations, opened = Counter(), Counter(), 0
    for _ in range(count):
        case_id, events = case_events(rng)
        facts = CaseFacts(case_id)
        for number, (event_type, partner, data) in enumerate(events):
            facts.apply(_event(number, event_type, partner, data))
        case_counts, case_durations = facts.contributions()
        counts.update(case_counts)
        durations.update(case_durations)
        opened += 1
    return counts, durations, opened


def load_figures(engine, size):
    """A database at head with the figures of ``size`` cases; returns the cases opened. (In
    one process: the benchmark runs monkey-patched by eventlet, under which a process pool
    hangs.)"""
    upgrade_to_head(engine, REPORTING_MIGRATIONS)
    counts, durations, opened = _figures_of((1000, size))
    insert_in_chunks(engine, store.figure_counts, (
        {"measure": m, "quarter": q, "grouping": g, "value": v, "amount": amount}
        for (m, q, g, v), amount in counts.items() if amount), INSERT_CHUNK)
    insert_in_chunks(engine, store.stage_durations, (
        {"transition": t, "quarter": q, "grouping": g, "value": v, "days": d, "cases": n}
        for (t, q, g, v, d), n in durations.items() if n), INSERT_CHUNK)
    with Session(engine) as session, session.begin():
        uow = UnitOfWork(session, "reporting", None)
        handlers.set_objectives(uow, [
            {"year": 2026, "partner": "network", "measure": "accompanied", "target": 3000}])
    return opened


def time_once(engine, what):
    with Session(engine) as session:
        started = time.perf_counter()
        if what == "dashboard":
            result = handlers.dashboard_data(session, STEERING, None, {"min_cases": 5}, NOW)
        else:
            report = handlers.quarterly_report(session, "2026-Q3", STEERING, None,
                                               {"min_cases": 5}, NOW)
            result = (report, quarterly.as_html(report))
        return (time.perf_counter() - started) * 1000, result


def run(tmp_dir, sizes, runs, step, raw_consume_per_s=None):
    progress = Progress(step, "reporting")
    engines, opened = {}, {}
    figures = {}
    try:
        for size in sizes:
            url = "sqlite:///{}".format(os.path.join(tmp_dir, "reporting-{}.sqlite3".format(size)))
            engines[size] = create_db_engine(url)
            started = time.perf_counter()
            opened[size] = load_figures(engines[size], size)
            progress.say("{:,} cases: figures made and written in {:.0f} s".format(
                size, time.perf_counter() - started))
        # The sizes take turns, run after run: the machine's speed drifts from minute to minute.
        durations = {(size, what): [] for size in sizes for what in ("dashboard", "report")}
        for attempt in range(runs + 1):
            for size in sizes:
                for what in ("dashboard", "report"):
                    elapsed, result = time_once(engines[size], what)
                    if attempt > 0:  # the first run warms SQLite's page cache
                        durations[size, what].append(elapsed)
                    if what == "dashboard":
                        _check(result, opened[size], size)
    finally:
        for engine in engines.values():
            engine.dispose()
    for size in sizes:
        label = "{}k".format(size // 1000) if size < 1000000 else "{}m".format(size // 1000000)
        for what, key in (("dashboard", "dashboard_query"), ("report", "quarterly_report")):
            median_ms = statistics.median(durations[size, what])
            figures["{}_{}_ms".format(key, label)] = round(median_ms, 2)
        progress.say("{:,} cases: dashboard {:.1f} ms, quarterly report {:.1f} ms (medians of "
                     "{} runs)".format(size, figures["dashboard_query_{}_ms".format(label)],
                                       figures["quarterly_report_{}_ms".format(label)], runs))
    figures.update(rebuild(tmp_dir, progress, raw_consume_per_s))
    return figures


def _check(dashboard, expected, size):
    counted = dashboard["funnel"][0]["cases"]
    if counted != expected:
        raise RuntimeError("the dashboard over {} cases counts {} opened, not {}: the benchmark "
                           "no longer fills reporting's tables the way the service reads them"
                           .format(size, counted, expected))


def rebuild(tmp_dir, progress, raw_consume_per_s):
    """Events per second of a rebuild, from an event store of REBUILD_CASES cases."""
    engine = create_db_engine("sqlite:///{}".format(os.path.join(tmp_dir,
                                                               "reporting-rebuild.sqlite3")))
    try:
        upgrade_to_head(engine, REPORTING_MIGRATIONS)
        rng = random.Random(7)
        received = datetime.now(timezone.utc)
        rows, number = [], 0
        for _ in range(REBUILD_CASES):
            _, events = case_events(rng)
            for event_type, partner, data in events:
                number += 1
                event = _event(number, event_type, partner, data)
                rows.append({"source": event.source, "event_id": event.id, "type": event_type,
                             "subject": event.subject, "time": event.time, "partner": partner,
                             "person": None, "data": json.dumps(data),
                             "received_at": received})
        with engine.begin() as connection:
            connection.execute(insert(store.received_events), rows)

        def transaction():
            return _transaction(engine)

        started = time.perf_counter()
        with transaction() as uow:
            begun = handlers.start_rebuild(uow)
        finished = handlers.continue_rebuild(transaction, begun)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    rate = finished["done"] / seconds
    figures = {"rebuild_events": finished["done"], "rebuild_events_per_s": round(rate, 1)}
    if raw_consume_per_s:
        figures.update(rebuild_paired_raw_consume_per_s=raw_consume_per_s,
                       rebuild_ratio=round(rate / raw_consume_per_s, 3))
    progress.say("rebuild: {:,} events in {:.1f} s, {:,.0f} events/s".format(
        finished["done"], seconds, rate))
    return figures


class _transaction:
    """A unit of work on the bench's engine, as the service's Database gives one."""

    def __init__(self, engine):
        self.session = Session(engine)

    def __enter__(self):
        self.session.begin()
        return UnitOfWork(self.session, "reporting", None)

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.session.commit()
        else:
            self.session.rollback()
        self.session.close()
        return False

"""Reporting's tables and queries.

``received_events`` keeps every event reporting applied (its own event store: the read model is
rebuilt from it). ``case_facts`` holds each case's facts (domain.CaseFacts, one JSON document a
case). ``figure_counts`` and ``stage_durations`` are the running figures, by measure, quarter
and grouping, moved by each batch's difference in the same transaction: a figure reads a few
rows whatever the number of cases. ``timeline`` is each case's events across the network.
"""
import json

from sqlalchemy import (
    JSON, BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text,
    UniqueConstraint, bindparam, delete, func, insert, select, update,
)

from parcours_shared.contracts import utc_now
from parcours_shared.directory import DirectoryTables
from parcours_shared.inbox import inbox_table
from parcours_shared.sql import dialect_insert, insert_new_rows

from .domain import CaseFacts

metadata = MetaData()
# the network directory, as intake's events tell it (parcours_shared.directory)
directory = DirectoryTables(metadata)

received_events = Table(
    "received_events", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("type", String(100), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("partner", String(64)),
    Column("person", String(64)),
    Column("data", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source", "event_id", name="uq_received_events_source_id"),
)

case_facts = Table(
    "case_facts", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("facts", JSON, nullable=False),
)

figure_counts = Table(
    "figure_counts", metadata,
    Column("measure", String(40), primary_key=True),
    Column("quarter", String(7), primary_key=True),      # 2026-Q1, in the network's time
    Column("grouping", String(40), primary_key=True),    # "", "region", "region+sector"...
    Column("value", String(120), primary_key=True),      # "", "84", "84|C"...
    Column("amount", BigInteger, nullable=False),        # cases, or a sum (staff hired...)
    # a figure is read by grouping, value and quarter: its own rows, whatever the others
    Index("ix_figure_counts_lookup", "grouping", "value", "quarter", "measure"),
)

stage_durations = Table(
    "stage_durations", metadata,
    Column("transition", String(60), primary_key=True),  # "opened>diagnostic_completed"
    Column("quarter", String(7), primary_key=True),
    Column("grouping", String(40), primary_key=True),
    Column("value", String(120), primary_key=True),
    Column("days", Integer, primary_key=True),
    Column("cases", Integer, nullable=False),
    Index("ix_stage_durations_lookup", "grouping", "value", "quarter"),
)

# Every event about a case, from every service, with who acted: the case's whole timeline
# across the network (GET /audit?subject=<case id>).
timeline = Table(
    "timeline", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("event_type", String(100), nullable=False),
    Column("source", String(100), nullable=False),
    Column("partner", String(64)),
    Column("person", String(64)),
    Column("at", DateTime(timezone=True), nullable=False),
)

inbox = inbox_table(metadata)

# Each partner's yearly targets, and the network's (partner "network"): set over the API.
objectives = Table(
    "objectives", metadata,
    Column("year", Integer, primary_key=True),
    Column("partner", String(64), primary_key=True),
    Column("measure", String(40), primary_key=True),
    Column("target", Integer, nullable=False),
    Column("set_by", String(64)),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

# Each rebuild of the read model, and how far it went: a batch and its progress commit together,
# so a rebuild cut off by a restart goes on where it stopped.
rebuilds = Table(
    "rebuilds", metadata,
    Column("id", String(36), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("total", Integer, nullable=False),     # events in the store when it started
    Column("done", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),  # the last event replayed
    Column("finished_at", DateTime(timezone=True)),
)

READ_MODEL = (case_facts, figure_counts, stage_durations)  # what a rebuild starts afresh


def keep_events(session, events):
    """Add the events to the event store (one already there is left as it is)."""
    now = utc_now()
    insert_new_rows(session, received_events, [
        {"source": event.source, "event_id": event.id, "type": event.type,
         "subject": event.subject, "time": event.time, "partner": event.partner,
         "person": event.person, "data": json.dumps(event.data, default=_json_default),
         "received_at": now} for event in events], ("source", "event_id"))


def _json_default(value):
    return value.isoformat()  # datetimes and dates: the domain reads them back (moment)


def stored_events(session, after_seq, limit):
    """The next ``limit`` events of the store after ``after_seq``, in the order received."""
    return session.execute(select(received_events).where(received_events.c.seq > after_seq)
                           .order_by(received_events.c.seq).limit(limit)).mappings().all()


def count_stored_events(session):
    return session.execute(select(func.count()).select_from(received_events)).scalar_one()


def facts_for_update(session, case_ids):
    """{case_id: CaseFacts} of these cases, rows created as needed and locked (PostgreSQL), in
    a fixed order so that two batches sharing cases cannot deadlock."""
    case_ids = sorted(case_ids)
    insert_new_rows(session, case_facts, [{"case_id": case_id, "facts": {}}
                                          for case_id in case_ids], ("case_id",))
    query = (select(case_facts)
             .where(case_facts.c.case_id.in_(bindparam("case_ids", expanding=True)))
             .order_by(case_facts.c.case_id).with_for_update())
    return {row.case_id: CaseFacts.from_json(row.case_id, row.facts)
            for row in session.execute(query, {"case_ids": case_ids})}


def save_facts(session, changed):
    if changed:
        session.execute(update(case_facts).where(case_facts.c.case_id == bindparam("b_case_id"))
                        .values(facts=bindparam("b_facts")),
                        [{"b_case_id": facts.case_id, "b_facts": facts.as_json()}
                         for facts in changed])


def _upsert_adding(session, table, key_columns, amount_column, rows):
    """INSERT ... ON CONFLICT DO UPDATE SET amount = amount + the new one, sorted (two
    transactions lock the rows they share in the same order)."""
    if not rows:
        return
    statement = dialect_insert(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(key_columns),
        set_={amount_column: table.c[amount_column] + statement.excluded[amount_column]})
    session.execute(statement, sorted(rows, key=lambda row: tuple(row[k] for k in key_columns)))


def add_to_figures(session, count_changes, duration_changes):
    """Move the running figures by ``{key: delta}`` (domain.CaseFacts.contributions' keys)."""
    _upsert_adding(session, figure_counts, ("measure", "quarter", "grouping", "value"), "amount",
                   [{"measure": m, "quarter": q, "grouping": g, "value": v, "amount": delta}
                    for (m, q, g, v), delta in count_changes.items()])
    _upsert_adding(session, stage_durations,
                   ("transition", "quarter", "grouping", "value", "days"), "cases",
                   [{"transition": t, "quarter": q, "grouping": g, "value": v, "days": d,
                     "cases": delta} for (t, q, g, v, d), delta in duration_changes.items()])


def _period(table, first_quarter, last_quarter):
    conditions = []
    if first_quarter:
        conditions.append(table.c.quarter >= first_quarter)
    if last_quarter:
        conditions.append(table.c.quarter <= last_quarter)
    return conditions


def figures(session, grouping="", value="", first_quarter=None, last_quarter=None):
    """{measure: amount} over the period, for one grouping's value ("" and "": everything)."""
    table = figure_counts
    query = (select(table.c.measure, func.sum(table.c.amount))
             .where(table.c.grouping == grouping, table.c.value == value,
                    *_period(table, first_quarter, last_quarter))
             .group_by(table.c.measure))
    return {measure: int(amount) for measure, amount in session.execute(query)}


def figures_by_quarter(session, measures, grouping="", value=""):
    """{quarter: {measure: amount}}, every quarter there is (the trend)."""
    table = figure_counts
    query = (select(table.c.quarter, table.c.measure, table.c.amount)
             .where(table.c.grouping == grouping, table.c.value == value,
                    table.c.measure.in_(list(measures))))
    found = {}
    for quarter, measure, amount in session.execute(query):
        found.setdefault(quarter, {})[measure] = int(amount)
    return found


def breakdown(session, measures, grouping, first_quarter=None, last_quarter=None):
    """{value: {measure: amount}} of one grouping over the period (per region, per partner)."""
    table = figure_counts
    query = (select(table.c.value, table.c.measure, func.sum(table.c.amount))
             .where(table.c.grouping == grouping, table.c.measure.in_(list(measures)),
                    *_period(table, first_quarter, last_quarter))
             .group_by(table.c.value, table.c.measure))
    found = {}
    for value, measure, amount in session.execute(query):
        found.setdefault(value, {})[measure] = int(amount)
    return found


def breakdown_by_quarter(session, measures, grouping):
    """{value: {quarter: {measure: amount}}} of one grouping, every quarter there is."""
    table = figure_counts
    query = (select(table.c.value, table.c.quarter, table.c.measure, table.c.amount)
             .where(table.c.grouping == grouping, table.c.measure.in_(list(measures))))
    found = {}
    for value, quarter, measure, amount in session.execute(query):
        found.setdefault(value, {}).setdefault(quarter, {})[measure] = int(amount)
    return found


def duration_histograms(session, grouping="", value="", first_quarter=None, last_quarter=None):
    """{transition: {days: cases}} over the period."""
    table = stage_durations
    query = (select(table.c.transition, table.c.days, func.sum(table.c.cases))
             .where(table.c.grouping == grouping, table.c.value == value,
                    *_period(table, first_quarter, last_quarter))
             .group_by(table.c.transition, table.c.days))
    found = {}
    for transition, days, cases in session.execute(query):
        if cases:
            found.setdefault(transition, {})[days] = int(cases)
    return found


def add_rebuild(session, rebuild):
    session.execute(insert(rebuilds).values(**rebuild))


def save_rebuild(session, rebuild_id, **values):
    session.execute(update(rebuilds).where(rebuilds.c.id == rebuild_id).values(**values))


def rebuild_for_update(session, rebuild_id):
    row = session.execute(select(rebuilds).where(rebuilds.c.id == rebuild_id)
                          .with_for_update()).mappings().first()
    return dict(row)


def latest_rebuild(session):
    row = session.execute(select(rebuilds).order_by(rebuilds.c.started_at.desc()).limit(1)) \
        .mappings().first()
    return dict(row) if row is not None else None


def set_objectives(session, rows):
    """Upsert the targets (a target set again replaces the one before)."""
    statement = dialect_insert(session)(objectives)
    statement = statement.on_conflict_do_update(
        index_elements=["year", "partner", "measure"],
        set_={name: statement.excluded[name] for name in ("target", "set_by", "set_at")})
    session.execute(statement, rows)


def objectives_of(session, year, partners=None):
    query = select(objectives).where(objectives.c.year == year)
    if partners is not None:
        query = query.where(objectives.c.partner.in_(sorted(partners)))
    return session.execute(query.order_by(objectives.c.partner, objectives.c.measure)) \
        .mappings().all()


def drop_read_model(session):
    for table in READ_MODEL:
        session.execute(delete(table))


def add_to_timeline(session, events):
    """One row per event (an event delivered again adds nothing)."""
    insert_new_rows(session, timeline, [
        {"case_id": event.data["case_id"], "event_id": event.id, "event_type": event.type,
         "source": event.source, "partner": event.partner, "person": event.person,
         "at": event.time} for event in events], ["case_id", "event_id"])


def case_timeline(session, case_id):
    return session.execute(select(timeline).where(timeline.c.case_id == case_id)
                           .order_by(timeline.c.at, timeline.c.event_id)).mappings().all()


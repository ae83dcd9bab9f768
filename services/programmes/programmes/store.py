"""Programmes' tables and queries. Nothing outside this service reads them."""
from datetime import datetime

from sqlalchemy import (
    JSON, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData, String, Table,
    UniqueConstraint,
    bindparam, func, insert, select, update,
)

from parcours_shared.audit import audit_table
from parcours_shared.closed_cases import closed_cases_table
from parcours_shared.directory import DirectoryTables
from parcours_shared.inbox import inbox_table
from parcours_shared.outbox import outbox_table

from .co_export import CoExportCall, Interest
from .domain import CONFIRMED, WAITLISTED, Enrolment, Programme, as_utc

metadata = MetaData()
# the network directory, as intake's events tell it (parcours_shared.directory)
directory = DirectoryTables(metadata)

programmes = Table(
    "programmes", metadata,
    Column("id", String(36), primary_key=True),
    Column("partner", String(100), nullable=False),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("maturity_levels", JSON, nullable=False),
    Column("description", String(1000)),
    Column("price_eur", Integer),          # what the firm pays; None: free
    Column("subsidy_percent", Integer),    # the share of the cost a public funder covers
    Column("eligibility", JSON),           # the other rules (programmes.eligibility)
)

sessions = Table(
    "sessions", metadata,
    Column("id", String(36), primary_key=True),
    Column("programme_id", String(36), ForeignKey("programmes.id"), nullable=False, index=True),
    Column("starts_on", Date, nullable=False),
    Column("market", String(2)),
    Column("place", String(200), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("ends_on", Date),
    Column("enrolment_deadline", Date),    # the last day a firm may be confirmed
)

enrolments = Table(
    "enrolments", metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("session_id", String(36), ForeignKey("sessions.id"), nullable=False),
    Column("programme_id", String(36), ForeignKey("programmes.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("withdrawal_reason", String(500)),
    Column("rank", Integer),                       # of the proposals made to the case
    Column("reason", String(300)),                 # why it was proposed
    Column("waitlisted_at", DateTime(timezone=True)),  # the waitlist's order
    UniqueConstraint("case_id", "session_id", name="uq_enrolment_case_session"),
    # seats taken = confirmed enrolments of a session, counted at every proposal and confirmation
    Index("ix_enrolments_session_status", "session_id", "status"),
)

outcomes = Table(
    "outcomes", metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("enrolment_id", String(36), ForeignKey("enrolments.id")),
    Column("kind", String(40), nullable=False),
    Column("amount_eur", Integer),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("country", String(2)),          # of the contract signed, or the market entered
    Column("staff_count", Integer),        # export staff hired
    # whose support it came of: the programme of its enrolment, the partner who recorded it
    Column("programme_id", String(36)),
    Column("partner", String(100), index=True),
    # the firm's word, from intake's outcome.reviewed: confirmed, corrected (its figures in
    # firm_figures), or None (unconfirmed)
    Column("firm_verdict", String(20)),
    Column("firm_figures", JSON(none_as_null=True)),
    Column("reviewed_at", DateTime(timezone=True)),
)

# the cases intake closed (parcours_shared.closed_cases)
closed_cases = closed_cases_table(metadata)

# the firms' contact persons, kept from contact.shared for co-export matching only, while the
# firm consents to it (personal data: contacts is None once it withdrew; the row stays, so that
# an older contact.shared arriving late cannot bring them back)
firm_contacts = Table(
    "firm_contacts", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("contacts", JSON(none_as_null=True)),  # SQL NULL once withdrawn, not JSON null
    Column("as_of", DateTime(timezone=True), nullable=False),
)
# each firm's data as intake's events tell it (case.opened, case.enriched): what the
# eligibility rules read
firm_profiles = Table(
    "firm_profiles", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("siren", String(9), nullable=False),
    Column("company_name", String(200), nullable=False),
    Column("region_code", String(3)),
    Column("naf_code", String(6)),
    Column("headcount_band", String(2)),
    Column("creation_date", Date),
    Column("as_of", DateTime(timezone=True), nullable=False),
)
# what each case's latest diagnostic found, from diagnostic.completed: its maturity, the kinds
# of programme and the markets it points to (the proposals are chosen by them)
case_diagnoses = Table(
    "case_diagnoses", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("diagnostic_id", String(36), nullable=False),
    Column("assessment_number", Integer, nullable=False),
    Column("maturity", String(30), nullable=False),
    Column("programme_kinds", JSON, nullable=False),
    Column("target_markets", JSON, nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=False),
)
# a large group's calls for SMEs upstream of its projects abroad, and the firms' interest
co_export_calls = Table(
    "co_export_calls", metadata,
    Column("id", String(36), primary_key=True),
    Column("partner", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("needs", String(2000), nullable=False),
    Column("deadline", Date, nullable=False),
    Column("sectors", JSON, nullable=False),
    Column("maturity_levels", JSON, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)
co_export_interests = Table(
    "co_export_interests", metadata,
    Column("call_id", String(36), ForeignKey("co_export_calls.id"), primary_key=True),
    Column("case_id", String(36), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("expressed_at", DateTime(timezone=True), nullable=False),
    Column("expressed_by", String(100)),
    Column("decided_at", DateTime(timezone=True)),
    Column("note", String(500)),
)
outbox = outbox_table(metadata)
audit = audit_table(metadata)  # who did what (parcours_shared.audit)
inbox = inbox_table(metadata)


def _one(session, query):
    row = session.execute(query).first()
    return dict(row._mapping) if row else None


def _all(session, query):
    return [dict(row._mapping) for row in session.execute(query)]


def _all_with(session, query, parameters):
    return [dict(row._mapping) for row in session.execute(query, parameters)]


def add(session, table, values):
    session.execute(insert(table).values(**values))


def add_programme(session, programme):
    add(session, programmes, programme.as_row())


def add_enrolments(session, new_enrolments):
    if new_enrolments:
        session.execute(insert(enrolments), [enrolment.as_row() for enrolment in new_enrolments])


# With its values as parameters, so that one statement serves a whole list of enrolments.
_update_enrolment = update(enrolments).where(enrolments.c.id == bindparam("enrolment_id"))
_MOVE_FIELDS = ("status", "updated_at", "withdrawal_reason", "waitlisted_at")


def programme_by_id(session, programme_id):
    return programmes_by_id(session, [programme_id]).get(programme_id)


def programmes_by_id(session, programme_ids):
    """{programme id: programme} for those of the ids that exist."""
    query = select(programmes).where(
        programmes.c.id.in_(bindparam("programme_ids", expanding=True)))
    return {row["id"]: Programme(**row) for row in _all_with(
        session, query, {"programme_ids": list(programme_ids)})}


def programme_by_name(session, name):
    row = _one(session, select(programmes).where(programmes.c.name == name))
    return Programme(**row) if row else None


def list_programmes(session):
    return [Programme(**row)
            for row in _all(session, select(programmes).order_by(programmes.c.name))]


def confirmed_count():
    return (select(func.count()).select_from(enrolments)
            .where(enrolments.c.session_id == sessions.c.id, enrolments.c.status == CONFIRMED)
            .scalar_subquery())


def sessions_with_seats(session, programme_ids=None, from_date=None):
    """(session, seats_left) pairs, optionally for some programmes and from a date on."""
    query = select(sessions, (sessions.c.capacity - confirmed_count()).label("seats_left"))
    if programme_ids is not None:
        query = query.where(sessions.c.programme_id.in_(programme_ids))
    if from_date is not None:
        query = query.where(sessions.c.starts_on >= from_date)
    rows = session.execute(query.order_by(sessions.c.starts_on, sessions.c.id))
    return [({k: v for k, v in row._mapping.items() if k != "seats_left"}, row.seats_left)
            for row in rows]


def lock_sessions(session, session_ids):
    """Lock the sessions' rows (on PostgreSQL) so that two confirmations cannot both take the
    last seat; in id order, so that two requests locking the same sessions cannot deadlock."""
    session.execute(select(sessions.c.id).where(sessions.c.id.in_(session_ids))
                    .order_by(sessions.c.id).with_for_update()).all()


def seats_left(session, session_ids):
    """{session id: seats left} for these sessions."""
    rows = session.execute(select(sessions.c.id, sessions.c.capacity - confirmed_count())
                           .where(sessions.c.id.in_(session_ids)))
    return {session_id: left for session_id, left in rows}


def enrolment_by_id(session, enrolment_id):
    row = _one(session, select(enrolments).where(enrolments.c.id == enrolment_id))
    return Enrolment(**row) if row else None


def enrolments_for_case(session, case_id):
    return [Enrolment(**row) for row in _all(
        session, select(enrolments).where(enrolments.c.case_id == case_id)
        .order_by(enrolments.c.proposed_at, enrolments.c.rank, enrolments.c.id))]


def cases_with_enrolment(session, case_ids):
    """The ones among ``case_ids`` that have an enrolment (in any status)."""
    query = select(enrolments.c.case_id).where(
        enrolments.c.case_id.in_(bindparam("case_ids", expanding=True)))
    return set(session.execute(query, {"case_ids": list(case_ids)}).scalars())


def enrolments_by_id(session, enrolment_ids):
    """{enrolment id: enrolment} for those of the ids that exist."""
    return {row["id"]: Enrolment(**row) for row in _all(
        session, select(enrolments).where(enrolments.c.id.in_(enrolment_ids)))}


def sessions_of_enrolments(session, enrolment_ids):
    """{enrolment id: its session id} for those of the ids that exist."""
    return dict(session.execute(select(enrolments.c.id, enrolments.c.session_id)
                                .where(enrolments.c.id.in_(enrolment_ids))).all())


def list_enrolments(session, status, limit, offset):
    query = select(enrolments).order_by(enrolments.c.proposed_at, enrolments.c.id)
    if status:
        query = query.where(enrolments.c.status == status)
    return [Enrolment(**row) for row in _all(session, query.limit(limit).offset(offset))]


def save_moves(session, moved):
    """Write these enrolments' status, time and withdrawal reason, in one executemany."""
    if moved:
        session.execute(_update_enrolment, [
            dict({name: getattr(enrolment, name) for name in _MOVE_FIELDS},
                 enrolment_id=enrolment.id) for enrolment in moved])


def firm_contacts_of(session, case_id):
    return _one(session, select(firm_contacts).where(firm_contacts.c.case_id == case_id))


def keep_firm_contacts(session, case_id, contacts, as_of, known):
    """``known``: whether the case has a row already."""
    if known:
        session.execute(update(firm_contacts).where(firm_contacts.c.case_id == case_id).values(
            contacts=contacts, as_of=as_of))
    else:
        add(session, firm_contacts, {"case_id": case_id, "contacts": contacts, "as_of": as_of})


def diagnosis_of(session, case_id):
    return _one(session, select(case_diagnoses).where(case_diagnoses.c.case_id == case_id))


def _keep_latest(session, table, rows, order):
    """Keep, per case, the row that is latest by its ``order`` column (``rows``: (case id,
    values) pairs, several for a case in a batch, in any order): a row older than the one kept
    changes nothing, whatever order the events come in."""
    def key(value):
        return as_utc(value) if isinstance(value, datetime) else value

    latest = {}
    for case_id, values in rows:
        if case_id not in latest or key(latest[case_id][order]) < key(values[order]):
            latest[case_id] = values
    if not latest:
        return
    known = dict(session.execute(select(table.c.case_id, table.c[order]).where(
        table.c.case_id.in_(sorted(latest)))).all())
    for case_id, values in latest.items():
        if case_id not in known:
            add(session, table, dict(values, case_id=case_id))
        elif key(known[case_id]) < key(values[order]):
            session.execute(update(table).where(table.c.case_id == case_id).values(**values))


DIAGNOSIS_FIELDS = ("diagnostic_id", "assessment_number", "maturity", "programme_kinds",
                    "target_markets", "completed_at")


def keep_diagnoses(session, results):
    """Keep each case's latest diagnostic result (``results``: diagnostic.completed data); an
    earlier assessment arriving late changes nothing."""
    _keep_latest(session, case_diagnoses, (
        (result["case_id"], {name: result[name] for name in DIAGNOSIS_FIELDS})
        for result in results), "assessment_number")


FIRM_FIELDS = ("siren", "company_name", "region_code", "naf_code", "headcount_band",
               "creation_date")


def firm_profile_of(session, case_id):
    return _one(session, select(firm_profiles).where(firm_profiles.c.case_id == case_id))


def firm_profiles_of(session, case_ids):
    """{case id: its firm's data} for those of ``case_ids`` intake told of."""
    if not case_ids:
        return {}
    return {row["case_id"]: row for row in _all(session, select(firm_profiles).where(
        firm_profiles.c.case_id.in_(sorted(case_ids))))}


def keep_firm_profiles(session, firms):
    """Keep each firm's latest data (``firms``: (case id, its data, as of) triples); older news
    arriving late changes nothing."""
    _keep_latest(session, firm_profiles, (
        (case_id, dict({name: data.get(name) for name in FIRM_FIELDS}, as_of=as_of))
        for case_id, data, as_of in firms), "as_of")


def first_waitlisted(session, session_ids):
    """{session id: its first waitlisted enrolment} (waitlisted longest ago)."""
    found = {}
    for row in _all(session, select(enrolments).where(
            enrolments.c.session_id.in_(sorted(session_ids)),
            enrolments.c.status == WAITLISTED).order_by(
                enrolments.c.waitlisted_at, enrolments.c.id)):
        found.setdefault(row["session_id"], Enrolment(**row))
    return found


def waitlist_positions(session, enrolment_ids):
    """{enrolment id: its place on its session's waitlist, 1 first} for these waitlisted
    enrolments."""
    if not enrolment_ids:
        return {}
    waiting = select(enrolments.c.session_id).where(enrolments.c.id.in_(sorted(enrolment_ids)))
    rows = session.execute(select(enrolments.c.id, enrolments.c.session_id).where(
        enrolments.c.session_id.in_(waiting), enrolments.c.status == WAITLISTED).order_by(
            enrolments.c.session_id, enrolments.c.waitlisted_at, enrolments.c.id)).all()
    positions, place = {}, {}
    for enrolment_id, session_id in rows:
        place[session_id] = place.get(session_id, 0) + 1
        positions[enrolment_id] = place[session_id]
    return {enrolment_id: positions[enrolment_id] for enrolment_id in enrolment_ids}


def sessions_by_id(session, session_ids):
    return {row["id"]: row for row in _all(session, select(sessions).where(
        sessions.c.id.in_(sorted(session_ids))))}


def list_outcomes(session, filters, limit, offset):
    """(one page of the outcomes that match ``filters``: case_id, programme_id, partner,
    confirmation; how many match), the latest first."""
    filters = dict(filters)
    confirmation = filters.pop("confirmation", None)
    conditions = [outcomes.c[name] == value for name, value in filters.items() if value]
    if confirmation == "unconfirmed":
        conditions.append(outcomes.c.firm_verdict.is_(None))
    elif confirmation:
        conditions.append(outcomes.c.firm_verdict == confirmation)
    total = session.execute(select(func.count()).select_from(outcomes).where(
        *conditions)).scalar_one()
    rows = _all(session, select(outcomes).where(*conditions).order_by(
        outcomes.c.recorded_at.desc(), outcomes.c.id).limit(limit).offset(offset))
    return rows, total


def keep_firm_reviews(session, reviews):
    """``reviews``: (outcome id, verdict, the firm's figures or None, when)."""
    for outcome_id, verdict, figures, at in reviews:
        session.execute(update(outcomes).where(outcomes.c.id == outcome_id).values(
            firm_verdict=verdict, firm_figures=figures, reviewed_at=at))


def add_call(session, call):
    add(session, co_export_calls, call.as_row())


def call_by_id(session, call_id):
    row = _one(session, select(co_export_calls).where(co_export_calls.c.id == call_id))
    return CoExportCall(**row) if row else None


def open_calls(session, today):
    return [CoExportCall(**row) for row in _all(session, select(co_export_calls).where(
        co_export_calls.c.deadline >= today).order_by(co_export_calls.c.deadline,
                                                      co_export_calls.c.id))]


def open_cases_diagnoses(session):
    """{case id: its latest diagnosis} of every diagnosed case not closed: the firms a call
    is matched against."""
    return {row["case_id"]: row for row in _all(session, select(case_diagnoses).where(
        case_diagnoses.c.case_id.not_in(select(closed_cases.c.case_id))))}


def every_firm_profile(session):
    return {row["case_id"]: row for row in _all(session, select(firm_profiles))}


def interests_in(session, call_id):
    return {row["case_id"]: Interest(**row) for row in _all(session, select(
        co_export_interests).where(co_export_interests.c.call_id == call_id))}


def add_interest(session, interest):
    add(session, co_export_interests, interest.as_row())


def save_decision(session, interest):
    session.execute(update(co_export_interests).where(
        co_export_interests.c.call_id == interest.call_id,
        co_export_interests.c.case_id == interest.case_id).values(
            status=interest.status, decided_at=interest.decided_at, note=interest.note))


def contacts_with_consent(session, case_ids):
    """{case id: its contacts} for the firms among ``case_ids`` that consent to co-export
    matching (the others have none here)."""
    if not case_ids:
        return {}
    return {row["case_id"]: row["contacts"] for row in _all(session, select(
        firm_contacts).where(firm_contacts.c.case_id.in_(sorted(case_ids)),
                             firm_contacts.c.contacts.is_not(None)))}

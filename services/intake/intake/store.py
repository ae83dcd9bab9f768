"""Intake's tables and queries. Nothing outside this service reads them."""
from sqlalchemy import (
    JSON, BigInteger, Boolean, Column, Date, DateTime, Float, ForeignKey, Integer, MetaData, String,
    Table, Text,
    and_, func, insert, not_, or_, select, update,
)

from parcours_shared.audit import audit_table
from parcours_shared.naf import naf_codes
from parcours_shared.inbox import inbox_table
from parcours_shared.mail import mail_outbox_table
from parcours_shared.outbox import outbox_table
from parcours_shared.sql import insert_new_rows
from parcours_shared.unit_of_work import for_update
from parcours_shared.signed_links import firm_links_table

from .domain import (
    ACTIVE, CLOSED, FOLLOW_UP_LEVELS, PENDING_REFERRAL, Arrival, Case, ConsentRecord, Consents,
    Contact, MemberImport, Partner, Person, RecordedOutcome, Referral, search_key,
)

metadata = MetaData()

cases = Table(
    "cases", metadata,
    Column("id", String(36), primary_key=True),
    # one case per firm: the single window deduplicates by SIREN
    Column("siren", String(9), nullable=False, unique=True),
    Column("company_name", String(200), nullable=False),
    Column("region_code", String(3)),
    Column("naf_code", String(6)),
    Column("channel", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("advisor", String(100)),
    Column("partner", String(100)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("closure_reason", String(200)),
    Column("headcount_band", String(2)),
    Column("creation_date", Date),
    Column("turnover_eur", BigInteger),
    Column("export_share_percent", Float),
    Column("website", String(300)),
    Column("opened_by", String(64)),
    # the furthest the firm went on the pathway, from the other services' events
    Column("stage", String(30), nullable=False, server_default="opened"),
    Column("stage_at", DateTime(timezone=True)),
    Column("nothing_proposed_at", DateTime(timezone=True)),
    Column("closure_note", String(2000)),  # the window's words: never in an event
    Column("last_activity_at", DateTime(timezone=True)),
    Column("follow_up_level", String(20)),
    # the legal name as it is searched (domain.search_key), written with it
    Column("name_key", String(200), nullable=False, index=True, server_default=""),
)
CASE_COLUMNS = tuple(column.name for column in cases.columns)
CASE_FIELDS = tuple(name for name in CASE_COLUMNS if name != "name_key")  # a Case's own

# each time a firm came, first time included: the case's history of doors and partners
case_arrivals = Table(
    "case_arrivals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    Column("partner", String(64)),
    Column("person", String(64)),
    Column("siret", String(14)),
    Column("at", DateTime(timezone=True), nullable=False),
)

# the firm's establishments seen (a SIRET names one; its first nine digits are the SIREN)
establishments = Table(
    "establishments", metadata,
    Column("siret", String(14), primary_key=True),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=False, index=True),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
)

# the network directory (intake keeps it; the others copy it from its events)
partners = Table(
    "partners", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("regions", JSON, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)

people = Table(
    "people", metadata,
    Column("id", String(64), primary_key=True),
    Column("partner_id", String(64), ForeignKey("partners.id"), nullable=False, index=True),
    Column("region_code", String(3), nullable=False),
    Column("role", String(40), nullable=False),
    # personal data: never in an event, never in a log
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(40)),
    Column("status", String(20), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
    Column("left_at", DateTime(timezone=True)),
)

referrals = Table(
    "referrals", metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=False, index=True),
    Column("referred_by", String(64), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(500)),
    Column("note", String(2000)),
    Column("rejection_reason", String(40)),
    Column("advisor", String(64)),
    Column("outcome", String(40)),
    Column("closing_note", String(2000)),
    Column("follow_up_level", String(20)),
)

# the firm's contact persons: personal data, never in a log, in an event only with consent
contacts = Table(
    "contacts", metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("role", String(200)),
    Column("email", String(254)),
    Column("phone", String(40)),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)

# every word of the firm on each purpose, in order: its consent and its history
consents = Table(
    "consents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=False, index=True),
    Column("purpose", String(40), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("partner", String(64)),
    Column("person", String(64)),
    Column("at", DateTime(timezone=True), nullable=False),
)

# member lists imported as jobs, the rows each rejected, and the SIRENs each met (so that a firm
# repeated in a file of a million rows is found without holding the file's SIRENs in memory)
imports = Table(
    "imports", metadata,
    Column("id", String(36), primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("partner", String(64)),
    Column("person", String(64)),
    Column("rows_read", Integer, nullable=False),
    Column("opened", Integer, nullable=False),
    Column("already_known", Integer, nullable=False),
    Column("repeated", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("bytes_read", BigInteger, nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("error", String(2000)),
    Column("progressed_at", DateTime(timezone=True)),
)
import_rejections = Table(
    "import_rejections", metadata,
    Column("import_id", String(36), ForeignKey("imports.id"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("reason", String(2000), nullable=False),
    Column("raw", Text, nullable=False),
)
import_sirens = Table(
    "import_sirens", metadata,
    Column("import_id", String(36), primary_key=True),
    Column("siren", String(9), primary_key=True),
)

# the assignment rule's turn in each region: who got its last case (domain.next_in_rotation)
assignment_rotation = Table(
    "assignment_rotation", metadata,
    Column("region_code", String(3), primary_key=True),
    Column("last_assigned", String(64), nullable=False),
)

outbox = outbox_table(metadata)
audit = audit_table(metadata)  # who did what (parcours_shared.audit)
inbox = inbox_table(metadata)


def _to_case(row):
    return Case(**{name: row._mapping[name] for name in CASE_FIELDS}) if row is not None else None


# A case loaded in a unit of work is locked until it commits (unit_of_work.for_update): its
# row is written back whole, so two transactions must not each change a copy of it.

def case_by_id(session, case_id):
    return _to_case(session.execute(for_update(session, select(cases).where(
        cases.c.id == case_id))).first())


def case_by_siren(session, siren):
    return _to_case(session.execute(for_update(session, select(cases).where(
        cases.c.siren == siren))).first())


def cases_by_id(session, case_ids):
    """Locked in the order of their ids, as every lock of several cases is taken."""
    return [_to_case(row) for row in session.execute(for_update(session, select(cases).where(
        cases.c.id.in_(sorted(case_ids))).order_by(cases.c.id)))]


def save_stage(session, case):
    session.execute(update(cases).where(cases.c.id == case.id).values(
        stage=case.stage, stage_at=case.stage_at, last_activity_at=case.last_activity_at,
        follow_up_level=case.follow_up_level, nothing_proposed_at=case.nothing_proposed_at))


def _not_abandoned(table):
    """Still to be followed up: the last level was not raised yet (the scan runs every few
    minutes; a case abandoned for years would otherwise be weighed each time)."""
    return or_(table.c.follow_up_level.is_(None),
               table.c.follow_up_level != FOLLOW_UP_LEVELS[-1])


def untouched_cases(session, since_before):
    """The cases not closed nor abandoned that nobody touched since before ``since_before``."""
    return [_to_case(row) for row in session.execute(select(cases).where(
        cases.c.status != CLOSED, cases.c.last_activity_at <= since_before,
        _not_abandoned(cases)).order_by(cases.c.last_activity_at, cases.c.id))]


def untouched_referrals(session, since_before):
    """(referral, case) of the referrals someone still has to act on, not abandoned, untouched
    since before ``since_before``, of cases not closed."""
    rows = session.execute(select(referrals).where(
        referrals.c.status.in_(PENDING_REFERRAL), referrals.c.updated_at <= since_before,
        _not_abandoned(referrals))
        .order_by(referrals.c.updated_at, referrals.c.id)).all()
    found = {case.id: case for case in cases_by_id(session, {row.case_id for row in rows})}
    return [(_to_referral(row), found[row.case_id]) for row in rows
            if found[row.case_id].status != CLOSED]


def save_follow_up_level(session, table, entity):
    session.execute(update(table).where(table.c.id == entity.id).values(
        follow_up_level=entity.follow_up_level))


def cases_by_siren(session, sirens):
    """{siren: case} for those of ``sirens`` that have a case (one query, on the unique key)."""
    found = session.execute(for_update(session, select(cases).where(
        cases.c.siren.in_(sorted(sirens))).order_by(cases.c.id)))
    return {row.siren: _to_case(row) for row in found}


def _in_scope(scope):
    """``scope`` (a domain.CaseScope) as a condition on cases."""
    visible = cases.c.partner == scope.partner
    if scope.regions is not None:
        visible = or_(visible, cases.c.region_code.in_(scope.regions),
                      cases.c.region_code.is_(None))
    return visible


def _like_prefix(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search_conditions(search, scope):
    """``search`` (a domain.CaseSearch) and ``scope`` (a domain.CaseScope, None: every case) as
    conditions on cases."""
    conditions = [] if scope is None else [_in_scope(scope)]
    for name in ("siren", "region_code", "status", "stage", "advisor"):
        if getattr(search, name) is not None:
            conditions.append(cases.c[name] == getattr(search, name))
    if search.nothing_proposed is not None:
        nothing = and_(cases.c.nothing_proposed_at.is_not(None), cases.c.status != CLOSED)
        conditions.append(nothing if search.nothing_proposed else not_(nothing))
    if search.overdue is not None:
        overdue = and_(cases.c.follow_up_level.is_not(None), cases.c.status != CLOSED)
        conditions.append(overdue if search.overdue else not_(overdue))
    if search.name:
        conditions.append(cases.c.name_key.like(
            "%" + _like_prefix(search.name_key()), escape="\\"))
    if search.sector:
        if len(search.sector) == 1:  # a section: every code of it
            conditions.append(cases.c.naf_code.in_(sorted(
                code for code, naf in naf_codes().items() if naf.section == search.sector)))
        else:
            conditions.append(cases.c.naf_code.like(_like_prefix(search.sector), escape="\\"))
    if search.channel:
        conditions.append(select(case_arrivals.c.id).where(
            case_arrivals.c.case_id == cases.c.id,
            case_arrivals.c.channel == search.channel).exists())
    if search.referred_by:
        conditions.append(select(referrals.c.id).where(
            referrals.c.case_id == cases.c.id,
            referrals.c.referred_by == search.referred_by).exists())
    return conditions


def search_cases(session, search, scope=None):
    """The cases that meet ``search`` within ``scope``, one page of them, and their total."""
    conditions = _search_conditions(search, scope)
    total = session.execute(select(func.count()).select_from(cases).where(*conditions)).scalar()
    column = cases.c[search.sort.lstrip("-")]
    # NULLs last either way, as PostgreSQL and SQLite would otherwise disagree
    order = ((column.desc().nulls_last(), cases.c.id.desc()) if search.sort.startswith("-")
             else (column.asc().nulls_last(), cases.c.id))
    rows = session.execute(select(cases).where(*conditions).order_by(*order)
                           .limit(search.limit).offset(search.offset))
    return [_to_case(row) for row in rows], total


def _case_row(case):
    return dict({name: getattr(case, name) for name in CASE_FIELDS},
                name_key=search_key(case.company_name))


def add_cases(session, new_cases):
    """One statement for all (an import opens hundreds), with their first arrivals."""
    session.execute(insert(cases), [_case_row(case) for case in new_cases])
    add_arrivals(session, [(case, arrival) for case in new_cases for arrival in case.arrivals])


def save_case(session, case):
    values = _case_row(case)
    session.execute(update(cases).where(cases.c.id == values.pop("id")).values(**values))


def add_arrivals(session, arrivals):
    """``arrivals``: (case, Arrival) pairs; a SIRET new to the case becomes an establishment."""
    if not arrivals:
        return
    session.execute(insert(case_arrivals), [dict(vars(arrival), case_id=case.id)
                                            for case, arrival in arrivals])
    sirets = {arrival.siret: (case.id, arrival.at) for case, arrival in arrivals
              if arrival.siret is not None}
    known = set(session.execute(select(establishments.c.siret).where(
        establishments.c.siret.in_(sorted(sirets)))).scalars()) if sirets else set()
    new = [{"siret": siret, "case_id": case_id, "first_seen_at": at}
           for siret, (case_id, at) in sirets.items() if siret not in known]
    if new:
        session.execute(insert(establishments), new)


def load_history(session, case):
    """The case with its arrivals and establishments."""
    case.arrivals = [Arrival(**{key: value for key, value in row._mapping.items()
                                if key not in ("id", "case_id")})
                     for row in session.execute(select(case_arrivals).where(
                         case_arrivals.c.case_id == case.id).order_by(case_arrivals.c.id))]
    case.establishments = list(session.execute(select(establishments.c.siret).where(
        establishments.c.case_id == case.id).order_by(establishments.c.first_seen_at,
                                                      establishments.c.siret)).scalars())
    return case


def _insert(session, table, entity):
    """An entity (a domain dataclass) as a new row of ``table``."""
    session.execute(insert(table).values(**vars(entity)))


def _update_by_id(session, table, entity):
    """The row of ``table`` with the entity's id, set to the entity's fields."""
    values = dict(vars(entity))
    session.execute(update(table).where(table.c.id == values.pop("id")).values(**values))


def partner_by_id(session, partner_id):
    row = session.execute(select(partners).where(partners.c.id == partner_id)).first()
    return Partner(**row._mapping) if row is not None else None


def list_partners(session):
    return [Partner(**row._mapping)
            for row in session.execute(select(partners).order_by(partners.c.id))]


def add_partner(session, partner):
    _insert(session, partners, partner)


def save_partner(session, partner):
    _update_by_id(session, partners, partner)


def person_by_id(session, person_id):
    row = session.execute(select(people).where(people.c.id == person_id)).first()
    return Person(**row._mapping) if row is not None else None


def people_of(session, partner_id):
    return [Person(**row._mapping) for row in session.execute(
        select(people).where(people.c.partner_id == partner_id).order_by(people.c.id))]


def staffed_regions(session, partner_id):
    """The regions where the partner's active people work."""
    return set(session.execute(select(people.c.region_code).distinct().where(
        people.c.partner_id == partner_id, people.c.status == ACTIVE)).scalars())


def add_person(session, person):
    _insert(session, people, person)


def save_person(session, person):
    _update_by_id(session, people, person)


# --- referrals ---------------------------------------------------------------------------------

def _to_referral(row):
    return Referral(**row._mapping) if row is not None else None


def add_referral(session, referral):
    _insert(session, referrals, referral)


def save_referral(session, referral):
    _update_by_id(session, referrals, referral)


def referral_by_id(session, referral_id):
    return _to_referral(session.execute(
        select(referrals).where(referrals.c.id == referral_id)).first())


def referrals_of_case(session, case_id, status=None):
    query = select(referrals).where(referrals.c.case_id == case_id)
    if status is not None:
        query = query.where(referrals.c.status == status)
    return [_to_referral(row) for row in session.execute(
        query.order_by(referrals.c.sent_at, referrals.c.id))]


def list_referrals(session, query, scope=None):
    """(referral, case) pairs and their total, for ``query`` (status, referred_by, case_id,
    limit, offset), among those the scope's partner sent or of cases in ``scope`` (None: all),
    newest first."""
    condition = []
    for name in ("status", "referred_by", "case_id"):
        if query.get(name) is not None:
            condition.append(referrals.c[name] == query[name])
    if scope is not None:
        condition.append(or_(referrals.c.referred_by == scope.partner, _in_scope(scope)))
    joined = referrals.join(cases, cases.c.id == referrals.c.case_id)
    total = session.execute(select(func.count()).select_from(joined).where(*condition)).scalar()
    rows = session.execute(
        select(referrals, *[cases.c[name].label("case__" + name) for name in CASE_FIELDS])
        .select_from(joined).where(*condition)
        .order_by(referrals.c.sent_at.desc(), referrals.c.id)
        .limit(query["limit"]).offset(query["offset"])).all()
    referral_columns = [column.name for column in referrals.columns]
    return [(Referral(**{name: row._mapping[name] for name in referral_columns}),
             Case(**{name: row._mapping["case__" + name] for name in CASE_FIELDS}))
            for row in rows], total


def advisors_of_region(session, region_code):
    """The active advisors who work in the region."""
    return [Person(**row._mapping) for row in session.execute(select(people).where(
        people.c.region_code == region_code, people.c.role == "advisor",
        people.c.status == ACTIVE))]


def last_assigned(session, region_code):
    """Who got the region's last case by rotation; the row is locked until the transaction
    ends, so that two cases opened at once in a region go to two advisors."""
    return session.execute(select(assignment_rotation.c.last_assigned).where(
        assignment_rotation.c.region_code == region_code).with_for_update()).scalar()


def record_turn(session, region_code, advisor):
    done = session.execute(update(assignment_rotation).where(
        assignment_rotation.c.region_code == region_code).values(last_assigned=advisor))
    if done.rowcount == 0:
        session.execute(insert(assignment_rotation).values(region_code=region_code,
                                                           last_assigned=advisor))


# --- contacts and consent ----------------------------------------------------------------------

def contacts_of(session, case_id):
    return [Contact(**row._mapping) for row in session.execute(
        select(contacts).where(contacts.c.case_id == case_id)
        .order_by(contacts.c.added_at, contacts.c.id))]


def contact_by_id(session, contact_id):
    row = session.execute(select(contacts).where(contacts.c.id == contact_id)).first()
    return Contact(**row._mapping) if row is not None else None


def add_contact(session, contact):
    _insert(session, contacts, contact)


def save_contact(session, contact):
    _update_by_id(session, contacts, contact)


def remove_contact(session, contact_id):
    session.execute(contacts.delete().where(contacts.c.id == contact_id))


def consents_of(session, case_id):
    return Consents([ConsentRecord(**{k: v for k, v in row._mapping.items()
                                      if k not in ("id", "case_id")})
                     for row in session.execute(select(consents).where(
                         consents.c.case_id == case_id).order_by(consents.c.id))])


def add_consent(session, case_id, record):
    session.execute(insert(consents).values(case_id=case_id, **vars(record)))


# --- the firm's own word: what programmes did with it, the links sent, its answers -----------

# every message to a firm, sent once (parcours_shared.mail), and the personal links they carry
mail_outbox = mail_outbox_table(metadata)
firm_links = firm_links_table(metadata)

# the enrolments programmes completed for intake's firms, kept from enrolment.completed
completed_enrolments = Table(
    "completed_enrolments", metadata,
    Column("enrolment_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("programme_id", String(36), nullable=False),
    Column("programme_name", String(200), nullable=False),
    Column("partner", String(64)),
    Column("completed_at", DateTime(timezone=True), nullable=False),
)

# the outcomes programmes recorded (outcome.recorded), and the firm's verdict on each
recorded_outcomes = Table(
    "recorded_outcomes", metadata,
    Column("outcome_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("enrolment_id", String(36), index=True),
    Column("kind", String(40), nullable=False),
    Column("amount_eur", BigInteger),
    Column("country", String(2)),
    Column("staff_count", Integer),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("verdict", String(20)),          # confirmed, corrected; None: unconfirmed
    Column("reviewed_at", DateTime(timezone=True)),
)

# the firm's answers to its satisfaction surveys; the comment it did not let partners read
# stays here
survey_answers = Table(
    "survey_answers", metadata,
    Column("id", String(36), primary_key=True),
    Column("link_id", String(36), nullable=False, unique=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("enrolment_id", String(36)),
    Column("usefulness", Integer, nullable=False),
    Column("would_recommend", Boolean, nullable=False),
    Column("comment", String(2000)),
    Column("comment_shareable", Boolean, nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
)


def keep_completed_enrolments(session, enrolments):
    """Rows of completed_enrolments; those known already are left as they are. The new ones'
    ids."""
    return {row.enrolment_id for row in insert_new_rows(
        session, completed_enrolments, enrolments, ("enrolment_id",),
        returning=(completed_enrolments.c.enrolment_id,))}


def completed_enrolment(session, enrolment_id):
    """The enrolment, with ``partner_name`` from the directory (its id if not there)."""
    row = session.execute(select(completed_enrolments).where(
        completed_enrolments.c.enrolment_id == enrolment_id)).mappings().first()
    return with_partner_name(session, dict(row)) if row is not None else None


def with_partner_name(session, enrolment):
    partner = partner_by_id(session, enrolment["partner"]) if enrolment["partner"] else None
    return dict(enrolment, partner_name=partner.name if partner else enrolment["partner"])


def keep_outcomes(session, outcomes):
    insert_new_rows(session, recorded_outcomes, [outcome.row() for outcome in outcomes],
                    ("outcome_id",))


def outcomes_of_enrolment(session, enrolment_id):
    return [RecordedOutcome.from_row(row) for row in session.execute(
        select(recorded_outcomes).where(recorded_outcomes.c.enrolment_id == enrolment_id)
        .order_by(recorded_outcomes.c.recorded_at, recorded_outcomes.c.outcome_id)).mappings()]


def save_reviews(session, outcomes):
    for outcome in outcomes:
        session.execute(update(recorded_outcomes).where(
            recorded_outcomes.c.outcome_id == outcome.id).values(outcome.row()))


def mail_queued(session, key):
    return session.execute(select(mail_outbox.c.seq).where(mail_outbox.c.key == key)).first() \
        is not None


def add_survey_answer(session, answer):
    session.execute(insert(survey_answers).values(**vars(answer)))


# --- the firms' own requests, from the public page ---------------------------------------------

# each request as the firm sent it; its message stays here (never in an event)
firm_requests = Table(
    "firm_requests", metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("source", String(100)),
    Column("campaign", String(40)),
    Column("needs", JSON, nullable=False),
    Column("target_market", String(100)),
    Column("message", String(2000)),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# the requests sent from each address lately, for the rate limit; the address is kept as a keyed
# hash (it is personal data), and forgotten once out of the window
request_attempts = Table(
    "request_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address_key", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)


def add_firm_request(session, request_id, case_id, request, at):
    session.execute(insert(firm_requests).values(
        id=request_id, case_id=case_id, source=request.source, campaign=request.campaign,
        needs=list(request.needs), target_market=request.target_market,
        message=request.message, received_at=at))


def requests_of(session, case_id):
    return [dict(row) for row in session.execute(select(firm_requests).where(
        firm_requests.c.case_id == case_id).order_by(firm_requests.c.received_at)).mappings()]


def count_attempt(session, address_key, at, window_start):
    """Note one request from the address; how many it sent since ``window_start``, this one
    included. Older attempts of every address are forgotten."""
    session.execute(request_attempts.delete().where(request_attempts.c.at < window_start))
    session.execute(insert(request_attempts).values(address_key=address_key, at=at))
    return session.execute(select(func.count()).select_from(request_attempts).where(
        request_attempts.c.address_key == address_key,
        request_attempts.c.at >= window_start)).scalar_one()


def quiet_cases_with_contacts(session, since_before):
    """Open cases nothing moved since before ``since_before`` whose firm has a contact."""
    return [_to_case(row) for row in session.execute(select(cases).where(
        cases.c.status != CLOSED, cases.c.last_activity_at <= since_before,
        cases.c.id.in_(select(contacts.c.case_id))).order_by(cases.c.last_activity_at,
                                                             cases.c.id))]


# --- member list imports -----------------------------------------------------------------------

def add_import(session, job):
    _insert(session, imports, job)


def save_import(session, job):
    _update_by_id(session, imports, job)


def import_by_id(session, import_id):
    row = session.execute(select(imports).where(imports.c.id == import_id)).first()
    return MemberImport(**row._mapping) if row is not None else None


def stalled_imports(session, still_before):
    """Imports running whose last batch (or start) is older than ``still_before``."""
    return [MemberImport(**row._mapping) for row in session.execute(select(imports).where(
        imports.c.status == "running",
        func.coalesce(imports.c.progressed_at, imports.c.started_at) < still_before))]


def add_rejections(session, import_id, rejections):
    if rejections:
        session.execute(insert(import_rejections), [
            {"import_id": import_id, "line": r.line, "reason": r.reason, "raw": r.raw}
            for r in rejections])


def rejections_of(session, import_id):
    """The rejected rows of an import, by line, as a stream of (line, reason, raw)."""
    return session.execute(select(import_rejections.c.line, import_rejections.c.reason,
                                  import_rejections.c.raw)
                           .where(import_rejections.c.import_id == import_id)
                           .order_by(import_rejections.c.line)
                           .execution_options(yield_per=1000))


def first_meetings(session, import_id, sirens):
    """The SIRENs of ``sirens`` this import had not met yet, now recorded as met."""
    met = set(session.execute(select(import_sirens.c.siren).where(
        import_sirens.c.import_id == import_id,
        import_sirens.c.siren.in_(sorted(sirens)))).scalars()) if sirens else set()
    new = sorted(set(sirens) - met)
    if new:
        session.execute(insert(import_sirens), [{"import_id": import_id, "siren": siren}
                                                for siren in new])
    return set(new)


def forget_sirens(session, import_id):
    session.execute(import_sirens.delete().where(import_sirens.c.import_id == import_id))


def open_cases_by_stage(session):
    """{stage: how many open cases are at it} (the business gauge of /metrics)."""
    return dict(session.execute(select(cases.c.stage, func.count()).where(
        cases.c.status != CLOSED).group_by(cases.c.stage)).all())

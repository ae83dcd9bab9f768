"""Programmes' use cases: one function per command or consumed event."""
import logging
import uuid

from parcours_shared.closed_cases import closed_among, record_closures
from parcours_shared.contracts import utc_now

from . import store
from .domain import (
    PROPOSED, WAITLISTED, WITHDRAWN, CaseNotEnrolled, Enrolment, EnrolmentOfAnotherCase,
    NoContactConsent, Programme, ProgrammeNameTaken, SeatsLeft, as_utc, check_offered_by,
    check_supported_by, no_enrolment, no_programme, session_to_propose,
)

log = logging.getLogger(__name__)


def create_programme(uow, fields):
    check_offered_by(uow.actor, fields["partner"], "a programme of {}".format(fields["partner"]))
    if store.programme_by_name(uow.session, fields["name"]) is not None:
        raise ProgrammeNameTaken("a programme named {!r} exists already".format(fields["name"]),
                                 fields={"name": ["a programme has this name already"]})
    programme = Programme.create(fields)
    store.add_programme(uow.session, programme)
    return programme


def get_programme(session, programme_id):
    programme = store.programme_by_id(session, programme_id)
    if programme is None:
        raise no_programme(programme_id)
    return programme


def add_session(uow, programme_id, session_fields):
    get_programme(uow.session, programme_id).check_run_by(uow.actor)
    programme_session = dict(session_fields, id=str(uuid.uuid4()), programme_id=programme_id)
    store.add(uow.session, store.sessions, programme_session)
    return programme_session


def catalogue(session):
    """Programmes with their sessions and seats left: "who does what", by maturity."""
    by_programme = {}
    for programme_session, seats_left in store.sessions_with_seats(session):
        by_programme.setdefault(programme_session["programme_id"], []).append(
            dict(programme_session, seats_left=seats_left))
    return [dict(programme.as_row(), sessions=by_programme.get(programme.id, []))
            for programme in store.list_programmes(session)]


def _enrolment_data(enrolment, programme, at):
    return {
        "enrolment_id": enrolment.id, "case_id": enrolment.case_id,
        "session_id": enrolment.session_id, "programme_id": programme.id,
        "programme_name": programme.name, "at": at,
    }


def propose_enrolments(uow, events):
    """diagnostic.completed: keep what the diagnostic found, and propose a session of a
    programme for that maturity: the earliest in one of the firm's target markets, else the
    earliest.

    Takes a batch of events: the catalogue and its seats are read once for the batch (a
    proposal takes no seat), the cases' earlier proposals in one query, the new ones written in
    one statement.
    """
    case_ids = [event.data["case_id"] for event in events]
    latest = {}
    for event in events:
        result = event.data
        if result["assessment_number"] > latest.get(result["case_id"], {}).get(
                "assessment_number", 0):
            latest[result["case_id"]] = result
    store.keep_diagnoses(uow.session, latest)
    # a case closed already (its case.closed came first) is proposed nothing
    proposed_before = store.cases_with_enrolment(uow.session, case_ids) | closed_among(
        uow.session, store.closed_cases, case_ids)
    programmes = {programme.id: programme for programme in store.list_programmes(uow.session)}
    open_sessions = store.sessions_with_seats(uow.session, from_date=utc_now().date())
    now = utc_now()
    new_enrolments = []
    for event in events:
        result = event.data
        if result["case_id"] in proposed_before:
            continue  # a proposal was already made for this case
        chosen = session_to_propose(result, open_sessions, programmes)
        if chosen is None:
            log.info("no open session suits maturity %s (case %s): nothing proposed",
                     result["maturity"], result["case_id"])
            continue
        proposed_before.add(result["case_id"])
        enrolment = Enrolment.propose(result["case_id"], chosen, at=now)
        new_enrolments.append(enrolment)
        uow.publish("enrolment.proposed", enrolment.case_id,
                    _enrolment_data(enrolment, programmes[enrolment.programme_id], now))
    store.add_enrolments(uow.session, new_enrolments)


def withdraw_for_closed_cases(uow, events):
    """case.closed: the firm left the pathway, so what it had not started is withdrawn: its
    proposals, and its places on waitlists. A seat it holds, or a session it took part in,
    stays as it was: the partner running it decides."""
    closures = record_closures(uow.session, store.closed_cases, events)
    now = utc_now()
    pending = []
    for case_id, closure in closures.items():
        for enrolment in store.enrolments_for_case(uow.session, case_id):
            if enrolment.status in (PROPOSED, WAITLISTED):
                enrolment.withdraw("case closed: " + closure["reason"], at=now)
                pending.append(enrolment)
    if pending:
        _record_moves(uow, pending, store.programmes_by_id(
            uow.session, {enrolment.programme_id for enrolment in pending}))


# What programmes keeps a firm's contacts for: putting it in touch with a large group.
CONTACTS_PURPOSE = "co_export_matching"


def keep_contacts(uow, events):
    """contact.shared and contact.withdrawn: keep the firm's contacts while it consents to
    co-export matching, and drop them when it does not, whatever order the events come in
    (the latest word wins)."""
    for event in sorted(events, key=lambda e: _said_at(e)):
        data, at = event.data, _said_at(event)
        known = store.firm_contacts_of(uow.session, data["case_id"])
        if known is not None and as_utc(known["as_of"]) >= at:
            continue  # older than what we hold
        if event.type == "contact.shared":
            contacts = data["contacts"] if CONTACTS_PURPOSE in data["purposes"] else None
        else:
            contacts = (known or {}).get("contacts") if CONTACTS_PURPOSE in data[
                "remaining_purposes"] else None
        store.keep_firm_contacts(uow.session, data["case_id"], contacts, at, known is not None)


def _said_at(event):
    return as_utc(event.data.get("shared_at") or event.data["withdrawn_at"])


def contacts_for_matching(session, case_id):
    """The firm's contacts, if it consents to co-export matching; raises NoContactConsent."""
    kept = store.firm_contacts_of(session, case_id)
    if kept is None or kept["contacts"] is None:
        raise NoContactConsent("the firm of case {} has not consented to co-export matching: "
                               "its contacts are not shared".format(case_id))
    return kept["contacts"]


def get_enrolment(session, enrolment_id):
    enrolment = store.enrolment_by_id(session, enrolment_id)
    if enrolment is None:
        raise no_enrolment(enrolment_id)
    return enrolment


def _record_moves(uow, enrolments, programmes):
    """Save these enrolments' moves (made already): one UPDATE for all of them, one event
    each. ``programmes``: theirs, by id."""
    store.save_moves(uow.session, enrolments)
    for enrolment in enrolments:
        data = _enrolment_data(enrolment, programmes[enrolment.programme_id],
                               enrolment.updated_at)
        if enrolment.status == WITHDRAWN:
            data["reason"] = enrolment.withdrawal_reason
        uow.publish("enrolment." + enrolment.status, enrolment.case_id, data)
    return enrolments


def confirm_enrolment(uow, enrolment_id):
    """The firm says yes: it takes a seat if one is left, otherwise it is waitlisted."""
    return confirm_enrolments(uow, [enrolment_id])[0]


def confirm_enrolments(uow, enrolment_ids):
    """Firms say yes, in this order (a selection committee confirms its list): each takes a seat
    while its session has one left, the next ones are waitlisted. One unknown or unconfirmable
    enrolment refuses them all (the unit of work rolls back)."""
    session_of = store.sessions_of_enrolments(uow.session, enrolment_ids)
    for enrolment_id in enrolment_ids:
        if enrolment_id not in session_of:
            raise no_enrolment(enrolment_id)
    # Seats are counted once per session, under the sessions' locks, and each confirmation
    # below takes one: a count per confirmation would scan the session's enrolments each time.
    # The enrolments are read after the locks: a confirmation that ran meanwhile is seen.
    session_ids = sorted(set(session_of.values()))
    store.lock_sessions(uow.session, session_ids)
    seats = SeatsLeft(store.seats_left(uow.session, session_ids))
    enrolments = store.enrolments_by_id(uow.session, enrolment_ids)
    now = utc_now()
    in_order = [enrolments[enrolment_id] for enrolment_id in enrolment_ids]
    programmes = _programmes_run_by(uow, in_order)
    for enrolment in in_order:
        enrolment.confirm(seats, at=now)
    return _record_moves(uow, in_order, programmes)


def _programmes_run_by(uow, enrolments):
    """The enrolments' programmes, by id, once checked that the caller's partner runs them:
    only it decides on their enrolments."""
    programmes = store.programmes_by_id(
        uow.session, {enrolment.programme_id for enrolment in enrolments})
    for programme in programmes.values():
        programme.check_run_by(uow.actor)
    return programmes


def complete_enrolment(uow, enrolment_id):
    enrolment = get_enrolment(uow.session, enrolment_id)
    programmes = _programmes_run_by(uow, [enrolment])
    enrolment.complete(at=utc_now())
    return _record_moves(uow, [enrolment], programmes)[0]


def withdraw_enrolment(uow, enrolment_id, reason):
    enrolment = get_enrolment(uow.session, enrolment_id)
    programmes = _programmes_run_by(uow, [enrolment])
    enrolment.withdraw(reason, at=utc_now())
    return _record_moves(uow, [enrolment], programmes)[0]


def record_outcome(uow, outcome):
    """What came of the support: recorded against an enrolment of the case."""
    enrolments = store.enrolments_for_case(uow.session, outcome["case_id"])
    if not enrolments:
        raise CaseNotEnrolled("case {} has no enrolment in a programme here".format(
            outcome["case_id"]))
    if outcome.get("enrolment_id"):
        enrolment = get_enrolment(uow.session, outcome["enrolment_id"])
        if enrolment.case_id != outcome["case_id"]:
            raise EnrolmentOfAnotherCase("enrolment {} belongs to another case".format(
                enrolment.id), fields={"enrolment_id": ["belongs to another case"]})
        _programmes_run_by(uow, [enrolment])
    elif uow.actor is not None:
        check_supported_by(uow.actor, outcome["case_id"], {
            programme.partner for programme in store.programmes_by_id(
                uow.session, {e.programme_id for e in enrolments}).values()})
    outcome = dict(outcome, id=str(uuid.uuid4()), recorded_at=utc_now())
    store.add(uow.session, store.outcomes, outcome)
    uow.publish("outcome.recorded", outcome["case_id"], {
        "outcome_id": outcome["id"], "case_id": outcome["case_id"],
        "enrolment_id": outcome.get("enrolment_id"), "kind": outcome["kind"],
        "amount_eur": outcome.get("amount_eur"), "recorded_at": outcome["recorded_at"]})
    return outcome

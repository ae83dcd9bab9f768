"""Programmes' use cases: one function per command or consumed event."""
import logging
import uuid

from parcours_shared.closed_cases import closed_among, record_closures
from parcours_shared.contracts import utc_now
from parcours_shared.contracts.programmes import OUTCOME_FIGURES

from . import store
from .co_export import (
    INTERESTED, CallNotFound, CoExportCall, Interest, InterestMoveRefused, NotAMatch,
    ranked_matches,
)
from .domain import (
    CONFIRMED, PROPOSED, WAITLISTED, WITHDRAWN, CaseNotEnrolled, Enrolment,
    EnrolmentOfAnotherCase, NoContactConsent, Programme, ProgrammeNameTaken, SeatsLeft, as_utc,
    check_offered_by, check_supported_by, no_enrolment, no_programme, proposals_for,
    session_takes_enrolments,
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


def catalogue(session, from_date=None):
    """Programmes with their sessions (from ``from_date`` on, if given) and seats left."""
    by_programme = {}
    for programme_session, seats_left in store.sessions_with_seats(session,
                                                                   from_date=from_date):
        by_programme.setdefault(programme_session["programme_id"], []).append(
            dict(programme_session, seats_left=seats_left))
    return [dict(programme.as_row(), sessions=by_programme.get(programme.id, []))
            for programme in store.list_programmes(session)]


def eligibility_for_case(session, programme_id, case_id, today):
    """Whether the firm of ``case_id`` may enter the programme, rule by rule, from what
    intake and its diagnostic told of it."""
    programme = get_programme(session, programme_id)
    firm = store.firm_profile_of(session, case_id)
    diagnosis = store.diagnosis_of(session, case_id)
    verdict = programme.rules.evaluate(firm, diagnosis, today)
    return dict(verdict.as_document(), programme_id=programme.id, case_id=case_id,
                firm_known=firm is not None, diagnosed=diagnosis is not None)


def who_does_what(session, firm, diagnosis, today):
    """For a kind of firm (its maturity, region, sector, headcount band, target market), the
    programmes it may enter, grouped by partner, each with its open sessions and why it fits:
    the "who does what" the partnership promised firms."""
    by_partner = {}
    for offer in catalogue(session, today):
        programme = Programme(**{name: offer[name] for name in Programme.__dataclass_fields__})
        verdict = programme.rules.evaluate(firm, diagnosis, today)
        if verdict.eligible:
            by_partner.setdefault(programme.partner, []).append(
                dict(offer, checks=verdict.as_document()["checks"]))
    names = {partner["id"]: partner["name"] for partner in store.directory.partners_list(
        session)}
    return [{"partner": partner, "partner_name": names.get(partner), "programmes": offers}
            for partner, offers in sorted(by_partner.items())]


def _enrolment_data(enrolment, programme, at):
    return {
        "enrolment_id": enrolment.id, "case_id": enrolment.case_id,
        "session_id": enrolment.session_id, "programme_id": programme.id,
        "programme_name": programme.name, "at": at, "partner": programme.partner,
    }


def keep_firm_profiles(uow, events):
    """case.opened and case.enriched: keep each firm's data, the latest word winning whatever
    the order events come in; the eligibility rules read it."""
    store.keep_firm_profiles(uow.session, [
        (event.data["case_id"], event.data,
         as_utc(event.data.get("opened_at") or event.data["arrived_at"])) for event in events])


def propose_enrolments(uow, events):
    """diagnostic.completed: keep what the diagnostic found, and propose the programmes the
    firm is eligible for, ranked (domain.proposals_for): each proposal an enrolment.proposed
    with its rank and reason; none, an enrolment.none_proposed saying why.

    Takes a batch of events: the catalogue and its seats are read once for the batch (a
    proposal takes no seat), the cases' earlier proposals and firm data in one query each,
    the new proposals written in one statement.
    """
    case_ids = [event.data["case_id"] for event in events]
    store.keep_diagnoses(uow.session, [event.data for event in events])
    # a case closed already (its case.closed came first) is proposed nothing
    proposed_before = store.cases_with_enrolment(uow.session, case_ids) | closed_among(
        uow.session, store.closed_cases, case_ids)
    programmes = {programme.id: programme for programme in store.list_programmes(uow.session)}
    now = utc_now()
    open_sessions = store.sessions_with_seats(uow.session, from_date=now.date())
    firms = store.firm_profiles_of(uow.session, set(case_ids))
    new_enrolments = []
    for event in events:
        result = event.data
        if result["case_id"] in proposed_before:
            continue  # proposals were made for this case already
        proposed_before.add(result["case_id"])
        firm = firms.get(result["case_id"])
        proposals = proposals_for(result, firm, programmes, open_sessions, now.date())
        if not proposals:
            _say_none_proposed(uow, result, firm, programmes, now)
            continue
        for proposal in proposals:
            enrolment = Enrolment.propose(result["case_id"], proposal.session, at=now,
                                          rank=proposal.rank, reason=proposal.reason[:300])
            new_enrolments.append(enrolment)
            uow.publish("enrolment.proposed", enrolment.case_id, dict(
                _enrolment_data(enrolment, proposal.programme, now), rank=enrolment.rank,
                reason=enrolment.reason))
    store.add_enrolments(uow.session, new_enrolments)


def _say_none_proposed(uow, result, firm, programmes, now):
    eligible_somewhere = any(programme.rules.evaluate(firm, result, now.date()).eligible
                             for programme in programmes.values())
    reason = "no_open_session" if eligible_somewhere else "no_eligible_programme"
    log.info("nothing to propose to case %s (maturity %s): %s", result["case_id"],
             result["maturity"], reason)
    uow.publish("enrolment.none_proposed", result["case_id"], {
        "case_id": result["case_id"], "diagnostic_id": result["diagnostic_id"],
        "maturity": result["maturity"], "reason": reason, "at": now})


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
    each, a waitlisted one with its place. ``programmes``: theirs, by id."""
    store.save_moves(uow.session, enrolments)
    positions = store.waitlist_positions(uow.session, [
        e.id for e in enrolments if e.status == WAITLISTED])
    for enrolment in enrolments:
        data = _enrolment_data(enrolment, programmes[enrolment.programme_id],
                               enrolment.updated_at)
        if enrolment.status == WITHDRAWN:
            data["reason"] = enrolment.withdrawal_reason
        if enrolment.status == WAITLISTED:
            data["position"] = positions.get(enrolment.id)
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
    sessions = store.sessions_by_id(uow.session, session_ids)
    enrolments = store.enrolments_by_id(uow.session, enrolment_ids)
    now = utc_now()
    in_order = [enrolments[enrolment_id] for enrolment_id in enrolment_ids]
    programmes = _programmes_run_by(uow, in_order)
    for enrolment in in_order:
        enrolment.confirm(seats, sessions[enrolment.session_id], at=now)
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
    """The firm or the organiser withdraws; a seat it held goes to the first on the waitlist
    (its enrolment.confirmed follows the withdrawal)."""
    # the session is locked before the enrolment is read: two withdrawals of one seat at the
    # same moment free it once, and promote one firm
    session_of = store.sessions_of_enrolments(uow.session, [enrolment_id])
    if enrolment_id not in session_of:
        raise no_enrolment(enrolment_id)
    store.lock_sessions(uow.session, [session_of[enrolment_id]])
    enrolment = get_enrolment(uow.session, enrolment_id)
    programmes = _programmes_run_by(uow, [enrolment])
    held_a_seat = enrolment.status == CONFIRMED
    now = utc_now()
    enrolment.withdraw(reason, at=now)
    _record_moves(uow, [enrolment], programmes)
    if held_a_seat:
        _promote_from_waitlists(uow, [enrolment.session_id], now)
    return enrolment


def _promote_from_waitlists(uow, session_ids, now):
    """Seats came free in these sessions (locked by the caller): the first on each waitlist
    takes one while the session still takes enrolments."""
    sessions = store.sessions_by_id(uow.session, session_ids)
    seats = store.seats_left(uow.session, session_ids)
    promoted = [first for session_id, first in store.first_waitlisted(
        uow.session, session_ids).items()
        if seats[session_id] > 0 and session_takes_enrolments(sessions[session_id], now.date())]
    for enrolment in promoted:
        enrolment.promote(at=now)
    if promoted:
        _record_moves(uow, promoted, store.programmes_by_id(
            uow.session, {e.programme_id for e in promoted}))


def keep_firm_reviews(uow, events):
    """outcome.reviewed: the firm confirmed an outcome, or corrected it (its figures are kept
    beside those recorded, which stay as the partner gave them)."""
    store.keep_firm_reviews(uow.session, [
        (data["outcome_id"], data["verdict"],
         {name: data[name] for name in OUTCOME_FIGURES[data["kind"]]}
         if data["verdict"] == "corrected" else None, data["reviewed_at"])
        for data in (event.data for event in events)])


def record_outcome(uow, outcome):
    """What came of the support: recorded against an enrolment of the case, by the partner
    whose programme had it."""
    enrolments = store.enrolments_for_case(uow.session, outcome["case_id"])
    if not enrolments:
        raise CaseNotEnrolled("case {} has no enrolment in a programme here".format(
            outcome["case_id"]))
    programme_id = None
    if outcome.get("enrolment_id"):
        enrolment = get_enrolment(uow.session, outcome["enrolment_id"])
        if enrolment.case_id != outcome["case_id"]:
            raise EnrolmentOfAnotherCase("enrolment {} belongs to another case".format(
                enrolment.id), fields={"enrolment_id": ["belongs to another case"]})
        [programme] = _programmes_run_by(uow, [enrolment]).values()
        programme_id, partner = programme.id, programme.partner
    else:
        runners = {programme.partner for programme in store.programmes_by_id(
            uow.session, {e.programme_id for e in enrolments}).values()}
        if uow.actor is not None:
            check_supported_by(uow.actor, outcome["case_id"], runners)
        partner = uow.actor.partner if uow.actor is not None else min(runners)
    outcome = dict(outcome, id=str(uuid.uuid4()), recorded_at=utc_now(),
                   programme_id=programme_id, partner=partner)
    store.add(uow.session, store.outcomes, outcome)
    uow.publish("outcome.recorded", outcome["case_id"], {
        "outcome_id": outcome["id"], "case_id": outcome["case_id"],
        "enrolment_id": outcome.get("enrolment_id"), "kind": outcome["kind"],
        "amount_eur": outcome.get("amount_eur"), "country": outcome.get("country"),
        "staff_count": outcome.get("staff_count"), "programme_id": programme_id,
        "partner": partner, "recorded_at": outcome["recorded_at"]})
    return outcome


# --- co-export calls -------------------------------------------------------------------------

def publish_call(uow, fields):
    """A large group's partner calls for SMEs upstream of a project abroad."""
    partner = fields.pop("partner")
    check_offered_by(uow.actor, partner, "a call of {}".format(partner))
    call = CoExportCall.publish(partner, fields, at=utc_now())
    store.add_call(uow.session, call)
    uow.publish("co_export.call_published", call.id, {
        "call_id": call.id, "partner": call.partner, "title": call.title,
        "country": call.country, "sectors": call.sectors,
        "maturity_levels": call.maturity_levels, "deadline": call.deadline,
        "published_at": call.published_at})
    return call


def get_call(session, call_id):
    call = store.call_by_id(session, call_id)
    if call is None:
        raise CallNotFound("no co-export call with id {}".format(call_id))
    return call


def call_matches(session, call_id, actor):
    """The firms that fit the call, best first, each with its score, its reasons, whether it
    said it is interested, and its contacts where it consents to co-export matching: for the
    call's partner only."""
    call = get_call(session, call_id)
    call.check_owned_by(actor)
    matches = ranked_matches(call, store.every_firm_profile(session),
                             store.open_cases_diagnoses(session))
    contacts = store.contacts_with_consent(session, [m.case_id for m in matches])
    interests = store.interests_in(session, call_id)
    return call, [dict(case_id=m.case_id, company_name=m.company_name, score=m.score,
                       reasons=list(m.reasons), contacts=contacts.get(m.case_id),
                       contact_consent=m.case_id in contacts,
                       interest=interests[m.case_id].status if m.case_id in interests else None)
                  for m in matches]


def express_interest(uow, call_id, case_id):
    """The firm (through its advisor, or the single window) says it is interested in a call it
    matches."""
    call = get_call(uow.session, call_id)
    now = utc_now()
    call.check_open(now.date())
    closed = closed_among(uow.session, store.closed_cases, [case_id])
    match = None if closed else call.match(case_id, store.firm_profile_of(uow.session, case_id),
                                           store.diagnosis_of(uow.session, case_id))
    if match is None:
        raise NotAMatch("case {} does not fit call {!r}: it is closed, or its diagnosis, "
                        "maturity or sector does not match".format(case_id, call.title))
    if case_id in store.interests_in(uow.session, call_id):
        raise InterestMoveRefused("case {} said it is interested in call {!r} already".format(
            case_id, call.title))
    interest = Interest(call_id, case_id, INTERESTED, now,
                        expressed_by=uow.actor.partner if uow.actor else None)
    store.add_interest(uow.session, interest)
    uow.publish("co_export.interest_expressed", case_id, {
        "call_id": call_id, "case_id": case_id, "partner": call.partner,
        "expressed_by": interest.expressed_by, "at": now})
    return interest


def decide_on_interest(uow, call_id, case_id, decision, note):
    """The group selects an interested firm for its project, or declines it."""
    call = get_call(uow.session, call_id)
    call.check_owned_by(uow.actor)
    interest = store.interests_in(uow.session, call_id).get(case_id)
    if interest is None:
        raise NotAMatch("case {} has not said it is interested in call {!r}".format(
            case_id, call.title))
    now = utc_now()
    interest.decide(decision, note, at=now)
    store.save_decision(uow.session, interest)
    uow.publish("co_export.decided", case_id, {
        "call_id": call_id, "case_id": case_id, "partner": call.partner,
        "decision": decision, "at": now})
    return interest

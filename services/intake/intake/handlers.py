"""Intake's use cases: one function per command, each inside one unit of work.

Each function loads what it needs, applies the domain rules and records the events that follow,
which commit with the state change (outbox).
"""
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from parcours_shared.contracts import utc_now
from parcours_shared.signed_links import LinkRefused

from . import store
from .correspondence import CASE_SURVEY, FOLLOW_REQUEST, OUTCOME_REVIEW
from .member_list import UnreadableFile, read_members
from .domain import (
    ACCEPTED, CONSENT_PURPOSES, OPEN, RUNNING, SENT, STAGE_OF_EVENT, Arrival, Case,
    CaseSearch, ConsentRecord,
    Contact, ContactNotFound, DirectoryIdTaken, FirmNumber, ImportNotFound, MemberImport,
    Partner, PartnerNotFound, Person, PersonNotFound, RecordedOutcome, Referral,
    ReferralNotFound, SurveyAnswer, UnknownAdvisor, as_utc, check_may_assign, check_may_close,
    check_may_read_case, check_may_read_referral, check_referred_by, checked_firm_data,
    next_in_rotation, no_case, readable_scope, same_person,
)


log = logging.getLogger(__name__)
CONTACT_FIELDS = ("name", "role", "email", "phone")


def _case_opened_data(case):
    arrival = case.arrivals[0]
    return dict(case.firm_data(), case_id=case.id, channel=case.channel,
                opened_at=case.opened_at, siret=arrival.siret, partner=arrival.partner)


def _arrival(uow, channel, number, partner=None, on=None):
    """This call's arrival: through ``channel``, brought by ``partner`` (default: the caller's),
    now or, for a list of firms met earlier, ``on`` that day (at noon UTC: the same day in
    France)."""
    actor = uow.actor
    at = datetime.combine(on, time(12), tzinfo=timezone.utc) if on else utc_now()
    return Arrival(channel=channel, at=at, siret=number.siret,
                   partner=partner or (actor.partner if actor is not None else None),
                   person=actor.person if actor is not None else None)


def open_case(uow, firm, channel, partner=None, assign=False):
    """Open the firm's case, or return the one it has: one case per firm, whatever the door.
    Either way the arrival is recorded on the case (its channel, partner and establishment).
    ``assign``: a new case goes to its region's next advisor (``assign_in_turn``).

    Returns (case, created).
    """
    number = FirmNumber.of(firm.get("siren"), firm.get("siret"))
    firm = checked_firm_data(firm)
    arrival = _arrival(uow, channel, number, partner)
    existing = store.case_by_siren(uow.session, number.siren)
    if existing is not None:
        _arrive_again(uow, [(existing, firm, arrival)])
        return existing, False
    return _start_cases(uow, [(number, firm, arrival)], assign)[0], True


def import_firms(uow, firms, assign=False):
    """Firms entered together (say, met at a trade fair), each with its own channel: open a case
    for each firm that has none, as ``open_case`` does. A SIREN repeated in the list is one firm,
    opened once: its later entries get the same answer as its first, and are arrivals too.

    Returns (case, created) pairs in the order of ``firms``; created: this request opened it.
    """
    entries = [(FirmNumber.of(firm.get("siren"), firm.get("siret")), checked_firm_data(firm),
                firm["channel"]) for firm in firms]
    entries = [(number, data, _arrival(uow, channel, number, on=firm.get("contacted_on")))
               for (number, data, channel), firm in zip(entries, firms)]
    known = store.cases_by_siren(uow.session, {number.siren for number, _, _ in entries})
    firsts, again = {}, []
    for number, data, arrival in entries:
        if number.siren in known or number.siren in firsts:
            again.append((number.siren, data, arrival))
        else:
            firsts[number.siren] = (number, data, arrival)
    opened = {case.siren: case for case in _start_cases(uow, list(firsts.values()), assign)}
    _arrive_again(uow, [(known.get(siren) or opened[siren], data, arrival)
                        for siren, data, arrival in again])
    answers = {siren: (case, False) for siren, case in known.items()}
    answers.update((siren, (case, True)) for siren, case in opened.items())
    return [answers[number.siren] for number, _, _ in entries]


def _start_cases(uow, firms, assign=False):
    """The first case of each firm, from (FirmNumber, firm data, Arrival) triples, and a
    case.opened event for each in the same transaction; assigned by rotation if ``assign``."""
    cases = [Case.open(str(uuid.uuid4()), number, firm, arrival)
             for number, firm, arrival in firms]
    assigned = assign_in_turn(uow, cases) if assign else []
    if cases:
        store.add_cases(uow.session, cases)
    for case in cases:
        uow.publish("case.opened", case.id, _case_opened_data(case))
    for case in assigned:
        _assigned_event(uow, case, "rotation", case.opened_at)
    return cases


def _arrive_again(uow, arrivals):
    """(case, firm data, Arrival) of firms that have a case: record each arrival, fill in what
    the case lacked, and tell the network (case.enriched)."""
    for case, firm, arrival in arrivals:
        filled = case.arrive_again(firm, arrival)
        store.save_case(uow.session, case)  # the data filled, and its follow-up touched
        uow.publish("case.enriched", case.id, dict(
            case.firm_data(), case_id=case.id, channel=arrival.channel, partner=arrival.partner,
            siret=arrival.siret, filled=filled, arrived_at=arrival.at))
    store.add_arrivals(uow.session, [(case, arrival) for case, _, arrival in arrivals])


def refer_firm(uow, command, assign=False):
    """A partner flags a firm (detection), in its own name: open its case if needed, and send
    the single window a referral, whose steps the partner then follows.

    Returns (case, referral, created); created: the referral opened the case.
    """
    referred_by = command.get("referred_by") or (uow.actor.partner if uow.actor else None)
    check_referred_by(uow.actor, referred_by)
    case, created = open_case(uow, command, channel="referral", partner=referred_by,
                              assign=assign)
    now = utc_now()
    referral = Referral(id=str(uuid.uuid4()), case_id=case.id, referred_by=referred_by,
                        status=SENT, sent_at=now, updated_at=now, reason=command.get("reason"),
                        note=command.get("note"))
    store.add_referral(uow.session, referral)
    # the note stays in intake: it is the referrer's word to the single window
    uow.publish("case.referred", case.id, {
        "case_id": case.id, "siren": case.siren, "referred_by": referred_by,
        "reason": referral.reason, "referred_at": now, "referral_id": referral.id,
    })
    return case, referral, created


def _referral_event(uow, referral, step, **details):
    uow.publish("referral." + step, referral.case_id, dict(
        referral_id=referral.id, case_id=referral.case_id, referred_by=referral.referred_by,
        at=referral.updated_at, **details))


def _referral_and_case(session, referral_id):
    referral = store.referral_by_id(session, referral_id)
    if referral is None:
        raise ReferralNotFound("no referral with id {}".format(referral_id))
    return referral, get_case(session, referral.case_id)


def readable_referral(session, referral_id, actor):
    """(referral, case), if ``actor`` may follow it."""
    referral, case = _referral_and_case(session, referral_id)
    check_may_read_referral(actor, _actor_partner(session, actor), referral, case)
    return referral, case


def visible_referrals(session, actor, query):
    """The referrals the caller follows: those its partner sent, and those of the cases it may
    read (a single window: its regions'). Returns ((referral, case) pairs, total)."""
    scope = readable_scope(actor, _actor_partner(session, actor))
    return store.list_referrals(session, query, scope=scope)


def accept_referral(uow, referral_id):
    """The single window takes the firm on; if the case already has an advisor, the referral is
    in their charge at once."""
    referral, case = _referral_and_case(uow.session, referral_id)
    check_may_assign(uow.actor, _actor_partner(uow.session, uow.actor), case)
    referral.accept(at=utc_now())
    _referral_event(uow, referral, "accepted")
    if case.advisor is not None:
        _take_in_charge(uow, referral, case)
    store.save_referral(uow.session, referral)
    return referral, case


def reject_referral(uow, referral_id, reason, note=None):
    referral, case = _referral_and_case(uow.session, referral_id)
    check_may_assign(uow.actor, _actor_partner(uow.session, uow.actor), case)
    referral.reject(reason, note, at=utc_now())
    store.save_referral(uow.session, referral)
    _referral_event(uow, referral, "rejected", reason=reason)
    return referral, case


def complete_referral(uow, referral_id, outcome, note=None):
    """What came of it, said by the single window or the partner following the case."""
    referral, case = _referral_and_case(uow.session, referral_id)
    check_may_close(uow.actor, _actor_partner(uow.session, uow.actor), case)
    referral.complete(outcome, note, at=utc_now())
    store.save_referral(uow.session, referral)
    _referral_event(uow, referral, "done", outcome=outcome)
    return referral, case


def _take_in_charge(uow, referral, case):
    referral.take_in_charge(case.advisor, at=utc_now())
    _referral_event(uow, referral, "taken_in_charge", advisor=case.advisor,
                    partner=case.partner)


def follow_pathway(uow, events, correspondence=None):
    """The other services' events about intake's cases: each case's stage moves forward; the
    programmes completed and the outcomes recorded are kept, and the firm is asked for its word
    on them (``correspondence``: None, nobody is written to)."""
    reached = {}
    for event in events:
        stage = STAGE_OF_EVENT[event.type]
        case_id = event.data["case_id"]
        reached.setdefault(case_id, []).append((stage, event.time))
    cases = store.cases_by_id(uow.session, set(reached))
    for case in cases:
        if any([case.reach(stage, at) for stage, at in reached[case.id]]):
            store.save_stage(uow.session, case)
    by_id = {case.id: case for case in cases}
    _keep_programme_results(uow, events, by_id, correspondence)
    if correspondence is not None:
        _tell_firms(uow, events, by_id, correspondence)


def _tell_firms(uow, events, cases, correspondence):
    """Each step of the pathway the firm should hear of, once (the programmes proposed to it
    together, in one message)."""
    about = [(cases[event.data["case_id"]], event) for event in events
             if event.data["case_id"] in cases]
    proposed = {}
    for case, event in about:
        if event.type == "diagnostic.scheduled":
            correspondence.diagnostic_scheduled(uow, case, event.data)
        elif event.type == "enrolment.proposed":
            proposed.setdefault(case.id, (case, []))[1].append(event.data)
    for case, proposals in proposed.values():
        correspondence.programmes_proposed(uow, case, proposals)
    for case, event in about:  # after the proposals, in the firm's mailbox too
        if event.type in ("enrolment.waitlisted", "enrolment.confirmed"):
            correspondence.enrolment_step(uow, case, event.type.split(".")[1], event.data)


def _keep_programme_results(uow, events, cases, correspondence):
    store.keep_outcomes(uow.session, [RecordedOutcome.from_event(event.data) for event in events
                                      if event.type == "outcome.recorded"])
    enrolments = {event.data["enrolment_id"]: {
        "enrolment_id": event.data["enrolment_id"], "case_id": event.data["case_id"],
        "programme_id": event.data["programme_id"],
        "programme_name": event.data["programme_name"], "partner": event.data["partner"],
        "completed_at": event.data["at"]}
        for event in events if event.type == "enrolment.completed"}
    new = store.keep_completed_enrolments(uow.session, list(enrolments.values()))
    if correspondence is not None:
        for enrolment in (enrolments[enrolment_id] for enrolment_id in sorted(new)):
            case = cases.get(enrolment["case_id"])
            if case is not None:
                correspondence.ask_for_review(uow, case, enrolment)


@dataclass
class OutcomeReviewSubject:
    """What a review link is about: the case, its completed enrolment, the outcomes recorded."""
    link: object
    case: object
    enrolment: dict
    outcomes: list


def outcome_review(session, links, token):
    """What the firm reviews through its link; LinkRefused when the link may not be used."""
    link = links.open(session, token, OUTCOME_REVIEW)
    return OutcomeReviewSubject(link, store.case_by_id(session, link.case_id),
                                store.completed_enrolment(session, link.subject_id),
                                store.outcomes_of_enrolment(session, link.subject_id))


def answer_outcome_review(uow, links, subject, answer):
    """The firm's answer (firm_pages.read_review_form): each outcome confirmed or corrected
    (outcome.reviewed), its survey answer (survey.answered); the link is used up. An outcome
    recorded after the page was shown stays unconfirmed."""
    if not links.use(uow.session, subject.link):
        raise LinkRefused("used")  # another tab answered first
    now, case = utc_now(), subject.case
    reviewed = [outcome for outcome in subject.outcomes if outcome.id in answer["verdicts"]]
    for outcome in reviewed:
        verdict, figures = answer["verdicts"][outcome.id]
        uow.publish("outcome.reviewed", case.id, outcome.review(verdict, figures, now))
    store.save_reviews(uow.session, reviewed)
    _record_survey(uow, subject.link, case, answer, now, subject.enrolment)
    _touch(uow, case, now)


def _record_survey(uow, link, case, answer, now, enrolment=None):
    """The survey's answer kept (its comment stays here unless shared) and told:
    survey.answered, about the enrolment, or else the case (credited to its holder)."""
    survey = SurveyAnswer(
        id=str(uuid.uuid4()), link_id=link.id, case_id=case.id,
        enrolment_id=enrolment["enrolment_id"] if enrolment else None,
        usefulness=answer["usefulness"], would_recommend=answer["would_recommend"],
        comment=answer["comment"], comment_shareable=answer["comment_shareable"],
        answered_at=now)
    store.add_survey_answer(uow.session, survey)
    data = survey.event_data(enrolment)
    if enrolment is None:
        data["partner"] = case.partner or case.opened_by
    uow.publish("survey.answered", case.id, data)


def submit_request(uow, request, correspondence=None, assign=False):
    """A firm's own request (a domain.FirmRequest, from the public page), through the same use
    cases as the staff's: its case opened or found (channel ``web``, brought by the partner whose
    site the form was on), its contact kept (the same person given again is updated, not
    added), the purposes it ticked consented to (a box left blank withdraws nothing: that is
    the follow page's job), request.received, and the firm told its request arrived.

    Returns (case, created)."""
    case, created = open_case(uow, request.firm, "web", partner=request.source, assign=assign)
    _record_consents(uow, case, {purpose: True for purpose in request.consents}, "web",
                     changes_only=True)
    known = next((contact for contact in store.contacts_of(uow.session, case.id)
                  if same_person(contact, request.contact)), None)
    if known is None:
        _add_contact(uow, case, request.contact)
    else:
        _update_contact(uow, case, known, dict(
            request.contact, **{name: request.contact.get(name) or getattr(known, name)
                                for name in CONTACT_FIELDS}))
    request_id, now = str(uuid.uuid4()), utc_now()
    store.add_firm_request(uow.session, request_id, case.id, request, now)
    uow.publish("request.received", case.id, {
        "request_id": request_id, "case_id": case.id, "siren": case.siren,
        "source": request.source, "campaign": request.campaign, "needs": list(request.needs),
        "target_market": request.target_market, "received_at": now})
    if correspondence is not None:
        correspondence.request_received(uow, case, request_id, request)
        if case.advisor is not None:
            correspondence.taken_in_charge(uow, case)
    return case, created


def count_request_attempt(uow, address_key, limit, now=None):
    """One more request from an address (a keyed hash of it): False if it went past the
    ``limit`` (a domain.RequestLimit) and must wait."""
    now = now or utc_now()
    sent = store.count_attempt(uow.session, address_key, now,
                               now - timedelta(seconds=limit.seconds))
    return limit.allows(sent - 1)


@dataclass
class FollowedRequest:
    """What the firm sees behind its follow link: its case, the contact the link was sent to,
    its consent, the advisor following it (a directory Person, or None)."""
    link: object
    case: object
    contact: object
    consents: object
    advisor: object


def followed_request(session, links, token):
    """LinkRefused when the link may not be used (or its contact was removed since)."""
    link = links.open(session, token, FOLLOW_REQUEST)
    case = store.case_by_id(session, link.case_id)
    contact = store.contact_by_id(session, link.subject_id) if link.subject_id else None
    if case is None or contact is None or contact.case_id != case.id:
        raise LinkRefused("revoked")
    advisor = store.person_by_id(session, case.advisor) if case.advisor else None
    return FollowedRequest(link, case, contact, store.consents_of(session, case.id), advisor)


def correct_contact(uow, followed, fields):
    """The firm corrects its own contact details from its follow page."""
    return _update_contact(uow, followed.case, followed.contact, fields)


def change_consent(uow, links, followed, granted):
    """The firm's consent as its follow page now says (``granted``: the purposes ticked);
    withdrawing every purpose also withdraws its links: nothing more is sent to it."""
    consents = _record_consents(uow, followed.case, {
        purpose: purpose in granted for purpose in CONSENT_PURPOSES}, "web", changes_only=True)
    if not consents.granted():
        links.revoke_for_case(uow.session, followed.case.id)
    return consents


def revoke_firm_links(uow, links, case_id):
    """The single window takes back every personal link of the case (an email forwarded, a
    contact who left the firm). Returns how many were live."""
    case = _readable(uow.session, case_id, uow.actor)
    return links.revoke_for_case(uow.session, case.id)


def pathway_survey(session, links, token):
    """The closed case a survey link is about; LinkRefused when it may not be used."""
    link = links.open(session, token, CASE_SURVEY)
    return link, store.case_by_id(session, link.case_id)


def answer_pathway_survey(uow, links, link, case, answer):
    """The firm's word on its whole pathway (survey.answered, about the case)."""
    if not links.use(uow.session, link):
        raise LinkRefused("used")
    _record_survey(uow, link, case, answer, utc_now())


def nudge_quiet_firms(uow, correspondence, now, quiet_days):
    """Firms whose case nothing moved for ``quiet_days`` hear that it is not forgotten, once
    per quiet spell. Returns how many messages were queued."""
    return sum(correspondence.nudge(uow, case, (now - as_utc(case.last_activity_at)).days)
               for case in store.quiet_cases_with_contacts(
                   uow.session, now - timedelta(days=quiet_days)))


def note_nothing_proposed(uow, events):
    """enrolment.none_proposed: programmes had nothing for the firm after its diagnostic; the
    single window finds these cases with ?nothing_proposed=true and follows them up."""
    said = {event.data["case_id"]: event.data["at"] for event in events}
    for case in store.cases_by_id(uow.session, set(said)):
        if case.note_nothing_proposed(said[case.id]):
            store.save_stage(uow.session, case)


def get_case(session, case_id):
    case = store.case_by_id(session, case_id)
    if case is None:
        raise no_case(case_id)
    return case


def _actor_partner(session, actor):
    return store.partner_by_id(session, actor.partner) if actor is not None else None


def _readable(session, case_id, actor):
    """The case, if ``actor`` may read it (those who may read it also record its contacts)."""
    case = get_case(session, case_id)
    check_may_read_case(actor, _actor_partner(session, actor), case)
    return case


def readable_case(session, case_id, actor):
    """The case with its history of arrivals, if ``actor`` may read it."""
    return store.load_history(session, _readable(session, case_id, actor))


def visible_cases(session, actor, search=CaseSearch()):
    """The cases the caller may read (``may_read_case``) that meet ``search`` (a CaseSearch):
    (one page of them, their total)."""
    scope = readable_scope(actor, _actor_partner(session, actor))
    return store.search_cases(session, search, scope=scope)


def assign_case(uow, case_id, advisor, partner=None, correspondence=None):
    """The single window gives the case to an advisor of the directory (``partner``, if given,
    must be theirs); the firm hears who follows it (``correspondence``)."""
    case = get_case(uow.session, case_id)
    check_may_assign(uow.actor, _actor_partner(uow.session, uow.actor), case)
    person = store.person_by_id(uow.session, advisor)
    if person is not None and partner is not None and partner != person.partner_id:
        message = "{} is with {}, not {}".format(advisor, person.partner_id, partner)
        raise UnknownAdvisor(message, fields={"partner": [message]})
    case = _assign(uow, case, person, rule="by_hand", advisor_id=advisor)
    if correspondence is not None:
        correspondence.taken_in_charge(uow, case)
    return case


def _assign(uow, case, person, rule, advisor_id=None):
    at = utc_now()
    case.assign(advisor_id or person.id, person, at)
    store.save_case(uow.session, case)
    _assigned_event(uow, case, rule, at)
    # the referrals the window accepted are now in the advisor's charge
    for referral in store.referrals_of_case(uow.session, case.id, status=ACCEPTED):
        _take_in_charge(uow, referral, case)
        store.save_referral(uow.session, referral)
    return case


def _assigned_event(uow, case, rule, at):
    uow.publish("case.assigned", case.id, {
        "case_id": case.id, "advisor": case.advisor, "partner": case.partner,
        "assigned_at": at, "rule": rule})


def assign_in_turn(uow, cases):
    """New cases, not saved yet, go to their region's advisors in turn (domain.next_in_rotation);
    a case whose region is not known yet, or whose region has no advisor, waits for the window to
    assign it by hand. The service itself assigns: no ownership check. Each region's advisors
    and turn are read once, however many of its cases come together (an import brings
    hundreds). Returns the cases assigned, for their case.assigned events."""
    by_region = {}
    for case in cases:
        if case.region_code is not None and case.status == OPEN:
            by_region.setdefault(case.region_code, []).append(case)
    assigned = []
    for region, waiting in by_region.items():
        advisors = {person.id: person for person in store.advisors_of_region(uow.session,
                                                                             region)}
        if not advisors:
            continue
        turn = store.last_assigned(uow.session, region)
        for case in waiting:
            turn = next_in_rotation(advisors, turn)
            case.assign(turn, advisors[turn], case.opened_at)
            assigned.append(case)
        store.record_turn(uow.session, region, turn)
    return assigned


def raise_follow_ups(uow, policy, now):
    """The follow-up deadlines (a FollowUpPolicy) passed by ``now`` (the clock is given, so
    tests move time): each untouched case, and each referral waiting for someone, raises its
    next level once (case.follow_up_due) and shows as overdue until someone acts on it.
    Returns how many were raised."""
    # a working day is a calendar day too: nothing untouched for fewer calendar days is due
    earliest = now - timedelta(days=policy.reminder)
    raised = 0
    for case in store.untouched_cases(uow.session, earliest):
        raised += _raise(uow, policy, now, case, case, case.last_activity_at, store.cases)
    for referral, case in store.untouched_referrals(uow.session, earliest):
        raised += _raise(uow, policy, now, referral, case, referral.updated_at, store.referrals,
                         referral_id=referral.id)
    return raised


def _raise(uow, policy, now, waiting, case, since, table, referral_id=None):
    days = policy.days_untouched(since, now)
    level = policy.due(days, waiting.follow_up_level)
    if level is None:
        return 0
    waiting.follow_up_level = level
    store.save_follow_up_level(uow.session, table, waiting)
    uow.publish("case.follow_up_due", case.id, {
        "case_id": case.id, "level": level, "untouched_since": as_utc(since),
        "days_untouched": days, "working_days": policy.working_days,
        "advisor": case.advisor, "partner": case.partner, "referral_id": referral_id,
        "due_at": now})
    return 1


def close_case(uow, case_id, reason, note=None, correspondence=None):
    """The firm leaves the pathway; diagnostic and programmes cancel what was pending for it
    when they see case.closed. The firm is asked what it thought of its pathway
    (``correspondence``), unless its case was a duplicate merged into another."""
    case = get_case(uow.session, case_id)
    check_may_close(uow.actor, _actor_partner(uow.session, uow.actor), case)
    case.close(reason, note, at=utc_now())
    store.save_case(uow.session, case)
    uow.publish("case.closed", case.id, {
        "case_id": case.id, "reason": reason, "closed_at": case.closed_at})
    if correspondence is not None and reason != "duplicate_merged":
        correspondence.ask_about_pathway(uow, case)
    return case


# --- the firm's contact persons and its consent --------------------------------------------------

def contacts_and_consent(session, case_id, actor):
    _readable(session, case_id, actor)
    return store.contacts_of(session, case_id), store.consents_of(session, case_id)


def add_contact(uow, case_id, command):
    return _add_contact(uow, _readable(uow.session, case_id, uow.actor), command)


def _add_contact(uow, case, command):
    now = utc_now()
    contact = Contact(id=str(uuid.uuid4()), case_id=case.id, added_at=now, **{
        name: command.get(name) for name in CONTACT_FIELDS})
    store.add_contact(uow.session, contact)
    _touch(uow, case, now)
    _share_contacts(uow, case.id, now)
    return contact


def update_contact(uow, case_id, contact_id, command):
    case = _readable(uow.session, case_id, uow.actor)
    return _update_contact(uow, case, _contact_of(uow.session, case, contact_id), command)


def _update_contact(uow, case, contact, command):
    now = utc_now()
    contact.update(command["name"], command.get("role"), command.get("email"),
                   command.get("phone"), at=now)
    store.save_contact(uow.session, contact)
    _touch(uow, case, now)
    _share_contacts(uow, case.id, now)
    return contact


def remove_contact(uow, case_id, contact_id):
    case = _readable(uow.session, case_id, uow.actor)
    _contact_of(uow.session, case, contact_id)
    store.remove_contact(uow.session, contact_id)
    now = utc_now()
    _touch(uow, case, now)
    _share_contacts(uow, case.id, now)
    return store.contacts_of(uow.session, case.id)


def record_consent(uow, case_id, purpose, granted, channel):
    """The firm's yes or no to one purpose, kept with who recorded it, when and how. Consenting
    shares its contacts for what it now consents to (contact.shared); withdrawing tells every
    consumer to drop its copy for that purpose (contact.withdrawn)."""
    return _record_consents(uow, _readable(uow.session, case_id, uow.actor), {purpose: granted},
                            channel)


def _record_consents(uow, case, answers, channel, changes_only=False):
    """The firm's word on several purposes at once (``answers``: purpose -> granted);
    ``changes_only``: a word that changes nothing (a form sent with its boxes as they were) is
    not recorded."""
    consents = store.consents_of(uow.session, case.id)
    before = set(consents.granted())
    now, actor = utc_now(), uow.actor
    for purpose, granted in sorted(answers.items()):
        if changes_only and (purpose in before) == granted:
            continue
        record = ConsentRecord(purpose=purpose, granted=granted, channel=channel, at=now,
                               partner=actor.partner if actor else None,
                               person=actor.person if actor else None)
        consents.record(record)
        store.add_consent(uow.session, case.id, record)
    after = set(consents.granted())
    if before - after:
        uow.publish("contact.withdrawn", case.id, {
            "case_id": case.id, "purposes": sorted(before - after),
            "remaining_purposes": sorted(after), "withdrawn_at": now})
    if after - before:
        contacts = store.contacts_of(uow.session, case.id)
        if contacts:
            _share_contacts(uow, case.id, now, consents, contacts)
    _touch(uow, case, now)
    return consents


def _share_contacts(uow, case_id, at, consents=None, contacts=None):
    """The case's contacts, as they now stand, to the purposes consented to; nothing without
    consent."""
    granted = (consents or store.consents_of(uow.session, case_id)).granted()
    if granted:
        if contacts is None:
            contacts = store.contacts_of(uow.session, case_id)
        uow.publish("contact.shared", case_id, {
            "case_id": case_id, "purposes": granted, "shared_at": at,
            "contacts": [contact.as_shared() for contact in contacts]})


def _contact_of(session, case, contact_id):
    contact = store.contact_by_id(session, contact_id)
    if contact is None or contact.case_id != case.id:
        raise ContactNotFound("case {} has no contact {}".format(case.id, contact_id))
    return contact


def _touch(uow, case, at):
    case.touch(at)
    store.save_case(uow.session, case)


# --- member lists imported as a job ---------------------------------------------------------------

def start_import(uow, filename, size_bytes):
    actor = uow.actor
    now = utc_now()
    job = MemberImport(id=str(uuid.uuid4()), filename=filename, status=RUNNING,
                       started_at=now, progressed_at=now, size_bytes=size_bytes,
                       partner=actor.partner if actor else None,
                       person=actor.person if actor else None)
    store.add_import(uow.session, job)
    return job


def import_rows(uow, import_id, rows, bytes_read, assign=False):
    """One batch of a member list's rows (member_list.Member or Rejection), in one unit of
    work: each firm new to the single window gets its case (channel ``import``), each known one
    an arrival; a firm met earlier in the same file counts once; each rejection is kept with
    its line."""
    job = get_import(uow.session, import_id)
    members = [row for row in rows if not hasattr(row, "reason")]
    rejections = [row for row in rows if hasattr(row, "reason")]
    first_met = store.first_meetings(uow.session, job.id, {m.firm["siren"] for m in members})
    firsts = {}
    for member in members:
        if member.firm["siren"] in first_met:
            firsts.setdefault(member.firm["siren"], member)
    results = import_firms(uow, [dict(member.firm, channel="import")
                                 for member in firsts.values()], assign=assign)
    opened = sum(1 for _, created in results if created)
    store.add_rejections(uow.session, job.id, rejections)
    job.count(opened=opened, already_known=len(results) - opened,
              repeated=len(members) - len(firsts), rejected=len(rejections))
    job.bytes_read, job.progressed_at = bytes_read, utc_now()
    store.save_import(uow.session, job)
    return job


IMPORT_BATCH_ROWS = 500  # rows per unit of work: the progress moves, memory stays flat


def run_import(transaction, import_id, path, actor=None, assign=False,
               batch_rows=IMPORT_BATCH_ROWS):
    """Import the member list at ``path`` (a file the import was started for), batch by batch,
    each in its own unit of work (``transaction(actor)``: the service's Database.transaction),
    then mark the import done, or failed with the reason."""
    error = None
    try:
        with open(path, "rb") as stream:
            _, _, rows = read_members(stream)
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) >= batch_rows:
                    with transaction(actor) as uow:
                        import_rows(uow, import_id, batch, stream.tell(), assign)
                    batch = []
            # the whole file is read (and the reader, done, has closed it)
            with transaction(actor) as uow:
                import_rows(uow, import_id, batch, os.path.getsize(path), assign)
    except UnreadableFile as exc:
        error = str(exc)
    except Exception as exc:  # the import says it failed, and why; the log has the trace
        log.exception("member list import %s failed", import_id)
        error = "the import stopped at an unexpected error ({}): the rows counted so far are " \
                "in; import the file again to finish it".format(type(exc).__name__)
    with transaction(actor) as uow:
        return finish_import(uow, import_id, error)


IMPORT_STALL = timedelta(minutes=5)  # a batch commits every second or so: this is a dead one


def fail_interrupted_imports(uow, now):
    """Imports running that have not moved for IMPORT_STALL were cut off (their process died,
    or was restarted): they say so, and what to do. Any replica may notice it."""
    interrupted = store.stalled_imports(uow.session, now - IMPORT_STALL)
    for job in interrupted:
        finish_import(uow, job.id, "intake restarted during the import: the rows counted so far "
                                   "are in; import the file again to finish it")
    return interrupted


def finish_import(uow, import_id, error=None):
    job = get_import(uow.session, import_id)
    job.finish(utc_now(), error)
    store.save_import(uow.session, job)
    store.forget_sirens(uow.session, import_id)
    return job


def get_import(session, import_id):
    job = store.import_by_id(session, import_id)
    if job is None:
        raise ImportNotFound("no import with id {}".format(import_id))
    return job


# --- the network directory ---------------------------------------------------------------------

def _partner_data(partner):
    return {"partner_id": partner.id, "name": partner.name, "kind": partner.kind,
            "regions": sorted(partner.regions)}


def _person_data(person):
    """What the network knows of a person: never their contact details."""
    return {"person_id": person.id, "partner_id": person.partner_id,
            "region_code": person.region_code, "role": person.role}


def register_partner(uow, command):
    if store.partner_by_id(uow.session, command["id"]) is not None:
        raise DirectoryIdTaken("partner id {} is taken: ids are never reused".format(
            command["id"]), fields={"id": ["taken"]})
    partner = Partner(id=command["id"], name=command["name"], kind=command["kind"],
                      regions=sorted(command["regions"]), registered_at=utc_now())
    store.add_partner(uow.session, partner)
    uow.publish("partner.registered", partner.id,
                dict(_partner_data(partner), registered_at=partner.registered_at))
    return partner


def get_partner(session, partner_id):
    partner = store.partner_by_id(session, partner_id)
    if partner is None:
        raise PartnerNotFound("no partner with id {} in the directory".format(partner_id))
    return partner


def update_partner(uow, partner_id, command):
    partner = get_partner(uow.session, partner_id)
    partner.update(command["name"], command["kind"], command["regions"],
                   store.staffed_regions(uow.session, partner_id), at=utc_now())
    store.save_partner(uow.session, partner)
    uow.publish("partner.updated", partner.id,
                dict(_partner_data(partner), updated_at=partner.updated_at))
    return partner


def register_person(uow, partner_id, command):
    partner = get_partner(uow.session, partner_id)
    if store.person_by_id(uow.session, command["id"]) is not None:
        raise DirectoryIdTaken("person id {} is taken: ids are never reused".format(
            command["id"]), fields={"id": ["taken"]})
    partner.check_serves(command["region_code"])
    person = Person(id=command["id"], partner_id=partner.id, region_code=command["region_code"],
                    role=command["role"], name=command["name"], email=command["email"],
                    phone=command.get("phone"), registered_at=utc_now())
    store.add_person(uow.session, person)
    uow.publish("person.registered", person.id,
                dict(_person_data(person), registered_at=person.registered_at))
    return person


def get_person(session, person_id):
    person = store.person_by_id(session, person_id)
    if person is None:
        raise PersonNotFound("no person with id {} in the directory".format(person_id))
    return person


def update_person(uow, person_id, command):
    person = get_person(uow.session, person_id)
    person.update(get_partner(uow.session, person.partner_id), command["region_code"],
                  command["role"], command["name"], command["email"], command.get("phone"),
                  at=utc_now())
    store.save_person(uow.session, person)
    uow.publish("person.updated", person.id,
                dict(_person_data(person), updated_at=person.updated_at))
    return person


def record_departure(uow, person_id):
    person = get_person(uow.session, person_id)
    person.leave(at=utc_now())
    store.save_person(uow.session, person)
    uow.publish("person.left", person.id, {
        "person_id": person.id, "partner_id": person.partner_id, "left_at": person.left_at})
    return person

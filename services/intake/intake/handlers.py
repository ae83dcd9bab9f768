"""Intake's use cases: one function per command, each inside one unit of work.

Each function loads what it needs, applies the domain rules and records the events that follow,
which commit with the state change (outbox).
"""
import uuid

from parcours_shared.contracts import utc_now

from . import store
from .domain import (
    OPEN, Case, DirectoryIdTaken, Partner, PartnerNotFound, Person,
    PersonNotFound, UnknownAdvisor, check_may_assign, check_may_close,
    check_may_read_case, check_referred_by, no_case, normalise_siren, readable_scope,
)


def _case_opened_data(case):
    return {
        "case_id": case.id, "siren": case.siren, "company_name": case.company_name,
        "region_code": case.region_code, "naf_code": case.naf_code, "channel": case.channel,
        "opened_at": case.opened_at,
    }


def open_case(uow, firm, channel):
    """Open the firm's case, or return the one it has: one case per firm, whatever the door.

    Returns (case, created).
    """
    siren = normalise_siren(firm["siren"])
    existing = store.case_by_siren(uow.session, siren)
    if existing is not None:
        return existing, False
    return _start_cases(uow, [(siren, firm, channel)])[0], True


def import_firms(uow, firms):
    """Firms entered together (say, met at a trade fair), each with its own channel: open a case
    for each firm that has none, as ``open_case`` does. A SIREN repeated in the list is one firm,
    opened once: its later entries get the same answer as its first.

    Returns (case, created) pairs in the order of ``firms``; created: this request opened it.
    """
    sirens = [normalise_siren(firm["siren"]) for firm in firms]
    answers = {siren: (case, False)
               for siren, case in store.cases_by_siren(uow.session, set(sirens)).items()}
    new_firms = {}
    for siren, firm in zip(sirens, firms):
        if siren not in answers:
            new_firms.setdefault(siren, firm)
    opened = _start_cases(uow, [(siren, firm, firm["channel"])
                                for siren, firm in new_firms.items()])
    answers.update((case.siren, (case, True)) for case in opened)
    return [answers[siren] for siren in sirens]


def _start_cases(uow, firms):
    """The first case of each firm, from (siren, firm, channel) triples, and a case.opened event
    for each in the same transaction."""
    opened_at = utc_now()
    cases = [Case(id=str(uuid.uuid4()), siren=siren, company_name=firm["company_name"],
                  region_code=firm.get("region_code"), naf_code=firm.get("naf_code"),
                  channel=channel, status=OPEN, opened_at=opened_at)
             for siren, firm, channel in firms]
    if cases:
        store.add_cases(uow.session, cases)
    for case in cases:
        uow.publish("case.opened", case.id, _case_opened_data(case))
    return cases


def refer_firm(uow, referral):
    """A partner flags a firm (detection), in its own name: open its case if needed and record
    the referral."""
    referred_by = referral.get("referred_by") or (uow.actor.partner if uow.actor else None)
    check_referred_by(uow.actor, referred_by)
    case, created = open_case(uow, referral, channel="referral")
    uow.publish("case.referred", case.id, {
        "case_id": case.id, "siren": case.siren, "referred_by": referred_by,
        "reason": referral.get("reason"), "referred_at": utc_now(),
    })
    return case, created


def get_case(session, case_id):
    case = store.case_by_id(session, case_id)
    if case is None:
        raise no_case(case_id)
    return case


def _actor_partner(session, actor):
    return store.partner_by_id(session, actor.partner) if actor is not None else None


def readable_case(session, case_id, actor):
    case = get_case(session, case_id)
    check_may_read_case(actor, _actor_partner(session, actor), case)
    return case


def visible_cases(session, actor, limit, offset, siren=None):
    """The cases the caller may read (``may_read_case``), in one query."""
    scope = readable_scope(actor, _actor_partner(session, actor))
    return store.list_cases(session, limit, offset, scope=scope, siren=siren)


def assign_case(uow, case_id, advisor, partner=None):
    """The single window gives the case to an advisor of the directory (``partner``, if given,
    must be theirs)."""
    case = get_case(uow.session, case_id)
    check_may_assign(uow.actor, _actor_partner(uow.session, uow.actor), case)
    person = store.person_by_id(uow.session, advisor)
    case.assign(advisor, person)
    if partner is not None and partner != case.partner:
        message = "{} is with {}, not {}".format(advisor, case.partner, partner)
        raise UnknownAdvisor(message, fields={"partner": [message]})
    partner = case.partner
    store.save_case(uow.session, case)
    uow.publish("case.assigned", case.id, {
        "case_id": case.id, "advisor": advisor, "partner": partner, "assigned_at": utc_now()})
    return case


def close_case(uow, case_id, reason):
    case = get_case(uow.session, case_id)
    check_may_close(uow.actor, _actor_partner(uow.session, uow.actor), case)
    case.close(reason, at=utc_now())
    store.save_case(uow.session, case)
    uow.publish("case.closed", case.id, {
        "case_id": case.id, "reason": reason, "closed_at": case.closed_at})
    return case


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

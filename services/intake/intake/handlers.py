"""Intake's use cases: one function per command, each inside one unit of work.

Each function loads what it needs, applies the domain rules and records the events that follow,
which commit with the state change (outbox).
"""
import uuid

from parcours_shared.contracts import utc_now

from . import store
from .domain import OPEN, Case, no_case, normalise_siren


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
    """A partner flags a firm (detection): open its case if needed and record the referral."""
    case, created = open_case(uow, referral, channel="referral")
    uow.publish("case.referred", case.id, {
        "case_id": case.id, "siren": case.siren, "referred_by": referral["referred_by"],
        "reason": referral.get("reason"), "referred_at": utc_now(),
    })
    return case, created


def get_case(session, case_id):
    case = store.case_by_id(session, case_id)
    if case is None:
        raise no_case(case_id)
    return case


def assign_case(uow, case_id, advisor, partner):
    case = get_case(uow.session, case_id)
    case.assign(advisor, partner)
    store.save_case(uow.session, case)
    uow.publish("case.assigned", case.id, {
        "case_id": case.id, "advisor": advisor, "partner": partner, "assigned_at": utc_now()})
    return case


def close_case(uow, case_id, reason):
    case = get_case(uow.session, case_id)
    case.close(reason, at=utc_now())
    store.save_case(uow.session, case)
    uow.publish("case.closed", case.id, {
        "case_id": case.id, "reason": reason, "closed_at": case.closed_at})
    return case

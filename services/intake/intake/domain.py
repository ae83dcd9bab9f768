"""The single window's rules: who a firm is, how it arrives, what a case may become."""
from dataclasses import dataclass
from datetime import datetime

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as siren_number

from parcours_shared.contracts import REGIONS  # noqa: F401  (the regions a case may be in)
from parcours_shared.domain import DomainError, Lifecycle, Move, MoveRefused, NotYours

OPEN, ASSIGNED, CLOSED = "open", "assigned", "closed"


class InvalidSiren(DomainError):
    pass


class CaseNotFound(DomainError):
    pass


class CaseMoveRefused(MoveRefused):
    """A closed case cannot be assigned or closed again."""


# A case is open until the window gives it to an advisor; it can be reassigned until it closes.
CASE_LIFECYCLE = Lifecycle("case", {
    "assign": Move(allowed_from=(OPEN, ASSIGNED), to=(ASSIGNED,)),
    "close": Move(allowed_from=(OPEN, ASSIGNED), to=(CLOSED,)),
}, refused=CaseMoveRefused)


def normalise_siren(raw):
    """The 9-digit SIREN, spaces removed, Luhn-checked; raises InvalidSiren with the reason."""
    try:
        return siren_number.validate(raw)
    except StdnumError as exc:
        message = "not a valid SIREN: {}".format(exc.message)
        raise InvalidSiren(message, fields={"siren": [message]}) from None


def no_case(case_id):
    return CaseNotFound("no case with id {}".format(case_id))


@dataclass
class Case:
    id: str
    siren: str
    company_name: str
    region_code: str | None
    naf_code: str | None
    channel: str
    status: str
    opened_at: datetime
    advisor: str | None = None
    partner: str | None = None
    closed_at: datetime | None = None
    closure_reason: str | None = None

    def assign(self, advisor_id, person):
        """To ``person``, the directory's entry of ``advisor_id`` (None if it has none)."""
        status = CASE_LIFECYCLE.next_status(self.id, self.status, "assign")
        check_assignable_to(person, advisor_id)
        self.status, self.advisor, self.partner = status, advisor_id, person.partner_id

    def close(self, reason, at):
        self.status = CASE_LIFECYCLE.next_status(self.id, self.status, "close")
        self.closure_reason, self.closed_at = reason, at


# --- the network directory: partners and their people ------------------------------------------

ACTIVE, LEFT = "active", "left"


class PartnerNotFound(DomainError):
    pass


class PersonNotFound(DomainError):
    pass


class DirectoryIdTaken(DomainError):
    """Ids are the network's names for partners and people: one each, never reused."""


class OutsidePartnerRegions(DomainError):
    """A person works in a region their partner serves."""


class RegionStillStaffed(DomainError):
    """A partner stops serving a region only once none of its people works there."""


class PersonMoveRefused(MoveRefused):
    """A person who left acts for their partner no more."""


PERSON_LIFECYCLE = Lifecycle("person", {
    "update": Move(allowed_from=(ACTIVE,), to=(ACTIVE,)),
    "leave": Move(allowed_from=(ACTIVE,), to=(LEFT,)),
}, refused=PersonMoveRefused)


@dataclass
class Partner:
    id: str
    name: str
    kind: str
    regions: list
    registered_at: datetime
    updated_at: datetime | None = None

    def check_serves(self, region_code):
        if region_code not in self.regions:
            message = "{} serves regions {}, not {}".format(
                self.id, ", ".join(sorted(self.regions)), region_code)
            raise OutsidePartnerRegions(message, fields={"region_code": [message]})

    def update(self, name, kind, regions, staffed_regions, at):
        """``staffed_regions``: where its active people work, which it must keep serving."""
        dropped = sorted(set(staffed_regions) - set(regions))
        if dropped:
            message = "{} still has people in {}: move them or record that they left first".format(
                self.id, ", ".join(dropped))
            raise RegionStillStaffed(message, fields={"regions": [message]})
        self.name, self.kind, self.regions, self.updated_at = name, kind, sorted(regions), at


@dataclass
class Person:
    """A partner's staff member. Name, email and phone are personal data: they stay in intake."""
    id: str
    partner_id: str
    region_code: str
    role: str
    name: str
    email: str
    registered_at: datetime
    phone: str | None = None
    status: str = ACTIVE
    updated_at: datetime | None = None
    left_at: datetime | None = None

    def update(self, partner, region_code, role, name, email, phone, at):
        self.status = PERSON_LIFECYCLE.next_status(self.id, self.status, "update")
        partner.check_serves(region_code)
        self.region_code, self.role, self.updated_at = region_code, role, at
        self.name, self.email, self.phone = name, email, phone

    def leave(self, at):
        self.status = PERSON_LIFECYCLE.next_status(self.id, self.status, "leave")
        self.left_at = at


def may_see_contact_details(caller, person):
    """A person's contact details are shown to their own partner and to the directory's keepers
    (admin); other partners see who they are in the network, not how to reach them."""
    return caller is not None and (caller.partner == person.partner_id
                                   or "admin" in caller.roles)


# --- ownership: who may read and change a case ------------------------------------------------
# ``actor`` is the request's caller (None: the service itself); ``actor_partner`` its partner as
# the directory has it (None if the directory does not know it).

SINGLE_WINDOW_KIND = "chamber_of_commerce"


class UnknownAdvisor(DomainError):
    """A case goes to an advisor the directory knows, still with their partner."""


def is_single_window_of(partner, region_code):
    """The single window of a region: a chamber of commerce serving it (every chamber, for a
    firm whose region is not known yet)."""
    return (partner is not None and partner.kind == SINGLE_WINDOW_KIND
            and (region_code is None or region_code in partner.regions))


@dataclass(frozen=True)
class CaseScope:
    """The cases a partner may read: those given to its people, and, for a single window, those
    of its regions and those whose region is not known yet."""
    partner: str
    regions: list | None = None  # None: not a single window

    def covers(self, case):
        return case.partner == self.partner or (
            self.regions is not None
            and (case.region_code is None or case.region_code in self.regions))


def readable_scope(actor, actor_partner):
    """The cases ``actor`` may read; None: every case (the service itself, and the network's
    operator, admin)."""
    if actor is None or "admin" in actor.roles:
        return None
    single_window = actor_partner is not None and actor_partner.kind == SINGLE_WINDOW_KIND
    return CaseScope(actor.partner, actor_partner.regions if single_window else None)


def may_read_case(actor, actor_partner, case):
    """The single window sees every case of its region, a partner the cases given to its
    people, the network's operator (admin) every case."""
    scope = readable_scope(actor, actor_partner)
    return scope is None or scope.covers(case)


def check_may_read_case(actor, actor_partner, case):
    if not may_read_case(actor, actor_partner, case):
        raise NotYours("case {} is followed by the single window of region {}{}: {} may not "
                       "see it".format(case.id, case.region_code or "(unknown)",
                                    " and " + case.partner if case.partner else "",
                                    actor.partner))


def check_may_assign(actor, actor_partner, case):
    """Only the single window of the case's region gives it to an advisor."""
    if actor is not None and not is_single_window_of(actor_partner, case.region_code):
        raise NotYours("case {} is assigned by the single window of region {} (a chamber of "
                       "commerce serving it), not by {}".format(
                           case.id, case.region_code or "(unknown)", actor.partner))


def check_may_close(actor, actor_partner, case):
    """The single window of the region closes a case, or the partner following it."""
    if (actor is not None and actor.partner != case.partner
            and not is_single_window_of(actor_partner, case.region_code)):
        raise NotYours("case {} is closed by the single window of region {} or by the partner "
                       "following it{}, not by {}".format(
                           case.id, case.region_code or "(unknown)",
                           " (" + case.partner + ")" if case.partner else "", actor.partner))


def check_referred_by(actor, referred_by):
    """A partner refers firms in its own name."""
    if actor is not None and referred_by != actor.partner:
        raise NotYours("a referral is sent in its partner's own name: {} cannot refer for "
                       "{}".format(actor.partner, referred_by),
                       fields={"referred_by": ["must be your partner, {}".format(
                           actor.partner)]})


def check_assignable_to(person, advisor_id):
    """The advisor a case goes to: in the directory, an advisor, with their partner still."""
    if person is None or person.status != ACTIVE or person.role != "advisor":
        state = ("not in the directory" if person is None
                 else "no longer with {}".format(person.partner_id) if person.status != ACTIVE
                 else "a {}, not an advisor".format(person.role))
        message = "{} is {}: a case goes to an advisor of the directory".format(advisor_id, state)
        raise UnknownAdvisor(message, fields={"advisor": [message]})

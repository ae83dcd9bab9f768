"""The single window's rules: who a firm is, how it arrives, what a case may become."""
from dataclasses import dataclass
from datetime import datetime

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as siren_number

from parcours_shared.contracts import REGIONS  # noqa: F401  (the regions a case may be in)
from parcours_shared.domain import DomainError, Lifecycle, Move, MoveRefused

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

    def assign(self, advisor, partner):
        self.status = CASE_LIFECYCLE.next_status(self.id, self.status, "assign")
        self.advisor, self.partner = advisor, partner

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

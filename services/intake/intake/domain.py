"""The single window's rules: who a firm is, how it arrives, what a case may become."""
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number

from parcours_shared.contracts import REGIONS  # noqa: F401  (the regions a case may be in)
from parcours_shared.contracts.intake import (  # noqa: F401  (in the events, so in the contract)
    CLOSURE_REASONS, CONSENT_PURPOSES, FIRM_NEEDS, FOLLOW_UP_LEVELS, REFERRAL_OUTCOMES,
    REJECTION_REASONS,
)
from parcours_shared.contracts.programmes import OUTCOME_FIGURES  # the firm may correct them
from parcours_shared.domain import (  # noqa: F401  (as_utc: for the handlers)
    DomainError, Lifecycle, Move, MoveRefused, NotYours, as_utc,
)
from parcours_shared.naf import UnknownNafCode, normalise_naf
from parcours_shared.working_days import working_days_between

OPEN, ASSIGNED, CLOSED = "open", "assigned", "closed"



class InvalidSiren(DomainError):
    """Not a SIREN or SIRET that INSEE could have given (the field says which)."""


class InvalidNafCode(DomainError):
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
        message = "not a valid SIREN (9 digits): {}".format(exc.message)
        raise InvalidSiren(message, fields={"siren": [message]}) from None


def normalise_siret(raw):
    """The 14-digit SIRET of an establishment, checked; raises InvalidSiren with the reason."""
    try:
        return siret_number.validate(raw)
    except StdnumError as exc:
        message = "not a valid SIRET (14 digits): {}".format(exc.message)
        raise InvalidSiren(message, fields={"siret": [message]}) from None


@dataclass(frozen=True)
class FirmNumber:
    """Who the firm is (its SIREN) and, when it gave a SIRET, the establishment it came through."""
    siren: str
    siret: str | None = None

    @classmethod
    def of(cls, siren=None, siret=None):
        """From a SIREN, a SIRET, or both (which must agree); a 14-digit number given as the
        SIREN is taken for the SIRET it is."""
        if siren and siret is None and len("".join(siren.split())) == 14:
            siren, siret = None, siren
        if siret:
            siret = normalise_siret(siret)
            derived = siret_number.to_siren(siret)
            if siren and normalise_siren(siren) != derived:
                message = "SIRET {} is an establishment of SIREN {}, not {}".format(
                    siret, derived, siren)
                raise InvalidSiren(message, fields={"siret": [message]})
            return cls(derived, siret)
        if not siren:
            message = "give the firm's SIREN (9 digits) or the SIRET of its establishment (14)"
            raise InvalidSiren(message, fields={"siren": [message]})
        return cls(normalise_siren(siren))


def check_naf_code(raw):
    """``raw`` as INSEE writes it, if NAF rev. 2 has it; raises InvalidNafCode."""
    try:
        return normalise_naf(raw)
    except UnknownNafCode as exc:
        raise InvalidNafCode(str(exc), fields={"naf_code": [str(exc)]}) from None


def checked_firm_data(firm):
    """The firm data of ``firm`` (a request's fields), its NAF code as INSEE writes it."""
    data = {name: firm.get(name) for name in FIRM_DATA}
    if data["naf_code"] is not None:
        data["naf_code"] = check_naf_code(data["naf_code"])
    return data


_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'", "‘": "'"})


def search_key(text):
    """``text`` as names are searched: without accents, case or repeated spaces ("Société
    Générale" and "societe  generale" are the same key). Computed here, not by the database,
    so that SQLite and PostgreSQL find the same firms."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_LIGATURES))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class CaseSearch:
    """What a listing of cases asks for: every criterion given must hold."""
    limit: int = 100
    offset: int = 0
    siren: str | None = None
    name: str | None = None         # a part of the legal name, accents and case ignored
    region_code: str | None = None
    sector: str | None = None       # a NAF section (C) or the start of a code (25, 25.62B)
    status: str | None = None
    stage: str | None = None
    channel: str | None = None      # the firm came through it at least once
    referred_by: str | None = None  # a partner referred the firm
    advisor: str | None = None
    overdue: bool | None = None     # a follow-up deadline passed and nobody acted since
    nothing_proposed: bool | None = None  # programmes had nothing for the firm
    sort: str = "opened_at"         # a field, "-" before it for the latest first

    def name_key(self):
        return search_key(self.name) if self.name else None


SORTABLE = ("opened_at", "company_name", "stage_at", "region_code")


# The firm data a case holds; an arrival fills in those the case does not know yet, and changes
# none it knows (a correction is its own act, not a side effect of a firm coming twice).
FIRM_DATA = ("company_name", "region_code", "naf_code", "headcount_band", "creation_date",
             "turnover_eur", "export_share_percent", "website")


@dataclass(frozen=True)
class Arrival:
    """A firm came to the single window: through which door, sent by which partner."""
    channel: str
    at: datetime
    partner: str | None = None   # the partner who brought it (None: the service itself)
    person: str | None = None    # their staff member, when the call said who
    siret: str | None = None


def no_case(case_id):
    return CaseNotFound("no case with id {}".format(case_id))


@dataclass
class Case:
    id: str
    siren: str
    company_name: str
    region_code: str | None
    naf_code: str | None
    channel: str            # the door of its first arrival
    status: str
    opened_at: datetime
    advisor: str | None = None
    partner: str | None = None   # the advisor's partner, who follows the case
    closed_at: datetime | None = None
    closure_reason: str | None = None
    headcount_band: str | None = None
    creation_date: date | None = None
    turnover_eur: int | None = None
    export_share_percent: float | None = None
    website: str | None = None
    opened_by: str | None = None  # the partner of its first arrival
    stage: str = "opened"         # the furthest it went on the pathway (PATHWAY_STAGES)
    stage_at: datetime | None = None
    closure_note: str | None = None
    last_activity_at: datetime | None = None  # the follow-up deadlines count from there
    follow_up_level: str | None = None        # the last raised since (FOLLOW_UP_LEVELS)
    # programmes found nothing to propose after its diagnostic: the window follows it up
    nothing_proposed_at: datetime | None = None
    # every arrival, first included, oldest first, and the establishments seen (loaded on demand,
    # store.load_history; the store derives the establishments from the arrivals' SIRETs)
    arrivals: list = field(default_factory=list, compare=False)
    establishments: list = field(default_factory=list, compare=False)

    @classmethod
    def open(cls, case_id, number, firm, arrival):
        case = cls(id=case_id, siren=number.siren, channel=arrival.channel, status=OPEN,
                   opened_at=arrival.at, opened_by=arrival.partner, last_activity_at=arrival.at,
                   **{name: firm.get(name) for name in FIRM_DATA})
        case.arrivals.append(arrival)
        return case

    def arrive_again(self, firm, arrival):
        """The firm came again: keep the arrival (its SIRET, a new one an establishment of the
        case once stored), fill in the data the case lacked. Returns the names of the fields
        filled."""
        self.arrivals.append(arrival)
        self.touch(arrival.at)
        filled = [name for name in FIRM_DATA
                  if getattr(self, name) is None and firm.get(name) is not None]
        for name in filled:
            setattr(self, name, firm[name])
        return filled

    def firm_data(self):
        return {name: getattr(self, name) for name in ("siren",) + FIRM_DATA}

    def assign(self, advisor_id, person, at):
        """To ``person``, the directory's entry of ``advisor_id`` (None if it has none)."""
        status = CASE_LIFECYCLE.next_status(self.id, self.status, "assign")
        check_assignable_to(person, advisor_id)
        self.status, self.advisor, self.partner = status, advisor_id, person.partner_id
        self.reach("assigned", at)
        self.touch(at)

    def touch(self, at):
        """Someone acted on the case: its follow-up starts again from ``at``."""
        if self.last_activity_at is None or as_utc(at) > as_utc(self.last_activity_at):
            self.last_activity_at = at
        self.follow_up_level = None

    def reach(self, stage, at):
        """The pathway moved on (another service's event): True if this is further."""
        if later_stage(self.stage, stage) == self.stage:
            return False
        self.stage, self.stage_at = stage, at
        if stage not in AUTOMATIC_STAGES:
            self.touch(at)
        if later_stage(stage, "proposed") == stage:
            self.nothing_proposed_at = None  # something was proposed after all
        return True

    def note_nothing_proposed(self, at):
        """Programmes had nothing for the firm: True if the window did not know it yet (and
        nothing was proposed since)."""
        proposed_since = later_stage(self.stage, "proposed") == self.stage
        if self.nothing_proposed_at is not None or proposed_since:
            return False
        self.nothing_proposed_at = at
        return True

    def close(self, reason, note, at):
        """``reason``: one of CLOSURE_REASONS; ``note``, the window's own words, stays here."""
        self.status = CASE_LIFECYCLE.next_status(self.id, self.status, "close")
        self.closure_reason, self.closure_note, self.closed_at = reason, note, at
        self.touch(at)


# --- the firm's contact persons and its consent ------------------------------------------------
# Contact persons are personal data. They are shown to those who may read the case, never
# logged, and leave intake only in contact.shared, for the purposes the firm consented to.

class ContactNotFound(DomainError):
    pass


@dataclass
class Contact:
    id: str
    case_id: str
    name: str
    added_at: datetime
    role: str | None = None
    email: str | None = None
    phone: str | None = None
    updated_at: datetime | None = None

    def update(self, name, role, email, phone, at):
        self.name, self.role, self.email, self.phone, self.updated_at = (
            name, role, email, phone, at)

    def as_shared(self):
        return {"contact_id": self.id, "name": self.name, "role": self.role,
                "email": self.email, "phone": self.phone}


@dataclass(frozen=True)
class ConsentRecord:
    """The firm said yes or no to one purpose: who recorded it, when, through which channel."""
    purpose: str
    granted: bool
    channel: str
    at: datetime
    partner: str | None = None
    person: str | None = None


class Consents:
    """A case's consent, from its history (oldest first): for each purpose, its latest word."""

    def __init__(self, history=()):
        self.history = list(history)

    def granted(self):
        latest = {}
        for record in self.history:
            latest[record.purpose] = record.granted
        return sorted(purpose for purpose, granted in latest.items() if granted)

    def record(self, record):
        """Add the firm's word."""
        self.history.append(record)


# --- the firm's own request, from the public page ---------------------------------------------

@dataclass
class FirmRequest:
    """What a firm asked through the public request page: its firm data (as ``POST /cases``
    takes it), one contact person, what it needs (FIRM_NEEDS), the purposes it consents to, and
    where the form was: the partner whose site embedded it (``source``) and its campaign."""
    firm: dict
    contact: dict
    needs: list
    consents: list
    target_market: str | None = None
    message: str | None = None       # the firm's words to the single window: never in an event
    source: str | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class RequestLimit:
    """How many requests one address may send in a window of time: a firm sends one or two, a
    script filling the form in a loop is asked to wait. Config ``PARCOURS_REQUEST_LIMIT``:
    ``<requests>/<seconds>``."""
    most: int = 10
    seconds: int = 3600

    @classmethod
    def from_config(cls, text):
        if not text:
            return cls()
        most, _, seconds = str(text).partition("/")
        return cls(int(most), int(seconds or 3600))

    def allows(self, sent_in_window):
        return sent_in_window < self.most


def same_person(contact, fields):
    """A contact the firm gives again (the same email, or the same name without one) is the
    one the case has, not a second."""
    email = (fields.get("email") or "").strip().lower()
    if email:
        return (contact.email or "").strip().lower() == email
    return search_key(contact.name) == search_key(fields.get("name") or "")


# --- the firm's own word on what came of its programme -----------------------------------------

CONFIRMED, CORRECTED = "confirmed", "corrected"


@dataclass
class RecordedOutcome:
    """An outcome programmes recorded for the firm, as intake keeps it to ask the firm."""
    id: str
    case_id: str
    kind: str
    recorded_at: datetime
    enrolment_id: str | None = None
    amount_eur: int | None = None
    country: str | None = None
    staff_count: int | None = None
    verdict: str | None = None
    reviewed_at: datetime | None = None

    @classmethod
    def from_event(cls, data):
        return cls(id=data["outcome_id"], case_id=data["case_id"], kind=data["kind"],
                   recorded_at=data["recorded_at"], enrolment_id=data["enrolment_id"],
                   amount_eur=data["amount_eur"], country=data["country"],
                   staff_count=data["staff_count"])

    @classmethod
    def from_row(cls, row):
        values = dict(row, id=row["outcome_id"])
        del values["outcome_id"]
        return cls(**values)

    def row(self):
        values = dict(vars(self), outcome_id=self.id)
        del values["id"]
        return values

    @property
    def figures(self):
        return {name: getattr(self, name) for name in OUTCOME_FIGURES[self.kind]}

    def review(self, verdict, corrected_figures, at):
        """The firm's verdict: confirmed as recorded, or corrected (its figures replace those of
        this kind); the outcome.reviewed data."""
        if verdict == CORRECTED:
            for name in OUTCOME_FIGURES[self.kind]:
                setattr(self, name, corrected_figures.get(name))
        self.verdict, self.reviewed_at = verdict, at
        return {"outcome_id": self.id, "case_id": self.case_id,
                "enrolment_id": self.enrolment_id, "verdict": verdict, "kind": self.kind,
                "amount_eur": self.amount_eur, "country": self.country,
                "staff_count": self.staff_count, "reviewed_at": at}


@dataclass
class SurveyAnswer:
    """The firm's answer to a satisfaction survey, given through its link."""
    id: str
    link_id: str
    case_id: str
    usefulness: int
    would_recommend: bool
    comment_shareable: bool
    answered_at: datetime
    enrolment_id: str | None = None
    comment: str | None = None

    def event_data(self, enrolment):
        """survey.answered: the comment only if the firm let the partner read it."""
        return {"survey_id": self.id, "case_id": self.case_id,
                "about": "enrolment" if self.enrolment_id else "case",
                "enrolment_id": self.enrolment_id,
                "programme_id": enrolment["programme_id"] if enrolment else None,
                "partner": enrolment["partner"] if enrolment else None,
                "usefulness": self.usefulness, "would_recommend": self.would_recommend,
                "comment": self.comment if self.comment_shareable else None,
                "answered_at": self.answered_at}


# --- member lists imported as a job -------------------------------------------------------------

RUNNING, DONE_IMPORT, FAILED = "running", "done", "failed"


class ImportNotFound(DomainError):
    pass


@dataclass
class MemberImport:
    """A member list being imported: how far it went, row by row."""
    id: str
    filename: str
    status: str
    started_at: datetime
    partner: str | None = None
    person: str | None = None
    rows_read: int = 0
    opened: int = 0          # firms new to the single window: a case each
    already_known: int = 0   # firms that had a case: their arrival recorded on it
    repeated: int = 0        # rows of a firm already met earlier in this file
    rejected: int = 0        # rows that could not be read or checked: see the rejected rows
    size_bytes: int = 0      # the file's size, and how much of it was read: the progress
    bytes_read: int = 0
    finished_at: datetime | None = None
    error: str | None = None
    # the last batch's commit: an import running that stopped moving was cut off (its process
    # died), whichever replica notices it
    progressed_at: datetime | None = None

    @property
    def progress(self):
        """How much of the file is done, from 0 to 1."""
        if self.status != RUNNING:
            return 1.0
        return min(1.0, self.bytes_read / self.size_bytes) if self.size_bytes else 0.0

    def count(self, opened, already_known, repeated, rejected):
        self.opened += opened
        self.already_known += already_known
        self.repeated += repeated
        self.rejected += rejected
        self.rows_read += opened + already_known + repeated + rejected

    def finish(self, at, error=None):
        self.status, self.finished_at, self.error = (FAILED if error else DONE_IMPORT), at, error


# --- where the firm is on the pathway, as the other services' events tell it ------------------
# Intake follows each case's stage so that the single window, and the partner who referred the
# firm, see the whole pathway of its firms. Events may arrive out of order (a diagnostic
# completed before the case is seen assigned): a stage only moves forward.

PATHWAY_STAGES = ("opened", "assigned", "diagnostic_scheduled", "diagnosed", "proposed",
                  "waitlisted", "enrolled", "completed", "outcome_recorded")
STAGE_OF_EVENT = {
    "diagnostic.scheduled": "diagnostic_scheduled",
    "diagnostic.completed": "diagnosed",
    "enrolment.proposed": "proposed",
    "enrolment.waitlisted": "waitlisted",
    "enrolment.confirmed": "enrolled",
    "enrolment.completed": "completed",
    "outcome.recorded": "outcome_recorded",
}
_STAGE_RANK = {stage: rank for rank, stage in enumerate(PATHWAY_STAGES)}
# reached by the services on their own (a diagnostic scheduled for every new case, programmes
# proposed on a diagnosis): nobody acted, so the case's follow-up goes on counting
AUTOMATIC_STAGES = ("diagnostic_scheduled", "proposed")


def later_stage(current, reached):
    """The furthest of two stages (``current`` may be None: nothing known yet)."""
    if current is None or _STAGE_RANK[reached] > _STAGE_RANK[current]:
        return reached
    return current


# --- follow-up: what nobody touched for too long -------------------------------------------------

@dataclass(frozen=True)
class FollowUpPolicy:
    """How long a case or referral may stay untouched: a reminder to its advisor after
    ``reminder`` days, a last call after ``last_call``, abandoned after ``abandoned``; in
    working days (French public holidays excluded) or calendar days."""
    reminder: int = 9
    last_call: int = 21
    abandoned: int = 45
    working_days: bool = True

    def __post_init__(self):
        if not 0 < self.reminder < self.last_call < self.abandoned:
            raise ValueError("follow-up deadlines must grow: reminder < last call < abandoned, "
                             "got {} / {} / {}".format(self.reminder, self.last_call,
                                                       self.abandoned))

    @classmethod
    def from_config(cls, settings):
        settings = settings or {}
        return cls(**{name: (str(settings[name]).lower() in ("true", "1", "yes")
                             if name == "working_days" else int(settings[name]))
                      for name in ("reminder", "last_call", "abandoned", "working_days")
                      if settings.get(name) not in (None, "")})

    def days_untouched(self, since, now):
        since, now = as_utc(since), as_utc(now)
        if self.working_days:
            return working_days_between(since.date(), now.date())
        return (now.date() - since.date()).days

    def level(self, since, now):
        """The furthest deadline passed since ``since`` (None: none yet)."""
        return self.level_after(self.days_untouched(since, now))

    def level_after(self, days):
        """The furthest deadline passed after ``days`` untouched (None: none yet)."""
        passed = [level for level, limit in zip(FOLLOW_UP_LEVELS, (
            self.reminder, self.last_call, self.abandoned)) if days >= limit]
        return passed[-1] if passed else None

    def due(self, days, current_level):
        """The level to raise after ``days`` untouched, if it was not raised since the last
        touch."""
        level = self.level_after(days)
        if level is None or (current_level is not None and FOLLOW_UP_LEVELS.index(level)
                             <= FOLLOW_UP_LEVELS.index(current_level)):
            return None
        return level


# --- referrals: a partner flags a firm, and sees what became of it ------------------------------

SENT, ACCEPTED, REJECTED, TAKEN_IN_CHARGE, DONE = (
    "sent", "accepted", "rejected", "taken_in_charge", "done")
PENDING_REFERRAL = (SENT, ACCEPTED, TAKEN_IN_CHARGE)  # someone still has to act on it


class ReferralNotFound(DomainError):
    pass


class ReferralMoveRefused(MoveRefused):
    pass


# Sent to the single window, which accepts it or says why not; accepted, it is taken in charge
# when the case has an advisor; done with what came of it.
REFERRAL_LIFECYCLE = Lifecycle("referral", {
    "accept": Move(allowed_from=(SENT,), to=(ACCEPTED,)),
    "reject": Move(allowed_from=(SENT,), to=(REJECTED,)),
    "take_in_charge": Move(allowed_from=(ACCEPTED,), to=(TAKEN_IN_CHARGE,)),
    "complete": Move(allowed_from=(TAKEN_IN_CHARGE,), to=(DONE,)),
}, refused=ReferralMoveRefused)


@dataclass
class Referral:
    id: str
    case_id: str
    referred_by: str          # the referring partner
    status: str
    sent_at: datetime
    updated_at: datetime      # its last step: the follow-up deadlines count from there
    reason: str | None = None  # why the partner flagged the firm
    note: str | None = None    # the referrer's own note: shown to it and the single window only
    rejection_reason: str | None = None
    advisor: str | None = None
    outcome: str | None = None
    closing_note: str | None = None
    follow_up_level: str | None = None  # the last raised since its last step

    def accept(self, at):
        self._move("accept", at)

    def reject(self, reason, note, at):
        self._move("reject", at)
        self.rejection_reason, self.closing_note = reason, note

    def take_in_charge(self, advisor, at):
        self._move("take_in_charge", at)
        self.advisor = advisor

    def complete(self, outcome, note, at):
        self._move("complete", at)
        self.outcome, self.closing_note = outcome, note

    def _move(self, move, at):
        self.status = REFERRAL_LIFECYCLE.next_status(self.id, self.status, move)
        self.updated_at, self.follow_up_level = at, None


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


def may_read_referral(actor, actor_partner, referral, case):
    """The partner who referred the firm follows its referral; whoever may read the case too."""
    return (actor is None or actor.partner == referral.referred_by
            or may_read_case(actor, actor_partner, case))


def check_may_read_referral(actor, actor_partner, referral, case):
    if not may_read_referral(actor, actor_partner, referral, case):
        raise NotYours("referral {} was sent by {} to the single window of region {}: {} may "
                       "not see it".format(referral.id, referral.referred_by,
                                           case.region_code or "(unknown)", actor.partner))


def check_referred_by(actor, referred_by):
    """A partner refers firms in its own name."""
    if actor is not None and referred_by != actor.partner:
        raise NotYours("a referral is sent in its partner's own name: {} cannot refer for "
                       "{}".format(actor.partner, referred_by),
                       fields={"referred_by": ["must be your partner, {}".format(
                           actor.partner)]})


def next_in_rotation(advisor_ids, last_assigned):
    """The assignment rule: the region's advisors take new cases in turn, in the order of their
    ids, starting after the one who got the last case (people who left are not among
    ``advisor_ids``, so they are skipped). None if the region has no advisor."""
    ordered = sorted(advisor_ids)
    if not ordered:
        return None
    return next((advisor for advisor in ordered
                 if last_assigned is None or advisor > last_assigned), ordered[0])


def check_assignable_to(person, advisor_id):
    """The advisor a case goes to: in the directory, an advisor, with their partner still."""
    if person is None or person.status != ACTIVE or person.role != "advisor":
        state = ("not in the directory" if person is None
                 else "no longer with {}".format(person.partner_id) if person.status != ACTIVE
                 else "a {}, not an advisor".format(person.role))
        message = "{} is {}: a case goes to an advisor of the directory".format(advisor_id, state)
        raise UnknownAdvisor(message, fields={"advisor": [message]})

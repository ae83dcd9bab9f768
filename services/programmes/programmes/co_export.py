"""Co-export calls: a large group, through its partner, asks for SMEs upstream of a project
abroad ("when a tender is published abroad it is already too late"), and Parcours matches the
firms whose diagnostic fits.

A match is scored from what programmes holds of each firm (its diagnosis, its data from
intake): the target market counts most, then the sector, then the maturity. Each point comes
with its reason. A firm's contacts show only where it consented to co-export matching.
"""
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime

from parcours_shared.domain import DomainError, Lifecycle, Move, MoveRefused, NotYours
from parcours_shared.naf import naf_matches

# what each fit is worth, out of 100
MARKET_POINTS, SECTOR_POINTS, MATURITY_POINTS = 50, 30, 20
DEFAULT_LEVELS = ("occasional_exporter", "experienced_exporter")
INTERESTED, SELECTED, DECLINED = "interested", "selected", "declined"


class CallNotFound(DomainError):
    pass


class NotAMatch(DomainError):
    """A firm that does not fit a call (or did not answer it) cannot be put forward for it."""


class CallClosed(DomainError):
    """Past its deadline, a call takes no more interest."""


class InterestMoveRefused(MoveRefused):
    pass


INTEREST_LIFECYCLE = Lifecycle("interest", {
    "decide": Move(allowed_from=(INTERESTED,), to=(SELECTED, DECLINED)),
}, refused=InterestMoveRefused)


@dataclass(frozen=True)
class Match:
    case_id: str
    company_name: str | None
    score: int
    reasons: tuple


@dataclass
class CoExportCall:
    id: str
    partner: str              # the large group's partner: it sees the matches' contacts
    title: str
    country: str              # ISO 3166: where the project is
    needs: str
    deadline: date
    sectors: list             # NAF sections, divisions or codes; empty: any
    maturity_levels: list
    published_at: datetime

    @classmethod
    def publish(cls, partner, fields, at):
        return cls(id=str(uuid.uuid4()), partner=partner, published_at=at,
                   maturity_levels=list(fields.pop("maturity_levels", None) or DEFAULT_LEVELS),
                   **fields)

    def match(self, case_id, firm, diagnosis):
        """The firm's fit, or None when its maturity or its sector rules it out (or it has no
        diagnosis yet)."""
        if diagnosis is None or diagnosis["maturity"] not in self.maturity_levels:
            return None
        naf_code = (firm or {}).get("naf_code")
        sector = [entry for entry in self.sectors if naf_code and naf_matches(naf_code, entry)]
        if self.sectors and not sector:
            return None
        score = MATURITY_POINTS
        reasons = ["maturity {} fits".format(diagnosis["maturity"])]
        if sector:
            score += SECTOR_POINTS
            reasons.append("sector {} is among those sought ({})".format(
                naf_code, ", ".join(sector)))
        if self.country in [m["country"] for m in diagnosis.get("target_markets") or []]:
            score += MARKET_POINTS
            reasons.insert(0, "aims at {}, the project's country".format(self.country))
        return Match(case_id, (firm or {}).get("company_name"), score, tuple(reasons))

    def check_open(self, today):
        if today > self.deadline:
            raise CallClosed("call {!r} closed on {}: it takes no more interest".format(
                self.title, self.deadline))

    def check_owned_by(self, actor):
        """The group's partner alone sees its matches' contacts and decides."""
        if actor is not None and actor.partner != self.partner:
            raise NotYours("call {!r} is {}'s: a caller of {} cannot see its matches' "
                           "contacts or decide on them".format(self.title, self.partner,
                                                               actor.partner))

    def as_row(self):
        return asdict(self)


def ranked_matches(call, firms, diagnoses):
    """The matches of a call among the diagnosed firms, best first (``firms`` and
    ``diagnoses``: by case id)."""
    found = [call.match(case_id, firms.get(case_id), diagnosis)
             for case_id, diagnosis in diagnoses.items()]
    return sorted((m for m in found if m is not None), key=lambda m: (-m.score, m.case_id))


@dataclass
class Interest:
    call_id: str
    case_id: str
    status: str
    expressed_at: datetime
    expressed_by: str | None = None     # the partner who said so for the firm
    decided_at: datetime | None = None
    note: str | None = None

    def decide(self, decision, note, at):
        self.status = INTEREST_LIFECYCLE.next_status(
            "{} of case {}".format(self.call_id, self.case_id), self.status, "decide", decision)
        self.decided_at, self.note = at, note

    def as_row(self):
        return asdict(self)

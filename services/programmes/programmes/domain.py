"""Programmes' rules: which offer suits a firm's maturity, how seats are taken, and how an
enrolment may move.

An enrolment is proposed after the diagnostic, then confirmed (a seat is taken) or waitlisted
(the session is full), then completed or withdrawn.
"""
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from parcours_shared.domain import (  # noqa: F401  (as_utc: for the handlers)
    DomainError, Lifecycle, Move, MoveRefused, NotYours, as_utc,
)

from .eligibility import Eligibility

PROPOSED, CONFIRMED, WAITLISTED, COMPLETED, WITHDRAWN = (
    "proposed", "confirmed", "waitlisted", "completed", "withdrawn")
ACTIVE = (PROPOSED, CONFIRMED, WAITLISTED)


class ProgrammeNotFound(DomainError):
    pass


class ProgrammeNameTaken(DomainError):
    pass


class EnrolmentNotFound(DomainError):
    pass


class EnrolmentMoveRefused(MoveRefused):
    pass


class CaseNotEnrolled(DomainError):
    """An outcome is recorded against a case that has an enrolment here."""


class EnrolmentOfAnotherCase(DomainError):
    pass


class EnrolmentClosed(DomainError):
    """Past a session's enrolment deadline (or once it started), no firm is confirmed into it."""


# Which moves an enrolment may make, by the status it is in.
ENROLMENT_LIFECYCLE = Lifecycle("enrolment", {
    "confirm": Move(allowed_from=(PROPOSED, WAITLISTED), to=(CONFIRMED, WAITLISTED)),
    "complete": Move(allowed_from=(CONFIRMED,), to=(COMPLETED,)),
    "withdraw": Move(allowed_from=ACTIVE, to=(WITHDRAWN,)),
}, refused=EnrolmentMoveRefused)


def no_programme(programme_id):
    return ProgrammeNotFound("no programme with id {}".format(programme_id))


def no_enrolment(enrolment_id):
    return EnrolmentNotFound("no enrolment with id {}".format(enrolment_id))


# --- ownership: a partner changes only what is its own (``actor`` None: the service itself) --

def check_offered_by(actor, partner, what):
    """``what`` is ``partner``'s; refused to a caller of another partner."""
    if actor is not None and actor.partner != partner:
        raise NotYours("{} is {}'s: a caller of {} cannot change it".format(
            what, partner, actor.partner))


def check_supported_by(actor, case_id, runners):
    """What came of a firm's support is recorded by a partner whose programme had it."""
    if actor is not None and actor.partner not in runners:
        raise NotYours("case {} was enrolled by {}, not {}: they record its outcomes".format(
            case_id, ", ".join(sorted(runners)), actor.partner))


@dataclass
class Programme:
    """An offer of a partner, for the firms its eligibility rules let in."""

    id: str
    partner: str
    name: str
    kind: str
    maturity_levels: list
    description: str | None = None
    price_eur: int | None = None
    subsidy_percent: int | None = None
    eligibility: dict | None = None   # the rules besides maturity (Eligibility's fields)

    @classmethod
    def create(cls, fields):
        return cls(id=str(uuid.uuid4()), **fields)

    @property
    def rules(self):
        return Eligibility.of(self.maturity_levels, self.eligibility)

    def check_run_by(self, actor):
        """A partner runs its own programmes: only its callers add their sessions and decide
        on their enrolments and outcomes (``actor`` None: the service itself, on an event)."""
        check_offered_by(actor, self.partner, "programme {!r}".format(self.name))

    def as_row(self):
        return asdict(self)


class SeatsLeft:
    """Seats left per session, taken one confirmation at a time (counted once, under the
    sessions' locks, by the caller)."""

    def __init__(self, by_session):
        self._left = dict(by_session)

    def take(self, session_id):
        """Take a seat if one is left; False when the session is full."""
        if self._left[session_id] <= 0:
            return False
        self._left[session_id] -= 1
        return True


def best_session(candidates, target_markets=()):
    """The session to propose, among those that suit with a seat left: the earliest in one of
    the firm's target markets, else the earliest.

    ``candidates``: (session, seats_left) pairs of sessions whose programme targets the firm's
    maturity; ``target_markets``: ISO country codes, from its diagnostic.
    """
    open_ones = [session for session, seats_left in candidates if seats_left > 0]
    return min(open_ones, key=lambda s: (s["market"] not in target_markets, s["starts_on"],
                                         s["id"])) if open_ones else None


MAX_PROPOSALS = 3  # a firm is proposed a few programmes, the best first, not the catalogue


@dataclass(frozen=True)
class Proposal:
    programme: Programme
    session: dict
    rank: int
    reasons: tuple      # (code, what): ("target_market", "DE"), ("recommended_kind",
                        # "preparation"), or ("eligible", None) alone

    REASON_WORDS = {"target_market": "a session in {}, a target market",
                    "recommended_kind": "{} recommended by the diagnostic",
                    "eligible": "eligible"}

    @property
    def reason(self):
        """In words, for the event and the firm's advisor."""
        return "; ".join(self.REASON_WORDS[code].format(what) for code, what in self.reasons)


def proposals_for(diagnosis, firm, programmes, open_sessions, today, at_most=MAX_PROPOSALS):
    """The programmes to propose after a diagnostic, ranked: those the firm is eligible for
    (its ``firm`` data and ``diagnosis``) with a seat left in a session that takes enrolments,
    a session in one of its target markets first, then a kind the diagnostic recommends (in
    its order), then the earliest session. One session per programme.

    ``open_sessions``: (session, seats_left) pairs; ``programmes``: {id: Programme}."""
    markets = [market["country"] for market in diagnosis["target_markets"]]
    kinds = list(diagnosis.get("programme_kinds") or [])
    by_programme = {}
    for programme_session, seats_left in open_sessions:
        if seats_left > 0 and session_takes_enrolments(programme_session, today):
            by_programme.setdefault(programme_session["programme_id"], []).append(
                (programme_session, seats_left))
    ranked = []
    for programme_id, candidates in by_programme.items():
        programme = programmes[programme_id]
        if not programme.rules.evaluate(firm, diagnosis, today).eligible:
            continue
        chosen = best_session(candidates, markets)
        in_market = chosen["market"] in markets
        recommended = programme.kind in kinds
        reasons = tuple(reason for reason, applies in (
            (("target_market", chosen["market"]), in_market),
            (("recommended_kind", programme.kind), recommended)) if applies) or (
                ("eligible", None),)
        key = (not in_market, not recommended,
               kinds.index(programme.kind) if recommended else len(kinds),
               chosen["starts_on"], chosen["id"])
        ranked.append((key, programme, chosen, reasons))
    ranked.sort(key=lambda item: item[0])
    return [Proposal(programme, chosen, rank, reasons)
            for rank, (_, programme, chosen, reasons) in enumerate(ranked[:at_most], start=1)]


def session_takes_enrolments(programme_session, today):
    """Until its enrolment deadline, or the day before it starts when it has none."""
    deadline = programme_session.get("enrolment_deadline")
    return today <= deadline if deadline else today < programme_session["starts_on"]


def check_takes_enrolments(programme_session, today):
    if not session_takes_enrolments(programme_session, today):
        deadline = programme_session.get("enrolment_deadline")
        raise EnrolmentClosed("session {} ({}, starting {}) {}: no firm is confirmed into it "
                              "any more; propose another session".format(
                                  programme_session["id"], programme_session["place"],
                                  programme_session["starts_on"],
                                  "closed its enrolment on {}".format(deadline) if deadline
                                  else "has started"))


@dataclass
class Enrolment:
    id: str
    case_id: str
    session_id: str
    programme_id: str
    status: str
    proposed_at: datetime
    updated_at: datetime
    withdrawal_reason: str | None = None
    rank: int | None = None
    reason: str | None = None
    waitlisted_at: datetime | None = None

    @classmethod
    def propose(cls, case_id, programme_session, at, rank=None, reason=None):
        return cls(id=str(uuid.uuid4()), case_id=case_id, session_id=programme_session["id"],
                   programme_id=programme_session["programme_id"], status=PROPOSED,
                   proposed_at=at, updated_at=at, rank=rank, reason=reason)

    def confirm(self, seats, programme_session, at):
        """The firm says yes: it takes a seat if one is left, otherwise it is waitlisted, in
        order of request; refused past the session's enrolment deadline."""
        ENROLMENT_LIFECYCLE.check(self.id, self.status, "confirm")  # before a seat is taken
        check_takes_enrolments(programme_session, at.date())
        if seats.take(self.session_id):
            to = CONFIRMED
        elif self.status == WAITLISTED:
            return  # still waiting, in its place
        else:
            to = WAITLISTED
        self._move_to(ENROLMENT_LIFECYCLE.next_status(self.id, self.status, "confirm", to), at)
        if to == WAITLISTED:
            self.waitlisted_at = at

    def promote(self, at):
        """A seat came free: the first on the waitlist takes it."""
        self._move_to(ENROLMENT_LIFECYCLE.next_status(self.id, self.status, "confirm",
                                                      CONFIRMED), at)

    def complete(self, at):
        self._move_to(ENROLMENT_LIFECYCLE.next_status(self.id, self.status, "complete"), at)

    def withdraw(self, reason, at):
        self._move_to(ENROLMENT_LIFECYCLE.next_status(self.id, self.status, "withdraw"), at)
        self.withdrawal_reason = reason

    def _move_to(self, status, at):
        self.status, self.updated_at = status, at

    def as_row(self):
        return asdict(self)


class NoContactConsent(DomainError):
    """A firm's contacts reach programmes only for what it consented to (co-export matching)."""

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
    """An offer of a partner, for firms of some maturity levels."""

    id: str
    partner: str
    name: str
    kind: str
    maturity_levels: list
    description: str | None = None

    @classmethod
    def create(cls, fields):
        return cls(id=str(uuid.uuid4()), **fields)

    def suits(self, maturity):
        return maturity in self.maturity_levels

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


def session_to_propose(diagnosis, open_sessions, programmes):
    """The session to propose after a diagnostic (``diagnosis``: its diagnostic.completed
    data), or None: of a programme that suits its maturity, in a target market if one has a
    seat.

    ``open_sessions``: (session, seats_left) pairs; ``programmes``: {id: Programme}."""
    markets = [market["country"] for market in diagnosis["target_markets"]]
    return best_session(((programme_session, seats_left)
                         for programme_session, seats_left in open_sessions
                         if programmes[programme_session["programme_id"]].suits(
                             diagnosis["maturity"])), markets)


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

    @classmethod
    def propose(cls, case_id, programme_session, at):
        return cls(id=str(uuid.uuid4()), case_id=case_id, session_id=programme_session["id"],
                   programme_id=programme_session["programme_id"], status=PROPOSED,
                   proposed_at=at, updated_at=at)

    def confirm(self, seats, at):
        """The firm says yes: it takes a seat if one is left, otherwise it is waitlisted."""
        ENROLMENT_LIFECYCLE.check(self.id, self.status, "confirm")  # before a seat is taken
        to = CONFIRMED if seats.take(self.session_id) else WAITLISTED
        self._move_to(ENROLMENT_LIFECYCLE.next_status(self.id, self.status, "confirm", to), at)

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

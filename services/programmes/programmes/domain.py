"""Programmes' rules: which offer suits a firm's maturity, and how an enrolment may move.

An enrolment is proposed after the diagnostic, then confirmed (a seat is taken) or waitlisted
(the session is full), then completed or withdrawn.
"""
PROGRAMME_KINDS = ("preparation", "targeted_market", "trade_fair_pavilion", "co_export",
                   "international_volunteer", "financing", "cluster")
PROPOSED, CONFIRMED, WAITLISTED, COMPLETED, WITHDRAWN = (
    "proposed", "confirmed", "waitlisted", "completed", "withdrawn")
ACTIVE = (PROPOSED, CONFIRMED, WAITLISTED)

# Which moves an enrolment may make, by the status it is in.
TRANSITIONS = {
    "confirm": (PROPOSED, WAITLISTED),
    "complete": (CONFIRMED,),
    "withdraw": ACTIVE,
}


class TransitionRefused(Exception):
    pass


def check_transition(enrolment, move):
    if enrolment["status"] not in TRANSITIONS[move]:
        raise TransitionRefused("an enrolment that is {} cannot {} (allowed from: {})".format(
            enrolment["status"], move, ", ".join(TRANSITIONS[move])))


def status_on_confirmation(seats_left):
    """A confirmation takes a seat if one is left; otherwise the firm waits for one."""
    return CONFIRMED if seats_left > 0 else WAITLISTED


def best_session(candidates):
    """The session to propose: the earliest one with a seat left, among those that suit.

    ``candidates``: (session, seats_left) pairs of sessions whose programme targets the firm's
    maturity.
    """
    open_ones = [session for session, seats_left in candidates if seats_left > 0]
    return min(open_ones, key=lambda s: (s["starts_on"], s["id"])) if open_ones else None

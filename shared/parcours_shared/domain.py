"""What every service's domain is written with: its errors and its lifecycles.

A rule that refuses raises a ``DomainError`` of its service (``CaseNotFound``,
``MoveRefused``...); the domain knows nothing of HTTP. Each service class says, in one table
(``http_errors``), which status each of its errors is for an HTTP caller, and
``parcours_shared.http`` applies that table in one place.
"""
from dataclasses import dataclass
from datetime import timezone


class DomainError(Exception):
    """A rule of the domain refused what was asked; ``fields`` says which input, when one
    field is to blame ({"siren": ["..."]})."""

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields


class NotYours(DomainError):
    """A partner asked to change, or read, what is another partner's (HTTP 403, whatever the
    service): each service's ownership rules are plain functions of its domain that raise it,
    saying whose it is."""


class MoveRefused(DomainError):
    """An entity was asked to make a move its status does not allow."""


@dataclass(frozen=True)
class Move:
    allowed_from: tuple   # the statuses the move may start from
    to: tuple             # the statuses it may lead to (one, unless a rule picks among them)


@dataclass(frozen=True)
class Lifecycle:
    """The moves an entity may make, by status: one table per kind of entity, checked here, so
    that every state machine of the network reads and refuses the same way."""

    entity: str                    # "case", "enrolment": for the messages
    moves: dict                    # move name -> Move
    refused: type = MoveRefused    # the service's error for a move its status does not allow

    def check(self, entity_id, status, move):
        """The move, if the entity's ``status`` allows it; raises ``refused`` otherwise."""
        allowed = self.moves[move]
        if status not in allowed.allowed_from:
            raise self.refused("{} {} is {}: it cannot {} (only when {})".format(
                self.entity, entity_id, status, move, " or ".join(allowed.allowed_from)))
        return allowed

    def next_status(self, entity_id, status, move, to=None):
        """The status after ``move`` (``to`` when the move may lead to several); raises
        ``refused`` when the entity's ``status`` does not allow it."""
        allowed = self.check(entity_id, status, move)
        if to is None:
            if len(allowed.to) != 1:
                raise ValueError("{} may lead to {}: say which".format(move, allowed.to))
            return allowed.to[0]
        if to not in allowed.to:
            raise ValueError("{} cannot lead to {}".format(move, to))
        return to

    def statuses(self):
        found = []
        for move in self.moves.values():
            for status in move.allowed_from + move.to:
                if status not in found:
                    found.append(status)
        return tuple(found)


def as_utc(at):
    """A time read back from the database, with its offset: SQLite gives back times without
    it, and they were written in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)

"""A service's transaction: its session, and the events it publishes, written to the outbox
just before it commits (so a state change and its events are committed together)."""
import json

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from .audit import audit_row
from .contracts import build_envelope, exchange_name, utc_now


WRITING = "parcours.writing"


def for_update(session, query):
    """``query`` locking the rows it reads when the session is a unit of work's, which may change
    them: two transactions changing one row (an advisor's call and an event about the same case)
    then take turns, and neither writes back a copy read before the other committed. Reading
    sessions lock nothing; SQLite, whose writers take turns anyway, ignores it."""
    return query.with_for_update() if session.info.get(WRITING) else query


class UnitOfWork:
    """One transaction of a service: its session plus the events to publish when it commits.

    ``DatabaseAccess.transaction()`` writes the outbox just before committing; code that builds
    a UnitOfWork itself calls ``write_outbox()`` before its commit.
    """

    def __init__(self, session: Session, service_name, outbox: Table, actor=None, audit=None):
        self.session = session
        session.info[WRITING] = True  # rows loaded to change are locked (for_update)
        self.service_name = service_name
        self.actor = actor  # who acted (identity.Caller), carried by every event published
        self._outbox = outbox
        self._audit = audit
        self.published = []

    def publish(self, type_name, subject, data):
        """Validate the event against its contract and add it to the outbox of this transaction
        (written just before the commit, all of the transaction's events in one statement)."""
        if self._outbox is None:
            raise RuntimeError("{} has no outbox: it publishes no events".format(self.service_name))
        envelope = build_envelope(self.service_name, type_name, subject, data, actor=self.actor)
        self.published.append(envelope)
        return envelope

    def write_outbox(self):
        """Write the transaction's events, just before its commit. Their ``time`` is this
        moment, when what they tell becomes true: not when each was prepared (the first firm
        of a long list is opened with the last, when the list commits)."""
        if not self.published:
            return
        now = utc_now()
        stamp = now.isoformat()
        exchange = exchange_name(self.service_name)
        rows = []
        for envelope in self.published:
            envelope["time"] = stamp
            rows.append({"event_id": envelope["id"], "exchange": exchange,
                         "routing_key": envelope["type"],
                         "body": json.dumps(envelope, separators=(",", ":")), "created_at": now})
        self.session.execute(insert(self._outbox), rows)
        if self._audit is not None:  # who did what, kept by the service (GET /audit)
            self.session.execute(insert(self._audit), [audit_row(envelope, now)
                                                        for envelope in self.published])

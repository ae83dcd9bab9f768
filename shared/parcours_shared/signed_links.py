"""Personal links for firms: signed, expiring, single-use or revocable, kept by the service that
sent them.

A link is a row of the service's ``firm_links`` table (what it is for, the case, the thing it is
about) and a token that names that row, signed and timestamped with itsdangerous: a token that
was altered fails its signature, one older than its purpose allows has expired. The row says
whether it was used (a single-use link answers once) or revoked (the firm, or the single window,
took it back)::

    links = FirmLinks(secret, table, clock=utc_now)
    token = links.issue(session, "outcome_review", case_id, subject_id=enrolment_id)
    link = links.open(session, token, "outcome_review")  # LinkRefused(reason): may not be used
    links.use(session, link)                   # single-use links: in the answer's transaction
"""
import functools
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert, select, update

from .checkout import data_path
from .domain import as_utc

# What a link is for, how long it lasts and whether it answers once.
PURPOSES = {
    # the firm confirms or corrects the outcomes recorded after a programme, and rates it
    "outcome_review": {"days": 30, "single_use": True},
    # the firm follows its request, corrects its contact details, withdraws its consent
    "follow_request": {"days": 90, "single_use": False},
    # the firm rates its whole pathway once its case is closed
    "case_survey": {"days": 30, "single_use": True},
}

REFUSALS = {
    "tampered": "This link is not valid: it may have been cut or altered. Open it from the "
                "email again, or ask the single window for a new one.",
    "expired": "This link has expired. Ask the single window for a new one.",
    "used": "This link has been used already: your answer was recorded. Thank you.",
    "revoked": "This link was withdrawn. Ask the single window for a new one.",
}


def link_secret(config, service_name):
    """``PARCOURS_LINK_SECRET``; else a secret made once and kept under data/secrets/ (a
    development machine: links in mails already sent must outlive a restart)."""
    configured = config.get("PARCOURS_LINK_SECRET")
    if configured:
        return configured
    return _kept_secret(data_path(os.path.join("data", "secrets",
                                               "{}-link-secret".format(service_name))))


@functools.lru_cache(maxsize=None)
def _kept_secret(path):
    """The secret kept at ``path``, made there first if need be; read once per process (a
    service asks for it at every firm's page and every batch of events it mails about)."""
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # a replica made it first
            pass
        else:
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_urlsafe(32))
    with open(path) as secret:
        return secret.read().strip()


class LinkRefused(Exception):
    """The link may not be used: ``reason`` is one of REFUSALS, ``message`` says what to do."""

    def __init__(self, reason):
        super().__init__(REFUSALS[reason])
        self.reason = reason
        self.message = REFUSALS[reason]


def firm_links_table(metadata: MetaData) -> Table:
    return Table(
        "firm_links", metadata,
        Column("id", String(36), primary_key=True),
        Column("purpose", String(40), nullable=False),
        Column("case_id", String(36), nullable=False, index=True),
        Column("subject_id", String(36)),  # what it is about: an enrolment, say
        Column("issued_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Column("used_at", DateTime(timezone=True)),
        Column("revoked_at", DateTime(timezone=True)),
    )


@dataclass
class FirmLink:
    id: str
    purpose: str
    case_id: str
    subject_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime = None
    revoked_at: datetime = None


class _ClockedSigner(TimestampSigner):
    """itsdangerous's timestamp signer on the service's clock, so that tests move time."""

    def __init__(self, *args, clock=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self):
        return int(self._clock().timestamp())


class FirmLinks:
    """``secret``: the service's link secret (config ``PARCOURS_LINK_SECRET``); ``clock``: a
    function giving the current UTC datetime (the links' timestamps and their expiry)."""

    def __init__(self, secret, table: Table, clock):
        if not secret:
            raise ValueError("firm links need a secret: set PARCOURS_LINK_SECRET")
        self.table = table
        self._clock = clock
        self._serializer = URLSafeTimedSerializer(
            secret, salt="parcours.firm-link", signer=_ClockedSigner,
            signer_kwargs={"clock": clock})

    def issue(self, session, purpose, case_id, subject_id=None):
        """A new link for the case, kept in the transaction; its token, for the email."""
        now = self._clock()
        link_id = str(uuid.uuid4())
        session.execute(insert(self.table).values(
            id=link_id, purpose=purpose, case_id=case_id, subject_id=subject_id, issued_at=now,
            expires_at=now + timedelta(days=PURPOSES[purpose]["days"])))
        return self._serializer.dumps({"link": link_id, "for": purpose})

    def open(self, session, token, purpose):
        """The link a token names, if it may be used now for ``purpose``; else LinkRefused."""
        try:
            claims = self._serializer.loads(
                token, max_age=PURPOSES[purpose]["days"] * 86400)
        except SignatureExpired:
            raise LinkRefused("expired")
        except BadSignature:
            raise LinkRefused("tampered")
        if claims.get("for") != purpose:  # a follow link is not an outcome review's
            raise LinkRefused("tampered")
        row = session.execute(select(self.table).where(
            self.table.c.id == claims.get("link"))).mappings().first()
        if row is None:
            raise LinkRefused("tampered")
        link = FirmLink(**{key: as_utc(value) if isinstance(value, datetime) else value
                           for key, value in row.items()})
        if link.revoked_at is not None:
            raise LinkRefused("revoked")
        if link.used_at is not None and PURPOSES[purpose]["single_use"]:
            raise LinkRefused("used")
        if self._clock() >= link.expires_at:
            raise LinkRefused("expired")
        return link

    def use(self, session, link):
        """Mark a single-use link used, in the transaction that records its answer; False if
        another answer used it first (two tabs submitting at once): that answer is refused."""
        result = session.execute(update(self.table).where(
            self.table.c.id == link.id, self.table.c.used_at.is_(None)).values(
                used_at=self._clock()))
        return result.rowcount == 1

    def revoke_for_case(self, session, case_id, purpose=None):
        """Withdraw every live link of the case (of one purpose, or all)."""
        condition = [self.table.c.case_id == case_id, self.table.c.revoked_at.is_(None)]
        if purpose is not None:
            condition.append(self.table.c.purpose == purpose)
        return session.execute(update(self.table).where(*condition).values(
            revoked_at=self._clock())).rowcount

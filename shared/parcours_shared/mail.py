"""The outbox of messages to firms: each committed with what caused it, sent once, by one sender.

A message is rendered from the service's templates (French, kept as files: ``<name>.txt``, whose
first line is ``Subject: ...``, and ``<name>.html``) and written to the ``mail_outbox`` table in
the transaction of what caused it, under a key that says what it is about
(``outcome_review:<enrolment id>``): the same step told twice (a duplicated event, a retry)
finds its key taken and writes nothing, so a firm hears of each step once.

The sender, a dependency of the service, hands the unsent rows to the transport named by
``PARCOURS_MAIL_URL``:

    folder:data/mail              a file per message, <message id>.eml (make run, tests); a
                                  relative folder is under the checkout (checkout.data_path)
    smtp://host:25                a mail server; smtp+starttls://user:password@host:587 and
                                  smtps://user:password@host:465 log in over TLS

A row is claimed for a minute before it is sent (replicas share the outbox without sending one
message twice), marked sent after the transport took it, and tried again later if it failed.
A file is written under a temporary name then renamed, so a crash leaves no half message, and a
row sent again after a crash rewrites the same file. Addresses are personal data: logs name a
message by its key only.
"""
import logging
import os
import smtplib
import ssl
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote, urlsplit

import jinja2
from nameko.extensions import DependencyProvider
from sqlalchemy import (
    Column, DateTime, Integer, MetaData, String, Table, Text, func, insert, or_, select, update,
)

from .checkout import data_path
from .contracts import utc_now
from .metrics import MAIL_FAILURES, MAILS_SENT

log = logging.getLogger(__name__)

MAIL_URL_CONFIG_KEY = "PARCOURS_MAIL_URL"
# how long a sender holds a row it is sending: a sender that died holding it (kill -9) leaves it
# to another after that (PARCOURS_MAIL_CLAIM_SECONDS)
CLAIM_SECONDS = 60
RETRY_SECONDS = (30, 120, 600, 3600)  # after each failed attempt (the last one repeats)


def mail_outbox_table(metadata: MetaData) -> Table:
    return Table(
        "mail_outbox", metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("key", String(120), nullable=False, unique=True),
        Column("message_id", String(200), nullable=False),
        Column("template", String(60), nullable=False),
        Column("case_id", String(36), index=True),
        Column("to_address", String(254), nullable=False),
        Column("subject", String(300), nullable=False),
        Column("text_body", Text, nullable=False),
        Column("html_body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("due_at", DateTime(timezone=True), nullable=False),
        Column("claimed_until", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", String(500)),
        Column("sent_at", DateTime(timezone=True), index=True),
    )


@dataclass
class RenderedMessage:
    template: str
    subject: str
    text: str
    html: str


class MailTemplates:
    """The service's message templates, from a folder of its package. HTML is autoescaped: a
    firm's name cannot inject markup into its own email."""

    def __init__(self, folder):
        self._environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder), undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",),
                                                default_for_string=False),
            keep_trailing_newline=True)

    def render(self, name, **context):
        text = self._environment.get_template(name + ".txt").render(**context)
        first_line, _, body = text.partition("\n")
        if not first_line.startswith("Subject: "):
            raise ValueError("template {}.txt must start with a 'Subject: ' line".format(name))
        html = self._environment.get_template(name + ".html").render(**context)
        return RenderedMessage(name, first_line[len("Subject: "):].strip(), body.lstrip("\n"),
                               html)


def queue_message(session, table, key, to_address, message, case_id=None, now=None):
    """Add the message to the outbox in the caller's transaction, unless its key is there: True
    if it was added. (Two transactions adding one key at once: the unique key makes one of them
    fail and be retried, and the retry finds the key.)"""
    if session.execute(select(table.c.seq).where(table.c.key == key)).first() is not None:
        return False
    now = now or utc_now()
    session.execute(insert(table).values(
        key=key, message_id=make_msgid(idstring=uuid.uuid4().hex, domain="parcours.invalid"),
        template=message.template, case_id=case_id, to_address=to_address,
        subject=message.subject, text_body=message.text, html_body=message.html,
        created_at=now, due_at=now, attempts=0))
    return True


def email_of(row, sender):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    message["Message-ID"] = row["message_id"]
    message["Date"] = format_datetime(row["created_at"])
    message.set_content(row["text_body"])
    message.add_alternative(row["html_body"], subtype="html")
    return message


class FolderTransport:
    """Each message as a file <message id>.eml in a folder (read it with any mail client)."""

    def __init__(self, folder):
        self.folder = folder

    def send(self, message):
        os.makedirs(self.folder, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("/", "_")
        path = os.path.join(self.folder, name + ".eml")
        temporary = os.path.join(self.folder, "." + name + ".tmp")
        with open(temporary, "wb") as out:
            out.write(bytes(message))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)

    def __str__(self):
        return "the folder {}".format(os.path.abspath(self.folder))


class SmtpTransport:
    def __init__(self, host, port, user=None, password=None, security=None, timeout=30):
        self.host, self.port, self.user, self.password = host, port, user, password
        self.security, self.timeout = security, timeout

    def send(self, message):
        if self.security == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(message)

    def __str__(self):
        return "the mail server {}:{}".format(self.host, self.port)


def transport_from_url(url):
    """The transport a ``PARCOURS_MAIL_URL`` names (module docstring); ValueError says what a
    wrong one should look like."""
    if url.startswith("folder:"):  # relative: to the checkout, as the databases are
        return FolderTransport(data_path(url[len("folder:"):] or "data/mail"))
    parts = urlsplit(url)
    security = {"smtp": None, "smtp+starttls": "starttls", "smtps": "tls"}.get(parts.scheme, "?")
    if security == "?" or not parts.hostname:
        raise ValueError("PARCOURS_MAIL_URL {!r}: use folder:<path>, smtp://host:port, "
                         "smtp+starttls://user:password@host:587 or smtps://user:password@host"
                         .format(url.split("@")[-1]))
    default_port = {"tls": 465, "starttls": 587}.get(security, 25)
    return SmtpTransport(parts.hostname, parts.port or default_port,
                         unquote(parts.username) if parts.username else None,
                         unquote(parts.password) if parts.password else None, security)


class Outbox:
    """Sending the mail outbox's due rows: ``send_due()`` is one pass (tests call it)."""

    def __init__(self, service_name, engine, table, transport, sender, clock=utc_now,
                 claim_seconds=CLAIM_SECONDS):
        self.service_name, self.engine, self.table = service_name, engine, table
        self.transport, self.sender, self.clock = transport, sender, clock
        self.claim_seconds = claim_seconds

    def send_due(self, limit=50):
        """Send what is due; the number of messages sent."""
        sent = 0
        for row in self._due(limit):
            if not self._claim(row["seq"]):
                continue  # another replica took it
            try:
                self.transport.send(email_of(row, self.sender))
            except Exception as exc:  # the transport is down or refused: later, not never
                self._failed(row, exc)
                continue
            self._mark(row["seq"], sent_at=self.clock(), claimed_until=None)
            MAILS_SENT.labels(self.service_name, row["template"]).inc()
            sent += 1
        return sent

    def pending(self):
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(self.table).where(
                self.table.c.sent_at.is_(None))).scalar_one()

    def _due(self, limit):
        table, now = self.table, self.clock()
        with self.engine.connect() as connection:
            return connection.execute(
                select(table).where(table.c.sent_at.is_(None), table.c.due_at <= now,
                                    or_(table.c.claimed_until.is_(None),
                                        table.c.claimed_until < now))
                .order_by(table.c.seq).limit(limit)).mappings().all()

    def _claim(self, seq):
        table, now = self.table, self.clock()
        with self.engine.begin() as connection:
            return connection.execute(update(table).where(
                table.c.seq == seq, table.c.sent_at.is_(None),
                or_(table.c.claimed_until.is_(None), table.c.claimed_until < now)).values(
                    claimed_until=now + timedelta(seconds=self.claim_seconds))).rowcount == 1

    def _failed(self, row, exc):
        attempts = row["attempts"] + 1
        delay = RETRY_SECONDS[min(attempts, len(RETRY_SECONDS)) - 1]
        MAIL_FAILURES.labels(self.service_name).inc()
        # the key, never the address: logs carry no personal data
        log.warning("mail %s: %s refused it (%s); trying again in %d s", row["key"],
                    self.transport, type(exc).__name__, delay)
        self._mark(row["seq"], attempts=attempts, last_error=str(exc)[:500],
                   due_at=self.clock() + timedelta(seconds=delay), claimed_until=None)

    def _mark(self, seq, **values):
        with self.engine.begin() as connection:
            connection.execute(update(self.table).where(self.table.c.seq == seq).values(
                **values))


class MailSender(DependencyProvider):
    """nameko dependency: sends the service's mail outbox in a managed thread, and gives workers
    ``self.mail.wake()`` (the outbox is looked at every ``PARCOURS_MAIL_POLL_SECONDS``
    otherwise). Needs the service's ``Database`` dependency and a ``mail_outbox`` table."""

    def __init__(self, poll_seconds=5.0):
        self.poll_seconds = poll_seconds
        self.outbox = None
        self._wake = threading.Event()
        self._stopped = False
        self._thread = None

    def setup(self):
        from .db import Database
        config = self.container.config
        self.database = next(dependency for dependency in self.container.dependencies
                             if isinstance(dependency, Database))
        self.transport = transport_from_url(config.get(MAIL_URL_CONFIG_KEY) or "folder:data/mail")
        self.sender = config.get("PARCOURS_MAIL_FROM") or "Parcours <guichet@parcours.invalid>"
        self.poll_seconds = float(config.get("PARCOURS_MAIL_POLL_SECONDS", self.poll_seconds))
        self.claim_seconds = float(config.get("PARCOURS_MAIL_CLAIM_SECONDS", CLAIM_SECONDS))

    def start(self):
        self.outbox = Outbox(self.container.service_name, self.database.engine,
                             self.database.metadata.tables["mail_outbox"], self.transport,
                             self.sender, claim_seconds=self.claim_seconds)
        log.info("mail to firms goes to %s", self.transport)
        self._stopped = False
        self._thread = self.container.spawn_managed_thread(
            self._run, identifier="{}.mail_sender".format(self.container.service_name))

    def _run(self):
        import eventlet
        while not self._stopped:
            try:
                self.outbox.send_due()
            except Exception as exc:  # the database is away: the next pass tries again
                log.warning("mail sender: %s", exc)
            deadline = self.poll_seconds
            while deadline > 0 and not self._stopped and not self._wake.is_set():
                eventlet.sleep(0.1)
                deadline -= 0.1
            self._wake.clear()

    def stop(self):
        self._stopped = True
        if self._thread is not None:
            self._thread.wait()
            self._thread = None

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self

    def wake(self):
        self._wake.set()

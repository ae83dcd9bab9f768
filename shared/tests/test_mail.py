"""The mail outbox: one message per key, sent once to the folder, tried again when the
transport fails, never sent by two senders at once."""
import email
import email.policy
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from parcours_shared import mail
from parcours_shared.mail import (
    FolderTransport, MailTemplates, Outbox, RenderedMessage, SmtpTransport, mail_outbox_table,
    queue_message, transport_from_url,
)
from parcours_testing import Clock

MESSAGE = RenderedMessage("outcome_review", "Votre avis", "Bonjour,\n", "<p>Bonjour,</p>")


class Refusing:
    def send(self, message):
        raise ConnectionRefusedError("no mail server on port 25")


@pytest.fixture
def table():
    return mail_outbox_table(MetaData())


@pytest.fixture
def engine(table):
    engine = create_engine("sqlite://", poolclass=StaticPool,
                           connect_args={"check_same_thread": False})
    table.metadata.create_all(engine)
    return engine


def queue(engine, table, key, clock, to="claire@ateliers.example"):
    with Session(engine) as session, session.begin():
        return queue_message(session, table, key, to, MESSAGE, case_id="case-1", now=clock())


def folder_mails(folder):
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(folder.glob("*.eml"))]


def test_a_key_queues_one_message_and_the_folder_gets_it_once(engine, table, tmp_path):
    clock = Clock()
    assert queue(engine, table, "outcome_review:e1", clock) is True
    assert queue(engine, table, "outcome_review:e1", clock) is False   # told twice
    outbox = Outbox("intake", engine, table, FolderTransport(str(tmp_path)), "Guichet <g@x>",
                    clock)
    assert outbox.send_due() == 1
    assert outbox.send_due() == 0 and outbox.pending() == 0
    [sent] = folder_mails(tmp_path)
    assert (sent["To"], sent["Subject"], sent["From"]) == (
        "claire@ateliers.example", "Votre avis", "Guichet <g@x>")
    assert sent.get_body(("html",)).get_content().strip() == "<p>Bonjour,</p>"
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_message_sent_again_after_a_crash_rewrites_the_same_file(engine, table, tmp_path):
    clock = Clock()
    queue(engine, table, "k", clock)
    outbox = Outbox("intake", engine, table, FolderTransport(str(tmp_path)), "g@x", clock)
    [row] = outbox._due(10)
    outbox.transport.send(mail.email_of(row, "g@x"))   # sent, then the process died
    clock.now += timedelta(seconds=mail.CLAIM_SECONDS + 1)
    assert outbox.send_due() == 1
    assert len(folder_mails(tmp_path)) == 1


def test_a_refused_message_is_tried_again_later_and_then_sent(engine, table, tmp_path):
    clock = Clock()
    queue(engine, table, "k", clock)
    outbox = Outbox("intake", engine, table, Refusing(), "g@x", clock)
    assert outbox.send_due() == 0 and outbox.pending() == 1
    outbox.transport = FolderTransport(str(tmp_path))
    assert outbox.send_due() == 0   # not yet due again
    clock.now += timedelta(seconds=mail.RETRY_SECONDS[0])
    assert outbox.send_due() == 1 and len(folder_mails(tmp_path)) == 1


def test_a_message_claimed_by_one_sender_is_not_sent_by_another(engine, table, tmp_path):
    clock = Clock()
    queue(engine, table, "k", clock)
    first = Outbox("intake", engine, table, FolderTransport(str(tmp_path / "a")), "g@x", clock)
    second = Outbox("intake", engine, table, FolderTransport(str(tmp_path / "b")), "g@x", clock)
    [row] = first._due(10)
    assert first._claim(row["seq"]) is True
    assert second.send_due() == 0
    assert not (tmp_path / "b").exists()


def test_templates_escape_html_but_not_text(tmp_path):
    (tmp_path / "hello.txt").write_text("Subject: Bonjour {{ firm }}\n\nChère {{ firm }},\n")
    (tmp_path / "hello.html").write_text("<p>Chère {{ firm }},</p>\n")
    rendered = MailTemplates(str(tmp_path)).render("hello", firm="Durand & <Fils>")
    assert rendered.subject == "Bonjour Durand & <Fils>"
    assert rendered.text == "Chère Durand & <Fils>,\n"
    assert rendered.html == "<p>Chère Durand &amp; &lt;Fils&gt;,</p>\n"


def test_a_template_without_its_subject_line_is_refused(tmp_path):
    (tmp_path / "bad.txt").write_text("Bonjour\n")
    (tmp_path / "bad.html").write_text("<p>Bonjour</p>")
    with pytest.raises(ValueError, match="Subject"):
        MailTemplates(str(tmp_path)).render("bad")


@pytest.mark.parametrize("url, expected", [
    ("folder:/srv/mail", ("folder", "/srv/mail")),
    ("smtp://mail.example:2525", ("smtp", "mail.example", 2525, None, None, None)),
    ("smtp+starttls://user%40x:p%3Ass@mail.example", ("smtp", "mail.example", 587, "user@x",
                                                       "p:ss", "starttls")),
    ("smtps://u:p@mail.example", ("smtp", "mail.example", 465, "u", "p", "tls")),
])
def test_the_mail_url_names_its_transport(url, expected):
    transport = transport_from_url(url)
    if isinstance(transport, FolderTransport):
        assert ("folder", transport.folder) == expected
    else:
        assert ("smtp", transport.host, transport.port, transport.user, transport.password,
                transport.security) == expected


def test_a_relative_mail_folder_is_the_same_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PARCOURS_HOME", str(tmp_path))
    monkeypatch.chdir("/")
    assert transport_from_url("folder:data/mail").folder == str(tmp_path / "data" / "mail")


def test_a_wrong_mail_url_says_what_to_write_without_its_password():
    with pytest.raises(ValueError) as wrong:
        transport_from_url("imap://user:secret@mail.example")
    assert "smtp://host:port" in str(wrong.value) and "secret" not in str(wrong.value)


def test_smtp_logs_in_over_starttls_and_sends(monkeypatch):
    calls = []

    class FakeSmtp:
        def __init__(self, host, port, timeout):
            calls.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            calls.append(("quit",))

        def starttls(self, context):
            calls.append(("starttls",))

        def login(self, user, password):
            calls.append(("login", user, password))

        def send_message(self, message):
            calls.append(("send", message["To"]))

    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSmtp)
    message = mail.EmailMessage()
    message["To"] = "claire@ateliers.example"
    SmtpTransport("mail.example", 587, "u", "p", "starttls").send(message)
    assert calls == [("connect", "mail.example", 587), ("starttls",), ("login", "u", "p"),
                     ("send", "claire@ateliers.example"), ("quit",)]

"""The firm's side of the single window, without a broker: its own request from the public page,
the messages of its pathway (once per step, only with its consent), its follow link, the survey
once its case is closed, the nudge and the rate limit. Over HTTP, the bus and a real browser:
tests/test_firm_request.py and tests/test_request_page.py."""
from datetime import date, timedelta

import pytest
from parcours_shared.contracts import utc_now
from parcours_shared.identity import Caller
from parcours_shared.signed_links import FirmLinks, LinkRefused
from parcours_testing import Clock, UseCaseDatabase, event, luhn_valid_sirens
from sqlalchemy import select
from stdnum import luhn

from intake import firm_pages, handlers, store
from intake.correspondence import Correspondence
from intake.domain import RequestLimit

SIRENS = luhn_valid_sirens(63000000)
CHAMBER = {"id": "cci-paca", "kind": "chamber_of_commerce", "regions": ["93"],
           "name": "CCI Provence-Alpes-Côte d'Azur"}
CLUSTER = {"id": "pole-mer", "kind": "competitiveness_cluster", "regions": ["93"],
           "name": "Pôle Mer Méditerranée"}
WINDOW = Caller("p-luc-marin", "cci-paca", frozenset({"advisor"}), person="p-luc-marin")


@pytest.fixture
def clock():
    return Clock(utc_now())  # the cases are opened now: their links are issued on this clock


@pytest.fixture
def db():
    db = UseCaseDatabase("intake", store.metadata)
    with db.transaction() as uow:
        for partner in (CHAMBER, CLUSTER):
            handlers.register_partner(uow, partner)
        handlers.register_person(uow, "cci-paca", {
            "id": "p-luc-marin", "region_code": "93", "role": "advisor", "name": "Luc Marin",
            "email": "luc.marin@cci-paca.example"})
    db.take_published()
    return db


@pytest.fixture
def correspondence(clock):
    return Correspondence(FirmLinks("secret", store.firm_links, clock), "http://intake.test")


FORM = {"company_name": "Savonnerie du Vieux Port", "region_code": "93",
        "naf_code": "20.41Z", "contact_name": "Inès Ferrand", "contact_role": "gérante",
        "contact_email": "ines@savonnerie.example", "need_first_export": "yes",
        "need_trade_fair": "yes", "target_market": "Maroc",
        "consent_orientation": "yes", "consent_satisfaction_surveys": "yes"}


def request_from(form, source=None, campaign=None):
    firm_request, errors = firm_pages.read_request_form(form)
    assert errors == {}
    firm_request.source, firm_request.campaign = source, campaign
    return firm_request


def submit(db, correspondence, form, source=None, campaign=None):
    with db.transaction() as uow:
        return handlers.submit_request(uow, request_from(form, source, campaign),
                                       correspondence, assign=True)


def mails(db, template=None):
    with db.reading() as session:
        rows = session.execute(select(store.mail_outbox).order_by(
            store.mail_outbox.c.seq)).mappings().all()
    return [row for row in rows if template is None or row["template"] == template]


def link_in(mail, path):
    return mail["text_body"].split(path)[1].split()[0]


# --- the request -------------------------------------------------------------------------------

def test_a_request_opens_a_web_case_under_its_source_once_and_tells_the_firm(db, correspondence):
    siren = next(SIRENS)
    case, created = submit(db, correspondence, dict(FORM, siren=siren), "pole-mer", "salon-mer")
    siret = siren + "0001" + luhn.calc_check_digit(siren + "0001")
    again, created_again = submit(db, correspondence, dict(
        FORM, siren=siret, contact_phone="04 91 00 00 00"))
    assert created and not created_again and again.id == case.id
    with db.reading() as session:
        kept = store.case_by_id(session, case.id)
        [contact] = store.contacts_of(session, case.id)  # the same person, not a second
        history = store.load_history(session, kept)
    assert (kept.channel, kept.opened_by, kept.advisor) == ("web", "pole-mer", "p-luc-marin")
    assert [arrival.partner for arrival in history.arrivals] == ["pole-mer", None]
    assert contact.phone == "04 91 00 00 00" and contact.role == "gérante"
    received = db.published_data("request.received")
    assert [(data["source"], data["campaign"]) for data in received] == [
        ("pole-mer", "salon-mer"), (None, None)]
    assert received[0]["needs"] == ["first_export", "trade_fair"]
    assert "ines@" not in str(received) and "Savonnerie" not in str(received)
    # each request is acknowledged; the advisor is introduced once
    assert [mail["template"] for mail in mails(db)] == [
        "request_received", "taken_in_charge", "request_received"]
    assert "Luc Marin" in mails(db, "taken_in_charge")[0]["subject"]


def test_without_consent_to_be_kept_informed_no_mail_and_no_contact_leaves(db, correspondence):
    form = {name: value for name, value in FORM.items() if not name.startswith("consent_")}
    submit(db, correspondence, dict(form, siren=next(SIRENS)))
    assert mails(db) == []
    assert "contact.shared" not in db.published_types()
    assert db.published_types().count("request.received") == 1


def test_the_form_says_in_french_what_to_fix_next_to_each_field():
    _, errors = firm_pages.read_request_form({
        "siren": "123456789", "company_name": "", "region_code": "99", "naf_code": "99.99Z",
        "contact_name": "Inès", "contact_email": "ines@", "contact_phone": "appelez-moi",
        "message": "x" * 2001})
    assert set(errors) == {"siren", "company_name", "region_code", "naf_code", "contact_email",
                           "contact_phone", "needs", "message"}
    assert "SIREN" in errors["siren"] and "Kbis" in errors["siren"]
    assert "Cochez" in errors["needs"]


def test_an_address_sending_too_many_requests_is_asked_to_wait(db):
    limit, now = RequestLimit(most=3, seconds=3600), utc_now()
    answers = []
    for minutes in range(4):
        with db.transaction() as uow:
            answers.append(handlers.count_request_attempt(
                uow, "address-a", limit, now + timedelta(minutes=minutes)))
    with db.transaction() as uow:
        other = handlers.count_request_attempt(uow, "address-b", limit, now)
        later = handlers.count_request_attempt(uow, "address-a", limit, now + timedelta(hours=2))
    assert answers == [True, True, True, False] and other and later


# --- the pathway's messages --------------------------------------------------------------------

def pathway_events(case):
    base = {"case_id": case.id, "session_id": "s1", "at": utc_now(), "partner": "business-france"}
    proposal = dict(base, programme_id="p1", programme_name="Pavillon France, Gitex")
    return [
        event("diagnostic.scheduled", {"diagnostic_id": "d1", "case_id": case.id,
                                       "scheduled_at": utc_now(), "advisor": "p-luc-marin",
                                       "due_on": date(2026, 4, 1)}),
        event("enrolment.proposed", dict(proposal, enrolment_id="e1", rank=1)),
        event("enrolment.proposed", dict(base, enrolment_id="e2", rank=2, programme_id="p2",
                                         programme_name="Prospection Maroc")),
        event("enrolment.waitlisted", dict(proposal, enrolment_id="e1", position=2)),
        event("enrolment.confirmed", dict(proposal, enrolment_id="e1")),
    ]


def test_each_step_of_the_pathway_is_mailed_once_even_told_twice(db, correspondence):
    case, _ = submit(db, correspondence, dict(FORM, siren=next(SIRENS)))
    for _ in range(2):  # a redelivery, under other event ids
        with db.transaction() as uow:
            handlers.follow_pathway(uow, pathway_events(case), correspondence)
    assert [mail["template"] for mail in mails(db)] == [
        "request_received", "taken_in_charge", "diagnostic_scheduled", "programmes_proposed",
        "enrolment_waitlisted", "enrolment_confirmed"]
    [proposed] = mails(db, "programmes_proposed")
    assert "Pavillon France, Gitex" in proposed["text_body"] and "Prospection Maroc" in \
        proposed["text_body"]
    assert "1er avril 2026" in mails(db, "diagnostic_scheduled")[0]["text_body"]
    assert all("http://intake.test/firm/follow/" in mail["text_body"] for mail in mails(db))


def test_assigning_by_hand_introduces_the_advisor(db, correspondence):
    with db.transaction() as uow:
        handlers.register_person(uow, "cci-paca", {
            "id": "p-nora-belkacem", "region_code": "93", "role": "advisor",
            "name": "Nora Belkacem", "email": "nora@cci-paca.example"})
    case, _ = submit(db, correspondence, dict(FORM, siren=next(SIRENS)))
    with db.transaction(WINDOW) as uow:
        other = "p-nora-belkacem" if case.advisor == "p-luc-marin" else "p-luc-marin"
        handlers.assign_case(uow, case.id, other, correspondence=correspondence)
    introduced = [mail["subject"] for mail in mails(db, "taken_in_charge")]
    assert len(introduced) == 2 and introduced[1].startswith(
        "Nora Belkacem" if other == "p-nora-belkacem" else "Luc Marin")


def test_a_quiet_case_is_nudged_once_per_quiet_spell(db, correspondence):
    case, _ = submit(db, correspondence, dict(FORM, siren=next(SIRENS)))
    later = utc_now() + timedelta(days=22)
    for _ in range(2):
        with db.transaction() as uow:
            handlers.nudge_quiet_firms(uow, correspondence, later, quiet_days=21)
    assert len(mails(db, "nudge")) == 1 and "22 jours" in mails(db, "nudge")[0]["text_body"]
    with db.transaction() as uow:  # someone acts the next day, then all goes quiet again
        quiet = store.case_by_id(uow.session, case.id)
        quiet.touch(later + timedelta(days=1))
        store.save_case(uow.session, quiet)
    with db.transaction() as uow:
        handlers.nudge_quiet_firms(uow, correspondence, later + timedelta(days=22), 21)
    assert len(mails(db, "nudge")) == 2


# --- the follow link ----------------------------------------------------------------------------

def follow_token(db, correspondence):
    submit(db, correspondence, dict(FORM, siren=next(SIRENS)))
    return link_in(mails(db, "request_received")[-1], "/firm/follow/")


def test_the_follow_link_shows_the_request_and_refuses_when_tampered_expired_or_revoked(
        db, correspondence, clock):
    token = follow_token(db, correspondence)
    links = correspondence.links
    with db.reading() as session:
        followed = handlers.followed_request(session, links, token)
        page = firm_pages.follow_page(followed).get_data(as_text=True)
    assert "Savonnerie du Vieux Port" in page and "Luc Marin" in page
    assert "ines@savonnerie.example" in page

    def refusal(token):
        with db.reading() as session:
            with pytest.raises(LinkRefused) as refused:
                handlers.followed_request(session, links, token)
        return refused.value.reason

    assert refusal(token[:-3] + ("abc" if not token.endswith("abc") else "xyz")) == "tampered"
    clock.now += timedelta(days=91)
    assert refusal(token) == "expired"
    clock.now -= timedelta(days=91)
    with db.transaction(WINDOW) as uow:
        assert handlers.revoke_firm_links(uow, links, followed.case.id) >= 1
    assert refusal(token) == "revoked"


def test_the_firm_corrects_its_address_and_withdraws_its_consent_from_its_follow_page(
        db, correspondence):
    token = follow_token(db, correspondence)
    links = correspondence.links
    db.take_published()
    fields, errors = firm_pages.read_contact_form({
        "contact_name": "Inès Ferrand", "contact_email": "ines.ferrand@savonnerie.example"})
    assert errors == {}
    with db.transaction() as uow:
        handlers.correct_contact(uow, handlers.followed_request(uow.session, links, token),
                                 fields)
    [shared] = db.published_data("contact.shared")
    assert shared["contacts"][0]["email"] == "ines.ferrand@savonnerie.example"
    with db.transaction() as uow:
        followed = handlers.followed_request(uow.session, links, token)
        handlers.change_consent(uow, links, followed, granted=[])
    [withdrawn] = db.published_data("contact.withdrawn")
    assert withdrawn["purposes"] == ["orientation", "satisfaction_surveys"]
    with db.reading() as session, pytest.raises(LinkRefused):
        handlers.followed_request(session, links, token)  # nothing more is sent, nor shown


# --- the survey once the case is closed ---------------------------------------------------------

def test_a_closed_case_gets_one_survey_whose_answer_is_an_event_about_the_case(
        db, correspondence):
    case, _ = submit(db, correspondence, dict(FORM, siren=next(SIRENS)))
    with db.transaction(WINDOW) as uow:
        handlers.close_case(uow, case.id, "pathway_completed", correspondence=correspondence)
    [mail] = mails(db, "case_survey")
    token = link_in(mail, "/firm/survey/")
    answer, errors = firm_pages.read_survey_form({"usefulness": "4", "would_recommend": "yes",
                                                  "comment": "Merci", "share_comment": "yes"})
    assert errors == {}
    with db.transaction() as uow:
        link, closed = handlers.pathway_survey(uow.session, correspondence.links, token)
        handlers.answer_pathway_survey(uow, correspondence.links, link, closed, answer)
    [survey] = db.published_data("survey.answered")
    assert (survey["about"], survey["usefulness"], survey["partner"]) == (
        "case", 4, "cci-paca")
    with db.reading() as session, pytest.raises(LinkRefused) as used:
        handlers.pathway_survey(session, correspondence.links, token)
    assert used.value.reason == "used"
    # the pathway is over: its later steps are not told
    with db.transaction() as uow:
        handlers.follow_pathway(uow, pathway_events(case), correspondence)
    assert [mail["template"] for mail in mails(db)][-1] == "case_survey"

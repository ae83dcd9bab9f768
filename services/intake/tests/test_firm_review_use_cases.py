"""After a programme the firm is mailed a single-use link to confirm its outcomes and rate the
help; its answer becomes outcome.reviewed and survey.answered. Use cases without a broker (the
whole way over HTTP and the bus: tests/test_firm_review.py)."""
import pytest
from parcours_shared.contracts import utc_now
from parcours_shared.signed_links import FirmLinks, LinkRefused
from parcours_testing import UseCaseDatabase, event, luhn_valid_sirens
from sqlalchemy import select

from intake import firm_pages, handlers, store
from intake.correspondence import Correspondence

SIRENS = luhn_valid_sirens(62000000)
ENROLMENT = "c41b8f0d-3e2a-4d6b-9f15-8a7c0e2d4b96"


@pytest.fixture
def db():
    return UseCaseDatabase("intake", store.metadata)


@pytest.fixture
def correspondence():
    return Correspondence(FirmLinks("secret", store.firm_links, utc_now), "http://intake.test")


def open_case(db, email="claire@ateliers.example", consent=True):
    with db.transaction() as uow:
        case, _ = handlers.open_case(uow, {"siren": next(SIRENS), "company_name": "Ateliers",
                                           "region_code": "84"}, "walk_in")
        handlers.add_contact(uow, case.id, {"name": "Claire Durand", "role": None,
                                            "email": email, "phone": None})
        if consent:
            handlers.record_consent(uow, case.id, "satisfaction_surveys", True, "walk_in")
    db.take_published()
    return case


def programme_events(case, enrolment_id=ENROLMENT):
    outcome = {"case_id": case.id, "enrolment_id": enrolment_id, "recorded_at": utc_now(),
               "programme_id": "p1", "partner": "business-france", "staff_count": None}
    return [
        event("outcome.recorded", dict(outcome, outcome_id="00000000-0000-4000-8000-00000000000a",
                                       kind="contract_signed", amount_eur=180000,
                                       country="DE")),
        event("outcome.recorded", dict(outcome, outcome_id="00000000-0000-4000-8000-00000000000b",
                                       kind="financing_obtained", amount_eur=30000,
                                       country=None)),
        event("enrolment.completed", {
            "enrolment_id": enrolment_id, "case_id": case.id, "session_id": "s1",
            "programme_id": "p1", "programme_name": "Pavillon Gulfood", "at": utc_now(),
            "partner": "business-france"}),
    ]


def follow(db, events, correspondence):
    with db.transaction() as uow:
        handlers.follow_pathway(uow, events, correspondence)


def queued_mails(db):
    with db.reading() as session:
        return session.execute(select(store.mail_outbox)).mappings().all()


def review_token(mail):
    return mail["text_body"].split("/firm/review/")[1].split()[0]


def test_a_completed_programme_mails_one_review_link_however_often_it_is_told(
        db, correspondence):
    case = open_case(db)
    follow(db, programme_events(case), correspondence)
    follow(db, programme_events(case), correspondence)   # redelivered under other ids
    [mail] = queued_mails(db)
    assert mail["to_address"] == "claire@ateliers.example"
    assert "Pavillon Gulfood" in mail["subject"] and "http://intake.test/firm/review/" in \
        mail["text_body"]


@pytest.mark.parametrize("email, consent", [(None, True), ("claire@ateliers.example", False)])
def test_no_review_mail_without_an_address_or_the_firm_s_consent(
        db, correspondence, email, consent):
    case = open_case(db, email=email, consent=consent)
    follow(db, programme_events(case), correspondence)
    assert queued_mails(db) == []


def answer(db, correspondence, token, form):
    links = correspondence.links
    with db.transaction() as uow:
        subject = handlers.outcome_review(uow.session, links, token)
        answer, errors = firm_pages.read_review_form(form, subject.outcomes)
        assert errors == {}
        handlers.answer_outcome_review(uow, links, subject, answer)


def test_the_firm_s_answer_tells_each_verdict_and_keeps_an_unshared_comment_home(
        db, correspondence):
    case = open_case(db)
    follow(db, programme_events(case), correspondence)
    token = review_token(queued_mails(db)[0])
    a, b = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
    answer(db, correspondence, token, {
        "verdict_" + a: "confirmed", "verdict_" + b: "corrected", "amount_eur_" + b: "25 000",
        "usefulness": "5", "would_recommend": "yes", "comment": "Merci à Claire de la CCI"})
    reviews = {data["outcome_id"]: data for data in db.published_data("outcome.reviewed")}
    assert (reviews[a]["verdict"], reviews[a]["amount_eur"]) == ("confirmed", 180000)
    assert (reviews[b]["verdict"], reviews[b]["amount_eur"]) == ("corrected", 25000)
    [survey] = db.published_data("survey.answered")
    assert (survey["usefulness"], survey["would_recommend"], survey["partner"]) == (
        5, True, "business-france")
    assert survey["comment"] is None   # not shared: it stays at intake
    with db.reading() as session:
        [kept] = session.execute(select(store.survey_answers)).mappings().all()
    assert kept["comment"] == "Merci à Claire de la CCI"
    with pytest.raises(LinkRefused) as refused, db.reading() as session:
        handlers.outcome_review(session, correspondence.links, token)
    assert refused.value.reason == "used"


def test_the_form_says_what_to_fix_field_by_field(db, correspondence):
    case = open_case(db)
    follow(db, programme_events(case), correspondence)
    with db.reading() as session:
        subject = handlers.outcome_review(session, correspondence.links,
                                          review_token(queued_mails(db)[0]))
    a, b = (outcome.id for outcome in subject.outcomes)
    _, errors = firm_pages.read_review_form({
        "verdict_" + a: "corrected", "country_" + a: "XX", "verdict_" + b: "corrected",
        "usefulness": "9", "comment": "x" * 2001}, subject.outcomes)
    assert set(errors) == {"country_" + a, "verdict_" + b, "usefulness", "would_recommend",
                           "comment"}
    assert "deux lettres" in errors["country_" + a]
    assert "donnez le bon chiffre" in errors["verdict_" + b]   # corrected, with no figure

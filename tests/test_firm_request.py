"""A firm asks for help through the public request page, embedded on a partner's site, and
hears of each step of its pathway by email: over HTTP, the real broker and the mail folder.
(The page in a real browser: tests/test_request_page.py; the rules: services/intake/tests.)"""
import email
import itertools
import email.policy
import re
from pathlib import Path

import requests
from parcours_testing import luhn_valid_sirens, wait_for

from intake.service import IntakeService
from pathway import READY_ANSWERS, add_programme, proposed_enrolment, scheduled_diagnostic

CLUSTER = {"id": "pole-mer", "name": "Pôle Mer Méditerranée", "kind": "competitiveness_cluster",
           "regions": ["93"]}


def form_for(siren, **more):
    return dict({"siren": siren, "company_name": "Savonnerie du Vieux Port",
                 "region_code": "93", "contact_name": "Inès Ferrand",
                 "contact_email": "ines@savonnerie.example", "need_first_export": "yes",
                 "consent_orientation": "yes"}, **more)


def mails_in(folder):
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(Path(folder).glob("*.eml"))]


def subjects(folder):
    return sorted(mail["Subject"] for mail in mails_in(folder))


def register_cluster(network):
    admin = network.intake.as_caller("network-operator", ["admin"])
    registered = admin.post("/partners", CLUSTER)
    assert registered.status_code == 201, registered.text


def test_a_request_from_a_partner_s_form_is_one_web_case_that_hears_of_each_step(
        network, tmp_path):
    register_cluster(network)
    embed = network.intake.get("/partners/pole-mer/embed", params={"campaign": "salon-mer"})
    assert embed.status_code == 200, embed.text
    link = embed.json()["link"]
    assert "source=pole-mer" in link and "campaign=salon-mer" in link
    assert '<iframe src="{}"'.format(link.replace("&", "&amp;")) in embed.json()["iframe"]
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and 'name="source" value="pole-mer"' in page.text

    siren = next(luhn_valid_sirens(64000000))
    request_url = network.intake.base + "/firm/request"
    wrong = requests.post(request_url, data=form_for("12345678", contact_email="ines@",
                                                     source="pole-mer",
                                                     campaign="salon-mer"), timeout=10)
    assert wrong.status_code == 400
    assert 'id="siren-error"' in wrong.text and 'id="contact_email-error"' in wrong.text
    assert 'value="Savonnerie du Vieux Port"' in wrong.text  # what the firm typed stays
    sent = requests.post(request_url, data=form_for(siren, source="pole-mer",
                                                    campaign="salon-mer"), timeout=10)
    assert sent.status_code == 200 and "Merci" in sent.text
    again = requests.post(request_url, data=form_for(
        siren, need_financing="yes", consent_satisfaction_surveys="yes"), timeout=10)
    assert again.status_code == 200

    found = network.intake.get("/cases", params={"siren": siren}).json()
    assert found["total"] == 1
    case = network.intake.get("/cases/" + found["cases"][0]["id"]).json()
    assert case["channel"] == "web"
    assert [arrival["partner"] for arrival in case["arrivals"]] == ["pole-mer", None]

    def by_source():
        figures = network.reporting.get("/requests").json()
        return figures if figures["total"] == 2 else None
    figures = wait_for(by_source, what="reporting to count both requests")
    assert {(line["source"], line["requests"]) for line in figures["sources"]} == {
        ("pole-mer", 1), (None, 1)}
    [cluster] = [line for line in figures["sources"] if line["source"] == "pole-mer"]
    assert cluster["campaigns"] == [{"campaign": "salon-mer", "requests": 1}]

    # the pathway: each step mailed once
    add_programme(network, ["first_time_exporter"], name="Prospection Maroc")
    diagnostic = scheduled_diagnostic(network, case["id"])
    answered = network.diagnostic.post("/diagnostics/{}/answers".format(diagnostic["id"]),
                                       {"answers": READY_ANSWERS})
    assert answered.status_code == 200, answered.text
    enrolment = proposed_enrolment(network, case["id"])
    assert network.programmes.post("/enrolments/{}/confirm".format(enrolment["id"])).ok
    expected = sorted(["Votre demande est bien reçue"] * 2 + [
        "Un diagnostic export est prévu pour Savonnerie du Vieux Port",
        "Des programmes vous sont proposés", "Inscription confirmée : Prospection Maroc"])
    wait_for(lambda: subjects(tmp_path / "mail") == expected or None,
             what="one mail per step", timeout=30)
    mails = mails_in(tmp_path / "mail")
    assert {mail["To"] for mail in mails} == {"ines@savonnerie.example"}
    [follow_link] = set(re.findall(r"http://\S+/firm/follow/\S+",
                                   mails[0].get_body(("plain",)).get_content()))
    follow = requests.get(follow_link, timeout=10)
    assert follow.status_code == 200 and "inscrit à un programme" in follow.text

    # the window closes the case: the firm rates its pathway, and reporting counts it
    window = network.intake.as_caller("cci-paca", ["advisor"])
    assert network.intake.as_caller("network-operator", ["admin"]).post("/partners", {
        "id": "cci-paca", "name": "CCI PACA", "kind": "chamber_of_commerce",
        "regions": ["93"]}).status_code == 201
    closed = window.post("/cases/{}/close".format(case["id"]), {"reason": "pathway_completed"})
    assert closed.status_code == 200, closed.text
    [survey_mail] = wait_for(lambda: [mail for mail in mails_in(tmp_path / "mail") if mail[
        "Subject"] == "Votre avis sur votre parcours export"], what="the survey mail")
    [survey_link] = set(re.findall(r"http://\S+/firm/survey/\S+",
                                   survey_mail.get_body(("plain",)).get_content()))
    answered = requests.post(survey_link, data={"usefulness": "5", "would_recommend": "yes"},
                             timeout=10)
    assert answered.status_code == 200 and "Merci" in answered.text
    wait_for(lambda: network.reporting.get("/funnel").json()["measures"].get(
        "surveys_answered") == 1 or None, what="reporting to count the survey")
    assert network.reporting.get("/funnel").json()["measures"]["usefulness_points"] == 5


def test_abuse_is_refused_without_a_captcha(running_service, tmp_path):
    intake = running_service(IntakeService, PARCOURS_REQUEST_LIMIT="2/3600")
    url = intake.base + "/firm/request"
    trapped, huge, first, refused = list(itertools.islice(luhn_valid_sirens(65000000), 4))
    trap = requests.post(url, data=form_for(trapped, fax="+33 4 00 00 00 00"), timeout=10)
    assert trap.status_code == 200 and "Merci" in trap.text  # a script learns nothing
    too_long = requests.post(url, data=form_for(huge, message="x" * 70000), timeout=10)
    assert too_long.status_code == 413
    answers = [requests.post(url, data=form_for(siren), timeout=10) for siren in (first, refused)]
    assert [answer.status_code for answer in answers] == [200, 429]
    assert answers[1].headers["Retry-After"] == "3600" and "réessayez" in answers[1].text
    assert [intake.get("/cases", params={"siren": siren}).json()["total"]
            for siren in (trapped, huge, first, refused)] == [0, 0, 1, 0]

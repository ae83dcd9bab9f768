"""After a programme, the firm confirms or corrects its outcomes and rates the help, through the
single-use link intake mailed it: over HTTP, the real broker and the mail folder."""
import email
import email.policy
import re
from pathlib import Path

import requests
from parcours_testing import luhn_valid_sirens, wait_for

from pathway import (
    READY_ANSWERS, add_programme, open_case, proposed_enrolment, scheduled_diagnostic,
)


def mails_in(folder):
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(Path(folder).glob("*.eml"))]


def completed_programme(network, siren, consent=True, programme="Prospection Allemagne"):
    """A case with a contact, taken through a programme to its end, with two outcomes."""
    add_programme(network, ["first_time_exporter"], name=programme)
    case = open_case(network, siren)
    contact = network.intake.post("/cases/{}/contacts".format(case["id"]), {
        "name": "Claire Durand", "email": "claire.durand@ateliers-durand.example"})
    assert contact.status_code == 201, contact.text
    if consent:
        said = network.intake.post("/cases/{}/consent".format(case["id"]), {
            "purpose": "satisfaction_surveys", "granted": True, "channel": "phone"})
        assert said.status_code == 200, said.text
    diagnostic = scheduled_diagnostic(network, case["id"])
    network.diagnostic.post("/diagnostics/{}/answers".format(diagnostic["id"]),
                            {"answers": READY_ANSWERS})
    enrolment = proposed_enrolment(network, case["id"])
    assert network.programmes.post("/enrolments/{}/confirm".format(enrolment["id"])).ok
    outcomes = [network.programmes.post("/outcomes", dict(body, case_id=case["id"],
                                                          enrolment_id=enrolment["id"]))
                for body in ({"kind": "contract_signed", "amount_eur": 180000, "country": "DE"},
                             {"kind": "export_staff_hired", "staff_count": 1})]
    assert [outcome.status_code for outcome in outcomes] == [201, 201], outcomes[0].text
    completed = network.programmes.post("/enrolments/{}/complete".format(enrolment["id"]))
    assert completed.status_code == 200, completed.text
    return case, enrolment, [outcome.json() for outcome in outcomes]


def test_the_firm_confirms_one_outcome_corrects_another_and_rates_the_programme(
        network, tmp_path):
    case, enrolment, (contract, hire) = completed_programme(network, next(luhn_valid_sirens()))

    [mail] = wait_for(lambda: mails_in(tmp_path / "mail"), what="the review mail")
    assert mail["To"] == "claire.durand@ateliers-durand.example"
    assert mail["Subject"] == "Votre avis sur « Prospection Allemagne »"
    text = mail.get_body(("plain",)).get_content()
    [link] = re.findall(r"http://\S+/firm/review/\S+", text)
    assert link in mail.get_body(("html",)).get_content()

    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "Contrat signé" in page.text and "180" in page.text

    incomplete = requests.post(link, data={
        "verdict_" + contract["id"]: "confirmed", "verdict_" + hire["id"]: "corrected",
        "staff_count_" + hire["id"]: "two", "usefulness": "4"}, timeout=10)
    assert incomplete.status_code == 400
    assert 'id="staff_count_{}-error"'.format(hire["id"]) in incomplete.text
    assert 'id="would_recommend-error"' in incomplete.text
    assert 'value="two"' in incomplete.text   # what the firm typed is shown again

    answered = requests.post(link, data={
        "verdict_" + contract["id"]: "confirmed", "verdict_" + hire["id"]: "corrected",
        "staff_count_" + hire["id"]: "2", "usefulness": "4", "would_recommend": "yes",
        "comment": "Des rendez-vous bien ciblés.", "share_comment": "yes"}, timeout=10)
    assert answered.status_code == 200 and "Merci" in answered.text

    def reviewed():
        outcomes = network.programmes.get("/outcomes", params={"case_id": case["id"]}).json()
        by_id = {outcome["id"]: outcome for outcome in outcomes["outcomes"]}
        return by_id if by_id[hire["id"]]["confirmation"] != "unconfirmed" else None

    outcomes = wait_for(reviewed, what="programmes to hear the firm's word")
    assert outcomes[contract["id"]]["confirmation"] == "confirmed"
    assert outcomes[contract["id"]]["firm_figures"] is None
    assert outcomes[hire["id"]]["confirmation"] == "corrected"
    assert outcomes[hire["id"]]["firm_figures"] == {"staff_count": 2}
    assert outcomes[hire["id"]]["staff_count"] == 1   # the partner's record stays as it was
    corrected = network.programmes.get("/outcomes", params={
        "case_id": case["id"], "confirmation": "corrected"}).json()
    assert [outcome["id"] for outcome in corrected["outcomes"]] == [hire["id"]]

    again = requests.post(link, data={"usefulness": "1"}, timeout=10)
    assert again.status_code == 410 and "déjà enregistré" in again.text
    tampered = requests.get(link[:-3] + "xyz", timeout=10)
    assert tampered.status_code == 404
    assert len(mails_in(tmp_path / "mail")) == 1


def test_no_review_mail_without_consent_to_surveys(network, tmp_path):
    sirens = luhn_valid_sirens()
    completed_programme(network, next(sirens), consent=False)
    completed_programme(network, next(sirens), consent=True, programme="Pavillon Gulfood")
    # the second firm's mail shows the completions were handled; the first got none
    [mail] = wait_for(lambda: mails_in(tmp_path / "mail"), what="the consenting firm's mail")
    assert len(mails_in(tmp_path / "mail")) == 1

"""The pages firms open from their personal links: plain HTML forms, in French, that work
without JavaScript; each error is said next to its field and listed at the top.
"""
import functools
import os
import re
from html import escape
from urllib.parse import urlencode

import jinja2
import pycountry
from werkzeug.wrappers import Response

from parcours_shared.contracts import REGIONS

from .correspondence import TEMPLATES
from .domain import (
    CLOSED, CONFIRMED, CONSENT_PURPOSES, CORRECTED, FIRM_NEEDS, OUTCOME_FIGURES, PATHWAY_STAGES,
    FirmNumber, FirmRequest, InvalidNafCode, InvalidSiren, check_naf_code,
)
from .firm_words import CLOSED_WORDS, CONSENT_WORDS, NEED_LABELS, STAGE_WORDS

OUTCOME_LABELS = {
    "contract_signed": "Contrat signé",
    "market_entered": "Nouveau marché ouvert",
    "export_staff_hired": "Recrutement pour l'export",
    "financing_obtained": "Financement obtenu",
}
FIGURE_FIELDS = {  # label, inputmode, maxlength
    "amount_eur": ("Montant en euros", "numeric", 12),
    "country": ("Pays (code à deux lettres, par exemple DE)", "text", 2),
    "staff_count": ("Nombre de personnes", "numeric", 4),
}
USEFULNESS_SCALE = ((1, "pas du tout"), (2, "peu"), (3, "moyennement"), (4, "utile"),
                    (5, "très utile"))
MAX_COMMENT = 2000
REFUSAL_HEADINGS = {"tampered": "Ce lien n'est pas valable", "expired": "Ce lien a expiré",
                    "used": "Votre avis est déjà enregistré", "revoked": "Ce lien a été retiré"}
REFUSAL_TEXTS = {
    "tampered": "Il a peut-être été coupé ou modifié. Ouvrez-le à nouveau depuis le message "
                "reçu, ou demandez un nouveau lien au guichet unique.",
    "expired": "Demandez un nouveau lien au guichet unique.",
    "used": "Ce lien ne sert qu'une fois, et il a servi. Merci pour votre réponse.",
    "revoked": "Demandez un nouveau lien au guichet unique.",
}
# what the status of a refused link is for a browser (and a test)
REFUSAL_STATUS = {"tampered": 404, "expired": 410, "used": 410, "revoked": 410}


@functools.lru_cache(maxsize=None)
def _pages():
    return jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(TEMPLATES, "pages")),
                              autoescape=True, undefined=jinja2.ChainableUndefined)


def html(template, status=200, **context):
    return Response(_pages().get_template(template).render(**context), status=status,
                    content_type="text/html; charset=utf-8")


def refused_link(reason):
    return html("notice.html", status=REFUSAL_STATUS[reason],
                heading=REFUSAL_HEADINGS[reason], explanation=REFUSAL_TEXTS[reason])


def _summary(outcome):
    parts = []
    if outcome.amount_eur is not None:
        parts.append("{:,} €".format(outcome.amount_eur).replace(",", "\u202f"))
    if outcome.country:
        country = pycountry.countries.get(alpha_2=outcome.country)
        parts.append(country.name if country else outcome.country)
    if outcome.staff_count is not None:
        parts.append("{} personne{}".format(outcome.staff_count,
                                            "s" if outcome.staff_count > 1 else ""))
    return ", ".join(parts)


def too_long(request, most_bytes):
    return (request.content_length or 0) > most_bytes


def too_long_page():
    return html("notice.html", status=413, heading="Votre envoi est trop long",
                explanation="Raccourcissez votre texte (un commentaire, un message) et renvoyez.")


def review_page(review, values=None, errors=None, status=200):
    """``review``: handlers.OutcomeReviewSubject; ``values``: the form as sent (shown again)."""
    enrolment = review.enrolment
    outcomes = [{"id": outcome.id, "label": OUTCOME_LABELS[outcome.kind],
                 "summary": _summary(outcome),
                 "figures": [{"name": name, "label": FIGURE_FIELDS[name][0],
                              "inputmode": FIGURE_FIELDS[name][1],
                              "maxlength": FIGURE_FIELDS[name][2]}
                             for name in OUTCOME_FIGURES[outcome.kind]]}
                for outcome in review.outcomes]
    return html("outcome_review.html", status=status, firm=review.case.company_name,
                programme=enrolment["programme_name"], partner=enrolment["partner_name"],
                outcomes=outcomes, usefulness_scale=USEFULNESS_SCALE, values=values or {},
                errors=errors or {})


def survey_page(case, values=None, errors=None, status=200):
    """The survey sent once a case is closed: the questions of the review, about the pathway."""
    return html("case_survey.html", status=status, firm=case.company_name,
                usefulness_scale=USEFULNESS_SCALE, values=values or {}, errors=errors or {},
                survey_heading="Votre parcours au guichet unique",
                partner="Le conseiller qui vous a suivi")


def read_review_form(form, outcomes):
    """The firm's answer from the form: ``(answer, errors)``, errors by field name, in French.
    ``answer``: verdicts by outcome id (verdict, corrected figures), usefulness, would_recommend,
    comment, comment_shareable."""
    errors, verdicts = {}, {}
    for outcome in outcomes:
        name = "verdict_" + outcome.id
        verdict = form.get(name)
        if verdict not in (CONFIRMED, CORRECTED):
            errors[name] = "Dites si « {} » est juste ou à corriger.".format(
                OUTCOME_LABELS[outcome.kind])
            continue
        figures, problems = {}, {}
        if verdict == CORRECTED:
            for figure in OUTCOME_FIGURES[outcome.kind]:
                field = "{}_{}".format(figure, outcome.id)
                figures[figure], problem = _FIGURE_READERS[figure](form.get(field, "").strip())
                if problem:
                    problems[field] = problem
            if not problems and all(value is None for value in figures.values()):
                problems[name] = "Vous corrigez « {} » : donnez le bon chiffre.".format(
                    OUTCOME_LABELS[outcome.kind])
        errors.update(problems)
        verdicts[outcome.id] = (verdict, figures)
    answer, survey_errors = read_survey_form(form)
    errors.update(survey_errors)
    if errors:
        return None, errors
    return dict(answer, verdicts=verdicts), {}


def read_survey_form(form):
    """The satisfaction questions: ``(answer, errors)``; answer: usefulness, would_recommend,
    comment, comment_shareable."""
    errors = {}
    usefulness = form.get("usefulness", "")
    if usefulness not in {str(value) for value, _ in USEFULNESS_SCALE}:
        errors["usefulness"] = "Choisissez une note de 1 à 5."
    recommend = form.get("would_recommend")
    if recommend not in ("yes", "no"):
        errors["would_recommend"] = "Répondez oui ou non."
    comment = form.get("comment", "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = "Le commentaire dépasse {} caractères : raccourcissez-le.".format(
            MAX_COMMENT)
    if errors:
        return None, errors
    return {"usefulness": int(usefulness), "would_recommend": recommend == "yes",
            "comment": comment or None,
            "comment_shareable": form.get("share_comment") == "yes"}, {}


def _amount(text):
    if not text:
        return None, None
    digits = re.sub(r"[\s\u202f\u00a0.]", "", text).removesuffix("€")
    if not digits.isdigit() or len(digits) > 12:
        return None, "Le montant s'écrit en euros, en chiffres (par exemple 150000)."
    return int(digits), None


def _country(text):
    if not text:
        return None, None
    code = text.upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or pycountry.countries.get(alpha_2=code) is None:
        return None, "Le pays s'écrit avec son code à deux lettres (DE, AE, US...)."
    return code, None


def _staff(text):
    if not text:
        return None, None
    if not text.isdigit() or not 1 <= int(text) <= 9999:
        return None, "Le nombre de personnes s'écrit en chiffres, 1 ou plus."
    return int(text), None


_FIGURE_READERS = {"amount_eur": _amount, "country": _country, "staff_count": _staff}


# --- the public request page, and the firm's follow page -----------------------------------------

MAX_MESSAGE = 2000
HONEYPOT = "fax"  # a field people do not see (nor their screen readers): only scripts fill it
REGION_CHOICES = sorted(REGIONS.items(), key=lambda item: item[1])
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 .()-]{6,25}$")
_CAMPAIGN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def request_page(source=None, campaign=None, source_name=None, values=None, errors=None,
                 status=200):
    """The public request form; ``source`` and ``campaign`` travel with it (hidden fields)."""
    return html("request.html", status=status, values=values or {}, errors=errors or {},
                source=source, campaign=campaign, source_name=source_name,
                regions=REGION_CHOICES, needs=NEED_LABELS, consents=CONSENT_WORDS,
                honeypot=HONEYPOT)


def campaign_of(text):
    """A campaign name as an embed code gives it (lowercase letters, digits, dashes), or None:
    a mistyped one must not stop a firm's request."""
    text = (text or "").strip().lower()
    return text if _CAMPAIGN.match(text) else None


class _FormReader:
    """A form's fields read one by one, its errors kept by field name."""

    def __init__(self, form):
        self.form, self.errors = form, {}

    def text(self, name, most, required=None):
        """The field, its spaces tidied; None if blank (an error if ``required``: its text)."""
        value = " ".join(self.form.get(name, "").split())
        if not value and required:
            self.errors[name] = required
        elif len(value) > most:
            self.errors[name] = "{} caractères au plus : raccourcissez.".format(most)
        return value or None

    def contact(self):
        contact = {"name": self.text("contact_name", 200, "Dites-nous qui contacter."),
                   "role": self.text("contact_role", 200),
                   "email": self.text("contact_email", 254, "Donnez une adresse électronique "
                                                            "pour vous répondre."),
                   "phone": self.text("contact_phone", 40)}
        if contact["email"] and not _EMAIL.match(contact["email"]):
            self.errors["contact_email"] = ("Cette adresse électronique n'est pas complète "
                                            "(nom@domaine.fr).")
        if contact["phone"] and not _PHONE.match(contact["phone"]):
            self.errors["contact_phone"] = ("Le téléphone s'écrit en chiffres, par exemple "
                                            "04 72 00 00 00.")
        return contact


def read_request_form(form):
    """The firm's request from the form: ``(FirmRequest, errors)``, errors by field, in French.
    Source and campaign are the caller's to check."""
    reader = _FormReader(form)
    errors = reader.errors
    number = reader.text("siren", 20, "Donnez le numéro SIREN (9 chiffres) ou SIRET (14 "
                                      "chiffres) de votre entreprise.")
    firm_number = None
    if number:
        try:
            firm_number = FirmNumber.of(number)
        except InvalidSiren:
            errors["siren"] = ("Ce numéro n'est ni un SIREN (9 chiffres) ni un SIRET (14 "
                               "chiffres) valable : vérifiez-le sur votre extrait Kbis ou sur "
                               "annuaire-entreprises.data.gouv.fr.")
    firm = {"company_name": reader.text("company_name", 200,
                                        "Donnez le nom de votre entreprise.")}
    region = form.get("region_code", "")
    if region not in REGIONS:
        errors["region_code"] = "Choisissez la région de votre entreprise."
    naf = reader.text("naf_code", 10)
    if naf:
        try:
            naf = check_naf_code(naf)
        except InvalidNafCode:
            errors["naf_code"] = ("Ce code APE n'existe pas dans la nomenclature NAF : il "
                                  "s'écrit comme 25.62B (laissez vide si vous ne le savez pas).")
    if firm_number is not None:
        firm.update(siren=firm_number.siren, siret=firm_number.siret)
    firm.update(region_code=region or None, naf_code=naf)
    contact = reader.contact()
    needs = [need for need in FIRM_NEEDS if form.get("need_" + need) == "yes"]
    if not needs:
        errors["needs"] = "Cochez au moins une chose dont vous avez besoin."
    target_market = reader.text("target_market", 100)
    message = form.get("message", "").strip()
    if len(message) > MAX_MESSAGE:
        errors["message"] = "Votre message dépasse {} caractères : raccourcissez-le.".format(
            MAX_MESSAGE)
    consents = [purpose for purpose in CONSENT_PURPOSES
                if form.get("consent_" + purpose) == "yes"]
    if errors:
        return None, errors
    return FirmRequest(firm=firm, contact=contact, needs=needs, consents=consents,
                       target_market=target_market, message=message or None), {}


def read_contact_form(form):
    """The firm's corrected contact details, from its follow page: ``(fields, errors)``."""
    reader = _FormReader(form)
    contact = reader.contact()
    return (None, reader.errors) if reader.errors else (contact, {})


def request_thanks(firm_request):
    return html("request_thanks.html", kept_informed="orientation" in firm_request.consents,
                email=firm_request.contact["email"])


def follow_page(followed, notice=None, values=None, errors=None, status=200):
    """Where the firm stands, in plain words; its contact details and consent, to change."""
    case, contact = followed.case, followed.contact
    reached = PATHWAY_STAGES[:PATHWAY_STAGES.index(case.stage) + 1]
    # a waitlist is said while the firm is on it, not once it is enrolled
    steps = [STAGE_WORDS[stage] for stage in reached
             if stage != "waitlisted" or case.stage == "waitlisted"]
    if case.status == CLOSED:
        steps.append(CLOSED_WORDS)
    values = values or {"contact_name": contact.name, "contact_role": contact.role or "",
                        "contact_email": contact.email or "",
                        "contact_phone": contact.phone or ""}
    return html("follow.html", status=status, firm=case.company_name, steps=steps,
                advisor=followed.advisor.name if followed.advisor else None,
                granted=followed.consents.granted(), consents=CONSENT_WORDS, values=values,
                errors=errors or {}, notice=notice)


def embed_code(public_url, partner, campaign=None):
    """What a partner pastes in its site: an iframe of the request page, or a plain link, both
    naming the partner (and its campaign) so that the requests count under it."""
    query = {"source": partner.id}
    if campaign:
        query["campaign"] = campaign
    link = "{}/firm/request?{}".format(public_url.rstrip("/"), urlencode(query))
    iframe = ('<iframe src="{}" title="Demander un accompagnement à l\'export" '
              'style="width: 100%; min-height: 1500px; border: 0" loading="lazy"></iframe>'
              ).format(escape(link))
    return {"partner": partner.id, "campaign": campaign, "link": link, "iframe": iframe}

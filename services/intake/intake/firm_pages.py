"""The pages firms open from their personal links: plain HTML forms, in French, that work
without JavaScript; each error is said next to its field and listed at the top.
"""
import functools
import os
import re

import jinja2
import pycountry
from werkzeug.wrappers import Response

from .correspondence import TEMPLATES
from .domain import CONFIRMED, CORRECTED, OUTCOME_FIGURES

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
    return html("link_refused.html", status=REFUSAL_STATUS[reason],
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
    return {"verdicts": verdicts, "usefulness": int(usefulness),
            "would_recommend": recommend == "yes", "comment": comment or None,
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

"""A small demo network, loaded through the services' own HTTP APIs so it flows over the bus.

Programmes of several partners, then three dozen firms that enter through the single window (some
walk in, some are referred by a cluster, a foreign-trade adviser or the bank) and stop at various
stages of the pathway: diagnostic pending, diagnosed, proposed, enrolled, done with an outcome.
"""
import email
import email.policy
import functools
import glob
import os
import random
import re
import sys
import time
import unicodedata
from datetime import date, timedelta

import requests
from stdnum import luhn

import processes

EVERY_REGION = ["01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53",
                "75", "76", "84", "93", "94"]
# The network of the articles (../shared/seeds): partner id, name, kind, regions, and its people
# (id, region, role, name). Emails are made from the names, on example domains.
DIRECTORY = [
    ("cci-paris-idf", "CCI Paris Île-de-France – International", "chamber_of_commerce", ["11"],
     [("p-claire-martin", "11", "advisor", "Claire Martin"),
      ("p-julien-moreau", "11", "admin", "Julien Moreau")]),
    ("cci-international-aura", "CCI International Auvergne-Rhône-Alpes", "chamber_of_commerce",
     ["84"], [("p-sophie-laurent", "84", "advisor", "Sophie Laurent")]),
    ("cci-international-paca", "CCI International Provence-Alpes-Côte d'Azur",
     "chamber_of_commerce", ["93"], [("p-marc-giraud", "93", "advisor", "Marc Giraud")]),
    ("business-france", "Business France", "national_export_agency", EVERY_REGION,
     [("p-hugo-bernard", "11", "programme_manager", "Hugo Bernard"),
      ("p-amelie-roux", "84", "advisor", "Amélie Roux")]),
    ("bpifrance", "Bpifrance", "public_bank", EVERY_REGION,
     [("p-nadia-haddad", "11", "programme_manager", "Nadia Haddad"),
      ("p-thomas-lefevre", "93", "referrer", "Thomas Lefèvre")]),
    ("region-sud", "Région Sud Provence-Alpes-Côte d'Azur", "region", ["93"],
     [("p-elise-fabre", "93", "steering", "Élise Fabre")]),
    ("risingsud", "risingSUD, agence de développement économique de la Région Sud",
     "regional_development_agency", ["93"],
     [("p-karim-benali", "93", "advisor", "Karim Benali")]),
    ("medicen", "Medicen Paris Region", "competitiveness_cluster", ["11"],
     [("p-louise-petit", "11", "referrer", "Louise Petit")]),
    ("pole-mer-mediterranee", "Pôle Mer Méditerranée", "competitiveness_cluster", ["93", "76"],
     [("p-antoine-blanc", "93", "referrer", "Antoine Blanc")]),
    ("cce-occitanie", "Comité Occitanie des Conseillers du commerce extérieur",
     "foreign_trade_advisers", ["76"], [("p-jean-rey", "76", "referrer", "Jean Rey")]),
    ("pacte-pme", "Pacte PME", "large_group_association", EVERY_REGION,
     [("p-francois-perret", "11", "programme_manager", "François Perret")]),
    ("siemens-france", "Siemens France", "large_group", ["11"],
     [("p-ines-garnier", "11", "referrer", "Inès Garnier")]),
    ("airbus", "Airbus", "large_group", ["76"],
     [("p-paul-mercier", "76", "referrer", "Paul Mercier")]),
    ("steering-committee", "Comité de pilotage du partenariat export", "steering_committee",
     EVERY_REGION, [("p-anne-dubois", "11", "steering", "Anne Dubois")]),
]

def offer(partner, name, kind, levels, sessions, price_eur=None, subsidy_percent=None,
          **eligibility):
    """One programme of the catalogue: sessions are (days from today, market, place, seats)."""
    return {"partner": partner, "name": name, "kind": kind, "maturity_levels": levels,
            "price_eur": price_eur, "subsidy_percent": subsidy_percent,
            "eligibility": eligibility or None, "sessions": sessions}


BEGINNERS = ["not_ready", "first_time_exporter"]
STARTED = ["first_time_exporter", "occasional_exporter"]
SEASONED = ["occasional_exporter", "experienced_exporter"]
EVERY_EXPORTER = ["first_time_exporter", "occasional_exporter", "experienced_exporter"]
# The network's offers: the chambers' preparation, Business France's market support and
# pavilions, Bpifrance's insurance and loans, a Region's grant, the clusters' missions, Pacte
# PME's co-export. The Hannover pavilion has two seats: its waitlist shows in the demo.
PROGRAMMES = [
    offer("cci-paris-idf", "Parcours préparation export Île-de-France", "preparation",
          BEGINNERS, [(20, None, "Paris", 12), (45, None, "Paris", 12)], price_eur=900,
          subsidy_percent=50, regions=["11"]),
    offer("cci-international-aura", "Prépa export Auvergne-Rhône-Alpes", "preparation",
          BEGINNERS, [(25, None, "Lyon", 10)], price_eur=800, regions=["84"]),
    offer("cci-international-paca", "Prépa export Sud", "preparation", BEGINNERS,
          [(30, None, "Marseille", 10)], price_eur=800, regions=["93"]),
    offer("bpifrance", "Assurance prospection", "export_insurance", STARTED,
          [(15, None, "Paris", 30)], company_age_min_years=1),
    offer("bpifrance", "Prêt croissance international", "financing", SEASONED,
          [(20, None, "Paris", 25)], headcount_min=10, company_age_min_years=3),
    offer("business-france", "Prospection Allemagne – industrie", "targeted_market", STARTED,
          [(60, "DE", "Düsseldorf", 8), (100, "DE", "Munich", 6)], price_eur=2400,
          subsidy_percent=50, naf_included=["C"], target_markets=["DE", "AT"]),
    offer("business-france", "Pavillon France – Hannover Messe", "trade_fair_pavilion",
          EVERY_EXPORTER, [(75, "DE", "Hanovre", 2)], price_eur=6500, subsidy_percent=30,
          naf_included=["C"]),
    offer("business-france", "Pavillon France – Arab Health", "trade_fair_pavilion", SEASONED,
          [(90, "AE", "Dubaï", 15)], price_eur=7800, naf_included=["21", "26", "32"]),
    offer("business-france", "Pavillon France – Gulfood", "trade_fair_pavilion",
          EVERY_EXPORTER, [(85, "AE", "Dubaï", 12)], price_eur=5900, naf_included=["10", "11"]),
    offer("business-france", "Prospection Amérique du Nord", "targeted_market", SEASONED,
          [(80, "US", "New York", 10), (130, "CA", "Montréal", 8)], price_eur=3900,
          target_markets=["US", "CA"]),
    offer("business-france", "Volontariat international en entreprise",
          "international_volunteer", SEASONED, [(120, None, "Paris", 20)]),
    offer("pacte-pme", "Co-export grands groupes", "co_export", SEASONED,
          [(30, None, "Paris", 10)], headcount_max=249),
    offer("region-sud", "Chèque export Région Sud", "financing", STARTED,
          [(15, None, "Marseille", 40)], subsidy_percent=50, regions=["93"]),
    offer("medicen", "Medicen Go International – Boston", "cluster", STARTED,
          [(100, "US", "Boston", 6)], price_eur=1500, regions=["11"],
          naf_included=["21", "26", "32.50A"]),
    offer("pole-mer-mediterranee", "Mission collective Pôle Mer – Norvège", "cluster", STARTED,
          [(70, "NO", "Oslo", 6)], price_eur=1200, regions=["93", "76"]),
]

# large groups' calls for SMEs upstream of their projects abroad
CO_EXPORT_CALLS = [
    ("siemens-france", "Modernisation du réseau ferré de Bavière", "DE",
     "Pièces usinées, instrumentation et câblage pour la signalisation", ["24", "26", "27"]),
    ("airbus", "Chaîne d'assemblage de Mobile (Alabama)", "US",
     "Fournisseurs de rang 2 : fonderie, instruments de mesure", ["24", "26"]),
    ("pacte-pme", "Hôpitaux du Golfe : équipement et consommables", "AE",
     "Produits pharmaceutiques et dispositifs médicaux", ["21", "32"]),
]

NAMES = ["Ateliers", "Biotech", "Chocolaterie", "Cosmétiques", "Distillerie", "Électronique",
         "Fonderie", "Granits", "Horlogerie", "Instruments", "Jouets", "Laboratoires"]
PLACES = ["du Rhône", "de Bretagne", "d'Occitanie", "du Nord", "de Provence", "d'Alsace"]
REGIONS = ["84", "53", "76", "32", "93", "44", "11", "75", "52", "28"]
NAF_CODES = ["21.20Z", "10.82Z", "20.42Z", "11.01Z", "26.51B", "24.51Z", "32.12Z", "32.40Z"]
OPERATOR = "network-operator"  # the demo loader itself, for what no one partner owns
REFERRERS = ["medicen", "pole-mer-mediterranee", "cce-occitanie", "bpifrance"]
# the single window of each region that has one: it accepts referrals and closes cases
WINDOWS = {"11": "cci-paris-idf", "84": "cci-international-aura", "93": "cci-international-paca"}
# what the window does with the referrals, in turn: leaves it sent, accepts it (the case has an
# advisor by rotation, so it is taken in charge at once), declines it, or sees it through
REFERRAL_STEPS = [[], ["accept"], ["reject"], ["accept", "done"]]

# answers to the diagnostic's latest questionnaire -> the maturity they lead to
FIRST_TIME = dict(
    management_commitment="decided", domestic_success=True, domestic_reach="regional",
    countries_exported_to=[], export_share_percent=0, export_staff=1, languages=["en"],
    financial_capacity="medium", product_adapted=True, certifications="in_progress",
    intellectual_property="france", digital_presence="website", target_markets=["DE"])
PROFILES = {
    "not_ready": dict(FIRST_TIME, management_commitment="interested", domestic_success=False,
                      export_staff=0, languages=[], financial_capacity="low",
                      product_adapted=False, certifications="none", target_markets=[]),
    "first_time_exporter": FIRST_TIME,
    "occasional_exporter": dict(FIRST_TIME, countries_exported_to=["BE", "CH", "ES"],
                                export_share_percent=12, export_staff=2, languages=["en", "es"],
                                target_markets=["DE", "ES"]),
    "experienced_exporter": dict(
        FIRST_TIME, management_commitment="export_plan", domestic_reach="national",
        countries_exported_to=["BE", "CH", "DE", "ES", "GB", "IT", "US", "CA", "MA"],
        export_share_percent=40, export_staff=4, languages=["en", "de", "zh"],
        financial_capacity="high", certifications="held", intellectual_property="international",
        digital_presence="sells_online_abroad", target_markets=["AE", "US", "CN"]),
}
# the first questions of the questionnaire, answered: a diagnostic the advisor left as a draft
DRAFT_ANSWERS = {key: FIRST_TIME[key] for key in (
    "management_commitment", "domestic_success", "domestic_reach", "countries_exported_to")}

# how far each demo firm goes (36 firms)
JOURNEYS = (["opened"] * 6 + ["diagnosed"] * 6 + ["proposed"] * 8 + ["confirmed"] * 8
            + ["completed"] * 5 + ["outcome"] * 3)
OUTCOMES = [{"kind": "contract_signed", "amount_eur": 180000, "country": "DE"},
            {"kind": "market_entered", "country": "AE"},
            {"kind": "financing_obtained", "amount_eur": 400000},
            {"kind": "export_staff_hired", "staff_count": 2}]


CORRECTED_FIGURES = {"amount_eur": "150000", "country": "BE", "staff_count": "3"}


class DemoError(RuntimeError):
    pass


def siren_numbers(seed):
    rng = random.Random(seed)
    while True:
        prefix = str(rng.randrange(30000000, 99999999))
        yield prefix + luhn.calc_check_digit(prefix)


def _call(method, url, body=None, expect=(200, 201), authorization=None):
    response = requests.request(method, url, json=body, timeout=15,
                                headers={"Authorization": authorization})
    if response.status_code not in expect:
        raise DemoError("{} {} answered {}: {}".format(method, url, response.status_code,
                                                       response.text))
    return response.json()


def _wait(probe, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise DemoError("{} did not happen within {}s: are all four services running? "
                    "(see data/logs/)".format(what, timeout))


def is_empty(urls, authorization):
    return not _call("GET", urls["intake"] + "/cases?limit=1",
                     authorization=authorization)["cases"]


def _import_members(cluster, intake, sirens, known, progress):
    """A cluster's member list, imported as people export it (semicolon, Windows-1252), with a
    firm the window knows already, one listed twice and two rows to fix; its firms were met
    weeks ago, so they show overdue (GET /cases?overdue=true). Returns the firms it opened."""
    # met at Euromaritime five weeks ago: past their follow-up reminder as soon as imported
    met = (date.today() - timedelta(days=35)).strftime("%d/%m/%Y")
    members = [("Membre {} du pôle".format(n), next(sirens), "30.11Z", "93", met)
               for n in range(24)]
    rows = members + [("Firme déjà suivie", known, "", "93", ""), members[3],
                      ("Sans SIREN", "", "", "93", met),
                      ("Mauvaise NAF", next(sirens), "99.99Z", "93", met)]
    job = _upload_list(cluster, intake, "adherents-pole-mer.csv",
                       "Raison sociale;N° SIREN;Code NAF;Région;Date de contact", rows,
                       "cp1252", "the member list import")
    progress("demo: member list imported: {opened} opened, {already_known} known, {repeated} "
             "repeated, {rejected} rejected (GET /imports/{id}/rejected.csv)".format(**job))
    return job["opened"]


def _upload_list(partner, intake, filename, header, rows, encoding, what):
    """A CSV list sent to intake as its import job (as `parcours import` does), waited for."""
    body = header + "\r\n" + "".join(";".join(row) + "\r\n" for row in rows)
    response = requests.post(intake + "/imports?filename=" + filename,
                             data=body.encode(encoding), timeout=15,
                             headers={"Content-Type": "text/csv",
                                      "Authorization": partner.keywords["authorization"]})
    if response.status_code != 202:
        raise DemoError("{} answered {}: {}".format(what, response.status_code, response.text))
    return _wait(lambda: (lambda job: job if job["status"] != "running" else None)(
        partner("GET", "{}/imports/{}".format(intake, response.json()["id"]))), what)


def _trade_fair_visitors(chamber, intake, sirens, progress):
    """The visitors a chamber met at a trade fair last quarter, imported with the day they were
    met: the figures then have two quarters of history. Returns the firms it opened."""
    met = _middle_of_last_quarter().strftime("%d/%m/%Y")
    rows = [("Visiteur {} du salon".format(n), next(sirens), "25.62B", "84", met)
            for n in range(12)]
    job = _upload_list(chamber, intake, "visiteurs-salon-global-industrie.csv",
                       "Raison sociale;N° SIREN;Code NAF;Région;Date du salon", rows, "utf-8",
                       "the trade fair's visitors")
    progress("demo: {} trade fair visitors met on {}".format(job["opened"], met))
    return job["opened"]


def _middle_of_last_quarter(today=None):
    today = today or date.today()
    first_month = 3 * ((today.month - 1) // 3) + 1   # this quarter's
    year, month = (today.year - 1, 10) if first_month == 1 else (today.year, first_month - 3)
    return date(year, month + 1, 15)


# Each partner's yearly targets (some will be met at the demo's pace, some not) and the
# national commitment of 3,000 firms accompanied.
OBJECTIVES = [("network", "accompanied", 3000), ("network", "identified", 60),
              ("network", "diagnosed", 45), ("cci-international-aura", "identified", 10),
              ("business-france", "accompanied", 4), ("bpifrance", "accompanied", 25)]


def _objectives(steering, reporting, progress):
    year = date.today().year
    steering("POST", reporting + "/objectives", {"objectives": [
        {"year": year, "partner": partner, "measure": measure, "target": target}
        for partner, measure, target in OBJECTIVES]})
    progress("demo: {} objectives for {} (GET {}/objectives)".format(len(OBJECTIVES), year,
                                                                     reporting))


CONTACT_NAMES = ["Claire Durand", "Paul Martin", "Inès Robert", "Marc Petit", "Léa Moreau",
                 "Hugo Lefebvre"]


def _withdraw_from_a_full_session(call, as_partner, programmes, runner, progress):
    """A firm seated in a session that has a waitlist withdraws: the first waiting takes the
    seat (its enrolment.confirmed follows the withdrawal)."""
    waiting = call("GET", programmes + "/enrolments?status=waitlisted&limit=1000")["enrolments"]
    seated = call("GET", programmes + "/enrolments?status=confirmed&limit=1000")["enrolments"]
    full = {enrolment["session_id"] for enrolment in waiting}
    leaving = next((e for e in seated if e["session_id"] in full), None)
    if leaving is not None:
        as_partner(runner[leaving["programme_id"]])(
            "POST", "{}/enrolments/{}/withdraw".format(programmes, leaving["id"]),
            {"reason": "the firm cannot send anyone on those dates"})
        progress("demo: a firm withdrew from a full session; the first on its waitlist took "
                 "the seat")


def _co_export_calls(call, as_partner, programmes, progress):
    """Each large group's call, matched to the diagnosed firms; the best match of the first
    call says it is interested, and the group selects it."""
    matched = 0
    for number, (partner, title, country, needs, sectors) in enumerate(CO_EXPORT_CALLS):
        group = as_partner(partner)
        posted = group("POST", programmes + "/co-export-calls", {
            "partner": partner, "title": title, "country": country, "needs": needs,
            "deadline": (date.today() + timedelta(days=45 + 15 * number)).isoformat(),
            "sectors": sectors})
        matches = group("GET", "{}/co-export-calls/{}/matches".format(
            programmes, posted["id"]))["matches"]
        matched += len(matches)
        if number == 0 and matches:
            best = matches[0]["case_id"]
            as_partner(OPERATOR)("POST", "{}/co-export-calls/{}/interests".format(
                programmes, posted["id"]), {"case_id": best})
            group("POST", "{}/co-export-calls/{}/interests/{}/decision".format(
                programmes, posted["id"], best), {"decision": "selected",
                                                  "note": "rendez-vous à Munich"})
    progress("demo: {} co-export calls, {} matches".format(len(CO_EXPORT_CALLS), matched))


def _contact(call, intake, case_id, number, consent):
    """A contact person for the firm, then its consent: each purpose given (``-purpose``:
    withdrawn again)."""
    name = CONTACT_NAMES[number % len(CONTACT_NAMES)]
    call("POST", "{}/cases/{}/contacts".format(intake, case_id), {
        "name": name, "role": "export manager", "phone": "+33 4 72 00 00 {:02d}".format(number),
        "email": "{}@firm{}.example".format(unicodedata.normalize("NFKD", name.lower()).encode(
            "ascii", "ignore").decode().replace(" ", "."), number)})
    for purpose in consent:
        call("POST", "{}/cases/{}/consent".format(intake, case_id), {
            "purpose": purpose.lstrip("-"), "granted": not purpose.startswith("-"),
            "channel": "walk_in"})


def links_in(mail_folder, path="/firm/review/"):
    """The links to ``path`` (review links, say) in the mails of intake's mail folder."""
    links = []
    for name in sorted(glob.glob(os.path.join(mail_folder, "*.eml"))):
        with open(name, "rb") as raw:
            message = email.message_from_binary_file(raw, policy=email.policy.default)
        links += re.findall(r"http://\S+{}\S+".format(re.escape(path)),
                            message.get_body(("plain",)).get_content())
    return list(dict.fromkeys(links))


def _answer_reviews(mail_folder, progress, answers=2):
    """Firms answer their review link as a person would fill the page: the first confirms its
    outcomes and shares its comment, the second corrects them and keeps its comment home."""
    def pages_with_outcomes():  # intake has heard of the outcomes recorded after the mails
        links = links_in(mail_folder)
        pages = {link: requests.get(link, timeout=10).text for link in links}
        with_outcomes = sum('name="verdict_' in page for page in pages.values())
        return pages if len(links) >= answers and with_outcomes >= answers else None

    pages = _wait(pages_with_outcomes, "intake's review mails, with the outcomes recorded")
    links = list(pages)
    # those with outcomes to confirm first
    by_outcomes = sorted(links, key=lambda link: -pages[link].count('name="verdict_'))
    for number, link in enumerate(by_outcomes[:answers]):
        page = pages[link]
        form = {"usefulness": str(5 - 2 * number),
                "would_recommend": "yes" if number == 0 else "no",
                "comment": ["Des rendez-vous bien ciblés, merci.",
                            "Trop court pour conclure."][number],
                "share_comment": "yes" if number == 0 else ""}
        for outcome_id in dict.fromkeys(re.findall(r'name="verdict_([0-9a-f-]{36})"', page)):
            form["verdict_" + outcome_id] = "confirmed" if number == 0 else "corrected"
        for figure, outcome_id in re.findall(
                r'name="(amount_eur|country|staff_count)_([0-9a-f-]{36})"', page):
            if number == 1:
                form["{}_{}".format(figure, outcome_id)] = CORRECTED_FIGURES[figure]
        answered = requests.post(link, data=form, timeout=10)
        if answered.status_code != 200:
            raise DemoError("a firm's review was refused ({}): {}".format(
                answered.status_code, answered.text[:300]))
    progress("demo: {} review mails in {}, {} answered".format(
        len(links), mail_folder, min(answers, len(links))))


# Firms that come by themselves, through the public request page: on the network's site, and
# embedded on two partners' sites with their campaign (GET /partners/<id>/embed).
WEB_REQUESTS = [
    (None, None, "Ferronnerie", "93", ["first_export", "trade_fair"], "Maroc"),
    (None, None, "Confiserie", "84", ["target_market", "financing"], "Japon"),
    ("pole-mer-mediterranee", "salon-euromaritime", "Chantier naval", "93",
     ["trade_fair", "partner_abroad"], "Norvège"),
    ("pole-mer-mediterranee", "salon-euromaritime", "Voilerie", "93", ["first_export"], None),
    ("medicen", "newsletter", "Dispositifs médicaux", "11", ["target_market"], "Allemagne"),
]


def _web_requests(intake, sirens, known_siren, progress):
    """The requests of WEB_REQUESTS, sent as a firm fills the page; the last firm asks again
    through the network's page with the SIREN of a firm already known (one case per firm).
    Returns how many cases they opened."""
    opened = 0
    for number, (source, campaign, trade, region, needs, market) in enumerate(WEB_REQUESTS):
        contact = CONTACT_NAMES[(number + 3) % len(CONTACT_NAMES)]
        form = {"siren": next(sirens), "company_name": "{} {}".format(trade, PLACES[number]),
                "region_code": region, "contact_name": contact, "contact_role": "dirigeant",
                "contact_email": "{}@demande{}.example".format(unicodedata.normalize(
                    "NFKD", contact.lower()).encode("ascii", "ignore").decode().replace(
                    " ", "."), number),
                "target_market": market or "", "consent_orientation": "yes",
                "consent_satisfaction_surveys": "yes" if number % 2 else "",
                "source": source or "", "campaign": campaign or ""}
        form.update(("need_" + need, "yes") for need in needs)
        _send_request(intake, form)
        opened += 1
    _send_request(intake, {"siren": known_siren, "company_name": "Entreprise déjà suivie",
                           "region_code": "84", "contact_name": "Hélène Vidal",
                           "contact_email": "helene.vidal@dejasuivie.example",
                           "need_financing": "yes"})
    progress("demo: {} requests from the public page, {} of them from partners' sites".format(
        len(WEB_REQUESTS) + 1, sum(1 for source, *_ in WEB_REQUESTS if source)))
    return opened


def _send_request(intake, form):
    sent = requests.post(intake + "/firm/request", data=form, timeout=10)
    if sent.status_code != 200:
        raise DemoError("the request page refused a demo request ({}): {}".format(
            sent.status_code, re.sub(r"<[^>]+>", " ", sent.text)[:400]))


def _close_and_survey(window, intake, case, mail_folder, progress):
    """A firm's pathway ends: the window closes its case, and the firm answers the survey
    intake mails it."""
    window("POST", "{}/cases/{}/close".format(intake, case["id"]),
           {"reason": "pathway_completed"})

    def survey_link():
        links = links_in(mail_folder, "/firm/survey/")
        return links[0] if links else None

    link = _wait(survey_link, "the survey mail of a closed case")
    answered = requests.post(link, data={"usefulness": "4", "would_recommend": "yes",
                                         "comment": "Un seul interlocuteur, enfin.",
                                         "share_comment": "yes"}, timeout=10)
    if answered.status_code != 200:
        raise DemoError("a firm's survey was refused ({})".format(answered.status_code))
    progress("demo: case {} closed at the end of its pathway, its survey answered".format(
        case["id"]))


def load(urls, act_as, progress=print, seed=2016, mail_folder=None):
    """Load the demo network; ``urls`` maps service name to base URL, ``act_as(partner)`` gives
    the ``Authorization`` header of a caller of that partner; ``mail_folder``: where intake
    writes its mail, whose review links two firms then answer. Each partner changes only what is
    its own: programmes are created, and their enrolments decided, by their own partner;
    referrals are sent by the referring partner; the rest by the network's operator."""
    call = functools.partial(_call, authorization=act_as(OPERATOR))

    @functools.lru_cache(maxsize=None)
    def as_partner(partner):
        return functools.partial(_call, authorization=act_as(partner))

    rng = random.Random(seed)
    progress("demo: the network directory, {} partners".format(len(DIRECTORY)))
    for partner_id, name, kind, regions, people in DIRECTORY:
        call("POST", urls["intake"] + "/partners",
             {"id": partner_id, "name": name, "kind": kind, "regions": regions})
        for person_id, region, role, person_name in people:
            call("POST", "{}/partners/{}/people".format(urls["intake"], partner_id), {
                "id": person_id, "region_code": region, "role": role, "name": person_name,
                "email": "{}@{}.example".format(person_id[2:].replace("-", "."), partner_id)})
    progress("demo: creating {} programmes".format(len(PROGRAMMES)))
    runner = {}  # programme id -> the partner that runs it
    for entry in PROGRAMMES:
        partner = entry["partner"]
        programme = as_partner(partner)("POST", urls["programmes"] + "/programmes", {
            key: value for key, value in entry.items() if key != "sessions"})
        runner[programme["id"]] = partner
        for days, market, place, capacity in entry["sessions"]:
            starts_on = date.today() + timedelta(days=days)
            as_partner(partner)(
                "POST", "{}/programmes/{}/sessions".format(urls["programmes"], programme["id"]),
                {"starts_on": starts_on.isoformat(),
                 "ends_on": (starts_on + timedelta(days=3)).isoformat(),
                 "enrolment_deadline": (starts_on - timedelta(days=7)).isoformat(),
                 "market": market, "place": place, "capacity": capacity})

    sirens = siren_numbers(seed)
    firms = []
    for number, journey in enumerate(JOURNEYS, start=1):
        firm = {"siren": next(sirens),
                "company_name": "{} {}".format(rng.choice(NAMES), rng.choice(PLACES)),
                "region_code": rng.choice(REGIONS), "naf_code": rng.choice(NAF_CODES),
                "headcount_band": rng.choice(["01", "02", "03", "11", "12", "21"]),
                "creation_date": date(rng.randint(1975, 2022), rng.randint(1, 12),
                                      rng.randint(1, 28)).isoformat()}
        if number % 4 == 0:
            referrer = rng.choice(REFERRERS)
            firm["region_code"] = rng.choice(sorted(WINDOWS))
            case = as_partner(referrer)("POST", urls["intake"] + "/referrals", dict(
                firm, referred_by=referrer, reason="export potential detected",
                note="met at a members' meeting"))
            window = as_partner(WINDOWS[firm["region_code"]])
            referral = "{}/referrals/{}/".format(urls["intake"], case["referral"]["id"])
            for step in REFERRAL_STEPS[(number // 4) % len(REFERRAL_STEPS)]:
                window("POST", referral + step, {"reason": "already_followed"} if step == "reject"
                       else {"outcome": "entered_pathway"} if step == "done" else None)
        else:
            case = call("POST", urls["intake"] + "/cases",
                        dict(firm, channel=rng.choice(["walk_in", "web", "phone"])))
        if number % 3 == 0:  # a contact person; some firms consent to sharing it, one withdraws
            _contact(call, urls["intake"], case["id"], number, consent=(
                [] if number % 2 else ["orientation", "co_export_matching"]
                + (["-co_export_matching"] if number == 12 else [])))
        firms.append((case, journey))
        progress("demo: opened case {}/{}".format(number, len(JOURNEYS)), end="\r")
    progress("")

    # two firms that stopped at the door leave the pathway: their diagnostics are cancelled
    for case, reason in zip([c for c, journey in firms if journey == "opened"
                             and c["region_code"] in WINDOWS], ["firm_declined", "not_eligible"]):
        as_partner(WINDOWS[case["region_code"]])(
            "POST", "{}/cases/{}/close".format(urls["intake"], case["id"]), {"reason": reason})

    def diagnostic_of(case):
        return _wait(lambda: call("GET", "{}/diagnostics?case_id={}".format(
            urls["diagnostic"], case["id"]))["diagnostics"],
            "the diagnostic of case {}".format(case["id"]))[-1]

    # advisors have started on a few of the firms still waiting: drafts, half answered
    waiting = [c for c, journey in firms if journey == "opened"
               and c["region_code"] not in WINDOWS]
    for case in waiting[:3]:
        call("PUT", "{}/diagnostics/{}/draft".format(urls["diagnostic"],
                                                     diagnostic_of(case)["id"]),
             {"answers": DRAFT_ANSWERS})
    progress("demo: {} diagnostics saved as drafts".format(len(waiting[:3])))

    diagnosed = [(case, journey) for case, journey in firms if journey != "opened"]
    levels = list(PROFILES)
    for number, (case, journey) in enumerate(diagnosed, start=1):
        # firms that go further are ready for something; the others show every level
        maturity = (levels[number % len(levels)] if journey == "diagnosed"
                    else levels[1 + number % 3])
        call("POST", "{}/diagnostics/{}/answers".format(urls["diagnostic"],
                                                       diagnostic_of(case)["id"]),
             {"answers": PROFILES[maturity]})
        progress("demo: diagnostic {}/{} completed".format(number, len(diagnosed)), end="\r")
    progress("")

    # a firm assessed again a year on: it has made its first sales abroad
    again = next(case for case, journey in diagnosed if journey == "diagnosed")
    reassessment = call("POST", "{}/cases/{}/diagnostics".format(urls["diagnostic"],
                                                                 again["id"]))
    call("POST", "{}/diagnostics/{}/answers".format(urls["diagnostic"], reassessment["id"]),
         {"answers": PROFILES["occasional_exporter"]})
    progress("demo: case {} assessed twice".format(again["id"]))

    enrolled = [(case, journey) for case, journey in diagnosed if journey != "diagnosed"]
    for number, (case, journey) in enumerate(enrolled, start=1):
        enrolment = _wait(lambda: call("GET", "{}/enrolments?case_id={}".format(
            urls["programmes"], case["id"]))["enrolments"],
            "an enrolment proposal for case {}".format(case["id"]))[0]
        agency = as_partner(runner[enrolment["programme_id"]])
        if journey == "outcome" or (journey == "completed" and number % 2):
            # the firm agrees to be asked for its view: intake mails it a review link
            _contact(call, urls["intake"], case["id"], 100 + number,
                     consent=["satisfaction_surveys"])
        if journey in ("confirmed", "completed", "outcome"):
            agency("POST", "{}/enrolments/{}/confirm".format(urls["programmes"], enrolment["id"]))
        if journey in ("completed", "outcome"):
            agency("POST", "{}/enrolments/{}/complete".format(urls["programmes"], enrolment["id"]),
                   expect=(200, 409))  # a waitlisted firm cannot complete yet
        if journey == "outcome":
            agency("POST", urls["programmes"] + "/outcomes", dict({
                "case_id": case["id"], "enrolment_id": enrolment["id"]},
                **OUTCOMES[number % len(OUTCOMES)]))
        progress("demo: enrolment {}/{} handled".format(number, len(enrolled)), end="\r")
    progress("")
    if mail_folder is not None:
        _answer_reviews(mail_folder, progress)
        # a firm whose outcome is recorded (it agreed to surveys) ends its pathway, closed by
        # its region's single window or the partner following it
        for case, journey in firms:
            closer = WINDOWS.get(case["region_code"]) or case.get("partner")
            if journey == "outcome" and closer:
                _close_and_survey(as_partner(closer), urls["intake"], case, mail_folder,
                                  progress)
                break
    _withdraw_from_a_full_session(call, as_partner, urls["programmes"], runner, progress)
    _co_export_calls(call, as_partner, urls["programmes"], progress)
    imported = _import_members(as_partner("pole-mer-mediterranee"), urls["intake"], sirens,
                               known=firms[0][0]["siren"], progress=progress)
    imported += _trade_fair_visitors(as_partner("cci-international-aura"), urls["intake"],
                                     sirens, progress)
    requested = _web_requests(urls["intake"], sirens, firms[1][0]["siren"], progress)
    _objectives(as_partner("steering-committee"), urls["reporting"], progress)
    opened = len(firms) + imported + requested
    progress("demo: {} firms loaded; waiting for reporting to count them".format(opened))
    _wait(lambda: call("GET", urls["reporting"] + "/funnel")["stages"][0]["cases"] == opened,
          "reporting to count every case")


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1"
    urls = {name: "{}:{}".format(base, port) for name, port in
            (("intake", 8001), ("diagnostic", 8002), ("programmes", 8003), ("reporting", 8004))}
    issuer = processes.dev_issuer(os.path.join(processes.ROOT, "data", "issuer"))
    load(urls, lambda partner: processes.partner_authorization(issuer, partner))


if __name__ == "__main__":
    main()

"""A small demo network, loaded through the services' own HTTP APIs so it flows over the bus.

Programmes of several partners, then three dozen firms that enter through the single window (some
walk in, some are referred by a cluster, a foreign-trade adviser or the bank) and stop at various
stages of the pathway: diagnostic pending, diagnosed, proposed, enrolled, done with an outcome.
"""
import functools
import os
import random
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

PROGRAMMES = [
    ("cci-paris-idf", "Parcours préparation export", "preparation",
     ["not_ready", "first_time_exporter"], [(20, None, "Lyon", 12), (45, None, "Marseille", 12)]),
    ("bpifrance", "Assurance prospection", "financing",
     ["first_time_exporter", "occasional_exporter"], [(15, None, "Paris", 30)]),
    ("business-france", "Prospection Allemagne", "targeted_market",
     ["first_time_exporter", "occasional_exporter"], [(60, "DE", "Düsseldorf", 8)]),
    ("business-france", "Pavillon France – Arab Health", "trade_fair_pavilion",
     ["occasional_exporter", "experienced_exporter"], [(90, "AE", "Dubaï", 15)]),
    ("pacte-pme", "Co-export grands groupes", "co_export",
     ["occasional_exporter", "experienced_exporter"], [(30, None, "Paris", 10)]),
    ("business-france", "Volontariat international en entreprise", "international_volunteer",
     ["experienced_exporter"], [(120, None, "Paris", 20)]),
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
OUTCOMES = ["contract_signed", "market_entered", "financing_obtained", "export_staff_hired"]


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
    body = "Raison sociale;N° SIREN;Code NAF;Région;Date de contact\r\n" + "".join(
        ";".join(row) + "\r\n" for row in rows)
    response = requests.post(intake + "/imports?filename=adherents-pole-mer.csv",
                             data=body.encode("cp1252"), timeout=15,
                             headers={"Content-Type": "text/csv",
                                      "Authorization": cluster.keywords["authorization"]})
    if response.status_code != 202:
        raise DemoError("the member list import answered {}: {}".format(response.status_code,
                                                                      response.text))
    job = _wait(lambda: (lambda j: j if j["status"] != "running" else None)(
        cluster("GET", "{}/imports/{}".format(intake, response.json()["id"]))),
        "the member list import")
    progress("demo: member list imported: {opened} opened, {already_known} known, {repeated} "
             "repeated, {rejected} rejected (GET /imports/{id}/rejected.csv)".format(**job))
    return job["opened"]


CONTACT_NAMES = ["Claire Durand", "Paul Martin", "Inès Robert", "Marc Petit", "Léa Moreau",
                 "Hugo Lefebvre"]


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


def load(urls, act_as, progress=print, seed=2016):
    """Load the demo network; ``urls`` maps service name to base URL, ``act_as(partner)`` gives
    the ``Authorization`` header of a caller of that partner. Each partner changes only what is
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
    for partner, name, kind, levels, sessions in PROGRAMMES:
        programme = as_partner(partner)("POST", urls["programmes"] + "/programmes", {
            "partner": partner, "name": name, "kind": kind, "maturity_levels": levels})
        runner[programme["id"]] = partner
        for days, market, place, capacity in sessions:
            as_partner(partner)(
                "POST", "{}/programmes/{}/sessions".format(urls["programmes"], programme["id"]),
                {"starts_on": (date.today() + timedelta(days=days)).isoformat(),
                 "market": market, "place": place, "capacity": capacity})

    sirens = siren_numbers(seed)
    firms = []
    for number, journey in enumerate(JOURNEYS, start=1):
        firm = {"siren": next(sirens),
                "company_name": "{} {}".format(rng.choice(NAMES), rng.choice(PLACES)),
                "region_code": rng.choice(REGIONS), "naf_code": rng.choice(NAF_CODES)}
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
        if journey in ("confirmed", "completed", "outcome"):
            agency("POST", "{}/enrolments/{}/confirm".format(urls["programmes"], enrolment["id"]))
        if journey in ("completed", "outcome"):
            agency("POST", "{}/enrolments/{}/complete".format(urls["programmes"], enrolment["id"]),
                   expect=(200, 409))  # a waitlisted firm cannot complete yet
        if journey == "outcome":
            agency("POST", urls["programmes"] + "/outcomes", {
                "case_id": case["id"], "enrolment_id": enrolment["id"],
                "kind": rng.choice(OUTCOMES), "amount_eur": rng.choice([None, 150000, 400000])})
        progress("demo: enrolment {}/{} handled".format(number, len(enrolled)), end="\r")
    progress("")
    imported = _import_members(as_partner("pole-mer-mediterranee"), urls["intake"], sirens,
                               known=firms[0][0]["siren"], progress=progress)
    opened = len(firms) + imported
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

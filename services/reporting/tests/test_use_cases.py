"""Reporting's figures without a broker: a scripted scenario over two quarters, several partners
and regions, with its known answers; the same events duplicated and in any order give the same
figures; a rebuild from the events kept gives them again (parcours_testing.UseCaseDatabase)."""
import dataclasses
import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from parcours_testing import UseCaseDatabase, event, example_data

from reporting import handlers, store
from reporting.domain import CONSUMED_EVENT_TYPES, STAGES, CaseFacts, quarter_of

Q1 = datetime(2026, 2, 2, 9, 0, tzinfo=timezone.utc)   # 2026-Q1
Q2 = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)   # 2026-Q2


@pytest.fixture
def db():
    return UseCaseDatabase("reporting", store.metadata)


class Script:
    """Events of a scenario, as their publishers would send them (with who acted)."""

    def __init__(self):
        self.events = []

    def add(self, type_name, data, partner=None):
        made = dataclasses.replace(event(type_name, data), partner=partner)
        self.events.append(made)
        return made

    def firm(self, region, naf, at, partner, channel="web"):
        case_id = str(uuid.uuid4())
        self.add("case.opened", {"case_id": case_id, "siren": "732829320",
                                 "company_name": "Firme", "region_code": region,
                                 "naf_code": naf, "channel": channel, "opened_at": at,
                                 "partner": partner}, partner)
        return case_id

    def diagnosed(self, case_id, at, partner, maturity="first_time_exporter"):
        self.add("diagnostic.scheduled", {"case_id": case_id, "diagnostic_id": "d" + case_id,
                                          "scheduled_at": at})
        self.add("diagnostic.completed", example_data(
            "diagnostic.completed", case_id=case_id, diagnostic_id="d" + case_id,
            maturity=maturity, completed_at=at), partner)

    def enrolment(self, case_id, step, at, programme="p1", partner="business-france"):
        return self.add("enrolment." + step, {
            "enrolment_id": "e{}{}".format(case_id, programme), "case_id": case_id,
            "session_id": "s1", "programme_id": programme, "programme_name": "Pavillon",
            "at": at, "partner": partner}, partner)

    def outcome(self, case_id, at, kind="export_staff_hired", staff_count=2):
        outcome_id = str(uuid.uuid4())
        self.add("outcome.recorded", {
            "outcome_id": outcome_id, "case_id": case_id, "enrolment_id": None, "kind": kind,
            "amount_eur": None, "country": None, "staff_count": staff_count,
            "programme_id": "p1", "partner": "business-france", "recorded_at": at})
        return outcome_id


def scenario():
    """Four firms in two regions, opened by two partners, over two quarters:

    - A (84, sector C, cci-aura, Q1): diagnosed Q1 (5 days), enrolled Q1, completed Q2, an
      outcome in Q2 (2 export staff) that the firm corrects to 3;
    - B (84, sector G, cci-aura, Q1): diagnosed Q2 (94 days), proposed, waitlisted, withdrawn;
    - C (53, sector C, cci-bretagne, Q2): diagnosed Q2 (10 days), nothing proposed, closed;
    - D (53, sector C, cci-bretagne, Q2): referred by a cluster, taken in charge, not diagnosed.
    """
    script = Script()
    a = script.firm("84", "25.62B", Q1, "cci-aura")
    b = script.firm("84", "47.11A", Q1 + timedelta(days=1), "cci-aura", channel="walk_in")
    c = script.firm("53", "10.71C", Q2, "cci-bretagne")
    d = script.firm("53", "28.11Z", Q2 + timedelta(days=2), "cci-bretagne", channel="referral")
    script.diagnosed(a, Q1 + timedelta(days=5), "cci-aura")
    script.enrolment(a, "proposed", Q1 + timedelta(days=6))
    script.enrolment(a, "confirmed", Q1 + timedelta(days=8))
    script.enrolment(a, "completed", Q2 + timedelta(days=1))
    outcome = script.outcome(a, Q2 + timedelta(days=3))
    script.add("outcome.reviewed", {
        "outcome_id": outcome, "case_id": a, "enrolment_id": None, "verdict": "corrected",
        "kind": "export_staff_hired", "amount_eur": None, "country": None, "staff_count": 3,
        "reviewed_at": Q2 + timedelta(days=10)})
    script.add("survey.answered", {
        "survey_id": str(uuid.uuid4()), "case_id": a, "about": "enrolment",
        "enrolment_id": None, "programme_id": "p1", "partner": "business-france",
        "usefulness": 4, "would_recommend": True, "comment": None,
        "answered_at": Q2 + timedelta(days=10)})
    script.diagnosed(b, Q1 + timedelta(days=95), "cci-aura", maturity="occasional_exporter")
    script.enrolment(b, "proposed", Q1 + timedelta(days=96))
    script.enrolment(b, "waitlisted", Q1 + timedelta(days=97))
    script.enrolment(b, "withdrawn", Q1 + timedelta(days=98))
    script.diagnosed(c, Q2 + timedelta(days=10), "cci-bretagne", maturity="not_ready")
    script.add("enrolment.none_proposed", {
        "case_id": c, "diagnostic_id": "d" + c, "maturity": "not_ready",
        "reason": "no_eligible_programme", "at": Q2 + timedelta(days=10)})
    script.add("case.closed", {"case_id": c, "reason": "not_eligible",
                               "closed_at": Q2 + timedelta(days=20)}, "cci-bretagne")
    script.add("case.referred", {"case_id": d, "siren": "732829320", "referral_id": "r1",
                                 "referred_by": "pole-mer", "reason": "potentiel",
                                 "referred_at": Q2 + timedelta(days=2)}, "pole-mer")
    script.add("referral.taken_in_charge", {
        "case_id": d, "referral_id": "r1", "referred_by": "pole-mer", "advisor": "p1",
        "partner": "cci-bretagne", "at": Q2 + timedelta(days=5)})
    return script.events


def record(db, events, batch=7):
    for start in range(0, len(events), batch):
        with db.transaction() as uow:
            handlers.record_events(uow, events[start:start + batch])


def figures(db, grouping="", value="", first=None, last=None):
    with db.reading() as session:
        stages, counts = handlers.pathway_funnel(session, grouping, value, first, last)
    return {s["stage"]: s for s in stages}, counts


def every_figure(db):
    """Everything the read model holds, to compare two runs."""
    with db.reading() as session:
        return (sorted(tuple(row) for row in session.execute(store.figure_counts.select())
                       if row.amount),
                sorted(tuple(row) for row in session.execute(store.stage_durations.select())
                       if row.cases))


def test_the_scenario_s_figures_over_all_time(db):
    record(db, scenario())
    stages, counts = figures(db)
    assert {stage: stages[stage]["cases"] for stage in STAGES} == {
        "opened": 4, "diagnostic_scheduled": 3, "diagnostic_completed": 3,
        "enrolment_proposed": 2, "enrolment_confirmed": 1, "enrolment_completed": 1,
        "outcome_recorded": 1}
    assert stages["diagnostic_completed"]["conversion_from_previous"] == 1.0
    assert stages["enrolment_confirmed"]["conversion_from_previous"] == 0.5
    assert stages["diagnostic_completed"]["median_days"] == {"since": "opened", "days": 10}
    assert {name: counts.get(name) for name in (
        "closed", "none_proposed", "enrolment_waitlisted", "enrolment_withdrawn", "referred",
        "taken_in_charge", "outcome_confirmed_by_firm", "outcomes", "outcomes_corrected",
        "outcomes_confirmed", "export_staff_hired", "surveys_answered", "usefulness_points",
        "programme_proposed", "programme_enrolled")} == {
        "closed": 1, "none_proposed": 1, "enrolment_waitlisted": 1, "enrolment_withdrawn": 1,
        "referred": 1, "taken_in_charge": 1, "outcome_confirmed_by_firm": 1, "outcomes": 1,
        "outcomes_corrected": 1, "outcomes_confirmed": None, "export_staff_hired": 3,
        "surveys_answered": 1, "usefulness_points": 4, "programme_proposed": 2,
        "programme_enrolled": 1}


def test_the_scenario_s_figures_by_quarter_region_sector_and_partner(db):
    record(db, scenario())

    def cases(grouping="", value="", first=None, last=None, stage="opened"):
        return figures(db, grouping, value, first, last)[0][stage]["cases"]

    assert (cases(first="2026-Q1", last="2026-Q1"), cases(first="2026-Q2", last="2026-Q2")) \
        == (2, 2)
    assert cases(first="2026-Q2", stage="diagnostic_completed") == 2   # B and C
    assert cases(last="2026-Q1", stage="enrolment_confirmed") == 1
    assert (cases("region", "84"), cases("region", "53"), cases("region", "11")) == (2, 2, 0)
    assert cases("sector", "C") == 3 and cases("sector", "G") == 1
    assert cases("region+sector", "53|C") == 2 and cases("region+sector", "84|C") == 1
    assert cases("partner", "cci-bretagne", stage="diagnostic_completed") == 1
    assert cases("referrer", "pole-mer") == 1
    assert cases("maturity", "not_ready", stage="diagnostic_completed") == 1
    assert cases("channel", "walk_in") == 1
    # who took each step: the diagnostics cci-aura made, the programmes business-france ran
    assert cases("acting_partner", "cci-aura", stage="diagnostic_completed") == 2
    assert cases("acting_partner", "business-france", stage="enrolment_confirmed") == 1
    _, programme = figures(db, "programme", "p1")
    assert (programme["programme_proposed"], programme["programme_withdrawn"]) == (2, 1)
    # the durations are kept by quarter and grouping too: B waited 94 days, in Q2
    q1 = figures(db, "region", "84", "2026-Q1", "2026-Q1")[0]
    assert q1["diagnostic_completed"]["median_days"] == {"since": "opened", "days": 5}


def test_duplicated_and_shuffled_events_give_the_same_figures(db):
    events = scenario()
    record(db, events)
    expected = every_figure(db)
    for seed in range(5):
        again = UseCaseDatabase("reporting", store.metadata)
        shuffled = events + random.Random(seed).sample(events, len(events) // 2)
        random.Random(seed).shuffle(shuffled)
        record(again, shuffled, batch=1 + seed * 3)
        assert every_figure(again) == expected, "seed {}".format(seed)


def test_a_rebuild_from_the_events_kept_gives_the_same_figures(db):
    events = scenario()
    record(db, events + events[:5])   # some delivered twice: kept once
    expected = every_figure(db)
    seen = []
    with db.transaction() as uow:
        rebuild = handlers.start_rebuild(uow)
    assert rebuild["total"] == len(events) and every_figure(db) == ([], [])
    with pytest.raises(handlers.RebuildRunning), db.transaction() as uow:
        handlers.start_rebuild(uow)
    finished = handlers.continue_rebuild(db.transaction, rebuild, progress=seen.append)
    assert finished["done"] == len(events) and finished["finished_at"] is not None
    assert seen[-1]["done"] == len(events)
    assert every_figure(db) == expected


def test_a_rebuild_cut_off_goes_on_where_it_stopped_and_events_arriving_meanwhile_count_once(
        db, monkeypatch):
    events = scenario()
    record(db, events[:-6])
    monkeypatch.setattr(handlers, "REBUILD_BATCH", 4)
    with db.transaction() as uow:
        rebuild = handlers.start_rebuild(uow)

    class CutOff(Exception):
        pass

    def cut_after_two_batches(progress):
        if progress["done"] >= 8:
            raise CutOff

    with pytest.raises(CutOff):
        handlers.continue_rebuild(db.transaction, rebuild, cut_after_two_batches)
    record(db, events[-6:])   # the consumer goes on meanwhile
    with db.reading() as session:
        unfinished = handlers.unfinished_rebuild(session)
    assert unfinished["done"] == 8
    handlers.continue_rebuild(db.transaction, unfinished)
    reference = UseCaseDatabase("reporting", store.metadata)
    record(reference, events)
    assert every_figure(db) == every_figure(reference)


def test_a_case_whose_region_arrives_last_moves_its_counts_to_the_region():
    facts = CaseFacts("c1")
    confirmed = event("enrolment.confirmed", {
        "enrolment_id": "e1", "case_id": "c1", "session_id": "s1", "programme_id": "p1",
        "programme_name": "Pavillon", "at": Q1, "partner": "business-france"})
    facts.apply(confirmed)
    counts, _ = facts.contributions()
    assert counts["enrolment_confirmed", "2026-Q1", "region", ""] == 1
    facts.apply(event("case.opened", {"case_id": "c1", "siren": "732829320",
                                      "company_name": "Firme", "region_code": "53",
                                      "channel": "web", "opened_at": Q1}))
    counts, _ = facts.contributions()
    assert counts["enrolment_confirmed", "2026-Q1", "region", "53"] == 1
    assert counts["enrolment_confirmed", "2026-Q1", "region", ""] == 0


def test_a_quarter_is_the_network_s_time_not_utc_s():
    assert quarter_of(datetime(2026, 3, 31, 22, 30, tzinfo=timezone.utc)) == "2026-Q2"
    assert quarter_of("2026-03-31T21:30:00+00:00") == "2026-Q1"


def test_every_consumed_type_is_in_the_contract():
    from parcours_shared.contracts import REGISTRY
    assert set(CONSUMED_EVENT_TYPES) <= set(REGISTRY.names())


# --- objectives, responsiveness, attention, scope ----------------------------------------------

def caller(partner, *roles):
    from parcours_shared.identity import Caller
    return Caller(subject=partner, partner=partner, roles=frozenset(roles or ("reader",)))


def with_directory(db, *partners):
    """The directory copy knows these partners: (id, kind, regions)."""
    with db.transaction() as uow:
        for partner_id, kind, regions in partners:
            uow.session.execute(store.directory.partners.insert().values(
                id=partner_id, name=partner_id, kind=kind, regions=regions, as_of=Q1))


def test_objectives_against_the_actual_and_the_forecast_at_the_current_pace(db):
    record(db, scenario())
    with_directory(db, ("cci-aura", "chamber_of_commerce", ["84"]),
                   ("business-france", "national_export_agency", ["11"]))
    with db.transaction() as uow:
        handlers.set_objectives(uow, [
            {"year": 2026, "partner": "cci-aura", "measure": "diagnosed", "target": 3},
            {"year": 2026, "partner": "business-france", "measure": "export_staff",
             "target": 20},
            {"year": 2026, "partner": "network", "measure": "identified", "target": 6}])
    mid_year = datetime(2026, 7, 2, 12, tzinfo=timezone.utc)   # half the year gone
    with db.reading() as session:
        lines = {line["partner"]: line for line in handlers.objectives_against_actual(
            session, 2026, caller("x", "steering"), mid_year)}
    assert (lines["cci-aura"]["actual"], lines["cci-aura"]["forecast"],
            lines["cci-aura"]["on_track"]) == (2, 4, True)
    assert (lines["business-france"]["actual"], lines["business-france"]["forecast"],
            lines["business-france"]["on_track"]) == (3, 6, False)   # the firm's corrected 3
    assert (lines["network"]["actual"], lines["network"]["on_track"]) == (4, True)
    with db.reading() as session:
        own = handlers.objectives_against_actual(session, 2026, caller("cci-aura"), mid_year)
    assert {line["partner"] for line in own} == {"cci-aura", "network"}
    with pytest.raises(handlers.ObjectiveRefused), db.transaction() as uow:
        handlers.set_objectives(uow, [{"year": 2026, "partner": "nobody", "measure": "diagnosed",
                                       "target": 1}])


def test_responsiveness_counts_working_days_and_compares_quarters(db):
    record(db, scenario())   # D referred on Wed 6 May, taken in charge on Sat 9 May (8 May off)
    with db.reading() as session:
        found = handlers.responsiveness_by(session, "partner", "2026-Q2", caller("x", "steering"),
                                           None)
    assert found["network"]["current"] == {"quarter": "2026-Q2", "referred": 1,
                                           "within_3_working_days": 1.0,
                                           "within_5_working_days": 1.0}
    assert found["network"]["previous_quarter"]["referred"] == 0
    assert found["network"]["a_year_before"]["quarter"] == "2025-Q2"
    assert [line["value"] for line in found["by"]] == ["cci-bretagne"]


def test_partners_needing_attention_with_the_figures_behind(db):
    record(db, scenario())
    with db.reading() as session:
        flags = handlers.attention(session, caller("x", "steering"),
                                   {"min_cases": 1, "low_satisfaction": 4.5})
    # cci-bretagne diagnosed C and proposed it nothing; business-france's one answer gave 4
    assert {(flag["partner"], flag["flag"]) for flag in flags} == {
        ("business-france", "low_satisfaction"), ("cci-bretagne", "diagnosed_rarely_offered")}
    by_flag = {flag["flag"]: flag for flag in flags}
    assert by_flag["low_satisfaction"]["figures"] == {"usefulness_points": 4,
                                                      "surveys_answered": 1}
    assert by_flag["diagnosed_rarely_offered"]["figures"] == {"enrolment_proposed": 0,
                                                              "diagnostic_completed": 1}
    with db.reading() as session:
        assert handlers.attention(session, caller("cci-aura"), {"min_cases": 1,
                                                                "low_satisfaction": 4.5}) == []


@pytest.mark.parametrize("who, grouping, value, allowed", [
    (caller("x", "steering"), "region", "84", True),
    (caller("cci-aura"), "", "", True),                             # the network's totals
    (caller("cci-aura"), "partner", "cci-aura", True),
    (caller("cci-aura"), "partner+sector", "cci-aura|C", True),
    (caller("cci-aura"), "partner", "cci-bretagne", False),
    (caller("cci-aura"), "region", "84", False),                    # a chamber is no Region
    (caller("region-aura"), "region", "84", True),
    (caller("region-aura"), "region+sector", "84|C", True),
    (caller("region-aura"), "region", "53", False),
    (caller("region-aura"), "region+partner", "84|cci-aura", False),
])
def test_who_may_read_which_figures(who, grouping, value, allowed):
    from reporting.indicators import OutOfScope, check_may_read
    partner = {"region-aura": {"kind": "region", "regions": ["84"]},
               "cci-aura": {"kind": "chamber_of_commerce", "regions": ["84"]}}.get(who.partner)
    if allowed:
        check_may_read(who, partner, grouping, value)
    else:
        with pytest.raises(OutOfScope):
            check_may_read(who, partner, grouping, value)


def test_the_quarterly_report_in_its_three_formats(db):
    import csv
    import io
    from reporting import quarterly

    record(db, scenario())
    with db.transaction() as uow:
        with_directory(db, ("cci-aura", "chamber_of_commerce", ["84"]))
        handlers.set_objectives(uow, [{"year": 2026, "partner": "network",
                                       "measure": "identified", "target": 10}])
    with db.reading() as session:
        report = handlers.quarterly_report(session, "2026-Q2", caller("x", "steering"), None,
                                           {"min_cases": 1},
                                           datetime(2026, 8, 1, tzinfo=timezone.utc))
    rows = list(csv.reader(io.StringIO(quarterly.as_csv(report).lstrip("\ufeff")),
                           delimiter=";"))
    figure = {(table, row, column): value for _, table, row, column, value in rows[1:]}
    assert figure["Funnel, 2026-Q2", "opened", "cases"] == "2"              # C and D
    assert figure["Funnel, 2026-Q2", "opened", "previous quarter"] == "2"   # A and B
    assert figure["Funnel, 2026-Q2", "diagnostic completed", "median days"] == "10"
    assert figure["Objectives 2026, at the quarter's end", "network", "actual"] == "4"
    assert figure["Objectives 2026, at the quarter's end", "network", "forecast"] == "8"
    assert figure["By partner (what each did)", "business-france", "corrected"] == "1"
    assert figure["Responsiveness: referred firms taken in charge", "cci-bretagne",
                  "within 3 working days"] == "100%"
    page = quarterly.as_html(report)
    assert page.count("<svg") == 2 and "@page" in page and "<script" not in page
    assert "cci-bretagne" in page and "diagnosed rarely offered" in page
    pdf = quarterly.as_pdf(report)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) > 3000


def test_requests_are_counted_by_source_and_campaign_once_each(db):
    script = Script()
    firms = [script.firm("93", "20.41Z", Q1 + timedelta(days=day), None) for day in range(3)]
    sent = [(firms[0], "pole-mer", "salon", Q1), (firms[1], "pole-mer", "salon", Q1),
            (firms[1], None, None, Q2), (firms[2], "medicen", None, Q2)]
    for case_id, source, campaign, at in sent:
        script.add("request.received", {
            "request_id": str(uuid.uuid4()), "case_id": case_id, "siren": "732829320",
            "source": source, "campaign": campaign, "needs": ["first_export"],
            "target_market": None, "received_at": at})
    record(db, script.events + script.events[-2:])  # the last two delivered twice
    with db.reading() as session:
        everything = handlers.requests_by_source(session, caller("steering", "steering"))
        second = handlers.requests_by_source(session, caller("steering", "steering"),
                                             quarter_of(Q2), quarter_of(Q2))
        cluster = handlers.requests_by_source(session, caller("pole-mer"))
    assert everything == {"total": 4, "sources": [
        {"source": "pole-mer", "requests": 2, "campaigns": [{"campaign": "salon", "requests": 2}]},
        {"source": None, "requests": 1, "campaigns": [{"campaign": None, "requests": 1}]},
        {"source": "medicen", "requests": 1, "campaigns": [{"campaign": None, "requests": 1}]}]}
    assert second["total"] == 2 and [line["source"] for line in second["sources"]] == [
        None, "medicen"]
    # a partner sees its own line and the network's total
    assert cluster["total"] == 4 and [line["source"] for line in cluster["sources"]] == [
        "pole-mer"]

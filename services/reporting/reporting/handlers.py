"""Reporting's use cases: every consumed event is kept, and moves its case's facts and the
figures; the figures are read for a period and a grouping; the read model can be rebuilt from
the events kept."""
import json
import uuid
from collections import Counter

from parcours_shared.audit import change_out
from parcours_shared.contracts import ContractViolation, utc_now
from parcours_shared.contracts.envelope import Event, parse_envelope
from parcours_shared.inbox import claim_in_inbox
from parcours_shared.domain import DomainError

from . import store
from .domain import (
    CONSUMED_EVENT_TYPES, RESPONSIVENESS_DAYS, TRANSITIONS, difference, funnel, median_days,
    quarter_of, within_measure,
)
from .indicators import (
    NETWORK, Objective, ObjectiveRefused, OutOfScope, check_may_read,
    partners_needing_attention, quarters_of, responsiveness, visible_partners,
)
from .quarterly import previous_quarters, quarter_end

REBUILD_BATCH = 5000  # events replayed per transaction (larger batches merge more figure rows)


class RebuildRunning(DomainError):
    pass


class RebuildNotFound(DomainError):
    pass


def record_events(uow, events):
    """Keep the events, move each case's facts and the figures by the difference they make,
    and add them to the cases' timelines: a batch costs a few statements, whatever its size
    (the events come in batches, see the inbox)."""
    store.keep_events(uow.session, events)
    apply_to_read_model(uow.session, events)
    store.add_to_timeline(uow.session, events)


class UnusableEvents(DomainError):
    pass


def recover_events(uow, inbox, envelopes):
    """Events read back from the publishers' outboxes (``parcours rebuild-reporting
    --from-outboxes``): those reporting consumes and never applied (lost on their way, or with
    a queue dropped) are applied now, claimed in the inbox as the consumer claims them, so that
    each counts once whichever way it comes. Returns (events read, events new to reporting);
    envelopes that break their contract are refused, all of them said (UnusableEvents)."""
    events, problems = [], {}
    for index, envelope in enumerate(envelopes):
        if envelope.get("type") not in CONSUMED_EVENT_TYPES:
            continue
        try:
            events.append(parse_envelope(envelope))
        except ContractViolation as exc:
            problems[str(index)] = [str(exc)]
    if problems:
        raise UnusableEvents("{} of the events break their contract: nothing was applied"
                             .format(len(problems)), fields={"events": problems})
    new = claim_in_inbox(uow.session, inbox, events)
    fresh = list({(event.source, event.id): event for event in events
                  if (event.source, event.id) in new}.values())
    if fresh:
        record_events(uow, fresh)
    return len(events), len(fresh)


def apply_to_read_model(session, events):
    cases = store.facts_for_update(session, {event.data["case_id"] for event in events})
    before = {case_id: facts.contributions() for case_id, facts in cases.items()}
    for event in events:
        cases[event.data["case_id"]].apply(event)
    counts, durations = Counter(), Counter()
    changed = []
    for case_id, facts in cases.items():
        after = facts.contributions()
        moved = difference(before[case_id][0], after[0])
        waited = difference(before[case_id][1], after[1])
        counts.update(moved)
        durations.update(waited)
        changed.append(facts)
    store.save_facts(session, changed)
    store.add_to_figures(session, {k: v for k, v in counts.items() if v},
                         {k: v for k, v in durations.items() if v})


def start_rebuild(uow):
    """Drop the read model and start replaying the events kept; the rebuild's row."""
    session = uow.session
    running = store.latest_rebuild(session)
    if running is not None and running["finished_at"] is None:
        raise RebuildRunning("a rebuild started at {} is at {} of {} events: wait for it".format(
            running["started_at"].isoformat(), running["done"], running["total"]))
    rebuild = {"id": str(uuid.uuid4()), "started_at": utc_now(),
               "total": store.count_stored_events(session), "done": 0, "last_seq": 0,
               "finished_at": None}
    store.drop_read_model(session)
    store.add_rebuild(session, rebuild)
    return rebuild


def continue_rebuild(transaction, rebuild, progress=lambda rebuild: None):
    """Replay the events kept after the rebuild's last one, in the order received, batch by
    batch (each with its progress, in one transaction); ``transaction()``: a new unit of work.
    The figures come out as they were: the facts do not depend on the order, nor on how the
    events were batched, and an event that arrives meanwhile is applied once by the consumer
    and changes nothing when the replay reaches it. Each batch starts from the rebuild's row as
    committed, locked: replicas resuming one rebuild take its batches in turn."""
    while True:
        with transaction() as uow:
            rebuild = store.rebuild_for_update(uow.session, rebuild["id"])
            if rebuild["finished_at"] is not None:  # another replica finished it
                return rebuild
            rows = store.stored_events(uow.session, rebuild["last_seq"], REBUILD_BATCH)
            if rows:
                apply_to_read_model(uow.session, [_event(row) for row in rows])
                rebuild.update(done=rebuild["done"] + len(rows), last_seq=rows[-1]["seq"])
            else:
                rebuild["finished_at"] = utc_now()
            store.save_rebuild(uow.session, rebuild["id"], done=rebuild["done"],
                               last_seq=rebuild["last_seq"], finished_at=rebuild["finished_at"])
        progress(rebuild)
        if not rows:
            return rebuild


def unfinished_rebuild(session):
    rebuild = store.latest_rebuild(session)
    return rebuild if rebuild is not None and rebuild["finished_at"] is None else None


def rebuild_progress(session):
    rebuild = store.latest_rebuild(session)
    if rebuild is None:
        raise RebuildNotFound("the read model was never rebuilt: POST /operations/rebuild")
    return rebuild


def _event(row):
    return Event(id=row["event_id"], source=row["source"], type=row["type"],
                 subject=row["subject"], time=row["time"], dataschema="",
                 data=json.loads(row["data"]), partner=row["partner"], person=row["person"])


def pathway_funnel(session, grouping="", value="", first_quarter=None, last_quarter=None):
    counts = store.figures(session, grouping, value, first_quarter, last_quarter)
    histograms = store.duration_histograms(session, grouping, value, first_quarter,
                                           last_quarter)
    medians = {then: (first, median_days(histograms.get("{}>{}".format(first, then), {})))
               for first, then in TRANSITIONS}
    return funnel(counts, {stage: since for stage, since in medians.items()
                           if since[1] is not None}), counts


def timeline_of_case(session, case_id):
    """Every change to the case across the network, oldest first, with who acted."""
    return [change_out(row, row["source"]) for row in store.case_timeline(session, case_id)]


# --- objectives, responsiveness, partners needing attention ------------------------------------

def set_objectives(uow, lines):
    """Each partner's targets for a year (``lines``: year, partner, measure, target); a target
    set again replaces the one before."""
    objectives = [Objective(**line).check() for line in lines]
    for objective in objectives:
        if objective.partner != NETWORK and store.directory.partner(
                uow.session, objective.partner) is None:
            raise ObjectiveRefused("{} is not a partner of the directory (or \"{}\" for the "
                                   "whole network)".format(objective.partner, NETWORK),
                                   fields={"partner": ["not in the directory"]})
    actor = uow.actor
    now = utc_now()
    store.set_objectives(uow.session, [
        dict(vars(objective), set_by=actor.partner if actor else None, set_at=now)
        for objective in objectives])
    return objectives


def objectives_against_actual(session, year, caller, now, last_quarter=None):
    """The year's objectives the caller may read, each against its actual (up to
    ``last_quarter``, or all the year) and its forecast at ``now``."""
    lines = []
    first, last = _year_bounds(year)
    for row in store.objectives_of(session, year, visible_partners(caller)):
        objective = Objective(row["year"], row["partner"], row["measure"], row["target"])
        grouping, value = objective.grouping
        actual = store.figures(session, grouping, value, first, last_quarter or last).get(
            objective.figure, 0)
        lines.append(objective.against(actual, now))
    return lines


def _year_bounds(year):
    quarters = quarters_of(year)
    return quarters[0], quarters[-1]


def responsiveness_by(session, grouping, quarter, caller, partner):
    """Responsiveness for ``quarter``, overall and for each value of ``grouping`` (partner or
    region) the caller may read."""
    measures = ("referred",) + tuple(within_measure(days) for days in RESPONSIVENESS_DAYS)
    overall = store.figures_by_quarter(session, measures)
    lines = []
    for value, by_quarter in sorted(store.breakdown_by_quarter(session, measures,
                                                                grouping).items()):
        try:
            check_may_read(caller, partner, grouping, value)
        except OutOfScope:
            continue
        lines.append(dict(responsiveness(by_quarter, quarter), value=value))
    return {"network": responsiveness(overall, quarter), "by": lines}


def attention(session, caller, thresholds, first_quarter=None, last_quarter=None):
    """The partners needing attention over the period (the caller's own, unless it is the
    steering committee)."""
    measures = ("referral_rejected", "referred", "enrolment_proposed", "diagnostic_completed",
                "outcomes", "outcomes_confirmed", "outcomes_corrected", "usefulness_points",
                "surveys_answered")
    breakdowns = {grouping: store.breakdown(session, measures, grouping, first_quarter,
                                            last_quarter)
                  for grouping in ("referrer", "partner", "acting_partner")}
    flags = partners_needing_attention(breakdowns, thresholds)
    allowed = visible_partners(caller)
    return [flag for flag in flags if allowed is None or flag["partner"] in allowed]


def requests_by_source(session, caller, first_quarter=None, last_quarter=None):
    """The firms' requests over the period, per source and campaign (the sources the caller
    may read), and the network's total."""
    total = store.breakdown(session, ("requests",), "", first_quarter, last_quarter).get(
        "", {}).get("requests", 0)
    campaigns = store.breakdown(session, ("requests",), "source+campaign", first_quarter,
                                last_quarter)
    allowed = visible_partners(caller)
    sources = {}
    for value, counts in campaigns.items():
        source, _, campaign = value.partition("|")
        if allowed is not None and source not in allowed:
            continue
        line = sources.setdefault(source, {"source": source or None, "requests": 0,
                                           "campaigns": []})
        line["requests"] += counts["requests"]
        line["campaigns"].append({"campaign": campaign or None, "requests": counts["requests"]})
    for line in sources.values():
        line["campaigns"].sort(key=lambda found: (-found["requests"], found["campaign"] or ""))
    return {"total": total, "sources": sorted(sources.values(), key=lambda line: (
        -line["requests"], line["source"] or ""))}


TREND_MEASURES = ("opened", "diagnostic_completed", "enrolment_confirmed", "outcome_recorded")


def trend(session, quarters=None):
    """The pathway's main stages quarter by quarter: those given, or every quarter there is."""
    by_quarter = store.figures_by_quarter(session, TREND_MEASURES)
    return [dict({measure: by_quarter.get(quarter, {}).get(measure, 0)
                  for measure in TREND_MEASURES}, quarter=quarter)
            for quarter in (quarters if quarters is not None else sorted(by_quarter))]


def dashboard_data(session, caller, partner, thresholds, now):
    """Everything the dashboard shows, for this caller: the network's funnel, this year's
    objectives, this quarter's responsiveness, the quarters' trend and the attention list."""
    stages, counts = pathway_funnel(session)
    return {
        "updated_at": now.isoformat(timespec="seconds"), "year": now.year,
        "funnel": stages,
        "measures": {name: amount for name, amount in sorted(counts.items())},
        "objectives": objectives_against_actual(session, now.year, caller, now),
        "responsiveness": responsiveness_by(session, "partner", quarter_of(now), caller,
                                            partner),
        "trend": trend(session),
        "attention": attention(session, caller, thresholds),
    }


REPORT_MEASURES = ("opened", "diagnostic_completed", "enrolment_confirmed", "enrolment_completed",
                   "programme_enrolled", "export_staff_hired", "outcomes", "outcomes_confirmed",
                   "outcomes_corrected", "usefulness_points", "surveys_answered")


def quarterly_report(session, quarter, caller, partner, thresholds, now):
    """The steering committee's report for ``quarter``: the quarter's funnel beside the one
    before, the year's objectives at the quarter's end, responsiveness, the figures by region
    and by partner, the attention list and the last four quarters' trend."""
    previous = previous_quarters(quarter, 2)[0]
    as_of = min(now, quarter_end(quarter))
    stages, _ = pathway_funnel(session, "", "", quarter, quarter)
    previous_stages, _ = pathway_funnel(session, "", "", previous, previous)
    responsive = responsiveness_by(session, "partner", quarter, caller, partner)
    return {
        "quarter": quarter, "year": int(quarter[:4]),
        "generated_at": now.isoformat(timespec="seconds"),
        "funnel": stages, "previous_funnel": previous_stages,
        "objectives": objectives_against_actual(session, int(quarter[:4]), caller, as_of,
                                                last_quarter=quarter),
        "responsiveness": [dict(responsive["network"], value="the network")]
        + responsive["by"],
        "by_region": store.breakdown(session, REPORT_MEASURES, "region", quarter, quarter),
        "by_partner": store.breakdown(session, REPORT_MEASURES, "acting_partner", quarter,
                                      quarter),
        "attention": attention(session, caller, thresholds, quarter, quarter),
        "trend": trend(session, previous_quarters(quarter, 4)),
    }

"""What the network's figures are made of: the facts each event tells about a case, and what
a case's facts add to the figures.

Events from different services arrive on different queues, so in any order, and some twice.
A case's facts are therefore a set, each kept by a rule that the order cannot change: a stage
reached keeps its earliest time; an attribute (the region, the maturity...) keeps the value
with the latest time it was said at; an enrolment, an outcome, a survey answer is a fact of its
own, by its id. The figures are never counted event by event: a case's ``contributions`` (what
its facts add to each count) are computed before and after its events are applied, and the
counts move by the difference. So a duplicated or late event changes nothing that its facts
did not, and the figures of any order of the same events are the same.

Counts are kept per measure, quarter and grouping (``GROUPINGS``): the dashboard reads a few
rows whatever the number of cases.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from parcours_shared.domain import as_utc
from parcours_shared.naf import UnknownNafCode, normalise_naf, section_of
from parcours_shared.working_days import working_days_between

NETWORK_TIME = ZoneInfo("Europe/Paris")  # a quarter is the network's, not UTC's

# The pathway's stages, in order (GET /funnel): for each, the event that says a case reached
# it and the data field that says when.
PATHWAY = (
    ("opened", "case.opened", "opened_at"),
    ("diagnostic_scheduled", "diagnostic.scheduled", "scheduled_at"),
    ("diagnostic_completed", "diagnostic.completed", "completed_at"),
    ("enrolment_proposed", "enrolment.proposed", "at"),
    ("enrolment_confirmed", "enrolment.confirmed", "at"),
    ("enrolment_completed", "enrolment.completed", "at"),
    ("outcome_recorded", "outcome.recorded", "recorded_at"),
)
STAGES = tuple(stage for stage, _, _ in PATHWAY)
# Other things a case goes through, counted the same way (once per case, when first reached).
OTHER_CASE_STEPS = (
    ("referred", "case.referred", "referred_at"),
    ("referral_accepted", "referral.accepted", "at"),
    ("referral_rejected", "referral.rejected", "at"),
    ("taken_in_charge", "referral.taken_in_charge", "at"),
    ("referral_done", "referral.done", "at"),
    ("assigned", "case.assigned", "assigned_at"),
    ("diagnostic_cancelled", "diagnostic.cancelled", "cancelled_at"),
    ("none_proposed", "enrolment.none_proposed", "at"),
    ("enrolment_waitlisted", "enrolment.waitlisted", "at"),
    ("enrolment_withdrawn", "enrolment.withdrawn", "at"),
    ("co_export_interest", "co_export.interest_expressed", "at"),
    ("co_export_selected", "co_export.decided", "at"),
    ("closed", "case.closed", "closed_at"),
)
CASE_STEPS = PATHWAY + OTHER_CASE_STEPS
STEP_OF_EVENT = {event_type: (stage, time_field) for stage, event_type, time_field in CASE_STEPS}
# a case whose firm confirmed or corrected one of its outcomes
FIRM_CONFIRMED = "outcome_confirmed_by_firm"
CASE_MEASURES = tuple(stage for stage, _, _ in CASE_STEPS) + (FIRM_CONFIRMED,)

# Each programme's own figures (an enrolment counts in its programme; a firm proposed three
# programmes counts in each).
ENROLMENT_MEASURES = {"enrolment.proposed": "programme_proposed",
                      "enrolment.waitlisted": "programme_waitlisted",
                      "enrolment.confirmed": "programme_enrolled",
                      "enrolment.withdrawn": "programme_withdrawn",
                      "enrolment.completed": "programme_completed"}
OUTCOME_MEASURES = ("outcomes", "outcomes_confirmed", "outcomes_corrected",
                    "export_staff_hired", "contracts_eur")
SURVEY_MEASURES = ("surveys_answered", "usefulness_points", "would_recommend")

# The events reporting consumes: every one changes a figure, or tells a case's attribute.
ATTRIBUTE_EVENTS = ("case.enriched",)
FACT_EVENTS = ("outcome.reviewed", "survey.answered", "request.received")
CONSUMED_EVENT_TYPES = tuple(dict.fromkeys(
    [event_type for _, event_type, _ in CASE_STEPS] + list(ATTRIBUTE_EVENTS)
    + list(FACT_EVENTS)))

# The groupings the counts are kept by: a figure filtered by one of these (or a pair of them)
# reads its own rows. ``partner``: who holds the case at the single window; ``acting_partner``:
# who took that step (opened the case, made the diagnostic, ran the programme).
CASE_DIMENSIONS = ("region", "sector", "channel", "partner", "referrer", "maturity")
GROUPINGS = ((),) + tuple((name,) for name in CASE_DIMENSIONS) + (
    ("acting_partner",), ("region", "partner"), ("region", "sector"), ("partner", "sector"))
PROGRAMME_GROUPINGS = ((), ("programme",), ("acting_partner",), ("region",))
# the firms' own requests (request.received), by the partner whose site they came from
REQUEST_GROUPINGS = ((), ("source",), ("source", "campaign"), ("region",))
GROUPING_NAMES = tuple(dict.fromkeys("+".join(grouping) for grouping in
                                     GROUPINGS + PROGRAMME_GROUPINGS + REQUEST_GROUPINGS))
UNKNOWN = ""  # a dimension not known (yet): the region before case.opened, say

# The median time between the funnel's stages, from day-histograms kept like the counts.
TRANSITIONS = (("opened", "diagnostic_completed"),
               ("diagnostic_completed", "enrolment_confirmed"),
               ("enrolment_confirmed", "enrolment_completed"),
               ("enrolment_completed", "outcome_recorded"),
               ("referred", "taken_in_charge"))
MAX_DAYS = 730  # longer waits are counted as this many days
# responsiveness: referred cases taken in charge within so many working days (French holidays
# excluded), counted in the quarter of the referral
RESPONSIVENESS_DAYS = (3, 5)


def moment(value):
    """A time from an event (a datetime) or from the event store (its ISO text)."""
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def quarter_of(at):
    local = moment(at).astimezone(NETWORK_TIME)
    return "{}-Q{}".format(local.year, (local.month - 1) // 3 + 1)


def sector_of(naf_code):
    """The NAF section of a code as intake sent it (UNKNOWN if none or unknown)."""
    try:
        return section_of(normalise_naf(naf_code)) if naf_code else UNKNOWN
    except (UnknownNafCode, KeyError):
        return UNKNOWN


def _latest(kept, value, at):
    """An attribute's ``[value, at]``: the one said latest (ties: the greater value, so that
    the order of arrival cannot decide)."""
    if value is None:
        return kept
    candidate = [value, moment(at).isoformat()]
    if kept is None or (moment(candidate[1]), str(value)) > (moment(kept[1]), str(kept[0])):
        return candidate
    return kept


def _earliest(kept, value, at):
    candidate = [value, moment(at).isoformat()]
    if kept is None or (moment(candidate[1]), str(value)) < (moment(kept[1]), str(kept[0])):
        return candidate
    return kept


@dataclass
class CaseFacts:
    """Everything reporting knows of one case, as JSON-ready lists and dicts (one row each)."""

    case_id: str
    attributes: dict = field(default_factory=dict)   # name -> [value, at]
    stages: dict = field(default_factory=dict)       # stage -> [acting partner, at]
    enrolments: dict = field(default_factory=dict)   # id -> {programme, partner, steps{}}
    outcomes: dict = field(default_factory=dict)     # id -> its figures and the firm's word
    surveys: dict = field(default_factory=dict)      # id -> the answer's figures
    requests: dict = field(default_factory=dict)     # id -> when, from which source

    def as_json(self):
        return {"attributes": self.attributes, "stages": self.stages,
                "enrolments": self.enrolments, "outcomes": self.outcomes,
                "surveys": self.surveys, "requests": self.requests}

    @classmethod
    def from_json(cls, case_id, facts):
        return cls(case_id, **(facts or {}))

    # --- what each event tells -------------------------------------------------------------

    def apply(self, event):
        data = event.data
        if event.type in ("case.opened", "case.enriched"):
            at = data["opened_at" if event.type == "case.opened" else "arrived_at"]
            self._attribute("region", data.get("region_code"), at)
            self._attribute("sector", sector_of(data.get("naf_code")) or None, at)
            if event.type == "case.opened":
                self._attribute("channel", data.get("channel"), at)
                self._attribute("opener", data.get("partner") or event.partner, at)
        elif event.type == "case.assigned":
            self._attribute("assignee", data.get("partner"), data["assigned_at"])
        elif event.type == "case.referred":
            self.attributes["referrer"] = _earliest(self.attributes.get("referrer"),
                                                    data["referred_by"], data["referred_at"])
        elif event.type == "diagnostic.completed":
            self._attribute("maturity", data["maturity"], data["completed_at"])
        if event.type in ENROLMENT_MEASURES:
            self._enrolment_step(event)
        if event.type == "outcome.recorded":
            self._outcome(data)
        elif event.type == "outcome.reviewed":
            self._review(data)
        elif event.type == "survey.answered":
            self.surveys[data["survey_id"]] = {
                "at": moment(data["answered_at"]).isoformat(), "partner": data.get("partner"),
                "programme": data.get("programme_id"), "usefulness": data["usefulness"],
                "recommend": bool(data["would_recommend"])}
        elif event.type == "request.received":
            self.requests[data["request_id"]] = {
                "at": moment(data["received_at"]).isoformat(), "source": data.get("source"),
                "campaign": data.get("campaign")}
        if event.type in STEP_OF_EVENT:
            stage, time_field = STEP_OF_EVENT[event.type]
            if event.type == "co_export.decided" and data["decision"] != "selected":
                return
            self._reach(stage, self._acting_partner(event), data[time_field])

    def _acting_partner(self, event):
        data = event.data
        if event.type == "case.referred":
            return data["referred_by"]
        return data.get("partner") or event.partner

    def _attribute(self, name, value, at):
        self.attributes[name] = _latest(self.attributes.get(name), value, at)

    def _reach(self, stage, partner, at):
        self.stages[stage] = _earliest(self.stages.get(stage), partner or UNKNOWN, at)

    def _enrolment_step(self, event):
        data = event.data
        enrolment = self.enrolments.setdefault(data["enrolment_id"], {
            "programme": data["programme_id"], "partner": data.get("partner") or UNKNOWN,
            "steps": {}})
        if data.get("partner"):
            enrolment["partner"] = data["partner"]
        measure = ENROLMENT_MEASURES[event.type]
        kept = enrolment["steps"].get(measure)
        at = moment(data["at"]).isoformat()
        if kept is None or moment(at) < moment(kept):
            enrolment["steps"][measure] = at

    def _outcome(self, data):
        outcome = self.outcomes.setdefault(data["outcome_id"], {})
        outcome.update({"at": moment(data["recorded_at"]).isoformat(),
                        "partner": data.get("partner"), "programme": data.get("programme_id"),
                        "recorded": {"staff_count": data.get("staff_count"),
                                     "amount_eur": data.get("amount_eur"),
                                     "kind": data["kind"]}})

    def _review(self, data):
        outcome = self.outcomes.setdefault(data["outcome_id"], {})
        outcome["review"] = {"verdict": data["verdict"], "staff_count": data.get("staff_count"),
                             "amount_eur": data.get("amount_eur"),
                             "at": moment(data["reviewed_at"]).isoformat()}

    # --- what the facts add to the figures -------------------------------------------------

    def dimensions(self):
        """The case's value of each dimension. The partner holding it: the one it was last
        assigned to, else the one who opened it."""
        said = {name: kept[0] for name, kept in self.attributes.items() if kept}
        said["partner"] = said.get("assignee") or said.get("opener")
        return {name: said.get(name) or UNKNOWN for name in CASE_DIMENSIONS}

    def contributions(self):
        """``(counts, durations)``: Counters of ``(measure, quarter, grouping, value)`` and of
        ``(transition, quarter, grouping, value, days)``."""
        counts, durations = Counter(), Counter()
        dims = self.dimensions()
        stages = dict(self.stages)
        confirmed = [moment(outcome["at"]) for outcome in self.outcomes.values()
                     if "review" in outcome and "at" in outcome]
        if confirmed:
            stages[FIRM_CONFIRMED] = [UNKNOWN, min(confirmed).isoformat()]
        for stage, (partner, at) in stages.items():
            quarter = quarter_of(at)
            for grouping, value in _grouped(dict(dims, acting_partner=partner), GROUPINGS):
                counts[stage, quarter, grouping, value] += 1
        for first, then in TRANSITIONS:
            if first in stages and then in stages:
                waited = (moment(stages[then][1]) - moment(stages[first][1])).days
                days = min(max(waited, 0), MAX_DAYS)
                quarter = quarter_of(stages[then][1])
                for grouping, value in _grouped(dict(dims, acting_partner=stages[then][0]),
                                                GROUPINGS):
                    durations["{}>{}".format(first, then), quarter, grouping, value, days] += 1
        if "referred" in stages:  # responsiveness: counted in the referral's quarter
            referred_at = stages["referred"][1]
            waited = (working_days_between(_local_day(referred_at),
                                           _local_day(stages["taken_in_charge"][1]))
                      if "taken_in_charge" in stages else None)
            for within in RESPONSIVENESS_DAYS:
                if waited is not None and waited <= within:
                    for grouping, value in _grouped(dims, GROUPINGS):
                        counts[within_measure(within), quarter_of(referred_at), grouping,
                               value] += 1
        region = {"region": dims["region"]}
        for enrolment in self.enrolments.values():
            own = dict(region, programme=enrolment["programme"],
                       acting_partner=enrolment["partner"])
            for measure, at in enrolment["steps"].items():
                for grouping, value in _grouped(own, PROGRAMME_GROUPINGS):
                    counts[measure, quarter_of(at), grouping, value] += 1
        for outcome in self.outcomes.values():
            if "at" not in outcome:
                continue  # the firm's word arrived before the outcome: counted with it
            own = dict(region, programme=outcome["programme"] or UNKNOWN,
                       acting_partner=outcome["partner"] or UNKNOWN)
            for measure, amount in _outcome_figures(outcome).items():
                for grouping, value in _grouped(own, PROGRAMME_GROUPINGS):
                    counts[measure, quarter_of(outcome["at"]), grouping, value] += amount
        for survey in self.surveys.values():
            own = dict(region, programme=survey["programme"] or UNKNOWN,
                       acting_partner=survey["partner"] or UNKNOWN)
            for measure, amount in (("surveys_answered", 1),
                                    ("usefulness_points", survey["usefulness"]),
                                    ("would_recommend", int(survey["recommend"]))):
                for grouping, value in _grouped(own, PROGRAMME_GROUPINGS):
                    counts[measure, quarter_of(survey["at"]), grouping, value] += amount
        for request in self.requests.values():
            own = dict(region, source=request["source"], campaign=request["campaign"])
            for grouping, value in _grouped(own, REQUEST_GROUPINGS):
                counts["requests", quarter_of(request["at"]), grouping, value] += 1
        return counts, durations


def _local_day(at):
    return moment(at).astimezone(NETWORK_TIME).date()


def within_measure(days):
    return "in_charge_within_{}_working_days".format(days)


def _grouped(dims, groupings):
    for grouping in groupings:
        yield "+".join(grouping), "|".join(dims.get(name) or UNKNOWN for name in grouping)


def _outcome_figures(outcome):
    """What an outcome adds: one outcome, confirmed or corrected by the firm or not, and its
    figures (the firm's, when it corrected them)."""
    review = outcome.get("review")
    figures = dict(outcome["recorded"])
    if review and review["verdict"] == "corrected":
        figures.update({name: review[name] for name in ("staff_count", "amount_eur")
                        if review.get(name) is not None})
    added = {"outcomes": 1}
    if review:
        added["outcomes_" + review["verdict"]] = 1
    if figures["kind"] == "export_staff_hired" and figures.get("staff_count"):
        added["export_staff_hired"] = figures["staff_count"]
    if figures["kind"] == "contract_signed" and figures.get("amount_eur"):
        added["contracts_eur"] = figures["amount_eur"]
    return added


def difference(before, after):
    """``after - before`` of two Counters, negative entries kept."""
    changes = Counter(after)
    changes.subtract(before)
    return {key: delta for key, delta in changes.items() if delta}


def funnel(counts, medians=None):
    """The pathway's stages in order: cases, share of the cases opened, conversion from the
    previous stage, and (``medians``: ``{stage: (since stage, days)}``) the median days a case
    took to reach it from an earlier stage."""
    opened = counts.get("opened", 0)
    stages, before = [], None
    medians = medians or {}
    for stage in STAGES:
        cases = counts.get(stage, 0)
        previous = counts.get(before, 0) if before else None
        since = medians.get(stage)
        stages.append({
            "stage": stage, "cases": cases,
            "share_of_opened": round(cases / opened, 4) if opened else None,
            "conversion_from_previous": round(cases / previous, 4) if previous else None,
            "median_days": {"since": since[0], "days": since[1]} if since else None})
        before = stage
    return stages


def median_days(histogram):
    """The median of a ``{days: cases}`` histogram (None if empty)."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen * 2 >= total:
            return days
    return None

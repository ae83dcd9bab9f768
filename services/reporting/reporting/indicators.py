"""What the steering committee reads off the figures: each partner's objectives against the
actual and the forecast, the single window's responsiveness, the partners needing attention,
and who may see which figures. Rules only: the counts come from the store.
"""
from dataclasses import dataclass
from datetime import date

from parcours_shared.domain import DomainError, NotYours

from .domain import NETWORK_TIME, RESPONSIVENESS_DAYS, within_measure

# The measures a partner commits to, and the figure each is read from: for a partner, what it
# did itself (acting_partner); for the network, firms (a firm in two programmes is one firm).
OBJECTIVE_MEASURES = {
    "identified": {"partner": "opened", "network": "opened"},
    "diagnosed": {"partner": "diagnostic_completed", "network": "diagnostic_completed"},
    "accompanied": {"partner": "programme_enrolled", "network": "enrolment_confirmed"},
    "export_staff": {"partner": "export_staff_hired", "network": "export_staff_hired"},
}
NETWORK = "network"  # the objectives of the whole partnership (the national commitment)


class ObjectiveRefused(DomainError):
    pass


class OutOfScope(NotYours):
    """The caller's partner may not read these figures."""


def quarters_of(year):
    return ["{}-Q{}".format(year, quarter) for quarter in (1, 2, 3, 4)]


def elapsed_share(year, now):
    """How much of ``year`` has gone by at ``now`` (in the network's time), from 0 to 1."""
    today = now.astimezone(NETWORK_TIME).date()
    if today.year != year:
        return 1.0 if today.year > year else 0.0
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return ((today - start).days + 1) / (end - start).days


@dataclass
class Objective:
    year: int
    partner: str          # a partner's id, or NETWORK
    measure: str          # a key of OBJECTIVE_MEASURES
    target: int

    def check(self):
        if self.measure not in OBJECTIVE_MEASURES:
            raise ObjectiveRefused("unknown measure {!r}: one of {}".format(
                self.measure, ", ".join(OBJECTIVE_MEASURES)), fields={
                    "measure": ["one of " + ", ".join(OBJECTIVE_MEASURES)]})
        return self

    @property
    def figure(self):
        return OBJECTIVE_MEASURES[self.measure][
            "network" if self.partner == NETWORK else "partner"]

    @property
    def grouping(self):
        return ("", "") if self.partner == NETWORK else ("acting_partner", self.partner)

    def against(self, actual, now):
        """The objective with its actual so far, the forecast at the current pace and whether
        it will be met."""
        elapsed = elapsed_share(self.year, now)
        forecast = round(actual / elapsed) if elapsed else None
        return {"year": self.year, "partner": self.partner, "measure": self.measure,
                "target": self.target, "actual": actual,
                "share_of_target": round(actual / self.target, 4) if self.target else None,
                "elapsed_share_of_year": round(elapsed, 4), "forecast": forecast,
                "on_track": forecast is not None and forecast >= self.target}


def responsiveness(counts_by_quarter, quarter):
    """Shares of the cases referred in ``quarter`` taken in charge within 3 and 5 working days,
    with the quarter before and the same quarter a year before (None where nothing was
    referred). ``counts_by_quarter``: {quarter: {measure: amount}}."""
    def shares(q):
        counts = counts_by_quarter.get(q, {})
        referred = counts.get("referred", 0)
        return {"quarter": q, "referred": referred, **{
            "within_{}_working_days".format(days): (
                round(counts.get(within_measure(days), 0) / referred, 4) if referred else None)
            for days in RESPONSIVENESS_DAYS}}

    year, number = int(quarter[:4]), int(quarter[-1])
    previous = "{}-Q{}".format(year - 1, 4) if number == 1 else "{}-Q{}".format(
        year, number - 1)
    return {"current": shares(quarter), "previous_quarter": shares(previous),
            "a_year_before": shares("{}-Q{}".format(year - 1, number))}


# What flags a partner, and from which figures: (flag, the partner's grouping, numerator,
# denominator, comparison). Thresholds are configuration (PARCOURS_ATTENTION).
ATTENTION_RULES = (
    ("referrals_rejected", "referrer", "referral_rejected", "referred", "above"),
    ("diagnosed_rarely_offered", "partner", "enrolment_proposed", "diagnostic_completed",
     "below"),
    ("outcomes_unconfirmed", "acting_partner", "outcomes_unconfirmed", "outcomes", "above"),
    ("low_satisfaction", "acting_partner", "usefulness_points", "surveys_answered", "below"),
)
DEFAULT_THRESHOLDS = {"referrals_rejected": 0.3, "diagnosed_rarely_offered": 0.25,
                      "outcomes_unconfirmed": 0.5, "low_satisfaction": 3.0, "min_cases": 5}


def partners_needing_attention(breakdowns, thresholds=None):
    """``breakdowns``: {grouping: {partner: {measure: amount}}}. Each flag raised, with the
    figures behind it; a partner with fewer than ``min_cases`` behind a ratio is not judged."""
    thresholds = dict(DEFAULT_THRESHOLDS, **(thresholds or {}))
    flags = []
    for flag, grouping, numerator, denominator, comparison in ATTENTION_RULES:
        for partner, counts in sorted(breakdowns.get(grouping, {}).items()):
            if not partner:
                continue
            if numerator == "outcomes_unconfirmed":
                counts = dict(counts, outcomes_unconfirmed=counts.get("outcomes", 0)
                              - counts.get("outcomes_confirmed", 0)
                              - counts.get("outcomes_corrected", 0))
            base = counts.get(denominator, 0)
            if base < thresholds["min_cases"]:
                continue
            ratio = counts.get(numerator, 0) / base
            limit = thresholds[flag]
            if (ratio > limit) if comparison == "above" else (ratio < limit):
                flags.append({"partner": partner, "flag": flag, "value": round(ratio, 4),
                              "threshold": limit, "figures": {
                                  numerator: counts.get(numerator, 0), denominator: base}})
    return flags


# --- who may see what ---------------------------------------------------------------------------

PARTNER_GROUPINGS = ("partner", "acting_partner", "referrer")


def check_may_read(caller, partner, grouping, value):
    """The steering committee reads everything; a partner its own figures (those of the cases
    it holds, the steps it took, the firms it referred) and the network's totals; a Region, the
    figures of its regions too. ``partner``: the caller's partner in the directory (None if
    unknown)."""
    if "steering" in caller.roles or grouping == "":
        return
    names = grouping.split("+")
    values = dict(zip(names, value.split("|")))
    own = any(values.get(name) == caller.partner for name in PARTNER_GROUPINGS)
    regional = (partner is not None and partner["kind"] == "region" and "region" in values
                and values["region"] in partner["regions"]
                and not any(name in values for name in PARTNER_GROUPINGS))
    if not (own or regional):
        raise OutOfScope("{} may read its own figures (partner, acting_partner or referrer = "
                         "{}){} and the network's totals".format(
                             caller.partner, caller.partner,
                             ", its regions' figures" if partner and partner["kind"] == "region"
                             else ""))


def visible_partners(caller):
    """None: every partner's lines; else the partners whose lines the caller may read."""
    return None if "steering" in caller.roles else {caller.partner, NETWORK}


"""Who a programme is for, as data, and why a firm is or is not: rule by rule.

A programme's partner writes its eligibility as data (README, "Eligibility rules"): maturity
levels, sectors (NAF sections, divisions or codes) accepted or excluded, regions, a headcount
range, a company age range, target markets. A firm is eligible when no rule fails; a rule
that the firm's data cannot decide (its headcount is not known) is "to check", not a refusal.

The firm's data comes from intake's events, its maturity and target markets from its
diagnostic, both kept locally (``firm_profiles``, ``case_diagnoses``).
"""
from dataclasses import asdict, dataclass
from datetime import date

from parcours_shared.contracts.intake import HEADCOUNT_BANDS
from parcours_shared.naf import naf_matches

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"


@dataclass(frozen=True)
class RuleCheck:
    rule: str        # maturity, sector, region, headcount, company_age, target_markets
    outcome: str     # met, not_met, unknown
    text: str        # for the partner and the advisor: "headcount 6 to 9 is below ... of 10"


@dataclass(frozen=True)
class Verdict:
    """A firm, a programme: eligible or not, and each rule's check."""
    eligible: bool
    checks: list

    @property
    def to_check(self):
        return [check for check in self.checks if check.outcome == UNKNOWN]

    @property
    def refusals(self):
        return [check for check in self.checks if check.outcome == NOT_MET]

    def as_document(self):
        return {"eligible": self.eligible, "checks": [asdict(c) for c in self.checks]}


def _listed(values):
    return ", ".join(values)


def _headcount_text(low, high):
    return "{} or more".format(low) if high is None else (
        str(low) if low == high else "{} to {}".format(low, high))


def full_years(since, today):
    return today.year - since.year - ((today.month, today.day) < (since.month, since.day))


@dataclass(frozen=True)
class Eligibility:
    """The rules of one programme. Empty or None: the rule does not apply."""
    maturity_levels: tuple
    naf_included: tuple = ()
    naf_excluded: tuple = ()
    regions: tuple = ()
    headcount_min: int | None = None
    headcount_max: int | None = None
    company_age_min_years: int | None = None
    company_age_max_years: int | None = None
    target_markets: tuple = ()

    @classmethod
    def of(cls, maturity_levels, rules=None):
        """From a programme's columns: its maturity levels and its other rules (a dict)."""
        rules = rules or {}
        return cls(maturity_levels=tuple(maturity_levels),
                   **{name: tuple(value) if isinstance(value, list) else value
                      for name, value in rules.items() if name in cls.__dataclass_fields__})

    def evaluate(self, firm, diagnosis, today):
        """The verdict for a firm (``firm``: its data as intake tells it, or None) with its
        diagnosis (``diagnosis``: maturity and target markets, or None before it)."""
        firm = firm or {}
        checks = [self._maturity(diagnosis)]
        if self.naf_included or self.naf_excluded:
            checks.append(self._sector(firm.get("naf_code")))
        if self.regions:
            checks.append(self._region(firm.get("region_code")))
        if self.headcount_min is not None or self.headcount_max is not None:
            checks.append(self._headcount(firm.get("headcount_band")))
        if self.company_age_min_years is not None or self.company_age_max_years is not None:
            checks.append(self._age(firm.get("creation_date"), today))
        if self.target_markets:
            checks.append(self._markets(diagnosis))
        return Verdict(all(c.outcome != NOT_MET for c in checks), checks)

    def _maturity(self, diagnosis):
        levels = _listed(self.maturity_levels)
        if diagnosis is None:
            return RuleCheck("maturity", UNKNOWN, "no diagnostic yet: this programme is for "
                                                  "{}".format(levels))
        maturity = diagnosis["maturity"]
        if maturity in self.maturity_levels:
            return RuleCheck("maturity", MET, "maturity {} is among this programme's levels "
                                              "({})".format(maturity, levels))
        return RuleCheck("maturity", NOT_MET, "maturity {} is not among this programme's "
                                              "levels ({})".format(maturity, levels))

    def _sector(self, naf_code):
        if not naf_code:
            return RuleCheck("sector", UNKNOWN, "sector not known (no NAF code)")
        excluded = [entry for entry in self.naf_excluded if naf_matches(naf_code, entry)]
        if excluded:
            return RuleCheck("sector", NOT_MET, "sector {} is excluded by this programme ({})"
                             .format(naf_code, _listed(excluded)))
        if self.naf_included and not any(naf_matches(naf_code, e) for e in self.naf_included):
            return RuleCheck("sector", NOT_MET, "sector {} is not among those this programme "
                                                "accepts ({})".format(
                                                    naf_code, _listed(self.naf_included)))
        return RuleCheck("sector", MET, "sector {} is accepted".format(naf_code))

    def _region(self, region_code):
        regions = _listed(self.regions)
        if not region_code:
            return RuleCheck("region", UNKNOWN, "region not known: this programme is for "
                                                "{}".format(regions))
        if region_code in self.regions:
            return RuleCheck("region", MET, "region {} is among this programme's regions "
                                            "({})".format(region_code, regions))
        return RuleCheck("region", NOT_MET, "region {} is not among this programme's regions "
                                            "({})".format(region_code, regions))

    def _headcount(self, band):
        wanted_min, wanted_max = self.headcount_min, self.headcount_max
        if band is None:
            return RuleCheck("headcount", UNKNOWN, "headcount not known")
        low, high = HEADCOUNT_BANDS[band]
        headcount = "headcount " + _headcount_text(low, high)
        if wanted_min is not None and high is not None and high < wanted_min:
            return RuleCheck("headcount", NOT_MET, "{} is below this programme's minimum of {}"
                             .format(headcount, wanted_min))
        if wanted_max is not None and low > wanted_max:
            return RuleCheck("headcount", NOT_MET, "{} is above this programme's maximum of {}"
                             .format(headcount, wanted_max))
        if (wanted_min is not None and low < wanted_min) or (
                wanted_max is not None and (high is None or high > wanted_max)):
            return RuleCheck("headcount", UNKNOWN, "{} straddles this programme's range ({}): "
                                                   "to check with the firm".format(
                                                       headcount, self._headcount_range()))
        return RuleCheck("headcount", MET, "{} is within this programme's range ({})".format(
            headcount, self._headcount_range()))

    def _headcount_range(self):
        if self.headcount_max is None:
            return "{} or more".format(self.headcount_min)
        if self.headcount_min is None:
            return "up to {}".format(self.headcount_max)
        return "{} to {}".format(self.headcount_min, self.headcount_max)

    def _age(self, creation_date, today):
        if creation_date is None:
            return RuleCheck("company_age", UNKNOWN, "creation date not known")
        if isinstance(creation_date, str):
            creation_date = date.fromisoformat(creation_date)
        years = full_years(creation_date, today)
        age = "company created {} ({} years old)".format(creation_date.isoformat(), years)
        if self.company_age_min_years is not None and years < self.company_age_min_years:
            return RuleCheck("company_age", NOT_MET, "{} is younger than this programme's "
                             "minimum of {} years".format(age, self.company_age_min_years))
        if self.company_age_max_years is not None and years > self.company_age_max_years:
            return RuleCheck("company_age", NOT_MET, "{} is older than this programme's "
                             "maximum of {} years".format(age, self.company_age_max_years))
        return RuleCheck("company_age", MET, "{} is within this programme's range".format(age))

    def _markets(self, diagnosis):
        markets = _listed(self.target_markets)
        if diagnosis is None:
            return RuleCheck("target_markets", UNKNOWN, "no diagnostic yet: this programme is "
                                                        "for firms aiming at {}".format(markets))
        aimed = [m["country"] for m in diagnosis.get("target_markets") or []]
        common = [m for m in aimed if m in self.target_markets]
        if common:
            return RuleCheck("target_markets", MET, "aims at {}, among this programme's "
                                                    "markets ({})".format(_listed(common),
                                                                          markets))
        return RuleCheck("target_markets", NOT_MET, "aims at {}, none of this programme's "
                                                    "markets ({})".format(
                                                        _listed(aimed) or "no market yet",
                                                        markets))

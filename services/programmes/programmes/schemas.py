"""HTTP bodies of the programmes API, in and out."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from parcours_shared.contracts import MATURITY_LEVELS, OUTCOME_KINDS, PROGRAMME_KINDS, REGIONS
from parcours_shared.contracts.intake import HEADCOUNT_BANDS
from parcours_shared.contracts.programmes import OUTCOME_FIGURES  # what each kind must say
from parcours_shared.http import Count, PageQuery, UtcDateTime, listing, repeated_entries
from parcours_shared.naf import UnknownNafCode, naf_entry, normalise_naf

from .domain import ACTIVE, COMPLETED, WITHDRAWN


def _country(**kwargs):
    return fields.String(validate=validate.Regexp(
        r"^[A-Z]{2}$", error="expected an ISO 3166 alpha-2 country code"), **kwargs)


class NafEntry(fields.String):
    """A NAF section ("C"), division ("25") or code ("25.62B"), as INSEE writes it."""
    read = staticmethod(naf_entry)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return self.read(super()._deserialize(value, attr, data, **kwargs))
        except UnknownNafCode as exc:
            raise ValidationError(str(exc)) from None


class NafCode(NafEntry):
    """A firm's NAF code, written any way people write it ("2562B")."""
    read = staticmethod(normalise_naf)


def _ordered(data, low, high, what):
    if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
        raise ValidationError("{} is above {}: {} is the smallest {}".format(
            low, high, low, what), low)


class EligibilityRules(Schema):
    """Who a programme is for, besides its maturity levels; a rule left out applies to all
    (README, "Eligibility rules")."""
    naf_included = fields.List(NafEntry(), load_default=list, metadata={
        "description": "sections, divisions or codes accepted; empty: every sector"})
    naf_excluded = fields.List(NafEntry(), load_default=list)
    regions = fields.List(fields.String(validate=validate.OneOf(sorted(REGIONS))),
                          load_default=list, metadata={"description": "INSEE region codes"})
    headcount_min = Count(load_default=None, validate=validate.Range(min=0))
    headcount_max = Count(load_default=None, validate=validate.Range(min=0))
    company_age_min_years = Count(load_default=None, validate=validate.Range(min=0, max=200))
    company_age_max_years = Count(load_default=None, validate=validate.Range(min=0, max=200))
    target_markets = fields.List(_country(), load_default=list, metadata={
        "description": "the firm must aim at one of these, as its diagnostic says"})

    @validates_schema
    def _ranges(self, data, **_):
        _ordered(data, "headcount_min", "headcount_max", "headcount")
        _ordered(data, "company_age_min_years", "company_age_max_years", "age")


class ProgrammeRequest(Schema):
    partner = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(PROGRAMME_KINDS))
    maturity_levels = fields.List(fields.String(validate=validate.OneOf(MATURITY_LEVELS)),
                                  required=True, validate=validate.Length(min=1))
    description = fields.String(load_default=None, validate=validate.Length(max=1000))
    price_eur = Count(load_default=None, validate=validate.Range(min=0, max=10_000_000),
                      metadata={"description": "what the firm pays; none: free"})
    subsidy_percent = Count(load_default=None, validate=validate.Range(min=0, max=100),
                            metadata={"description": "the share of the cost a funder covers"})
    eligibility = fields.Nested(EligibilityRules, load_default=None)


class SessionRequest(Schema):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None)
    enrolment_deadline = fields.Date(load_default=None, metadata={
        "description": "the last day a firm may be confirmed; none: the day before it starts"})
    market = _country(load_default=None)
    place = fields.String(required=True, validate=validate.Length(min=1, max=200))
    capacity = Count(required=True, validate=validate.Range(min=1, max=1000000))

    @validates_schema
    def _dates(self, data, **_):
        if data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("ends before it starts", "ends_on")
        if data.get("enrolment_deadline") and data["enrolment_deadline"] > data["starts_on"]:
            raise ValidationError("after the session starts: firms enrol before",
                                  "enrolment_deadline")


class FirmQuery(Schema):
    """A kind of firm: what "who does what" answers for."""
    maturity = fields.String(required=True, validate=validate.OneOf(MATURITY_LEVELS))
    region_code = fields.String(load_default=None, validate=validate.OneOf(sorted(REGIONS)))
    naf_code = NafCode(load_default=None)
    headcount_band = fields.String(load_default=None, validate=validate.OneOf(
        sorted(HEADCOUNT_BANDS)))
    target_market = _country(load_default=None)


class EligibilityQuery(Schema):
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ConfirmationsRequest(Schema):
    """Enrolments confirmed together (e.g. a selection committee's list), in order."""
    enrolment_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                                required=True, validate=validate.Length(min=1, max=1000))

    @validates_schema  # once every entry is valid
    def _each_enrolment_once(self, data, **_):
        repeats = repeated_entries(data["enrolment_ids"], "enrolment")
        if repeats:
            raise ValidationError(repeats, "enrolment_ids")


class WithdrawalRequest(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=500))


class OutcomeRequest(Schema):
    case_id = fields.String(required=True)
    enrolment_id = fields.String(load_default=None)
    kind = fields.String(required=True, validate=validate.OneOf(OUTCOME_KINDS))
    amount_eur = Count(load_default=None, validate=validate.Range(min=0, max=2_000_000_000),
                       metadata={"description": "a contract's value, financing obtained"})
    country = _country(load_default=None, metadata={
        "description": "a contract's country, the market entered"})
    staff_count = Count(load_default=None, validate=validate.Range(min=1, max=10000),
                        metadata={"description": "export staff hired"})

    @validates_schema
    def _details_of_its_kind(self, data, **_):
        missing = {name: ["needed for an outcome of kind {}".format(data["kind"])]
                   for name in OUTCOME_FIGURES[data["kind"]] if data.get(name) is None}
        if missing:
            raise ValidationError(missing)


CONFIRMATIONS = ("unconfirmed", "confirmed", "corrected")


class OutcomeListQuery(PageQuery):
    case_id = fields.String(load_default=None)
    programme_id = fields.String(load_default=None)
    partner = fields.String(load_default=None)
    confirmation = fields.String(load_default=None, validate=validate.OneOf(CONFIRMATIONS),
                                 metadata={"description": "the firm's word on it"})


class EnrolmentListQuery(PageQuery):
    case_id = fields.String(load_default=None)
    status = fields.String(load_default=None,
                           validate=validate.OneOf(list(ACTIVE) + [COMPLETED, WITHDRAWN]))


class SessionOut(Schema):
    id = fields.String()
    programme_id = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    enrolment_deadline = fields.Date(allow_none=True)
    market = fields.String(allow_none=True)
    place = fields.String()
    capacity = fields.Integer()
    seats_left = fields.Integer()


class ProgrammeOut(Schema):
    id = fields.String()
    partner = fields.String()
    name = fields.String()
    kind = fields.String()
    maturity_levels = fields.List(fields.String())
    description = fields.String(allow_none=True)
    price_eur = fields.Integer(allow_none=True)
    subsidy_percent = fields.Integer(allow_none=True)
    eligibility = fields.Dict(allow_none=True, metadata={
        "description": "the rules besides maturity (EligibilityRules)"})
    sessions = fields.List(fields.Nested(SessionOut))


class RuleCheckOut(Schema):
    rule = fields.String()
    outcome = fields.String(metadata={"description": "met, not_met or unknown (to check)"})
    text = fields.String()


class EligibilityOut(Schema):
    programme_id = fields.String()
    case_id = fields.String()
    eligible = fields.Boolean()
    firm_known = fields.Boolean(metadata={"description": "intake told of the firm's data"})
    diagnosed = fields.Boolean()
    checks = fields.List(fields.Nested(RuleCheckOut))


class ProgrammeFitOut(ProgrammeOut):
    checks = fields.List(fields.Nested(RuleCheckOut))


class PartnerOffersOut(Schema):
    partner = fields.String()
    partner_name = fields.String(allow_none=True)
    programmes = fields.List(fields.Nested(ProgrammeFitOut))


WhoDoesWhat = listing("WhoDoesWhat", "partners", PartnerOffersOut)


class EnrolmentOut(Schema):
    id = fields.String()
    case_id = fields.String()
    session_id = fields.String()
    programme_id = fields.String()
    status = fields.String()
    proposed_at = UtcDateTime()
    updated_at = UtcDateTime()
    withdrawal_reason = fields.String(allow_none=True)
    rank = fields.Integer(allow_none=True, metadata={
        "description": "among the proposals made after the diagnostic, 1 the best fit"})
    reason = fields.String(allow_none=True)
    waitlisted_at = UtcDateTime(allow_none=True)


class OutcomeOut(Schema):
    id = fields.String()
    case_id = fields.String()
    enrolment_id = fields.String(allow_none=True)
    kind = fields.String()
    amount_eur = fields.Integer(allow_none=True)
    country = fields.String(allow_none=True)
    staff_count = fields.Integer(allow_none=True)
    programme_id = fields.String(allow_none=True)
    partner = fields.String(allow_none=True)
    recorded_at = UtcDateTime()
    confirmation = fields.Method("_confirmation", metadata={
        "description": "the firm's word, through the link it received: unconfirmed (not "
                       "yet), confirmed, or corrected (its figures in firm_figures)",
        "enum": list(CONFIRMATIONS)})
    firm_figures = fields.Dict(allow_none=True, dump_default=None,
                               metadata={"description": "the firm's correction of the figures "
                                                        "above"})
    reviewed_at = UtcDateTime(allow_none=True)

    def _confirmation(self, outcome):
        return outcome.get("firm_verdict") or "unconfirmed"


ProgrammeList = listing("ProgrammeList", "programmes", ProgrammeOut)
EnrolmentList = listing("EnrolmentList", "enrolments", EnrolmentOut)
OutcomeList = listing("OutcomeList", "outcomes", OutcomeOut, total=fields.Integer())


class ContactPersonOut(Schema):
    contact_id = fields.String()
    name = fields.String()
    role = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class FirmContactsOut(Schema):
    case_id = fields.String()
    contacts = fields.List(fields.Nested(ContactPersonOut))


class CallRequest(Schema):
    """A large group's call for SMEs upstream of a project abroad."""
    partner = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "the group's partner: the caller's own"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    country = _country(required=True, metadata={"description": "where the project is"})
    needs = fields.String(required=True, validate=validate.Length(min=1, max=2000), metadata={
        "description": "what the group looks for in the SMEs"})
    deadline = fields.Date(required=True, metadata={"description": "last day to answer"})
    sectors = fields.List(NafEntry(), load_default=list, metadata={
        "description": "NAF sections, divisions or codes sought; empty: any"})
    maturity_levels = fields.List(fields.String(validate=validate.OneOf(MATURITY_LEVELS)),
                                  load_default=None, validate=validate.Length(min=1))


class CallOut(Schema):
    id = fields.String()
    partner = fields.String()
    title = fields.String()
    country = fields.String()
    needs = fields.String()
    deadline = fields.Date()
    sectors = fields.List(fields.String())
    maturity_levels = fields.List(fields.String())
    published_at = UtcDateTime()


CallList = listing("CallList", "calls", CallOut)


class MatchOut(Schema):
    case_id = fields.String()
    company_name = fields.String(allow_none=True)
    score = fields.Integer(metadata={"description": "0 to 100: market 50, sector 30, "
                                                    "maturity 20"})
    reasons = fields.List(fields.String())
    interest = fields.String(allow_none=True, metadata={
        "description": "interested, selected or declined, once the firm answered"})
    contact_consent = fields.Boolean()
    contacts = fields.List(fields.Nested(ContactPersonOut), allow_none=True, metadata={
        "description": "only where the firm consents to co-export matching"})


class MatchList(Schema):
    call = fields.Nested(CallOut)
    matches = fields.List(fields.Nested(MatchOut))


class InterestRequest(Schema):
    case_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class DecisionRequest(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["selected", "declined"]))
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class InterestOut(Schema):
    call_id = fields.String()
    case_id = fields.String()
    status = fields.String()
    expressed_at = UtcDateTime()
    expressed_by = fields.String(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    note = fields.String(allow_none=True)

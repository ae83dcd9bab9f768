"""Events published by programmes, the national export agency's catalogue and enrolments."""
from marshmallow import fields, validate

from .registry import REGISTRY
from .schema_fields import EventData, Timestamp, required_id

# The kinds of programme of the network's catalogue; diagnostic's orientation recommends them.
PROGRAMME_KINDS = (
    "preparation",               # preparing a first export: plan, markets, offer
    "targeted_market",           # support on one market: prospection, meetings
    "trade_fair_pavilion",       # going abroad "as a pack" on a national pavilion
    "co_export",                 # with a large group, on its projects abroad
    "international_volunteer",   # a VIE, a young professional sent abroad
    "financing",
    "export_insurance",
    "cluster",                   # a cluster's collective programme
)
# each kind of outcome and the figures it states (outcome.recorded must give them)
OUTCOME_FIGURES = {
    "contract_signed": ("amount_eur", "country"),
    "market_entered": ("country",),
    "export_staff_hired": ("staff_count",),
    "financing_obtained": ("amount_eur",),
}
OUTCOME_KINDS = tuple(OUTCOME_FIGURES)

publishes = REGISTRY.publisher("programmes")


class EnrolmentEventV1(EventData):
    enrolment_id = required_id()
    case_id = required_id()
    session_id = required_id()
    programme_id = required_id()
    programme_name = fields.String(required=True)
    at = Timestamp(required=True)
    # added after release, optional
    partner = fields.String(load_default=None, allow_none=True, metadata={
        "description": "the partner whose programme it is"})


_ENROLMENT_EXAMPLE = {
    "enrolment_id": "c41b8f0d-3e2a-4d6b-9f15-8a7c0e2d4b96",
    "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
    "session_id": "2a9e4c71-5d3b-4f08-8c6e-1b0d7f3a9e25",
    "programme_id": "7e1d0b3c-9a4f-4e52-b6d8-3c2f1a0e9b74",
    "programme_name": "Pavillon France, Gulfood Dubai",
    "at": "2026-03-20T11:30:02+00:00",
    "partner": "business-france",
}

class EnrolmentProposedV1(EnrolmentEventV1):
    # added after release, optional: the proposals made to a firm are ranked
    rank = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1),
                          metadata={"description": "1 for the best fit among the proposals "
                                                   "made to the firm after its diagnostic"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(
        max=300), metadata={"description": "why it fits: a session in a target market, a kind "
                                           "the diagnostic recommends..."})


publishes(
    "enrolment.proposed", 1, EnrolmentProposedV1,
    meaning="Programmes proposed to the firm a session of a programme it is eligible for, "
            "ranked among the proposals made after its diagnostic.",
    example=dict(_ENROLMENT_EXAMPLE, rank=1,
                 reason="a session in AE, a target market; trade_fair_pavilion recommended by "
                        "the diagnostic"))


class EnrolmentWaitlistedV1(EnrolmentEventV1):
    # added after release, optional
    position = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(
        min=1), metadata={"description": "the firm's place on the session's waitlist, 1 first"})


publishes(
    "enrolment.waitlisted", 1, EnrolmentWaitlistedV1,
    meaning="The firm said yes but the session was full: it waits for a seat, in order of "
            "request.",
    example=dict(_ENROLMENT_EXAMPLE, position=2))

for _name, _meaning in (
        ("enrolment.confirmed", "The firm said yes and took a seat in the session (or a seat "
                                "came free and the first on the waitlist took it)."),
        ("enrolment.completed", "The firm took part in the whole session."),
):
    publishes(_name, 1, EnrolmentEventV1, meaning=_meaning, example=_ENROLMENT_EXAMPLE)


NONE_PROPOSED_REASONS = ("no_eligible_programme", "no_open_session")


class EnrolmentNoneProposedV1(EventData):
    case_id = required_id()
    diagnostic_id = required_id()
    maturity = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(NONE_PROPOSED_REASONS),
                           metadata={"description": "no programme the firm is eligible for; "
                                                    "or some, but none with a session open"})
    at = Timestamp(required=True)


publishes(
    "enrolment.none_proposed", 1, EnrolmentNoneProposedV1,
    meaning="After the firm's diagnostic, programmes found nothing to propose: the single "
            "window follows the firm up by other means.",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "diagnostic_id": "9d7e3b52-61f0-4a8e-b1c4-7f2a0e5d9c13",
             "maturity": "not_ready", "reason": "no_eligible_programme",
             "at": "2026-03-20T11:30:02+00:00"})


class EnrolmentWithdrawnV1(EnrolmentEventV1):
    reason = fields.String(load_default=None, allow_none=True)


publishes(
    "enrolment.withdrawn", 1, EnrolmentWithdrawnV1,
    meaning="The enrolment ended before the session did: the firm or the organiser withdrew it.",
    example=dict(_ENROLMENT_EXAMPLE, reason="the firm could not send anyone on those dates"))


class OutcomeRecordedV1(EventData):
    outcome_id = required_id()
    case_id = required_id()
    enrolment_id = fields.String(load_default=None, allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(OUTCOME_KINDS))
    amount_eur = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    recorded_at = Timestamp(required=True)
    # added after release, optional
    country = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[A-Z]{2}$"), metadata={"description": "ISO 3166: the contract's, or the market "
                                                 "entered"})
    staff_count = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(
        min=1), metadata={"description": "export staff hired"})
    programme_id = fields.String(load_default=None, allow_none=True)
    partner = fields.String(load_default=None, allow_none=True, metadata={
        "description": "the partner whose support it came of"})


publishes(
    "outcome.recorded", 1, OutcomeRecordedV1,
    meaning="What came of the support for the firm: a contract, a market, export staff, funds.",
    example={"outcome_id": "e8a2d6f4-0b1c-4e3a-9d57-6f4b2c8a1e03",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "enrolment_id": "c41b8f0d-3e2a-4d6b-9f15-8a7c0e2d4b96",
             "kind": "contract_signed", "amount_eur": 180000, "country": "DE",
             "staff_count": None, "programme_id": "7e1d0b3c-9a4f-4e52-b6d8-3c2f1a0e9b74",
             "partner": "business-france", "recorded_at": "2026-06-12T10:00:00+00:00"})


class CoExportCallPublishedV1(EventData):
    call_id = required_id()
    partner = fields.String(required=True, metadata={"description": "the large group's partner"})
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$"))
    sectors = fields.List(fields.String(), required=True, metadata={
        "description": "NAF sections, divisions or codes sought; empty: any"})
    maturity_levels = fields.List(fields.String(), required=True)
    deadline = fields.Date(required=True)
    published_at = Timestamp(required=True)


publishes(
    "co_export.call_published", 1, CoExportCallPublishedV1,
    meaning="A large group, through its partner, called for SMEs to join a project abroad, "
            "upstream of its tender.",
    example={"call_id": "0b6e2f4a-8c1d-4e7f-9a35-2d8c6b1e4f70", "partner": "siemens-france",
             "title": "Modernisation du réseau ferré de Bavière", "country": "DE",
             "sectors": ["C"], "maturity_levels": ["occasional_exporter",
                                                   "experienced_exporter"],
             "deadline": "2026-06-30", "published_at": "2026-04-02T09:00:00+00:00"})


class CoExportInterestV1(EventData):
    call_id = required_id()
    case_id = required_id()
    partner = fields.String(required=True, metadata={"description": "the call's partner"})
    expressed_by = fields.String(load_default=None, allow_none=True, metadata={
        "description": "the partner who said so for the firm"})
    at = Timestamp(required=True)


publishes(
    "co_export.interest_expressed", 1, CoExportInterestV1,
    meaning="A firm matched by a co-export call said it is interested.",
    example={"call_id": "0b6e2f4a-8c1d-4e7f-9a35-2d8c6b1e4f70",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "partner": "siemens-france",
             "expressed_by": "cci-international-aura", "at": "2026-04-10T14:00:00+00:00"})


class CoExportDecidedV1(EventData):
    call_id = required_id()
    case_id = required_id()
    partner = fields.String(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(["selected", "declined"]))
    at = Timestamp(required=True)


publishes(
    "co_export.decided", 1, CoExportDecidedV1,
    meaning="The large group decided on an interested firm: selected for its project, or not.",
    example={"call_id": "0b6e2f4a-8c1d-4e7f-9a35-2d8c6b1e4f70",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "partner": "siemens-france",
             "decision": "selected", "at": "2026-05-02T10:00:00+00:00"})

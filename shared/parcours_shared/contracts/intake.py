"""Events published by intake, the single window (chamber of commerce network)."""
from marshmallow import fields, validate

from .registry import REGISTRY
from .schema_fields import PERSONAL, EventData, Timestamp, required_id, siren

INTAKE_CHANNELS = ("walk_in", "web", "phone", "referral", "import")

# INSEE's bands of salaried headcount ("tranches d'effectif salarié", as in the Sirene register):
# code -> (fewest, most) employees, most None for the open-ended last band. Programmes' headcount
# rules read a firm's band as this range.
HEADCOUNT_BANDS = {
    "00": (0, 0), "01": (1, 2), "02": (3, 5), "03": (6, 9), "11": (10, 19), "12": (20, 49),
    "21": (50, 99), "22": (100, 199), "31": (200, 249), "32": (250, 499), "41": (500, 999),
    "42": (1000, 1999), "51": (2000, 4999), "52": (5000, 9999), "53": (10000, None),
}


def _optional(field_class, **kwargs):
    return field_class(load_default=None, allow_none=True, **kwargs)


class FirmDataV1(EventData):
    """The company data the single window holds on a firm: never a person's."""
    siren = siren()
    company_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    region_code = _optional(fields.String)
    naf_code = _optional(fields.String)
    # added after release, optional so that earlier messages stay valid
    headcount_band = _optional(fields.String, validate=validate.OneOf(sorted(HEADCOUNT_BANDS)),
                               metadata={"description": "INSEE band of salaried headcount"})
    creation_date = _optional(fields.Date)
    turnover_eur = _optional(fields.Integer, validate=validate.Range(min=0))
    export_share_percent = _optional(fields.Float, validate=validate.Range(min=0, max=100))
    website = _optional(fields.String, validate=validate.Length(max=300))

publishes = REGISTRY.publisher("intake")


class CaseOpenedV1(FirmDataV1):
    case_id = required_id()
    channel = fields.String(required=True, validate=validate.OneOf(INTAKE_CHANNELS))
    opened_at = Timestamp(required=True)
    # the establishment the firm came through, when it gave its SIRET
    siret = _optional(fields.String, validate=validate.Regexp(r"^\d{14}$"))
    # the partner who opened it (None: the service itself)
    partner = _optional(fields.String, validate=validate.Length(min=1, max=100))


publishes(
    "case.opened", 1, CaseOpenedV1,
    meaning="The single window opened the case of a firm new to the pathway (one per SIREN).",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "siren": "732829320",
             "company_name": "Ateliers Durand", "region_code": "84", "naf_code": "25.62B",
             "channel": "web", "opened_at": "2026-03-02T09:15:00+00:00"})


class CaseEnrichedV1(FirmDataV1):
    case_id = required_id()
    channel = fields.String(required=True, validate=validate.OneOf(INTAKE_CHANNELS))
    partner = _optional(fields.String, validate=validate.Length(min=1, max=100))
    siret = _optional(fields.String, validate=validate.Regexp(r"^\d{14}$"))
    filled = fields.List(fields.String(), required=True, metadata={
        "description": "the firm data fields this arrival gave that the case did not know"})
    arrived_at = Timestamp(required=True)


publishes(
    "case.enriched", 1, CaseEnrichedV1,
    meaning="A firm that already had a case came again, through a channel or a partner: the case "
            "records the arrival, the establishment (SIRET) if new, and fills in the firm data "
            "it did not know. The firm data is the case's as it now stands.",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "siren": "732829320",
             "company_name": "Ateliers Durand", "region_code": "84", "naf_code": "25.62B",
             "headcount_band": "11", "creation_date": "2009-05-14", "turnover_eur": 2400000,
             "export_share_percent": 12.5, "website": "https://ateliers-durand.example",
             "channel": "phone", "partner": "cci-international-aura",
             "siret": "73282932000074", "filled": ["headcount_band", "turnover_eur"],
             "arrived_at": "2026-04-10T10:20:00+00:00"})


class CaseReferredV1(EventData):
    case_id = required_id()
    siren = siren()
    referred_by = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(load_default=None, allow_none=True)
    referred_at = Timestamp(required=True)
    # added after release: the referral whose steps (referral.*) follow
    referral_id = _optional(fields.String, validate=validate.Length(min=1, max=64))


publishes(
    "case.referred", 1, CaseReferredV1,
    meaning="A partner flagged a firm with export potential to the single window (detection).",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "siren": "732829320",
             "referred_by": "pole-mer-mediterranee", "reason": "export potential in Asia",
             "referred_at": "2026-03-02T09:15:00+00:00",
             "referral_id": "0b6f3c2e-8d41-4a7f-9e15-2c7a9d0f4b63"})

# A referral's steps after it was sent (case.referred): the single window accepts it or says why
# not; accepted, it is taken in charge when the case has an advisor; then done, with what came of
# it. Each is an event on the case, so the referring partner can follow it.
REJECTION_REASONS = ("not_eligible", "firm_unreachable", "already_followed", "duplicate")
REFERRAL_OUTCOMES = ("entered_pathway", "oriented_elsewhere", "firm_declined", "not_ready_yet")


class ReferralStepV1(EventData):
    referral_id = required_id()
    case_id = required_id()
    referred_by = fields.String(required=True, validate=validate.Length(min=1, max=100))
    at = Timestamp(required=True)


class ReferralRejectedV1(ReferralStepV1):
    reason = fields.String(required=True, validate=validate.OneOf(REJECTION_REASONS))


class ReferralTakenInChargeV1(ReferralStepV1):
    advisor = fields.String(required=True, validate=validate.Length(min=1, max=100))
    partner = fields.String(required=True, validate=validate.Length(min=1, max=100))


class ReferralDoneV1(ReferralStepV1):
    outcome = fields.String(required=True, validate=validate.OneOf(REFERRAL_OUTCOMES))


_REFERRAL_STEP_EXAMPLE = {"referral_id": "0b6f3c2e-8d41-4a7f-9e15-2c7a9d0f4b63",
                          "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
                          "referred_by": "pole-mer-mediterranee",
                          "at": "2026-03-04T08:30:00+00:00"}
for _name, _schema, _meaning, _more in (
        ("referral.accepted", ReferralStepV1,
         "The single window took on the firm a partner referred.", {}),
        ("referral.rejected", ReferralRejectedV1,
         "The single window declined a referral, with the reason.", {"reason": "already_followed"}),
        ("referral.taken_in_charge", ReferralTakenInChargeV1,
         "An advisor follows the referred firm (the case is assigned to them).",
         {"advisor": "p-marc-giraud", "partner": "cci-international-paca"}),
        ("referral.done", ReferralDoneV1,
         "The referral is settled, with what came of it.", {"outcome": "entered_pathway"}),
):
    publishes(_name, 1, _schema, meaning=_meaning, example=dict(_REFERRAL_STEP_EXAMPLE, **_more))


class CaseAssignedV1(EventData):
    case_id = required_id()
    advisor = fields.String(required=True, validate=validate.Length(min=1, max=100))
    partner = fields.String(required=True, validate=validate.Length(min=1, max=100))
    assigned_at = Timestamp(required=True)
    # added after release: "rotation" (the region's advisors in turn) or "by_hand"
    rule = _optional(fields.String, validate=validate.Length(min=1, max=20))


publishes(
    "case.assigned", 1, CaseAssignedV1,
    meaning="The single window gave the case to an advisor of a partner, who follows it.",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "advisor": "advisor-0142",
             "partner": "CCI Auvergne-Rhône-Alpes", "assigned_at": "2026-03-03T14:00:00+00:00"})


# Why a case is closed. Released as free text, so the list is documented rather than enforced
# in the schema (an enum added to a released field would break integrators).
CLOSURE_REASONS = ("not_eligible", "firm_declined", "duplicate_merged", "pathway_completed")


class CaseClosedV1(EventData):
    case_id = required_id()
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "one of " + ", ".join(CLOSURE_REASONS) + " (free text before them)"})
    closed_at = Timestamp(required=True)


publishes(
    "case.closed", 1, CaseClosedV1,
    meaning="The case left the pathway: the firm was followed to the end, or gave up.",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "reason": "firm_declined",
             "closed_at": "2026-09-30T16:45:00+00:00"})


# What a firm asks for when it comes through the public request page ("first export", ...).
FIRM_NEEDS = ("first_export", "target_market", "trade_fair", "financing", "partner_abroad")


class RequestReceivedV1(EventData):
    request_id = required_id()
    case_id = required_id()
    siren = siren()
    source = _optional(fields.String, validate=validate.Length(min=1, max=100), metadata={
        "description": "the partner whose site the request form was embedded in (None: the "
                       "network's own page)"})
    campaign = _optional(fields.String, validate=validate.Length(min=1, max=40), metadata={
        "description": "the source's campaign, as its embed code names it"})
    needs = fields.List(fields.String(validate=validate.OneOf(FIRM_NEEDS)), required=True,
                        validate=validate.Length(min=1))
    target_market = _optional(fields.String, validate=validate.Length(max=100), metadata={
        "description": "the market the firm has in mind, in its words"})
    received_at = Timestamp(required=True)


publishes(
    "request.received", 1, RequestReceivedV1,
    meaning="A firm asked the single window for help through the public request page, on the "
            "network's site or embedded on a partner's: its case was opened or enriched "
            "(channel web) in the same transaction. The firm's contact and its message stay at "
            "intake.",
    example={"request_id": "9a3e5c71-4b2d-4f8e-a061-7d2c9b3e5f14",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "siren": "732829320",
             "source": "pole-mer-mediterranee", "campaign": "salon-euromaritime",
             "needs": ["first_export", "trade_fair"], "target_market": "Maroc",
             "received_at": "2026-03-02T09:15:00+00:00"})


# Follow-up deadlines: a case or referral untouched for too long (intake's configuration says how
# long, in working or calendar days).
FOLLOW_UP_LEVELS = ("reminder", "last_call", "abandoned")


class FollowUpDueV1(EventData):
    case_id = required_id()
    level = fields.String(required=True, validate=validate.OneOf(FOLLOW_UP_LEVELS))
    untouched_since = Timestamp(required=True)
    days_untouched = fields.Integer(required=True, validate=validate.Range(min=0))
    working_days = fields.Boolean(required=True, metadata={
        "description": "days_untouched counts working days (else calendar days)"})
    # who should act: the case's advisor and partner (None: the region's single window)
    advisor = _optional(fields.String, validate=validate.Length(min=1, max=100))
    partner = _optional(fields.String, validate=validate.Length(min=1, max=100))
    # set when it is a referral, not the case, that waits
    referral_id = _optional(fields.String, validate=validate.Length(min=1, max=64))
    due_at = Timestamp(required=True)


publishes(
    "case.follow_up_due", 1, FollowUpDueV1,
    meaning="A case, or a referral about it, has been left untouched past a follow-up deadline: "
            "a reminder to its advisor, then a last call, then abandoned. Raised once per "
            "level until someone acts on it.",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "level": "reminder",
             "untouched_since": "2026-03-02T09:15:00+00:00", "days_untouched": 9,
             "working_days": True, "advisor": "p-sophie-laurent",
             "partner": "cci-international-aura", "referral_id": None,
             "due_at": "2026-03-13T06:00:00+00:00"})


# The firm's contact persons are personal data: they leave intake only in these two events, and
# only for the purposes the firm consented to (each consent recorded at intake with who, when
# and through which channel). Without consent, no event carries them.
CONSENT_PURPOSES = ("orientation", "co_export_matching", "satisfaction_surveys")


class ContactPersonV1(EventData):
    contact_id = required_id()
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    email = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


class ContactSharedV1(EventData):
    case_id = required_id()
    purposes = fields.List(fields.String(validate=validate.OneOf(CONSENT_PURPOSES)),
                           required=True, validate=validate.Length(min=1), metadata={
                               "description": "what the firm consented to: keep the contacts "
                                              "for these only"})
    contacts = fields.List(fields.Nested(ContactPersonV1), required=True, metadata=dict(
        PERSONAL, description="every contact person of the firm, as they now stand: replace "
                              "your copy with these"))
    shared_at = Timestamp(required=True)


publishes(
    "contact.shared", 1, ContactSharedV1,
    meaning="The firm's contact persons, for the purposes it consented to: sent when it "
            "consents, and again whenever its contacts change while it does. Personal data: "
            "keep it for those purposes only, and drop it on contact.withdrawn.",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "purposes": ["orientation", "co_export_matching"],
             "contacts": [{"contact_id": "c7d1e0a2-4b3f-4e8a-9c61-0f2d3b5a7e19",
                           "name": "Claire Durand", "role": "export manager",
                           "email": "claire.durand@ateliers-durand.example",
                           "phone": "+33 4 72 00 00 00"}],
             "shared_at": "2026-03-02T10:00:00+00:00"})


class ContactWithdrawnV1(EventData):
    case_id = required_id()
    purposes = fields.List(fields.String(validate=validate.OneOf(CONSENT_PURPOSES)),
                           required=True, metadata={"description": "consent withdrawn for"})
    remaining_purposes = fields.List(fields.String(validate=validate.OneOf(CONSENT_PURPOSES)),
                                     required=True, metadata={
                                         "description": "still consented to: with none of "
                                                        "yours left, drop your copy"})
    withdrawn_at = Timestamp(required=True)


publishes(
    "contact.withdrawn", 1, ContactWithdrawnV1,
    meaning="The firm withdrew its consent for some purposes: every consumer that kept its "
            "contacts for those drops them.",
    example={"case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "purposes": ["co_export_matching"], "remaining_purposes": ["orientation"],
             "withdrawn_at": "2026-05-11T15:30:00+00:00"})


# The firm's own word, given through a personal link that intake sent it (its contact persons
# stay at intake: these events carry what the firm said, not who said it).
OUTCOME_VERDICTS = ("confirmed", "corrected")


class OutcomeReviewedV1(EventData):
    outcome_id = required_id()
    case_id = required_id()
    enrolment_id = fields.String(load_default=None, allow_none=True)
    verdict = fields.String(required=True, validate=validate.OneOf(OUTCOME_VERDICTS), metadata={
        "description": "confirmed: as recorded; corrected: the firm's figures below replace "
                       "the recorded ones. An outcome without this event is unconfirmed."})
    kind = fields.String(required=True, metadata={"description": "the outcome's kind, as "
                                                                 "programmes recorded it"})
    amount_eur = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    country = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[A-Z]{2}$"))
    staff_count = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(
        min=1))
    reviewed_at = Timestamp(required=True)


publishes(
    "outcome.reviewed", 1, OutcomeReviewedV1,
    meaning="The firm confirmed an outcome recorded for it, or corrected it (the figures are "
            "then the firm's), through the single-use link it received after its programme.",
    example={"outcome_id": "e8a2d6f4-0b1c-4e3a-9d57-6f4b2c8a1e03",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41",
             "enrolment_id": "c41b8f0d-3e2a-4d6b-9f15-8a7c0e2d4b96",
             "verdict": "corrected", "kind": "contract_signed", "amount_eur": 150000,
             "country": "DE", "staff_count": None,
             "reviewed_at": "2026-06-20T18:04:00+00:00"})


class SurveyAnsweredV1(EventData):
    survey_id = required_id()
    case_id = required_id()
    about = fields.String(required=True, validate=validate.OneOf(["enrolment", "case"]),
                          metadata={"description": "a programme the firm completed, or its "
                                                   "whole pathway once its case was closed"})
    enrolment_id = fields.String(load_default=None, allow_none=True)
    programme_id = fields.String(load_default=None, allow_none=True)
    partner = fields.String(load_default=None, allow_none=True, metadata={
        "description": "the partner whose help is rated"})
    usefulness = fields.Integer(required=True, validate=validate.Range(min=1, max=5), metadata={
        "description": "was it useful: 1 not at all, 5 very"})
    would_recommend = fields.Boolean(required=True)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(
        max=2000), metadata={"description": "the firm's comment, only when it said the partner "
                                            "may read it (else it stays at the single window)"})
    answered_at = Timestamp(required=True)


publishes(
    "survey.answered", 1, SurveyAnsweredV1,
    meaning="The firm answered the satisfaction survey it was sent after a programme or at the "
            "end of its pathway.",
    example={"survey_id": "3c5a7e91-2d4f-4b6a-8e0c-1f9b7d3a5c28",
             "case_id": "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41", "about": "enrolment",
             "enrolment_id": "c41b8f0d-3e2a-4d6b-9f15-8a7c0e2d4b96",
             "programme_id": "7e1d0b3c-9a4f-4e52-b6d8-3c2f1a0e9b74",
             "partner": "business-france", "usefulness": 4, "would_recommend": True,
             "comment": "Des rendez-vous bien ciblés à Dubaï.",
             "answered_at": "2026-06-20T18:04:00+00:00"})

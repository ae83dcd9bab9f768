"""HTTP bodies of the intake API, in and out."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from parcours_shared.contracts import INTAKE_CHANNELS, PARTNER_KINDS, ROLES
from parcours_shared.contracts.intake import CONSENT_PURPOSES, HEADCOUNT_BANDS
from parcours_shared.http import PageQuery, UtcDateTime, listing

from .domain import (
    ACCEPTED, ASSIGNED, CLOSED, CLOSURE_REASONS, DONE, OPEN, PATHWAY_STAGES, REFERRAL_OUTCOMES,
    REGIONS, REJECTED, REJECTION_REASONS, SENT, SORTABLE, TAKEN_IN_CHARGE, FirmNumber,
    InvalidNafCode, InvalidSiren, check_naf_code,
)


class NafCode(fields.String):
    """A NAF rev. 2 code from the official list, loaded as INSEE writes it (2562b: 25.62B)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return check_naf_code(super()._deserialize(value, attr, data, **kwargs))
        except InvalidNafCode as exc:
            raise ValidationError(exc.message) from None


def _optional(field_class, **kwargs):
    return field_class(load_default=None, allow_none=True, **kwargs)


class FirmFields(Schema):
    """A firm as the single window receives it: its number (SIREN, or the SIRET of the
    establishment it came through) and the company data known so far."""
    siren = _optional(fields.String, metadata={
        "description": "9 digits; or give siret, from which it is derived"})
    siret = _optional(fields.String, metadata={"description": "14 digits: the establishment"})
    company_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    region_code = _optional(fields.String, validate=validate.OneOf(
        sorted(REGIONS), error="expected an INSEE region code, one of {choices}"))
    naf_code = _optional(NafCode, metadata={"description": "NAF rev. 2, like 25.62B"})
    headcount_band = _optional(fields.String, validate=validate.OneOf(
        sorted(HEADCOUNT_BANDS), error="expected an INSEE headcount band, one of {choices}"),
        metadata={"description": "INSEE band of salaried headcount: 00 none, 01 1-2, 02 3-5, "
                                 "03 6-9, 11 10-19, 12 20-49, 21 50-99, 22 100-199, ..."})
    creation_date = _optional(fields.Date)
    turnover_eur = _optional(fields.Integer, strict=True, validate=validate.Range(min=0))
    export_share_percent = _optional(fields.Float, validate=validate.Range(min=0, max=100))
    website = _optional(fields.Url, schemes={"http", "https"}, validate=validate.Length(max=300))

    # run even when other fields are wrong: in a list of firms, marshmallow counts the field
    # errors of the whole list, and would skip every firm's number for one firm's bad region
    @validates_schema(skip_on_field_errors=False)
    def _check_firm_number(self, data, **_):
        try:
            FirmNumber.of(data.get("siren"), data.get("siret"))
        except InvalidSiren as exc:
            raise ValidationError(exc.fields) from None


class OpenCaseRequest(FirmFields):
    channel = fields.String(required=True, validate=validate.OneOf(
        [c for c in INTAKE_CHANNELS if c != "referral"],
        error="expected one of {choices} (referrals go to POST /referrals)"))


class ImportCasesRequest(Schema):
    """Firms entered together (e.g. met at a trade fair): each as in ``POST /cases``."""
    firms = fields.Nested(OpenCaseRequest, many=True, required=True,
                          validate=validate.Length(min=1, max=1000))


class ReferralRequest(FirmFields):
    # the referring partner: the caller's own (which it defaults to)
    referred_by = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    reason = fields.String(load_default=None, validate=validate.Length(max=500), metadata={
        "description": "why the firm was flagged (in the case.referred event)"})
    note = fields.String(load_default=None, validate=validate.Length(max=2000), metadata={
        "description": "for the single window only: never in an event"})


class RejectionRequest(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(REJECTION_REASONS))
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class ReferralDoneRequest(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(REFERRAL_OUTCOMES))
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class ReferralListQuery(PageQuery):
    status = fields.String(load_default=None, validate=validate.OneOf(
        [SENT, ACCEPTED, REJECTED, TAKEN_IN_CHARGE, DONE]))
    referred_by = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    case_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


class AssignmentRequest(Schema):
    advisor = fields.String(required=True, validate=validate.Length(min=1, max=100),
                            metadata={"description": "the advisor's person id in the directory"})
    # the advisor's partner (derived from the directory; if given, it must match)
    partner = fields.String(load_default=None, validate=validate.Length(min=1, max=100))


class ClosureRequest(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(CLOSURE_REASONS))
    note = fields.String(load_default=None, validate=validate.Length(max=2000), metadata={
        "description": "for the single window's own record: never in an event"})


class CaseListQuery(PageQuery):
    """Every criterion given must hold; ``sort`` is a field, ``-`` before it for descending."""
    siren = fields.Method(deserialize="_firm_of", load_default=None, metadata={
        "type": "string", "description": "a SIREN, or a SIRET: the firm it is of"})
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=200), metadata={
        "description": "a part of the legal name; accents and case are ignored"})
    region_code = fields.String(load_default=None, validate=validate.OneOf(sorted(REGIONS)))
    sector = fields.String(load_default=None, validate=validate.Regexp(
        r"^([A-U]|\d{2}(\.\d{0,2}[A-Z]?)?)$",
        error="expected a NAF section (C) or the start of a NAF code (25, 25.6, 25.62B)"))
    status = fields.String(load_default=None, validate=validate.OneOf([OPEN, ASSIGNED, CLOSED]))
    stage = fields.String(load_default=None, validate=validate.OneOf(PATHWAY_STAGES))
    channel = fields.String(load_default=None, validate=validate.OneOf(INTAKE_CHANNELS))
    referred_by = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    advisor = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    overdue = fields.Boolean(load_default=None, metadata={
        "description": "true: a follow-up deadline passed and nobody acted since"})
    nothing_proposed = fields.Boolean(load_default=None, metadata={
        "description": "true: programmes had nothing to propose after the diagnostic"})
    sort = fields.String(load_default="opened_at", validate=validate.OneOf(
        [order + name for name in SORTABLE for order in ("", "-")]))

    @staticmethod
    def _firm_of(value):
        try:
            return FirmNumber.of(value).siren
        except InvalidSiren as exc:
            raise ValidationError(next(iter(exc.fields.values()))) from None


class CaseOut(Schema):
    id = fields.String()
    siren = fields.String()
    company_name = fields.String()
    region_code = fields.String(allow_none=True)
    naf_code = fields.String(allow_none=True)
    headcount_band = fields.String(allow_none=True)
    creation_date = fields.Date(allow_none=True)
    turnover_eur = fields.Integer(allow_none=True)
    export_share_percent = fields.Float(allow_none=True)
    website = fields.String(allow_none=True)
    opened_by = fields.String(allow_none=True)
    channel = fields.String(metadata={"description": "the door of its first arrival"})
    stage = fields.String(validate=validate.OneOf(PATHWAY_STAGES), metadata={
        "description": "the furthest the firm went on the pathway, from the services' events"})
    stage_at = UtcDateTime(allow_none=True)
    nothing_proposed_at = UtcDateTime(allow_none=True, metadata={
        "description": "programmes had nothing to propose after the diagnostic (until it does)"})
    status = fields.String()
    advisor = fields.String(allow_none=True)
    partner = fields.String(allow_none=True)
    opened_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)
    closure_reason = fields.String(allow_none=True)
    closure_note = fields.String(allow_none=True)
    last_activity_at = UtcDateTime(allow_none=True, metadata={
        "description": "when someone last acted on it: the follow-up counts from there"})
    follow_up_level = fields.String(allow_none=True, metadata={
        "description": "the follow-up deadline passed since (reminder, last_call, abandoned)"})


class ArrivalOut(Schema):
    channel = fields.String()
    partner = fields.String(allow_none=True)
    person = fields.String(allow_none=True)
    siret = fields.String(allow_none=True)
    at = UtcDateTime()


class CaseWithHistoryOut(CaseOut):
    arrivals = fields.List(fields.Nested(ArrivalOut), metadata={
        "description": "each time the firm came, oldest first: its channels and partners"})
    establishments = fields.List(fields.String(), metadata={"description": "SIRETs seen"})
    channels = fields.Method("_channels", metadata={
        "description": "the doors it came through, in the order it first used them"})

    def _channels(self, case):
        return list(dict.fromkeys(arrival.channel for arrival in case.arrivals))


class CaseOpenOut(CaseOut):
    created = fields.Boolean(metadata={"description": "this request opened it (201)"})


class ImportedCase(Schema):
    siren = fields.String()
    case_id = fields.String()
    status = fields.String(validate=validate.OneOf(["opened", "existing"]))


class ImportOut(Schema):
    cases = fields.List(fields.Nested(ImportedCase))
    opened = fields.Integer()
    existing = fields.Integer()


CaseList = listing("CaseList", "cases", CaseOut, total=fields.Integer(metadata={
    "description": "how many cases meet the criteria, all pages together"}))


class ReferredCaseOut(Schema):
    """What the referring partner sees of the firm: where it is, not others' notes."""
    id = fields.String()
    siren = fields.String()
    company_name = fields.String()
    region_code = fields.String(allow_none=True)
    status = fields.String()
    stage = fields.String()
    stage_at = UtcDateTime(allow_none=True)
    partner = fields.String(allow_none=True, metadata={"description": "who follows it"})
    closure_reason = fields.String(allow_none=True)


class ReferralOut(Schema):
    id = fields.String()
    case_id = fields.String()
    referred_by = fields.String()
    status = fields.String()
    reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    sent_at = UtcDateTime()
    updated_at = UtcDateTime()
    rejection_reason = fields.String(allow_none=True)
    advisor = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    closing_note = fields.String(allow_none=True)
    follow_up_level = fields.String(allow_none=True)


class ReferralWithCaseOut(ReferralOut):
    case = fields.Nested(ReferredCaseOut)


class ReferralOpenOut(CaseOpenOut):
    referral = fields.Nested(ReferralOut)


ReferralList = listing("ReferralList", "referrals", ReferralWithCaseOut, total=fields.Integer())


# --- the firm's contact persons and its consent --------------------------------------------------

class ContactRequest(Schema):
    """A contact person of the firm: personal data, shared only for the purposes it consents
    to."""
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(load_default=None, validate=validate.Length(max=200),
                         metadata={"description": "their job at the firm"})
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, validate=validate.Regexp(
        r"^\+?[0-9 .()-]{6,30}$", error="expected a phone number, like +33 1 23 45 67 89"))


class ConsentRequest(Schema):
    purpose = fields.String(required=True, validate=validate.OneOf(CONSENT_PURPOSES), metadata={
        "description": "orientation: to programmes; co_export_matching: with large groups; "
                       "satisfaction_surveys"})
    granted = fields.Boolean(required=True, metadata={"description": "false withdraws it"})
    channel = fields.String(required=True, validate=validate.OneOf(
        INTAKE_CHANNELS + ("email", "paper")), metadata={"description": "how the firm said so"})


class ContactOut(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    added_at = UtcDateTime()
    updated_at = UtcDateTime(allow_none=True)


class ConsentRecordOut(Schema):
    purpose = fields.String()
    granted = fields.Boolean()
    channel = fields.String()
    partner = fields.String(allow_none=True)
    person = fields.String(allow_none=True)
    at = UtcDateTime()


class ConsentOut(Schema):
    granted = fields.Method("_granted", metadata={
        "type": "array", "description": "the purposes the firm consents to now"})
    history = fields.List(fields.Nested(ConsentRecordOut), metadata={
        "description": "every word of the firm, oldest first, with who recorded it"})

    def _granted(self, consents):
        return consents.granted()


class ContactsOut(Schema):
    contacts = fields.List(fields.Nested(ContactOut))
    consent = fields.Nested(ConsentOut)


# --- member lists imported as a job ---------------------------------------------------------------

class ImportQuery(Schema):
    filename = fields.String(load_default="members.csv", validate=validate.Length(min=1, max=255),
                             metadata={"description": "the file's name, for the record (when "
                                                      "the body is the file itself)"})


class MemberImportOut(Schema):
    id = fields.String()
    filename = fields.String()
    status = fields.String(metadata={"description": "running, done or failed"})
    progress = fields.Float(metadata={"description": "how much of the file is done, 0 to 1"})
    rows_read = fields.Integer()
    opened = fields.Integer(metadata={"description": "firms new to the single window"})
    already_known = fields.Integer(metadata={"description": "firms that had a case already"})
    repeated = fields.Integer(metadata={"description": "rows of a firm met earlier in the file"})
    rejected = fields.Integer(metadata={"description": "rows refused: GET /imports/<id>/"
                                                       "rejected.csv says why, by line"})
    partner = fields.String(allow_none=True)
    started_at = UtcDateTime()
    finished_at = UtcDateTime(allow_none=True)
    error = fields.String(allow_none=True)


# --- the network directory ---------------------------------------------------------------------

DIRECTORY_ID = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,63}$",
                               error="expected lower-case letters, digits and dashes, like "
                                     "cci-paris-idf")
REGION = validate.OneOf(sorted(REGIONS), error="expected an INSEE region code, one of {choices}")


class PartnerFields(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(PARTNER_KINDS))
    regions = fields.List(fields.String(validate=REGION), required=True,
                          validate=validate.Length(min=1, max=len(REGIONS)))


class PartnerRequest(PartnerFields):
    id = fields.String(required=True, validate=DIRECTORY_ID)


class PersonFields(Schema):
    region_code = fields.String(required=True, validate=REGION)
    role = fields.String(required=True, validate=validate.OneOf(tuple(ROLES)))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, validate=validate.Regexp(
        r"^\+?[0-9 .()-]{6,30}$", error="expected a phone number, like +33 1 23 45 67 89"))


class PersonRequest(PersonFields):
    id = fields.String(required=True, validate=DIRECTORY_ID)


class PersonOut(Schema):
    id = fields.String()
    partner_id = fields.String()
    region_code = fields.String()
    role = fields.String()
    status = fields.String()
    registered_at = UtcDateTime()
    left_at = UtcDateTime(allow_none=True)


class PersonWithContactOut(PersonOut):
    name = fields.String()
    email = fields.String()
    phone = fields.String(allow_none=True)


class PartnerOut(Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    regions = fields.List(fields.String())
    registered_at = UtcDateTime()
    updated_at = UtcDateTime(allow_none=True)


class PartnerWithPeopleOut(PartnerOut):
    people = fields.List(fields.Nested(PersonWithContactOut))


PartnerList = listing("PartnerList", "partners", PartnerOut)


class EmbedOut(Schema):
    partner = fields.String(metadata={"description": "the partner the requests count under"})
    campaign = fields.String(allow_none=True)
    link = fields.String(metadata={"description": "the request page's address for this partner"})
    iframe = fields.String(metadata={"description": "HTML to paste in the partner's page"})


class RevokedLinksOut(Schema):
    revoked = fields.Integer(metadata={"description": "how many links were live"})

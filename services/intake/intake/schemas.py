"""HTTP bodies of the intake API, in and out."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from parcours_shared.contracts import INTAKE_CHANNELS, PARTNER_KINDS, ROLES
from parcours_shared.http import PageQuery, UtcDateTime, listing

from .domain import REGIONS, InvalidSiren, normalise_siren

NAF_CODE = validate.Regexp(r"^\d{2}\.\d{2}[A-Z]$", error="expected a NAF code like 21.20Z")


class FirmFields(Schema):
    siren = fields.String(required=True)
    company_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    region_code = fields.String(load_default=None, validate=validate.OneOf(
        sorted(REGIONS), error="expected an INSEE region code, one of {choices}"))
    naf_code = fields.String(load_default=None, validate=NAF_CODE)

    @validates("siren")
    def _check_siren(self, value, **_):
        try:
            normalise_siren(value)
        except InvalidSiren as exc:
            raise ValidationError(exc.message) from None


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
    reason = fields.String(load_default=None, validate=validate.Length(max=500))


class AssignmentRequest(Schema):
    advisor = fields.String(required=True, validate=validate.Length(min=1, max=100),
                            metadata={"description": "the advisor's person id in the directory"})
    # the advisor's partner (derived from the directory; if given, it must match)
    partner = fields.String(load_default=None, validate=validate.Length(min=1, max=100))


class ClosureRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CaseListQuery(PageQuery):
    siren = fields.String(load_default=None)


class CaseOut(Schema):
    id = fields.String()
    siren = fields.String()
    company_name = fields.String()
    region_code = fields.String(allow_none=True)
    naf_code = fields.String(allow_none=True)
    channel = fields.String()
    status = fields.String()
    advisor = fields.String(allow_none=True)
    partner = fields.String(allow_none=True)
    opened_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)
    closure_reason = fields.String(allow_none=True)


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


CaseList = listing("CaseList", "cases", CaseOut)


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

"""HTTP bodies of the programmes API, in and out."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from parcours_shared.contracts import MATURITY_LEVELS, OUTCOME_KINDS, PROGRAMME_KINDS
from parcours_shared.http import Count, PageQuery, UtcDateTime, listing, repeated_entries

from .domain import ACTIVE, COMPLETED, WITHDRAWN


class ProgrammeRequest(Schema):
    partner = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(PROGRAMME_KINDS))
    maturity_levels = fields.List(fields.String(validate=validate.OneOf(MATURITY_LEVELS)),
                                  required=True, validate=validate.Length(min=1))
    description = fields.String(load_default=None, validate=validate.Length(max=1000))


class SessionRequest(Schema):
    starts_on = fields.Date(required=True)
    market = fields.String(load_default=None, validate=validate.Regexp(
        r"^[A-Z]{2}$", error="expected an ISO 3166 alpha-2 country code"))
    place = fields.String(required=True, validate=validate.Length(min=1, max=200))
    capacity = Count(required=True, validate=validate.Range(min=1, max=1000000))


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
    amount_eur = Count(load_default=None,
                                validate=validate.Range(min=0, max=2_000_000_000))


class EnrolmentListQuery(PageQuery):
    case_id = fields.String(load_default=None)
    status = fields.String(load_default=None,
                           validate=validate.OneOf(list(ACTIVE) + [COMPLETED, WITHDRAWN]))


class SessionOut(Schema):
    id = fields.String()
    programme_id = fields.String()
    starts_on = fields.Date()
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
    sessions = fields.List(fields.Nested(SessionOut))


class EnrolmentOut(Schema):
    id = fields.String()
    case_id = fields.String()
    session_id = fields.String()
    programme_id = fields.String()
    status = fields.String()
    proposed_at = UtcDateTime()
    updated_at = UtcDateTime()
    withdrawal_reason = fields.String(allow_none=True)


class OutcomeOut(Schema):
    id = fields.String()
    case_id = fields.String()
    enrolment_id = fields.String(allow_none=True)
    kind = fields.String()
    amount_eur = fields.Integer(allow_none=True)
    recorded_at = UtcDateTime()


ProgrammeList = listing("ProgrammeList", "programmes", ProgrammeOut)
EnrolmentList = listing("EnrolmentList", "enrolments", EnrolmentOut)


class ContactPersonOut(Schema):
    contact_id = fields.String()
    name = fields.String()
    role = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class FirmContactsOut(Schema):
    case_id = fields.String()
    contacts = fields.List(fields.Nested(ContactPersonOut))

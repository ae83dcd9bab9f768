"""The network directory's events, published by intake (the single window keeps the directory):
the partners and their people, copied by every other service so that each knows partner ids
without calling another.

A person's contact details are personal data: they stay in intake and travel in no event. The
events say who a person is in the network (partner, region, role), not how to reach them.
"""
from marshmallow import fields, validate

from .registry import REGISTRY
from .schema_fields import EventData, Timestamp, required_id

# INSEE region codes: the 13 metropolitan regions and the overseas regions.
REGIONS = {
    "11": "Île-de-France", "24": "Centre-Val de Loire", "27": "Bourgogne-Franche-Comté",
    "28": "Normandie", "32": "Hauts-de-France", "44": "Grand Est", "52": "Pays de la Loire",
    "53": "Bretagne", "75": "Nouvelle-Aquitaine", "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes", "93": "Provence-Alpes-Côte d'Azur", "94": "Corse",
    "01": "Guadeloupe", "02": "Martinique", "03": "Guyane", "04": "La Réunion", "06": "Mayotte",
}
PARTNER_KINDS = (
    "chamber_of_commerce", "national_export_agency", "region", "regional_development_agency",
    "public_bank", "competitiveness_cluster", "foreign_trade_advisers", "large_group_association",
    "large_group", "private_consultant", "steering_committee",
)
# The network's roles: a person's in the directory, a caller's in its token
# (parcours_shared.identity); each entrypoint names the roles that may call it.
ROLES = {
    "reader": "reads cases, diagnostics and programmes",
    "advisor": "receives firms: opens, assigns and closes cases, completes diagnostics",
    "referrer": "flags firms to the single window (clusters, banks, CCE, large groups)",
    "programme_manager": "runs a partner's programmes, sessions and enrolments",
    "steering": "reads the network's figures",
    "admin": "keeps the network directory",
}

publishes = REGISTRY.publisher("intake")


def _regions(**kwargs):
    return fields.List(fields.String(validate=validate.OneOf(sorted(REGIONS))),
                       validate=validate.Length(min=1), **kwargs)


class PartnerV1(EventData):
    partner_id = required_id()
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(PARTNER_KINDS))
    regions = _regions(required=True)


class PartnerRegisteredV1(PartnerV1):
    registered_at = Timestamp(required=True)


class PartnerUpdatedV1(PartnerV1):
    updated_at = Timestamp(required=True)


PARTNER_EXAMPLE = {"partner_id": "pole-mer-mediterranee", "name": "Pôle Mer Méditerranée",
                   "kind": "competitiveness_cluster", "regions": ["93", "76"]}

publishes(
    "partner.registered", 1, PartnerRegisteredV1,
    meaning="A partner joined the network directory, with the regions it serves.",
    example=dict(PARTNER_EXAMPLE, registered_at="2026-01-12T09:00:00+00:00"))

publishes(
    "partner.updated", 1, PartnerUpdatedV1,
    meaning="A partner's name, kind or regions changed; the event carries them all.",
    example=dict(PARTNER_EXAMPLE, regions=["93"], updated_at="2026-06-01T09:00:00+00:00"))


class PersonV1(EventData):
    person_id = required_id()
    partner_id = required_id()
    region_code = fields.String(required=True, validate=validate.OneOf(sorted(REGIONS)))
    role = fields.String(required=True, validate=validate.OneOf(tuple(ROLES)))


class PersonRegisteredV1(PersonV1):
    registered_at = Timestamp(required=True)


class PersonUpdatedV1(PersonV1):
    updated_at = Timestamp(required=True)


class PersonLeftV1(EventData):
    person_id = required_id()
    partner_id = required_id()
    left_at = Timestamp(required=True)


PERSON_EXAMPLE = {"person_id": "p-claire-martin", "partner_id": "cci-paris-idf",
                  "region_code": "11", "role": "advisor"}

publishes(
    "person.registered", 1, PersonRegisteredV1,
    meaning="A partner's staff member joined the directory: partner, region and role (contact "
            "details stay in intake).",
    example=dict(PERSON_EXAMPLE, registered_at="2026-01-12T09:30:00+00:00"))

publishes(
    "person.updated", 1, PersonUpdatedV1,
    meaning="A person's region or role changed; the event carries them all.",
    example=dict(PERSON_EXAMPLE, role="programme_manager",
                 updated_at="2026-04-01T08:00:00+00:00"))

publishes(
    "person.left", 1, PersonLeftV1,
    meaning="A person left their partner: they act for it no more (ids are never reused).",
    example={"person_id": "p-claire-martin", "partner_id": "cci-paris-idf",
             "left_at": "2026-11-30T17:00:00+00:00"})

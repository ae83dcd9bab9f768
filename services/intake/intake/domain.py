"""The single window's rules: who a firm is, how it arrives, what a case may become."""
from dataclasses import dataclass
from datetime import datetime

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as siren_number

from parcours_shared.domain import DomainError, Lifecycle, Move, MoveRefused

# INSEE region codes: the 13 metropolitan regions and the overseas regions.
REGIONS = {
    "11": "Île-de-France", "24": "Centre-Val de Loire", "27": "Bourgogne-Franche-Comté",
    "28": "Normandie", "32": "Hauts-de-France", "44": "Grand Est", "52": "Pays de la Loire",
    "53": "Bretagne", "75": "Nouvelle-Aquitaine", "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes", "93": "Provence-Alpes-Côte d'Azur", "94": "Corse",
    "01": "Guadeloupe", "02": "Martinique", "03": "Guyane", "04": "La Réunion", "06": "Mayotte",
}

OPEN, ASSIGNED, CLOSED = "open", "assigned", "closed"


class InvalidSiren(DomainError):
    pass


class CaseNotFound(DomainError):
    pass


class CaseMoveRefused(MoveRefused):
    """A closed case cannot be assigned or closed again."""


# A case is open until the window gives it to an advisor; it can be reassigned until it closes.
CASE_LIFECYCLE = Lifecycle("case", {
    "assign": Move(allowed_from=(OPEN, ASSIGNED), to=(ASSIGNED,)),
    "close": Move(allowed_from=(OPEN, ASSIGNED), to=(CLOSED,)),
}, refused=CaseMoveRefused)


def normalise_siren(raw):
    """The 9-digit SIREN, spaces removed, Luhn-checked; raises InvalidSiren with the reason."""
    try:
        return siren_number.validate(raw)
    except StdnumError as exc:
        message = "not a valid SIREN: {}".format(exc.message)
        raise InvalidSiren(message, fields={"siren": [message]}) from None


def no_case(case_id):
    return CaseNotFound("no case with id {}".format(case_id))


@dataclass
class Case:
    id: str
    siren: str
    company_name: str
    region_code: str | None
    naf_code: str | None
    channel: str
    status: str
    opened_at: datetime
    advisor: str | None = None
    partner: str | None = None
    closed_at: datetime | None = None
    closure_reason: str | None = None

    def assign(self, advisor, partner):
        self.status = CASE_LIFECYCLE.next_status(self.id, self.status, "assign")
        self.advisor, self.partner = advisor, partner

    def close(self, reason, at):
        self.status = CASE_LIFECYCLE.next_status(self.id, self.status, "close")
        self.closure_reason, self.closed_at = reason, at

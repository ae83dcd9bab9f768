"""The intake service: thin HTTP entrypoints over the use cases in ``handlers``."""
import os

from sqlalchemy.exc import IntegrityError

from parcours_shared.db import Database
from parcours_shared import http as parcours_http
from parcours_shared.http import api, query_args, read_json

from . import handlers, store
from .domain import CaseMoveRefused, CaseNotFound, InvalidSiren
from .schemas import (
    AssignmentRequest, CaseListQuery, CaseOut, ClosureRequest, ImportCasesRequest,
    OpenCaseRequest, ReferralRequest,
)

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")

# Who may call what (parcours_shared.identity.ROLES; README, "Who may do what").
ADVISOR = ("advisor",)
REFERRERS = ("referrer", "advisor")
READERS = ("reader", "advisor")
case_out = CaseOut()

# What each of intake's domain errors is for an HTTP caller (applied by parcours_shared.http).
HTTP_ERRORS = {InvalidSiren: 400, CaseNotFound: 404, CaseMoveRefused: 409}


# The mixin is reached through its module so that `nameko run <name>.service` finds only
# this class in the module (it runs every class with entrypoints it finds).
class IntakeService(parcours_http.OperationalEndpoints):
    name = "intake"
    http_errors = HTTP_ERRORS

    db = Database(store.metadata, MIGRATIONS)

    @api("POST", "/cases", roles=ADVISOR)
    def open_case(self, request):
        command = read_json(request, OpenCaseRequest())
        case, created = self._open_once(handlers.open_case, command, command["channel"])
        return (201 if created else 200), dict(case_out.dump(case), created=created)

    @api("POST", "/cases/import", roles=ADVISOR)
    def import_cases(self, request):
        firms = read_json(request, ImportCasesRequest())["firms"]
        results = self._open_once(handlers.import_firms, firms)
        cases = [{"siren": case.siren, "case_id": case.id,
                  "status": "opened" if created else "existing"} for case, created in results]
        # counted by firm: a SIREN repeated in the list counts once
        opened = len({case.id for case, created in results if created})
        existing = len({case.id for case, created in results if not created})
        return (201 if opened else 200), {"cases": cases, "opened": opened, "existing": existing}

    @api("POST", "/referrals", roles=REFERRERS)
    def refer_firm(self, request):
        referral = read_json(request, ReferralRequest())
        case, created = self._open_once(handlers.refer_firm, referral)
        return (201 if created else 200), dict(case_out.dump(case), created=created)

    @api("GET", "/cases", roles=READERS)
    def list_cases(self, request):
        query = query_args(request, CaseListQuery())
        with self.db.reading() as session:
            if query["siren"]:
                case = store.case_by_siren(session, query["siren"].replace(" ", ""))
                found = [case] if case else []
            else:
                found = store.list_cases(session, query["limit"], query["offset"])
        return {"cases": case_out.dump(found, many=True)}

    @api("GET", "/cases/<case_id>", roles=READERS)
    def get_case(self, request, case_id):
        with self.db.reading() as session:
            return case_out.dump(handlers.get_case(session, case_id))

    @api("POST", "/cases/<case_id>/assign", roles=ADVISOR)
    def assign_case(self, request, case_id):
        command = read_json(request, AssignmentRequest())
        with self.db.transaction() as uow:
            case = handlers.assign_case(uow, case_id, command["advisor"], command["partner"])
        return case_out.dump(case)

    @api("POST", "/cases/<case_id>/close", roles=ADVISOR)
    def close_case(self, request, case_id):
        command = read_json(request, ClosureRequest())
        with self.db.transaction() as uow:
            case = handlers.close_case(uow, case_id, command["reason"])
        return case_out.dump(case)

    def _open_once(self, use_case, *args):
        """Two requests for the same new firm race on the SIREN's unique key: the loser reads
        the winner's case instead of failing."""
        try:
            with self.db.transaction() as uow:
                return use_case(uow, *args)
        except IntegrityError:
            with self.db.transaction() as uow:
                return use_case(uow, *args)

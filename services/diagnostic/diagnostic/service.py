"""The diagnostic service: thin entrypoints over the use cases in ``handlers``."""
import os

from parcours_shared.db import Database
from parcours_shared import directory as parcours_directory
from parcours_shared import audit as parcours_audit
from parcours_shared import http as parcours_http
from parcours_shared.http import api
from parcours_shared.inbox import inbox_handler

from . import handlers, store
from .domain import DiagnosticMoveRefused, DiagnosticNotFound
from .schemas import (
    AnswersRequest, BulkAnswersRequest, DiagnosticList, DiagnosticListQuery, DiagnosticOut,
)

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")

# Who may call what (parcours_shared.identity.ROLES; README, "Who may do what").
ADVISOR = ("advisor",)
READERS = ("reader", "advisor")
diagnostic_out = DiagnosticOut()

# What each of diagnostic's domain errors is for an HTTP caller (applied by parcours_shared.http).
HTTP_ERRORS = {DiagnosticNotFound: 404, DiagnosticMoveRefused: 409}


# The mixin is reached through its module so that `nameko run <name>.service` finds only
# this class in the module (it runs every class with entrypoints it finds).
class DiagnosticService(parcours_http.OperationalEndpoints, parcours_audit.AuditTrail,
                        parcours_directory.DirectoryCopy):
    name = "diagnostic"
    http_errors = HTTP_ERRORS

    db = Database(store.metadata, MIGRATIONS)
    directory = store.directory

    @inbox_handler("case.opened")
    def on_case_opened(self, uow, events):
        handlers.schedule_diagnostics(uow, events, int(self.config.get(
            "PARCOURS_DIAGNOSTIC_DUE_WORKING_DAYS") or handlers.DUE_WORKING_DAYS))

    @inbox_handler("case.assigned")
    def on_case_assigned(self, uow, events):
        handlers.follow_assignments(uow, events)

    @inbox_handler("case.closed")
    def on_case_closed(self, uow, events):
        handlers.cancel_for_closed_cases(uow, events)

    @api("GET", "/diagnostics", roles=READERS, query=DiagnosticListQuery,
         returns=DiagnosticList)
    def list_diagnostics(self, request):
        query = request.query
        with self.db.reading() as session:
            if query["case_id"]:
                found = store.diagnostic_for_case(session, query["case_id"])
                diagnostics = [found] if found else []
            else:
                diagnostics = store.list_diagnostics(
                    session, query["status"], query["limit"], query["offset"])
        return {"diagnostics": diagnostic_out.dump(diagnostics, many=True)}

    @api("POST", "/diagnostics/answers", roles=ADVISOR, body=BulkAnswersRequest,
         returns=DiagnosticList)
    def record_many_answers(self, request):
        answered = request.command["diagnostics"]
        with self.db.transaction(request.caller) as uow:
            diagnostics = handlers.complete_diagnostics(uow, answered)
        return {"diagnostics": diagnostic_out.dump(diagnostics, many=True)}

    @api("GET", "/diagnostics/<diagnostic_id>", roles=READERS, returns=DiagnosticOut)
    def get_diagnostic(self, request, diagnostic_id):
        with self.db.reading() as session:
            return diagnostic_out.dump(handlers.get_diagnostic(session, diagnostic_id))

    @api("POST", "/diagnostics/<diagnostic_id>/answers", roles=ADVISOR, body=AnswersRequest,
         returns=DiagnosticOut)
    def record_answers(self, request, diagnostic_id):
        answers = request.command
        with self.db.transaction(request.caller) as uow:
            diagnostic = handlers.complete_diagnostic(uow, diagnostic_id, answers)
        return diagnostic_out.dump(diagnostic)

"""The diagnostic service: thin entrypoints over the use cases in ``handlers``."""
import os

from nameko.extensions import DependencyProvider

from parcours_shared.db import Database
from parcours_shared import directory as parcours_directory
from parcours_shared import audit as parcours_audit
from parcours_shared import http as parcours_http
from parcours_shared import operations as parcours_operations
from parcours_shared.http import api
from parcours_shared.inbox import inbox_handler

from . import handlers, store
from .domain import (
    IN_PROGRESS, DiagnosticMoveRefused, DiagnosticNotFound, InvalidAnswersInList,
    ReassessmentRefused,
)
from .questionnaire import QUESTIONNAIRES, InvalidAnswers, Questionnaires, UnknownQuestionnaire
from .schemas import (
    AnswersRequest, BulkAnswersRequest, DiagnosticHistory, DiagnosticList, DiagnosticListQuery,
    DiagnosticOut, DraftRequest, Figures, FiguresQuery, QuestionnaireOut, QuestionnaireVersions,
)

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")

# Who may call what (parcours_shared.identity.ROLES; README, "Who may do what").
ADVISOR = ("advisor",)
READERS = ("reader", "advisor")
FIGURE_READERS = READERS + ("steering",)   # the committee compares regions and advisors
diagnostic_out = DiagnosticOut()
figures = Figures()

# What each of diagnostic's domain errors is for an HTTP caller (applied by parcours_shared.http).
HTTP_ERRORS = {DiagnosticNotFound: 404, DiagnosticMoveRefused: 409, ReassessmentRefused: 409,
               InvalidAnswers: 400, InvalidAnswersInList: 400, UnknownQuestionnaire: 404}


class QuestionnaireCatalogue(DependencyProvider):
    """The published questionnaire versions, read once at start from PARCOURS_QUESTIONNAIRES
    (the files shipped with the service unless told): a broken file stops the service there,
    saying which and where."""

    def setup(self):
        self.questionnaires = Questionnaires(
            self.container.config.get("PARCOURS_QUESTIONNAIRES") or QUESTIONNAIRES)

    def get_dependency(self, worker_ctx):
        return self.questionnaires


def _view(diagnostic, questionnaires, progress=None):
    """A diagnostic as the API shows it: with the questions still to answer, and its progress
    since the case's assessment before it."""
    open_questions = (diagnostic.questionnaire(questionnaires).unanswered(
        diagnostic.answers or {}) if diagnostic.status in IN_PROGRESS else [])
    return dict(diagnostic.as_row(), unanswered=open_questions, progress=progress)


# The mixin is reached through its module so that `nameko run <name>.service` finds only
# this class in the module (it runs every class with entrypoints it finds).
class DiagnosticService(parcours_http.OperationalEndpoints,
                        parcours_operations.DeadLetterEndpoints,
                        parcours_operations.OutboxReplay, parcours_audit.AuditTrail,
                        parcours_directory.DirectoryCopy):
    name = "diagnostic"
    http_errors = HTTP_ERRORS

    db = Database(store.metadata, MIGRATIONS)
    questionnaires = QuestionnaireCatalogue()
    directory = store.directory

    @inbox_handler("case.opened")
    def on_case_opened(self, uow, events):
        handlers.schedule_diagnostics(uow, events, self._due_working_days())

    @inbox_handler("case.assigned")
    def on_case_assigned(self, uow, events):
        handlers.follow_assignments(uow, events)

    @inbox_handler("case.closed")
    def on_case_closed(self, uow, events):
        handlers.cancel_for_closed_cases(uow, events)

    @api("GET", "/questionnaires", roles=READERS, returns=QuestionnaireVersions)
    def list_questionnaires(self, request):
        return {"latest": self.questionnaires.latest.version,
                "versions": self.questionnaires.versions()}

    @api("GET", "/questionnaires/<version>", roles=READERS, returns=QuestionnaireOut)
    def get_questionnaire(self, request, version):
        if not version.isdigit():
            raise UnknownQuestionnaire(version)
        return self.questionnaires.version(int(version)).as_document()

    @api("GET", "/diagnostics", roles=READERS, query=DiagnosticListQuery,
         returns=DiagnosticList)
    def list_diagnostics(self, request):
        query = dict(request.query)
        limit, offset = query.pop("limit"), query.pop("offset")
        with self.db.reading() as session:
            diagnostics, total = store.list_diagnostics(session, query, limit, offset)
        return {"diagnostics": diagnostic_out.dump(
            [_view(d, self.questionnaires) for d in diagnostics], many=True), "total": total}

    @api("GET", "/diagnostics/figures", roles=FIGURE_READERS, query=FiguresQuery, returns=Figures)
    def diagnostic_figures(self, request):
        query = dict(request.query)
        group_by = query.pop("group_by")
        with self.db.reading() as session:
            return figures.dump(handlers.diagnostic_figures(session, query, group_by))

    @api("POST", "/diagnostics/answers", roles=ADVISOR, body=BulkAnswersRequest,
         returns=DiagnosticList)
    def record_many_answers(self, request):
        answered = request.command["diagnostics"]
        with self.db.transaction(request.caller) as uow:
            diagnostics = handlers.complete_diagnostics(uow, self.questionnaires, answered)
        return {"diagnostics": diagnostic_out.dump(
            [_view(d, self.questionnaires) for d in diagnostics], many=True),
            "total": len(diagnostics)}

    @api("GET", "/diagnostics/<diagnostic_id>", roles=READERS, returns=DiagnosticOut)
    def get_diagnostic(self, request, diagnostic_id):
        with self.db.reading() as session:
            diagnostic, progress = handlers.diagnostic_with_progress(session, diagnostic_id)
        return diagnostic_out.dump(_view(diagnostic, self.questionnaires, progress))

    @api("PUT", "/diagnostics/<diagnostic_id>/draft", roles=ADVISOR, body=DraftRequest,
         returns=DiagnosticOut)
    def save_draft(self, request, diagnostic_id):
        with self.db.transaction(request.caller) as uow:
            diagnostic = handlers.save_draft(uow, self.questionnaires, diagnostic_id,
                                             request.command["answers"])
        return diagnostic_out.dump(_view(diagnostic, self.questionnaires))

    @api("POST", "/diagnostics/<diagnostic_id>/answers", roles=ADVISOR, body=AnswersRequest,
         returns=DiagnosticOut)
    def record_answers(self, request, diagnostic_id):
        with self.db.transaction(request.caller) as uow:
            diagnostic = handlers.complete_diagnostic(uow, self.questionnaires, diagnostic_id,
                                                      request.command["answers"])
        with self.db.reading() as session:
            diagnostic, progress = handlers.diagnostic_with_progress(session, diagnostic.id)
        return diagnostic_out.dump(_view(diagnostic, self.questionnaires, progress))

    @api("GET", "/cases/<case_id>/diagnostics", roles=READERS, returns=DiagnosticHistory)
    def case_diagnostics(self, request, case_id):
        with self.db.reading() as session:
            history = handlers.diagnostic_history(session, case_id)
        return {"diagnostics": diagnostic_out.dump(
            [_view(d, self.questionnaires, progress) for d, progress in history], many=True)}

    @api("POST", "/cases/<case_id>/diagnostics", roles=ADVISOR,
         returns={201: DiagnosticOut})
    def reassess(self, request, case_id):
        with self.db.transaction(request.caller) as uow:
            diagnostic = handlers.reassess(uow, case_id, self._due_working_days())
        return 201, diagnostic_out.dump(_view(diagnostic, self.questionnaires))

    def _due_working_days(self):
        return int(self.config.get("PARCOURS_DIAGNOSTIC_DUE_WORKING_DAYS")
                   or handlers.DUE_WORKING_DAYS)

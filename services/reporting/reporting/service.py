"""The reporting service: consumes the pathway's events and serves the funnel."""
import os

from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from parcours_shared.audit import AuditOut, AuditQuery
from parcours_shared.contracts import REGIONS, ROLES
from parcours_shared.db import Database
from parcours_shared import directory as parcours_directory
from parcours_shared import http as parcours_http
from parcours_shared import operations as parcours_operations
from parcours_shared import web_session as parcours_web_session
from parcours_shared.http import api
from parcours_shared.inbox import inbox_handler

from . import handlers, pages, store
from .domain import COUNTED_EVENT_TYPES

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")

# Who may call what (parcours_shared.identity.ROLES; README, "Who may do what").
STEERING = ("steering", "reader")


class FunnelQuery(Schema):
    region_code = fields.String(load_default=None, validate=validate.OneOf(sorted(REGIONS)))


class FunnelStage(Schema):
    stage = fields.String(required=True)
    cases = fields.Integer(required=True)
    share_of_opened = fields.Float(allow_none=True, required=True)


class FunnelOut(Schema):
    region_code = fields.String(allow_none=True)
    stages = fields.List(fields.Nested(FunnelStage))


# The mixin is reached through its module so that `nameko run <name>.service` finds only
# this class in the module (it runs every class with entrypoints it finds).
class ReportingService(parcours_http.OperationalEndpoints, parcours_operations.DeadLetterEndpoints,
                       parcours_directory.DirectoryCopy, parcours_web_session.SignIn):
    name = "reporting"

    db = Database(store.metadata, MIGRATIONS, publishes=False)
    directory = store.directory

    @inbox_handler(*COUNTED_EVENT_TYPES)
    def on_pathway_event(self, uow, events):
        handlers.record_progress(uow, events)

    @api("GET", "/audit", roles=tuple(ROLES), query=AuditQuery, returns=AuditOut)
    def case_timeline(self, request):
        """The case's whole timeline across the network: every service's changes to it, with
        who acted (each service's own /audit has its part)."""
        subject = request.query["subject"]
        with self.db.reading() as session:
            return {"subject": subject, "changes": handlers.timeline_of_case(session, subject)}

    @api("GET", "/dashboard", roles=STEERING, page=True, returns="text/html")
    def dashboard(self, request):
        """The steering committee's page: the pathway funnel (people sign in to see it)."""
        with self.db.reading() as session:
            stages = handlers.pathway_funnel(session)
        caller = request.caller
        return Response(pages.dashboard(stages, caller.person or caller.subject, caller.partner),
                        status=200, content_type="text/html; charset=utf-8")

    @api("GET", "/funnel", roles=STEERING, query=FunnelQuery, returns=FunnelOut)
    def funnel(self, request):
        """How many cases reached each stage of the pathway, overall or in one region."""
        query = request.query
        with self.db.reading() as session:
            stages = handlers.pathway_funnel(session, query["region_code"])
        return {"region_code": query["region_code"], "stages": stages}

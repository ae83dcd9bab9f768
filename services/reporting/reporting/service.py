"""The reporting service: consumes the pathway's events and serves the funnel."""
import os

from marshmallow import Schema, fields

from parcours_shared.audit import AuditQuery
from parcours_shared.contracts import ROLES
from parcours_shared.db import Database
from parcours_shared import directory as parcours_directory
from parcours_shared import http as parcours_http
from parcours_shared.http import api, query_args
from parcours_shared.inbox import inbox_handler

from . import handlers, store
from .domain import COUNTED_EVENT_TYPES

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")

# Who may call what (parcours_shared.identity.ROLES; README, "Who may do what").
STEERING = ("steering", "reader")


class FunnelQuery(Schema):
    region_code = fields.String(load_default=None)


# The mixin is reached through its module so that `nameko run <name>.service` finds only
# this class in the module (it runs every class with entrypoints it finds).
class ReportingService(parcours_http.OperationalEndpoints, parcours_directory.DirectoryCopy):
    name = "reporting"

    db = Database(store.metadata, MIGRATIONS, publishes=False)
    directory = store.directory

    @inbox_handler(*COUNTED_EVENT_TYPES)
    def on_pathway_event(self, uow, events):
        handlers.record_progress(uow, events)

    @api("GET", "/audit", roles=tuple(ROLES))
    def case_timeline(self, request):
        """The case's whole timeline across the network: every service's changes to it, with
        who acted (each service's own /audit has its part)."""
        subject = query_args(request, AuditQuery())["subject"]
        with self.db.reading() as session:
            return {"subject": subject, "changes": handlers.timeline_of_case(session, subject)}

    @api("GET", "/funnel", roles=STEERING)
    def funnel(self, request):
        query = query_args(request, FunnelQuery())
        with self.db.reading() as session:
            stages = handlers.pathway_funnel(session, query["region_code"])
        return {"region_code": query["region_code"], "stages": stages}

"""The reporting service: consumes the pathway's events and serves the funnel."""
import os

from marshmallow import Schema, fields

from parcours_shared.db import Database
from parcours_shared import http as parcours_http
from parcours_shared.http import api, query_args
from parcours_shared.inbox import inbox_handler

from . import handlers, store

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


class FunnelQuery(Schema):
    region_code = fields.String(load_default=None)


# The mixin is reached through its module so that `nameko run <name>.service` finds only
# this class in the module (it runs every class with entrypoints it finds).
class ReportingService(parcours_http.OperationalEndpoints):
    name = "reporting"

    db = Database(store.metadata, MIGRATIONS, publishes=False)

    def _record(self, events):
        return self.db.apply_all_once(events, handlers.record_progress)

    @inbox_handler("intake", "case.opened")
    def on_case_opened(self, events):
        return self._record(events)

    @inbox_handler("diagnostic", "diagnostic.scheduled")
    def on_diagnostic_scheduled(self, events):
        return self._record(events)

    @inbox_handler("diagnostic", "diagnostic.completed")
    def on_diagnostic_completed(self, events):
        return self._record(events)

    @inbox_handler("programmes", "enrolment.proposed")
    def on_enrolment_proposed(self, events):
        return self._record(events)

    @inbox_handler("programmes", "enrolment.confirmed")
    def on_enrolment_confirmed(self, events):
        return self._record(events)

    @inbox_handler("programmes", "enrolment.completed")
    def on_enrolment_completed(self, events):
        return self._record(events)

    @inbox_handler("programmes", "outcome.recorded")
    def on_outcome_recorded(self, events):
        return self._record(events)

    @api("GET", "/funnel")
    def funnel(self, request):
        query = query_args(request, FunnelQuery())
        with self.db.reading() as session:
            stages = handlers.pathway_funnel(session, query["region_code"])
        return {"region_code": query["region_code"], "stages": stages}

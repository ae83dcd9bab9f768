"""The reporting service: consumes the pathway's events and serves the funnel."""
import os

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.wrappers import Response

from parcours_shared.audit import AuditOut, AuditQuery
from parcours_shared.background import BackgroundJobs, timer
from parcours_shared.contracts import REGIONS, ROLES, utc_now
from parcours_shared.db import Database
from parcours_shared import directory as parcours_directory
from parcours_shared import http as parcours_http
from parcours_shared import operations as parcours_operations
from parcours_shared import web_session as parcours_web_session
from parcours_shared.http import UtcDateTime, api
from parcours_shared.inbox import inbox_handler

from . import handlers, pages, quarterly, store
from .quarterly import previous_quarters
from .domain import CONSUMED_EVENT_TYPES, GROUPINGS, STAGES, quarter_of
from .indicators import (
    DEFAULT_THRESHOLDS, OBJECTIVE_MEASURES, ObjectiveRefused, OutOfScope, check_may_read,
)

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")

# Who may call what (parcours_shared.identity.ROLES; README, "Who may do what").
STEERING = ("steering", "reader")
OPERATOR = ("admin",)
# how often a rebuild cut off by a restart is looked for (and resumed)
REBUILD_CHECK_SECONDS = 30
_rebuilding = set()  # the rebuilds this process is running (one thread each)


QUARTER = validate.Regexp(r"^20\d{2}-Q[1-4]$", error="a quarter, like 2026-Q1")
# the query's name of each dimension a figure can be filtered by (domain.GROUPINGS)
FILTERS = {"region_code": "region", "sector": "sector", "channel": "channel",
           "partner": "partner", "referrer": "referrer", "maturity": "maturity",
           "acting_partner": "acting_partner"}


class FunnelQuery(Schema):
    region_code = fields.String(load_default=None, validate=validate.OneOf(sorted(REGIONS)))
    sector = fields.String(load_default=None, validate=validate.Regexp(
        r"^[A-U]$", error="a NAF section, a letter from A to U"))
    channel = fields.String(load_default=None)
    partner = fields.String(load_default=None, metadata={
        "description": "the partner that holds the cases at the single window"})
    referrer = fields.String(load_default=None, metadata={
        "description": "the partner that referred the firms"})
    maturity = fields.String(load_default=None)
    acting_partner = fields.String(load_default=None, metadata={
        "description": "the partner that took each step (opened, diagnosed, ran the "
                       "programme)"})
    from_quarter = fields.String(load_default=None, data_key="from", validate=QUARTER)
    to_quarter = fields.String(load_default=None, data_key="to", validate=QUARTER)

    @validates_schema
    def _one_grouping(self, data, **kwargs):
        try:
            grouping_of(data)
        except ValueError as wrong:
            raise ValidationError({name: [str(wrong)] for name in FILTERS
                                   if data.get(name)})


def grouping_of(query):
    """The grouping and value a funnel query reads (domain.GROUPINGS); ValueError if its
    filters are not one of them."""
    given = {FILTERS[name]: query[name] for name in FILTERS if query.get(name)}
    for grouping in GROUPINGS:
        if set(grouping) == set(given):
            return "+".join(grouping), "|".join(given[name] for name in grouping)
    raise ValueError("filter by one of: {}; or by one of these pairs: {}".format(
        ", ".join(FILTERS), "; ".join(" and ".join(_query_name(d) for d in grouping)
                                      for grouping in GROUPINGS if len(grouping) == 2)))


def _query_name(dimension):
    return next(name for name, dim in FILTERS.items() if dim == dimension)


class MedianDays(Schema):
    since = fields.String(required=True, metadata={"description": "the earlier stage"})
    days = fields.Integer(required=True)


class FunnelStage(Schema):
    stage = fields.String(required=True)
    cases = fields.Integer(required=True)
    share_of_opened = fields.Float(allow_none=True, required=True)
    conversion_from_previous = fields.Float(allow_none=True, required=True, metadata={
        "description": "cases at this stage over those at the stage before, in the period"})
    median_days = fields.Nested(MedianDays, allow_none=True, required=True, metadata={
        "description": "median days a case took to reach this stage from an earlier one"})


class FunnelOut(Schema):
    region_code = fields.String(allow_none=True)
    grouping = fields.String(metadata={"description": "what the figures are filtered by"})
    value = fields.String()
    from_quarter = fields.String(allow_none=True, data_key="from")
    to_quarter = fields.String(allow_none=True, data_key="to")
    stages = fields.List(fields.Nested(FunnelStage))
    measures = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "every other figure of the period: closed, waitlisted, withdrawn, "
                       "referrals accepted and rejected, outcomes confirmed by the firm..."})


class ObjectiveLine(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    partner = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "a partner's id, or \"network\" for the whole partnership's"})
    measure = fields.String(required=True, validate=validate.OneOf(list(OBJECTIVE_MEASURES)))
    target = fields.Integer(required=True, validate=validate.Range(min=1))


class ObjectivesRequest(Schema):
    objectives = fields.List(fields.Nested(ObjectiveLine), required=True,
                             validate=validate.Length(min=1, max=1000))


class ObjectiveOut(ObjectiveLine):
    actual = fields.Integer()
    share_of_target = fields.Float(allow_none=True)
    elapsed_share_of_year = fields.Float()
    forecast = fields.Integer(allow_none=True, metadata={
        "description": "the actual at the year's end at the pace so far"})
    on_track = fields.Boolean(metadata={"description": "the forecast meets the target"})


class YearQuery(Schema):
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100),
                          metadata={"description": "default: this year"})


ObjectivesOut = parcours_http.listing("ObjectivesOut", "objectives", ObjectiveOut,
                                      year=fields.Integer())


class ResponsivenessQuery(Schema):
    quarter = fields.String(load_default=None, validate=QUARTER,
                            metadata={"description": "default: this quarter"})
    by = fields.String(load_default="partner", validate=validate.OneOf(["partner", "region"]))


class QuarterShares(Schema):
    quarter = fields.String()
    referred = fields.Integer()
    within_3_working_days = fields.Float(allow_none=True)
    within_5_working_days = fields.Float(allow_none=True)


class ResponsivenessLine(Schema):
    current = fields.Nested(QuarterShares)
    previous_quarter = fields.Nested(QuarterShares)
    a_year_before = fields.Nested(QuarterShares)


class ResponsivenessByValue(ResponsivenessLine):
    value = fields.String()


class ResponsivenessOut(Schema):
    by = fields.String()
    network = fields.Nested(ResponsivenessLine)
    lines = fields.List(fields.Nested(ResponsivenessByValue))


class PeriodQuery(Schema):
    from_quarter = fields.String(load_default=None, data_key="from", validate=QUARTER)
    to_quarter = fields.String(load_default=None, data_key="to", validate=QUARTER)


class AttentionFlag(Schema):
    partner = fields.String()
    flag = fields.String(metadata={"description": "referrals_rejected, "
                                                 "diagnosed_rarely_offered, "
                                                 "outcomes_unconfirmed, low_satisfaction"})
    value = fields.Float()
    threshold = fields.Float()
    figures = fields.Dict(keys=fields.String(), values=fields.Integer())


AttentionOut = parcours_http.listing("AttentionOut", "flags", AttentionFlag)


class CampaignRequests(Schema):
    campaign = fields.String(allow_none=True, metadata={"description": "None: no campaign named"})
    requests = fields.Integer()


class SourceRequests(Schema):
    source = fields.String(allow_none=True, metadata={
        "description": "the partner whose site embedded the form; None: the network's page"})
    requests = fields.Integer()
    campaigns = fields.List(fields.Nested(CampaignRequests))


class RequestsOut(Schema):
    from_quarter = fields.String(data_key="from", allow_none=True)
    to_quarter = fields.String(data_key="to", allow_none=True)
    total = fields.Integer(metadata={"description": "every request of the network"})
    sources = fields.List(fields.Nested(SourceRequests))


class QuarterlyQuery(Schema):
    quarter = fields.String(load_default=None, validate=QUARTER,
                            metadata={"description": "default: the last quarter ended"})
    format = fields.String(load_default="html", validate=validate.OneOf(["html", "pdf", "csv"]))


class RebuildOut(Schema):
    id = fields.String()
    started_at = UtcDateTime()
    total = fields.Integer(metadata={"description": "events kept when it started"})
    done = fields.Integer(metadata={"description": "events replayed so far"})
    progress = fields.Method("_progress", metadata={"description": "from 0 to 1"})
    finished_at = UtcDateTime(allow_none=True)

    def _progress(self, rebuild):
        return 1.0 if rebuild["finished_at"] else round(
            rebuild["done"] / rebuild["total"], 4) if rebuild["total"] else 0.0


rebuild_out = RebuildOut()


class RecoveredEvents(Schema):
    events = fields.List(fields.Dict(), required=True, validate=validate.Length(max=5000),
                         metadata={"description": "envelopes as the publishers published them"})


class RecoveredOut(Schema):
    read = fields.Integer(metadata={"description": "events of the types reporting consumes"})
    applied = fields.Integer(metadata={"description": "those it had never applied"})


# The mixin is reached through its module so that `nameko run <name>.service` finds only
# this class in the module (it runs every class with entrypoints it finds).
class ReportingService(parcours_http.OperationalEndpoints, parcours_operations.DeadLetterEndpoints,
                       parcours_directory.DirectoryCopy, parcours_web_session.SignIn):
    name = "reporting"

    db = Database(store.metadata, MIGRATIONS, publishes=False)
    directory = store.directory
    jobs = BackgroundJobs()  # a rebuild goes on after its request answered
    http_errors = {handlers.RebuildRunning: 409, handlers.RebuildNotFound: 404,
                   ObjectiveRefused: 400, OutOfScope: 403, handlers.UnusableEvents: 400}

    @inbox_handler(*CONSUMED_EVENT_TYPES)
    def on_pathway_event(self, uow, events):
        handlers.record_events(uow, events)

    @api("POST", "/objectives", roles=("steering", "admin"), body=ObjectivesRequest,
         returns=ObjectivesOut)
    def set_objectives(self, request):
        """Set partners' yearly targets (a target set again replaces the one before):
        ``partner`` "network" for the whole partnership's commitment."""
        with self.db.transaction(request.caller) as uow:
            objectives = handlers.set_objectives(uow, request.command["objectives"])
        return {"objectives": [vars(objective) for objective in objectives],
                "year": objectives[0].year}

    @api("GET", "/objectives", roles=STEERING, query=YearQuery, returns=ObjectivesOut)
    def objectives(self, request):
        """Each partner's objectives for the year (yours and the network's, unless you are the
        steering committee) against the actual, with the forecast at the current pace."""
        now = utc_now()
        year = request.query["year"] or now.year
        with self.db.reading() as session:
            lines = handlers.objectives_against_actual(session, year, request.caller, now)
        return {"year": year, "objectives": lines}

    @api("GET", "/responsiveness", roles=STEERING, query=ResponsivenessQuery,
         returns=ResponsivenessOut)
    def responsiveness(self, request):
        """The share of referred firms taken in charge within 3 and within 5 working days
        (French public holidays excluded), per partner or region, with the quarter before and
        the same quarter a year before."""
        quarter = request.query["quarter"] or quarter_of(utc_now())
        by = request.query["by"]
        with self.db.reading() as session:
            found = handlers.responsiveness_by(session, by, quarter, request.caller,
                                               self.directory.partner(session,
                                                                      request.caller.partner))
        return {"by": by, "network": found["network"], "lines": found["by"]}

    @api("GET", "/attention", roles=STEERING, query=PeriodQuery, returns=AttentionOut)
    def attention(self, request):
        """Partners needing attention over the period, each flag with the figures behind it
        (thresholds: PARCOURS_ATTENTION)."""
        query = request.query
        with self.db.reading() as session:
            flags = handlers.attention(session, request.caller, self.attention_thresholds,
                                       query["from_quarter"], query["to_quarter"])
        return {"flags": flags}

    @api("GET", "/requests", roles=STEERING, query=PeriodQuery, returns=RequestsOut)
    def requests_by_source(self, request):
        """The firms' own requests from the public page, by the partner whose site embedded it
        and its campaign (a partner sees its own, and the network's total)."""
        query = request.query
        with self.db.reading() as session:
            found = handlers.requests_by_source(session, request.caller, query["from_quarter"],
                                                query["to_quarter"])
        return RequestsOut().dump(dict(found, from_quarter=query["from_quarter"],
                                       to_quarter=query["to_quarter"]))

    @property
    def attention_thresholds(self):
        configured = self.config.get("PARCOURS_ATTENTION") or {}
        return {name: float(configured.get(name, default))
                for name, default in DEFAULT_THRESHOLDS.items()}

    @api("GET", "/reports/quarterly", roles=("steering",), query=QuarterlyQuery,
         returns={200: ("text/html", "application/pdf", "text/csv")})
    def quarterly_report(self, request):
        """The steering committee's quarterly report: ``format`` html (prints well, with its
        charts), pdf or csv (one row per figure)."""
        query = request.query
        quarter = query["quarter"] or previous_quarters(quarter_of(utc_now()), 2)[0]
        with self.db.reading() as session:
            report = handlers.quarterly_report(
                session, quarter, request.caller,
                self.directory.partner(session, request.caller.partner),
                self.attention_thresholds, utc_now())
        content_type, render = quarterly.FORMATS[query["format"]]
        return Response(render(report), status=200, content_type=content_type, headers={
            "Content-Disposition": 'inline; filename="parcours-{}.{}"'.format(
                quarter, query["format"])})

    @api("POST", "/operations/rebuild", roles=OPERATOR, returns={202: RebuildOut})
    def rebuild(self, request):
        """Drop the figures and rebuild them from the events reporting kept, in the
        background: GET /operations/rebuild says how far it is."""
        with self.db.transaction(request.caller) as uow:
            rebuild = handlers.start_rebuild(uow)
        self._run_rebuild(rebuild)
        return 202, rebuild_out.dump(rebuild)

    @api("POST", "/operations/recovered-events", roles=OPERATOR, body=RecoveredEvents,
         returns=RecoveredOut)
    def recover_events(self, request):
        """Events read back from the publishers' outboxes (``GET /operations/outbox`` on each):
        those reporting never applied are applied now, once; then a rebuild gives the figures
        of everything the publishers said."""
        with self.db.transaction(request.caller) as uow:
            read, applied = handlers.recover_events(uow, store.inbox,
                                                    request.command["events"])
        return {"read": read, "applied": applied}

    @api("GET", "/operations/rebuild", roles=OPERATOR + STEERING, returns=RebuildOut)
    def rebuild_progress(self, request):
        """The latest rebuild: events replayed of those kept, and whether it finished."""
        with self.db.reading() as session:
            return rebuild_out.dump(handlers.rebuild_progress(session))

    @timer(interval=REBUILD_CHECK_SECONDS, eager=True)
    def resume_rebuild(self):
        """A rebuild cut off by a restart goes on where it stopped."""
        with self.db.reading() as session:
            rebuild = handlers.unfinished_rebuild(session)
        if rebuild is not None and rebuild["id"] not in _rebuilding:
            self._run_rebuild(rebuild)

    def _run_rebuild(self, rebuild):
        _rebuilding.add(rebuild["id"])

        def run():
            try:
                handlers.continue_rebuild(self.db.transaction, rebuild)
            finally:
                _rebuilding.discard(rebuild["id"])
        self.jobs(run)

    @api("GET", "/audit", roles=tuple(ROLES), query=AuditQuery, returns=AuditOut)
    def case_timeline(self, request):
        """The case's whole timeline across the network: every service's changes to it, with
        who acted (each service's own /audit has its part)."""
        subject = request.query["subject"]
        with self.db.reading() as session:
            return {"subject": subject, "changes": handlers.timeline_of_case(session, subject)}

    @api("GET", "/dashboard", roles=STEERING, page=True, returns="text/html")
    def dashboard(self, request):
        """The steering committee's page (people sign in to see it): the funnel, objectives
        against actual, responsiveness, the quarters' trend and the partners needing
        attention; it updates itself as events arrive."""
        caller = request.caller
        return Response(pages.dashboard(self._dashboard_data(caller),
                                        caller.person or caller.subject, caller.partner),
                        status=200, content_type="text/html; charset=utf-8")

    @api("GET", "/dashboard/data", roles=STEERING, page=True, returns={200: None})
    def dashboard_data(self, request):
        """The dashboard's figures, for its script to redraw it."""
        return self._dashboard_data(request.caller)

    @api("GET", "/dashboard/assets/<asset>", public=True, returns="text/javascript")
    def dashboard_asset(self, request, asset):
        """The dashboard's script, and Chart.js (from the npm registry, served from here)."""
        path = pages.asset_path(self.config, asset)
        if path is None:
            return 404, {"error": "not_found", "message": "no such file; the page is "
                         "/dashboard"}
        return parcours_http.installed_file(
            path, pages.ASSETS[asset], 3600, "the dashboard's {} is not installed at {}: run "
            "make setup, or set PARCOURS_DASHBOARD_ASSETS".format(asset, path))

    def _dashboard_data(self, caller):
        with self.db.reading() as session:
            return handlers.dashboard_data(session, caller, self.directory.partner(
                session, caller.partner), self.attention_thresholds, utc_now())

    @api("GET", "/funnel", roles=STEERING, query=FunnelQuery, returns=FunnelOut)
    def funnel(self, request):
        """How many cases reached each stage of the pathway, with the conversion from one stage
        to the next and the median days between them: overall or filtered (region, sector,
        partner...), over all time or the quarters from ``from`` to ``to``."""
        query = request.query
        grouping, value = grouping_of(query)
        with self.db.reading() as session:
            check_may_read(request.caller, self.directory.partner(
                session, request.caller.partner), grouping, value)
            stages, counts = handlers.pathway_funnel(
                session, grouping, value, query["from_quarter"], query["to_quarter"])
        return {"region_code": query["region_code"], "grouping": grouping, "value": value,
                "from": query["from_quarter"], "to": query["to_quarter"],
                "stages": stages,
                "measures": {name: amount for name, amount in sorted(counts.items())
                             if name not in STAGES}}

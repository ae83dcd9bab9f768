"""HTTP for every service: JSON in and out, errors mapped to status codes in one place.

Entrypoints return a dict (200) or ``(status, dict)``. What goes wrong reaches the client as a
JSON body saying what to fix:

    400 {"error": "invalid_input", "message": "...", "fields": {"siren": ["..."]}}
    404 {"error": "not_found", "reason": "case_not_found", "message": "no case with id ..."}

The use cases raise their service's domain errors (``parcours_shared.domain.DomainError``) and
know nothing of HTTP: each service class maps them to statuses in one table, ``http_errors``
(``{CaseNotFound: 404, ...}``), applied here; ``reason`` is the error's name.

Each entrypoint says who may call it, beside its route: ``@api("POST", "/cases",
roles=("advisor",))`` (any of those roles), or ``public=True`` (health, metrics, API
documents). The caller's bearer token is checked before the entrypoint runs
(parcours_shared.identity), and the entrypoint finds it as ``request.caller``:

    401 {"error": "unauthenticated", "message": "the token has expired: get a new one"}
        with WWW-Authenticate: Bearer realm="intake", error="invalid_token", ...
    403 {"error": "forbidden", "reason": "missing_role", "needed_roles": ["advisor"], ...}
"""
import functools
import json
import logging
import os
import time
from datetime import timezone
from urllib.parse import urlencode

from kombu import Connection
from marshmallow import Schema, ValidationError, fields, validate
from nameko.dependency_providers import Config
from nameko.exceptions import BadRequest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from .checkout import checkout_path
from .domain import DomainError, NotYours
from .engine import DATABASE_UNAVAILABLE
from .identity import (
    ROLES, IssuerUnreachable, MissingRole, TokenVerifier, Unauthenticated, authenticate_header,
)
from .json_input import MAX_BODY_BYTES, MAX_URL_LENGTH, parse_json_body, values_problems
from .metrics import HTTP_REQUESTS, HTTP_SECONDS, render_metrics

log = logging.getLogger(__name__)


EXPECTED_ERRORS = (DomainError, ValidationError, BadRequest)
# the ``error`` of a body by status (``reason`` is the domain's own word)
ERROR_CODES = {400: "invalid_input", 403: "forbidden", 404: "not_found", 409: "conflict",
               422: "refused"}
# what every service's domain errors are, unless its own table says otherwise
DEFAULT_HTTP_ERRORS = {NotYours: 403}


def json_response(status, payload, headers=None):
    return Response(json.dumps(payload, default=str), status=status,
                    mimetype="application/json", headers=headers)


def error_reason(error_class):
    """``CaseNotFound`` -> ``case_not_found``."""
    name = error_class.__name__
    return "".join("_" + c.lower() if c.isupper() and i else c.lower()
                   for i, c in enumerate(name))


def domain_error_status(exc, http_errors):
    """The status the service's table gives this error (the nearest class in its ancestry)."""
    table = {**DEFAULT_HTTP_ERRORS, **http_errors}
    for error_class in type(exc).__mro__:
        if error_class in table:
            return table[error_class]
    log.warning("%s is missing from the service's http_errors: answering 400", type(exc).__name__)
    return 400


def error_body(exc, http_errors=None):
    if isinstance(exc, DomainError):
        status = domain_error_status(exc, http_errors or {})
        body = {"error": ERROR_CODES.get(status, "refused"), "reason": error_reason(type(exc)),
                "message": exc.message}
        if exc.fields:
            body["fields"] = exc.fields
        return status, body
    if isinstance(exc, ValidationError):
        return 400, {"error": "invalid_input",
                     "message": "the request has invalid fields; see 'fields'",
                     "fields": exc.messages}
    if isinstance(exc, BadRequest):
        return 400, {"error": "bad_request", "message": str(exc)}
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return 503, {"error": "unavailable",
                     "message": "the service's database is unreachable; retry shortly"}
    if isinstance(exc, HTTPException):
        return exc.code, {"error": exc.name.lower().replace(" ", "_"), "message": exc.description}
    return 500, {"error": "internal",
                 "message": "unexpected error; the service log has the details"}


class JsonProtocol(HttpOnlyProtocol):
    """eventlet's HTTP protocol, answering what it refuses itself in JSON: a malformed request
    line (``send_error``, HTML otherwise) and the refusals it writes as raw bytes with no body
    (a request line over 8 KiB, headers too long, a bad Content-Length)."""

    def setup(self):
        super().setup()
        self.wfile = _JsonRefusals(self.wfile)

    def send_error(self, code, message=None, explain=None):
        body = json.dumps({"error": "bad_request" if code == 400 else "http_{}".format(code),
                           "message": message or explain or "the request cannot be read"})
        self.send_response(code, message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body.encode())


_REFUSAL_HINTS = {
    "Request URI Too Long": "the URL is too long; send long input in a JSON body",
    "Header Line Too Long": "a header is too long",
    "Headers Too Large": "the headers are too large",
}


class _JsonRefusals:
    """The connection's output, with eventlet's bodiless refusals given a JSON body."""

    def __init__(self, wfile):
        self._wfile = wfile

    def write(self, data):
        if data.startswith(b"HTTP/1.0 4") and data.lower().endswith(
                b"content-length: 0\r\n\r\n"):
            status_line = data.split(b"\r\n", 1)[0].decode("latin-1")
            _, code, reason = status_line.split(" ", 2)
            body = json.dumps({"error": "http_{}".format(code), "message": "{}: {}".format(
                reason, _REFUSAL_HINTS.get(reason, "the request cannot be read"))}).encode()
            data = ("HTTP/1.0 {} {}\r\nConnection: close\r\nContent-Type: application/json\r\n"
                    "Content-Length: {}\r\n\r\n".format(code, reason, len(body))).encode() + body
        return self._wfile.write(data)

    def __getattr__(self, name):
        return getattr(self._wfile, name)


class JsonWsgiApp(WsgiApp):
    """nameko's WSGI app, answering in JSON what no entrypoint handles: an unknown route, a
    method a route does not take, an over-long URL, and (never expected) an error outside an
    entrypoint."""

    def __call__(self, environ, start_response):
        url_length = len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", ""))
        if url_length > MAX_URL_LENGTH:
            response = json_response(414, {
                "error": "uri_too_long", "message": "the URL is {} characters long; at most {} "
                "are accepted: send long input in a JSON body".format(url_length, MAX_URL_LENGTH)})
            return response(environ, start_response)
        request = Request(environ, shallow=True)  # shallow: as nameko's own WsgiApp
        try:
            provider, values = self.url_map.bind_to_environ(environ).match()
            request.path_values = values
            response = provider.handle_request(request)
        except RequestRedirect as redirect:  # a trailing slash too many or too few
            response = json_response(redirect.code, {
                "error": "moved", "message": "this resource is at {}".format(redirect.new_url)},
                headers={"Location": redirect.new_url})
        except MethodNotAllowed as exc:
            response = json_response(405, {
                "error": "method_not_allowed", "message": "{} takes {}, not {}".format(
                    request.path, " or ".join(exc.valid_methods), request.method)},
                headers={"Allow": ", ".join(exc.valid_methods)})
        except NotFound:
            response = json_response(404, {
                "error": "not_found", "reason": "no_such_route",
                "message": "no route {} {}; the routes are in README's 'Who may do what'".format(
                    request.method, request.path)})
        except Exception as exc:
            if not isinstance(exc, HTTPException):
                log.error("%s %s failed outside any entrypoint: %r", request.method,
                          request.path, exc)
            response = json_response(*error_body(exc))
        return response(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=JsonProtocol, debug=False):
        return super().get_wsgi_server(sock, wsgi_app, protocol=protocol, debug=debug)


class JsonHttpHandler(HttpRequestHandler):
    """nameko's ``http`` entrypoint, speaking JSON, checking who calls and counting requests."""

    server = JsonWebServer()

    def __init__(self, method, url, roles=(), public=False, body=None, query=None,
                 returns=None, page=False, html=False, expected_exceptions=EXPECTED_ERRORS,
                 **kwargs):
        """``body`` and ``query``: the marshmallow schemas (classes) of the request's JSON body
        and query string, loaded before the entrypoint runs (``request.command``,
        ``request.query``; invalid: 400); ``returns``: ``{status: schema class or None}`` of
        its answers (or one schema, for 200). All three make its OpenAPI description.
        ``page``: a web page for people, who are signed in by a session cookie
        (parcours_shared.web_session) instead of a bearer token, and sent to sign in without
        one. ``html``: it answers pages, its refusals included (a page always does)."""
        if bool(roles) == bool(public):
            raise TypeError("{} {}: say who may call it, roles=(...) or public=True".format(
                method, url))
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise TypeError("{} {}: unknown roles {}; the roles are {}".format(
                method, url, sorted(unknown), ", ".join(ROLES)))
        self.roles, self.public = tuple(roles), public
        self.body, self.query, self.page, self.html = body, query, page, page or html
        self.returns = returns if isinstance(returns, dict) else {200: returns}
        super().__init__(method, url, expected_exceptions=expected_exceptions, **kwargs)

    def setup(self):
        super().setup()
        if not self.public:
            self.verifier = _verifier(self.container.config, self.container.service_name)
        # a service that knows the directory refuses the tokens of people who left
        self.departures = getattr(self.container.service_cls, "person_has_left", None)
        if self.departures is not None:
            from .db import Database
            self.database = next(dependency for dependency in self.container.dependencies
                                 if isinstance(dependency, Database))

    def handle_request(self, request):
        started = time.monotonic()
        try:
            request.caller = None if self.public else self._caller(request)
        except (Unauthenticated, MissingRole, IssuerUnreachable) as refused:
            response = self._refusal(refused, request)
        else:
            try:
                self._load_input(request)
            except (ValidationError, HTTPException) as invalid:
                response = self.response_from_exception(invalid)
            else:
                response = super().handle_request(request)
        service = self.container.service_name
        HTTP_REQUESTS.labels(service, request.method, self.url, str(response.status_code)).inc()
        HTTP_SECONDS.labels(service, request.method, self.url).observe(
            time.monotonic() - started)
        return response

    def _load_input(self, request):
        request.shallow = False  # nameko's own handler does this, after us: the body is read here
        problems = values_problems(request.path_values)
        if problems:  # an id with a NUL byte would reach the database
            raise ValidationError(problems)
        request.command = read_json(request, self.body()) if self.body else None
        request.query = query_args(request, self.query()) if self.query else None

    def _caller(self, request):
        if self.page:
            from .web_session import SESSION_COOKIE
            session = request.cookies.get(SESSION_COOKIE)
            caller = self.verifier.caller("Bearer " + session if session else None)
        else:
            caller = self.verifier.caller(request.headers.get("Authorization"))
        if caller.person and self.departures is not None and self._has_left(caller.person):
            raise Unauthenticated("{} has left {}: their tokens are refused".format(
                caller.person, caller.partner))
        if not caller.has_any_role(self.roles):
            raise MissingRole(self.roles)
        return caller

    def _has_left(self, person_id):
        from sqlalchemy.orm import Session
        with Session(self.database.engine) as session:
            return self.departures(session, person_id)

    def _refusal(self, refused, request=None):
        if self.page and isinstance(refused, Unauthenticated):  # a person: sign in, come back
            return Response(status=303, headers={"Location": "/login?" + urlencode(
                {"next": request.full_path.rstrip("?")})})
        if self.page and isinstance(refused, MissingRole):
            return Response("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                            "<title>Not for your role</title></head><body><h1>Not for your "
                            "role</h1><p>{}. <a href=\"/logout\">Sign in as someone else"
                            "</a>.</p></body></html>".format(refused.message), status=403,
                            content_type="text/html; charset=utf-8")
        if isinstance(refused, Unauthenticated):
            return json_response(401, {"error": "unauthenticated", "message": refused.message},
                                 headers={"WWW-Authenticate": authenticate_header(
                                     refused, self.container.service_name)})
        if isinstance(refused, MissingRole):
            return json_response(403, {"error": "forbidden", "reason": "missing_role",
                                       "message": refused.message,
                                       "needed_roles": list(refused.needed)})
        log.error("%s %s: %s", self.method, self.url, refused)
        return json_response(503, {"error": "unavailable", "message": "{}; retry shortly".format(
            refused)})

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (200, result)
        return json_response(status, payload)

    def response_from_exception(self, exc):
        status, body = error_body(exc, getattr(self.container.service_cls, "http_errors", None))
        if status >= 500:
            log.error("%s %s failed: %r", self.method, self.url, exc)
        return json_response(status, body)


api = JsonHttpHandler.decorator


def http_entrypoints_with_extensions(service_cls):
    """``(method, url, roles, public, method name, entrypoint)`` of each HTTP entrypoint of a
    service class, in route order (the README's "Who may do what", the OpenAPI document)."""
    found = []
    for attribute in dir(service_cls):
        for extension in getattr(getattr(service_cls, attribute), ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(extension, JsonHttpHandler):
                found.append((extension.method, extension.url, extension.roles,
                              extension.public, attribute, extension))
    return sorted(found, key=lambda entry: (entry[1], entry[0]))


def http_entrypoints(service_cls):
    """``(method, url, roles, public, method name)`` of each HTTP entrypoint."""
    return [entry[:5] for entry in http_entrypoints_with_extensions(service_cls)]


@functools.lru_cache(maxsize=None)
def _verifier_for(issuer, jwks, audience):
    return TokenVerifier(issuer, jwks, audience)


def _verifier(config, service_name):
    """One verifier per issuer, keys and audience, shared by a service's entrypoints (it caches
    the issuer's keys)."""
    return _verifier_for(config.get("PARCOURS_TOKEN_ISSUER"), config.get("PARCOURS_JWKS"),
                         config.get("PARCOURS_TOKEN_AUDIENCE") or service_name)


def read_json(request, schema):
    """Parse the request body as JSON, check it (parcours_shared.json_input) and load it with
    ``schema`` (raises ValidationError; a body over the size limit, RequestEntityTooLarge)."""
    request.max_content_length = MAX_BODY_BYTES
    document = parse_json_body(request.get_data(as_text=True))
    if not isinstance(document, dict):
        raise ValidationError({"_body": ["the body must be a JSON object"]})
    return schema.load(document)


def repeated_entries(values, what):
    """Field errors for the entries of a list that repeat an earlier one, keyed by index as
    marshmallow keys a list's errors: ``{3: ["repeats entry 0: ..."]}`` ({} if none repeat)."""
    first, errors = {}, {}
    for index, value in enumerate(values):
        if value in first:
            errors[index] = ["repeats entry {}: each {} once per request".format(
                first[value], what)]
        else:
            first[value] = index
    return errors


def Count(**kwargs):
    """A whole number in a JSON body: 3, not 3.0 nor "3" (a query string's are text: use
    ``fields.Integer`` there)."""
    return fields.Integer(strict=True, **kwargs)


class UtcDateTime(fields.DateTime):
    """A time in an answer, always with its offset: SQLite gives back the UTC times it stored
    without one."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


def listing(name, key, item_schema, **more_fields):
    """The schema of an answer listing items: ``{key: [item, ...], **more_fields}``."""
    return Schema.from_dict(dict({key: fields.List(fields.Nested(item_schema))}, **more_fields),
                            name=name)


class PageQuery(Schema):
    """``?limit=&offset=`` of every list endpoint."""
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10 ** 9))


def query_args(request, schema):
    values = request.args.to_dict()
    problems = values_problems(values)
    if problems:
        raise ValidationError(problems)
    return schema.load(values)


def ping_broker(amqp_uri, timeout=3):
    with Connection(amqp_uri, connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout)


class Liveness(Schema):
    status = fields.String(required=True)
    service = fields.String(required=True)


class Readiness(Liveness):
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parcours {service} API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="docs"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "/openapi.json", dom_id: "#docs"}});</script></body></html>
"""
DOCS_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}


def api_docs_assets_folder(config):
    """Swagger UI's files: ``PARCOURS_API_DOCS_ASSETS``, or this checkout's tools/api-docs."""
    return config.get("PARCOURS_API_DOCS_ASSETS") or checkout_path(
        "tools", "api-docs", "node_modules", "swagger-ui-dist")


class OperationalEndpoints:
    """Health, metrics and the API documents, the same on every service (mixed into each
    nameko service class).

    ``/health/live``: the process answers (liveness). ``/health``: the database and the broker
    are reachable (readiness): 503 says which one is not.
    """

    config = Config()

    @api("GET", "/health/live", public=True, returns=Liveness)
    def health_live(self, request):
        """The process answers (liveness)."""
        return {"status": "alive", "service": self.name}

    @api("GET", "/health", public=True, returns={200: Readiness, 503: Readiness})
    def health(self, request):
        """The database and the broker are reachable (readiness); 503 says which is not."""
        checks = {
            "database": _check(self.db.ping),
            "broker": _check(lambda: ping_broker(self.config["AMQP_URI"])),
        }
        healthy = all(result == "ok" for result in checks.values())
        return (200 if healthy else 503), {
            "status": "ok" if healthy else "unavailable", "service": self.name, "checks": checks}

    @api("GET", "/metrics", public=True, returns="text/plain")
    def metrics(self, request):
        """Prometheus metrics (prefix parcours_)."""
        business_gauges = getattr(self, "update_business_gauges", None)
        if business_gauges is not None:
            business_gauges()  # counted at scrape time: what the database says now
        body, content_type = render_metrics()
        return Response(body, status=200, content_type=content_type)

    @api("GET", "/asyncapi.json", public=True)
    def asyncapi_document(self, request):
        """This service's part of the network's AsyncAPI document: what it publishes and what
        it consumes (the whole network's is docs/events/asyncapi.yaml)."""
        return service_asyncapi_document(type(self))

    @api("GET", "/openapi.json", public=True)
    def openapi_document(self, request):
        """This service's OpenAPI 3.1 document: its routes, bodies, answers and roles."""
        from .openapi import openapi_document
        return openapi_document(type(self))

    @api("GET", "/docs", public=True, returns="text/html")
    def api_docs_page(self, request):
        """The OpenAPI document as a page (Swagger UI, served from here: no CDN)."""
        return Response(DOCS_PAGE.format(service=self.name), status=200,
                        content_type="text/html; charset=utf-8")

    @api("GET", "/docs/<asset>", public=True, returns="text/plain")
    def api_docs_asset(self, request, asset):
        """Swagger UI's script and style sheet."""
        if asset not in DOCS_ASSETS:
            return 404, {"error": "not_found", "message": "no such file; the page is /docs"}
        folder = api_docs_assets_folder(self.config)
        return installed_file(
            os.path.join(folder or "", asset), DOCS_ASSETS[asset], 86400,
            "Swagger UI's files are not installed{}: run make setup, or set "
            "PARCOURS_API_DOCS_ASSETS".format(" at " + folder if folder else ""))


def installed_file(path, content_type, max_age, missing):
    """A file a page loads (from the npm registry, installed by make setup), or a 503 saying
    ``missing``: how to install it."""
    try:
        with open(path, "rb") as served:
            content = served.read()
    except OSError:
        return 503, {"error": "unavailable", "message": missing}
    return Response(content, status=200, content_type=content_type,
                    headers={"Cache-Control": "max-age={}".format(max_age)})


@functools.lru_cache(maxsize=None)
def service_asyncapi_document(service_cls):
    from .contracts import asyncapi
    from .topology import subscriptions  # it reads the inbox handlers: import once they exist
    return asyncapi.document(subscriptions([service_cls]), services={service_cls.name})


def _check(probe):
    try:
        probe()
    except Exception as exc:
        return "failing: {}".format(exc)
    return "ok"

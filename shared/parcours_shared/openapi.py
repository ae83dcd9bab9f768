"""Each service's OpenAPI 3.1 document, generated from its entrypoints (apispec): the routes,
the marshmallow schemas each declares for its body, query and answers, who may call it (its
roles, and the bearer-token security scheme), and the error bodies every route may answer.

Served at ``GET /openapi.json``, shown at ``GET /docs`` (Swagger UI, from the npm registry's
``swagger-ui-dist``, served by the service itself: no CDN), and fuzzed by schemathesis in
``make test`` (tests/test_openapi.py).
"""
import functools
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from .contracts import ROLES

OPENAPI_VERSION = "3.1.0"
PATH_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


class ErrorBody(Schema):
    """What every refusal answers: a code, a message saying what to do, and the fields at
    fault."""
    error = fields.String(required=True, metadata={"description": "the kind of refusal"})
    message = fields.String(required=True)
    reason = fields.String(metadata={"description": "the domain's own word for it"})
    fields_ = fields.Dict(data_key="fields",
                          metadata={"description": "what is wrong with each field"})
    needed_roles = fields.List(fields.String(), metadata={"description": "on a 403"})


def _error(description, html=False):
    if html:  # a page's refusals are pages
        return {"description": description,
                "content": {"text/html": {"schema": {"type": "string"}}}}
    return {"description": description,
            "content": {"application/json": {"schema": "ErrorBody"}}}


def _schema_name(schema):
    name = schema.__name__ if isinstance(schema, type) else type(schema).__name__
    return name[:-len("Schema")] if name.endswith("Schema") and name != "Schema" else name


def _operation(service_cls, entry):
    method, url, roles, public, attribute, extension = entry
    doc = (getattr(service_cls, attribute).__doc__ or "").strip()
    summary = doc.split("\n\n")[0].replace("\n", " ") if doc else attribute.replace("_", " ")
    operation = {"operationId": attribute, "summary": summary, "responses": {}}
    parameters = [{"in": "path", "name": name, "required": True,
                   "schema": {"type": "string", "minLength": 1}}
                  for name in PATH_PARAMETER.findall(url)]
    if extension.query is not None:
        parameters.append({"in": "query", "schema": extension.query})
    if parameters:
        operation["parameters"] = parameters
    if extension.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": extension.body}}}
    responses = operation["responses"]
    html = extension.html
    error = functools.partial(_error, html=html)
    responses["400"] = _error("invalid input: `fields` says what to fix")
    if public:
        operation["security"] = []
    else:
        operation["security"] = [{"bearer": []}]
        operation["x-parcours-roles"] = list(roles)
        operation["description"] = "Roles: {} (any of).".format(", ".join(roles))
        if extension.page:
            operation["security"] = [{"session": []}]
            responses["303"] = {"description": "not signed in: to /login, and back"}
        else:
            responses["401"] = _error("no valid bearer token (see WWW-Authenticate)")
        responses["403"] = error("the caller lacks the role, or the resource is another "
                                 "partner's")
    if parameters or extension.body is not None:
        responses["404"] = _error("no such resource")
        responses["409"] = _error("the resource's state does not allow it")
    if extension.body is not None:
        responses["413"] = _error("the body is over the size limit")
    responses["414"] = _error("the URL is too long")
    responses["503"] = error("the service's database or the token issuer is unreachable")
    for status, schema in extension.returns.items():
        answer = {"description": "OK" if status == 200 else "created" if status == 201
                  else "done" if status < 300 else "refused"}
        if 300 <= status < 400:  # a redirect: where to is in its Location header
            answer["description"] = "see Location"
        elif isinstance(schema, (str, tuple)):  # content types of its own (metrics, a page)
            answer["content"] = {content_type: {"schema": {"type": "string"}} for content_type
                                 in ((schema,) if isinstance(schema, str) else schema)}
        else:
            answer["content"] = {"application/json": {"schema": schema or {"type": "object"}}}
        refusal = responses.get(str(status))
        if refusal is not None:  # a page's own refusal (a form's errors), beside the JSON one
            answer = dict(refusal, content=dict(refusal.get("content", {}),
                                                **answer.get("content", {})))
        responses[str(status)] = answer
    return method.lower(), PATH_PARAMETER.sub(r"{\1}", url), operation


@functools.lru_cache(maxsize=None)
def openapi_document(service_cls):
    from .http import http_entrypoints_with_extensions
    spec = APISpec(
        title="Parcours {} API".format(service_cls.name), version="1",
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": (service_cls.__doc__ or "").strip()})
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "An access token of the network's issuer, for audience {!r}, naming "
                       "the partner, the person and the roles ({}).".format(
                           service_cls.name, ", ".join(ROLES))})
    spec.components.security_scheme("session", {
        "type": "apiKey", "in": "cookie", "name": "parcours_session",
        "description": "People on the web pages: signed in at /login (OpenID Connect, code "
                       "flow with PKCE) through the same issuer."})
    spec.components.schema("ErrorBody", schema=ErrorBody)
    paths = {}
    for entry in http_entrypoints_with_extensions(service_cls):
        method, path, operation = _operation(service_cls, entry)
        paths.setdefault(path, {})[method] = operation
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()

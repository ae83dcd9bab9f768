"""The development issuer as an OpenID Connect provider, for people signing in to the web pages.

`make run` serves it at http://127.0.0.1:8090 (``parcours issuer serve``). It implements the
authorization-code flow with PKCE (S256), the one a real provider such as Keycloak offers:

    GET  /.well-known/openid-configuration   where everything is
    GET  /jwks.json                          the public keys (the services may read the file)
    GET  /authorize?response_type=code&client_id=&redirect_uri=&state=&code_challenge=
                   &code_challenge_method=S256   a sign-in page listing the demo people
    POST /authorize                          the person chosen: back to redirect_uri with a code
    POST /token                              the code and its verifier for an access token

There are no passwords: it is for a development network, where anyone may act as any demo
person. The people come from a JSON file (``people.json`` beside the keys, written by `make
run` from the demo directory): ``[{"person", "partner", "name", "roles"}]``. A client is a
service (``client_id`` its name, which becomes the token's audience) whose ``redirect_uri`` is
on this machine.
"""
import html
import json
import os
import secrets
import threading
import time
from urllib.parse import urlencode, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .http import json_response
from .web_session import pkce_challenge

CODE_LIFETIME = 60
LOCAL_HOSTS = ("127.0.0.1", "localhost")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to Parcours</title>
<style>body{{font-family:sans-serif;max-width:40rem;margin:2rem auto}}
button{{display:block;width:100%;text-align:left;margin:.3rem 0;padding:.6rem;font-size:1rem}}
</style></head><body>
<h1>Sign in to Parcours</h1>
<p>Development issuer: choose who you are. ({client} asks.)</p>
<form method="post" action="/authorize">{hidden}
{buttons}
</form></body></html>
"""


class IssuerApp:
    def __init__(self, issuer, people_path):
        self.issuer = issuer  # a DevIssuer: keys, and the identifier tokens carry
        self.people_path = people_path
        self._codes = {}
        self._lock = threading.Lock()

    def people(self):
        try:
            with open(self.people_path) as listed:
                return json.load(listed)
        except (OSError, ValueError):
            return []

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.route(request)
        except HTTPException as exc:
            response = _json(exc.code, {"error": "invalid_request", "error_description":
                                        exc.description})
        except ValueError as exc:
            response = _json(400, {"error": "invalid_request", "error_description": str(exc)})
        return response(environ, start_response)

    def route(self, request):
        path, method = request.path, request.method
        if path == "/.well-known/openid-configuration":
            base = self.issuer.issuer
            return _json(200, {
                "issuer": base, "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token", "jwks_uri": base + "/jwks.json",
                "response_types_supported": ["code"], "grant_types_supported":
                ["authorization_code"], "code_challenge_methods_supported": ["S256"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256"]})
        if path == "/jwks.json":
            return _json(200, self.issuer.public_keys())
        if path == "/authorize" and method == "GET":
            return self.sign_in_page(request.args)
        if path == "/authorize" and method == "POST":
            return self.authorize(request.form)
        if path == "/token" and method == "POST":
            return self.token(request.form)
        return _json(404, {"error": "not_found", "error_description": "no such endpoint"})

    def _checked(self, params):
        if params.get("response_type", "code") != "code":
            raise ValueError("only response_type=code")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise ValueError("PKCE is required: code_challenge with code_challenge_method=S256")
        client, redirect = params.get("client_id"), params.get("redirect_uri", "")
        if not client or urlsplit(redirect).hostname not in LOCAL_HOSTS:
            raise ValueError("client_id and a redirect_uri on this machine are required")
        return client, redirect

    def sign_in_page(self, params):
        client, _ = self._checked(params)
        hidden = "".join('<input type="hidden" name="{}" value="{}">'.format(
            name, html.escape(params.get(name, ""))) for name in (
            "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"))
        buttons = "\n".join(
            '<button name="person" value="{}">{} &mdash; {} ({})</button>'.format(
                html.escape(p["person"]), html.escape(p["name"]), html.escape(p["partner"]),
                html.escape(", ".join(p["roles"]))) for p in self.people())
        return Response(PAGE.format(client=html.escape(client), hidden=hidden,
                                    buttons=buttons or "<p>No demo people yet.</p>"),
                        content_type="text/html; charset=utf-8")

    def authorize(self, form):
        client, redirect = self._checked(form)
        person = next((p for p in self.people() if p["person"] == form.get("person")), None)
        if person is None:
            raise ValueError("no such person")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {"client": client, "redirect": redirect, "person": person,
                                 "challenge": form["code_challenge"],
                                 "expires": time.monotonic() + CODE_LIFETIME}
        query = urlencode({"code": code, "state": form.get("state", "")})
        return Response(status=303, headers={"Location": "{}{}{}".format(
            redirect, "&" if "?" in redirect else "?", query)})

    def token(self, form):
        if form.get("grant_type") != "authorization_code":
            raise ValueError("only grant_type=authorization_code")
        with self._lock:
            granted = self._codes.pop(form.get("code", ""), None)  # a code is used once
        if (granted is None or granted["expires"] < time.monotonic()
                or granted["client"] != form.get("client_id")
                or granted["redirect"] != form.get("redirect_uri")
                or pkce_challenge(form.get("code_verifier", "")) != granted["challenge"]):
            return _json(400, {"error": "invalid_grant", "error_description":
                               "unknown, expired or already used code, or a verifier, client "
                               "or redirect_uri that does not match"})
        person = granted["person"]
        access = self.issuer.token(person["partner"], person["roles"], granted["client"],
                                   person=person["person"])
        return _json(200, {"access_token": access, "token_type": "Bearer",
                           "expires_in": 3600, "id_token": access})


def _json(status, payload):
    return json_response(status, payload, headers={"Cache-Control": "no-store"})


def serve(issuer, port, people_path=None):
    from werkzeug.serving import run_simple
    people_path = people_path or os.path.join(issuer.folder, "people.json")
    issuer.public_keys()
    run_simple("127.0.0.1", port, IssuerApp(issuer, people_path), threaded=True)

"""People on a service's web pages: they sign in through the network's issuer, with OpenID
Connect's authorization-code flow and PKCE, and keep a session cookie.

A page entrypoint (``@api(..., page=True)``) takes its caller from the session cookie rather
than an ``Authorization`` header; without a valid one, the browser is sent to ``/login``:

    GET /login?next=/dashboard   a state and a PKCE verifier (kept in a signed, short-lived,
                                 HTTP-only cookie), then off to the issuer's authorize endpoint
    GET /auth/callback           the code exchanged at the issuer's token endpoint, with the
                                 verifier; the access token, checked as any bearer token, becomes
                                 the session cookie (HTTP-only, SameSite=Lax, Secure on https)
    GET /logout                  the session cookie dropped

The issuer is the one the service trusts for bearer tokens (``PARCOURS_TOKEN_ISSUER``, whose
``/.well-known/openid-configuration`` says where its endpoints are); the client id is the
service's name, and the redirect URI ``PARCOURS_PUBLIC_URL`` + ``/auth/callback``.
"""
import base64
import functools
import hashlib
import secrets
from urllib.parse import urlencode

import requests
from itsdangerous import BadSignature, URLSafeTimedSerializer
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from .http import api

SESSION_COOKIE = "parcours_session"
LOGIN_COOKIE = "parcours_login"
LOGIN_LIFETIME = 600
# signs the login cookie; set PARCOURS_SESSION_SECRET where several processes share a name
_PROCESS_SECRET = secrets.token_urlsafe(32)


class LoginQuery(Schema):
    # a path here only: no //host nor /\host, which browsers read as another site
    next = fields.String(load_default="/", validate=validate.Regexp(
        r"^/(?![/\\])[^\s\\]*$", error="a path on this service, like /dashboard"))


class CallbackQuery(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=512))
    state = fields.String(required=True, validate=validate.Length(min=1, max=512))


def public_url(config, service_name):
    configured = config.get("PARCOURS_PUBLIC_URL")
    if configured:
        return configured.rstrip("/")
    port = config.get("WEB_SERVER_ADDRESS", "0.0.0.0:8000").rsplit(":", 1)[1]
    return "http://127.0.0.1:{}".format(port)


@functools.lru_cache(maxsize=None)
def provider(issuer):
    """The issuer's OpenID Connect configuration (fetched once)."""
    answer = requests.get(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=5)
    answer.raise_for_status()
    return answer.json()


def _serializer(config):
    return URLSafeTimedSerializer(config.get("PARCOURS_SESSION_SECRET") or _PROCESS_SECRET,
                                  salt="parcours-login")


def pkce_challenge(verifier):
    """PKCE's S256 challenge of a verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _page(status, title, text):
    return Response("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}"
                    "</title></head><body><h1>{0}</h1><p>{1}</p></body></html>".format(
                        title, text), status=status, content_type="text/html; charset=utf-8")


class SignIn:
    """Mixed into a service class that has web pages."""

    @api("GET", "/login", public=True, html=True, query=LoginQuery, returns={303: None})
    def login(self, request):
        """Off to the network's issuer to sign in (OpenID Connect, code flow with PKCE)."""
        issuer = self.config["PARCOURS_TOKEN_ISSUER"]
        try:
            endpoints = provider(issuer)
        except requests.RequestException as exc:
            return _page(503, "Sign-in unavailable",
                         "The network's issuer ({}) does not answer: {}. Retry shortly.".format(
                             issuer, type(exc).__name__))
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        base = public_url(self.config, self.name)
        location = endpoints["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": self.name, "scope": "openid",
            "redirect_uri": base + "/auth/callback", "state": state,
            "code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"})
        response = Response(status=303, headers={"Location": location})
        response.set_cookie(LOGIN_COOKIE, _serializer(self.config).dumps(
            {"state": state, "verifier": verifier, "next": request.query["next"]}),
            max_age=LOGIN_LIFETIME, httponly=True, samesite="Lax", path="/auth",
            secure=base.startswith("https://"))
        return response

    @api("GET", "/auth/callback", public=True, html=True, query=CallbackQuery,
         returns={303: None})
    def auth_callback(self, request):
        """Back from the issuer: the code for an access token, kept as the session cookie."""
        try:
            login = _serializer(self.config).loads(request.cookies.get(LOGIN_COOKIE, ""),
                                                   max_age=LOGIN_LIFETIME)
        except BadSignature:
            return _page(400, "Sign-in expired", 'Start again: <a href="/login">sign in</a>.')
        if not secrets.compare_digest(login["state"], request.query["state"]):
            return _page(400, "Sign-in refused", "The sign-in does not match this browser's: "
                                                 '<a href="/login">sign in again</a>.')
        base = public_url(self.config, self.name)
        try:
            answer = requests.post(provider(self.config["PARCOURS_TOKEN_ISSUER"])[
                "token_endpoint"], data={
                "grant_type": "authorization_code", "code": request.query["code"],
                "redirect_uri": base + "/auth/callback", "client_id": self.name,
                "code_verifier": login["verifier"]}, timeout=5)
        except requests.RequestException:
            return _page(503, "Sign-in unavailable", "The issuer does not answer; retry.")
        if answer.status_code != 200:
            return _page(400, "Sign-in refused", "The issuer refused the code: "
                                                 '<a href="/login">sign in again</a>.')
        token = answer.json()["access_token"]
        from .http import _verifier
        from .identity import Unauthenticated
        try:
            _verifier(self.config, self.name).caller("Bearer " + token)  # as any bearer token
        except Unauthenticated as exc:
            return _page(400, "Sign-in refused", "The issuer's token is not valid here ({}): "
                         '<a href="/login">sign in again</a>.'.format(exc.message))
        response = Response(status=303, headers={"Location": login["next"]})
        response.set_cookie(SESSION_COOKIE, token, max_age=int(answer.json().get(
            "expires_in", 3600)), httponly=True, samesite="Lax", path="/",
            secure=base.startswith("https://"))
        response.delete_cookie(LOGIN_COOKIE, path="/auth")
        return response

    @api("GET", "/logout", public=True, html=True, returns={303: None})
    def logout(self, request):
        """The session cookie dropped."""
        response = Response(status=303, headers={"Location": "/login"})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

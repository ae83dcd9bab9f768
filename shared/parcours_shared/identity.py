"""Who calls a service over HTTP: OAuth 2 bearer tokens, signed JWTs, checked by each service
on its own.

A caller sends ``Authorization: Bearer <token>``. The service verifies the token with PyJWT
against the network issuer's public keys (a JWKS document, by URL or file), with no call to
another service at request time and no shared database: the signature, the issuer, the audience
(this service), the expiry (with a small leeway for clocks), the subject, the partner and the
roles. What it finds is the request's ``Caller``.

Settings (each service's config.yaml):

    PARCOURS_TOKEN_ISSUER    the issuer's identifier, as in the tokens' ``iss``
    PARCOURS_JWKS            the issuer's public keys: an http(s) URL, or a file path
    PARCOURS_TOKEN_AUDIENCE  the ``aud`` tokens for this service carry (default: its name)

The claims, as the dev issuer (``parcours token``) writes them and an OpenID Connect provider
such as Keycloak can be made to (README, "Calling a service"):

    sub      who: the person, or the partner's system
    partner  the partner's id in the network directory
    person   the person's id, when a person acts (absent for a partner's system)
    roles    the caller's roles (Keycloak's ``realm_access.roles`` is read when absent)
"""
import json
import os
import threading
from dataclasses import dataclass

import jwt

from .checkout import data_path
from .contracts.directory import ROLES  # noqa: F401  (the network's roles, named in tokens)

# Signature algorithms accepted: the dev issuer signs ES256; Keycloak's default is RS256.
ALGORITHMS = ["ES256", "RS256"]
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Caller:
    subject: str
    partner: str
    roles: frozenset
    person: str = None

    def has_any_role(self, roles):
        return bool(self.roles & set(roles))


class Unauthenticated(Exception):
    """No credential, or one the service cannot accept: HTTP 401."""

    def __init__(self, message, error="invalid_token"):
        super().__init__(message)
        self.message, self.error = message, error


class MissingRole(Exception):
    """A valid credential without any of the roles an entrypoint needs: HTTP 403."""

    def __init__(self, needed):
        self.needed = tuple(needed)
        super().__init__("this operation needs the role {}".format(" or ".join(self.needed)))
        self.message = str(self)


class IssuerUnreachable(Exception):
    """The issuer's keys cannot be fetched: HTTP 503."""


class _FileKeys:
    """A JWKS document on disk, read again when it changes (the issuer rotated its key)."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._seen, self._keys = None, {}

    def key(self, kid):
        try:
            status = os.stat(self.path)
        except OSError as exc:
            raise IssuerUnreachable("the issuer's keys ({}) cannot be read: {}".format(
                self.path, exc.strerror)) from None
        stamp = (status.st_ino, status.st_mtime_ns)  # the issuer replaces the file whole
        with self._lock:
            if stamp != self._seen:
                with open(self.path) as document:
                    key_set = jwt.PyJWKSet.from_dict(json.load(document))
                self._keys = {key.key_id: key for key in key_set.keys}
                self._seen = stamp
            return self._keys.get(kid)


class _UrlKeys:
    """A JWKS document served by the issuer, cached and fetched again for a key id it does not
    know yet (PyJWKClient)."""

    def __init__(self, url):
        self.client = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=300, timeout=5)

    def key(self, kid):
        try:
            return self.client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise IssuerUnreachable("the issuer's keys cannot be fetched: {}".format(exc))
        except jwt.PyJWKClientError:
            return None


class TokenVerifier:
    def __init__(self, issuer, jwks, audience, leeway=LEEWAY_SECONDS):
        if not issuer or not jwks:
            raise ValueError("set PARCOURS_TOKEN_ISSUER and PARCOURS_JWKS: the service checks "
                             "every caller's token against the issuer's public keys")
        self.issuer, self.audience, self.leeway = issuer, audience, leeway
        self.keys = _UrlKeys(jwks) if jwks.startswith(("http://", "https://")) else _FileKeys(
            data_path(jwks))  # the same file from whatever folder the service starts

    def caller(self, authorization):
        """The ``Caller`` an ``Authorization`` header names, or ``Unauthenticated``."""
        scheme, _, token = (authorization or "").partition(" ")
        if not authorization:
            raise Unauthenticated("this operation needs a bearer token: send 'Authorization: "
                                  "Bearer <token>' (README: 'Calling a service')", error=None)
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'",
                                  error="invalid_request")
        claims = self._verified_claims(token.strip())
        roles = claims.get("roles")
        if roles is None:
            roles = (claims.get("realm_access") or {}).get("roles", [])
        partner = claims.get("partner")
        if not isinstance(partner, str) or not partner:
            raise Unauthenticated("the token names no partner (claim 'partner')")
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise Unauthenticated("the token's 'roles' claim must be a list of role names")
        person = claims.get("person")
        return Caller(subject=claims["sub"], partner=partner, roles=frozenset(roles),
                      person=person if isinstance(person, str) and person else None)

    def _verified_claims(self, token):
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise Unauthenticated("the bearer token is not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthenticated("the token is signed with {!r}; accepted: {}".format(
                header.get("alg"), ", ".join(ALGORITHMS)))
        key = self.keys.key(header.get("kid"))
        if key is None:
            raise Unauthenticated("the token is signed with a key the issuer does not publish "
                                  "(kid {!r})".format(header.get("kid")))
        try:
            return jwt.decode(token, key, algorithms=ALGORITHMS, audience=self.audience,
                              issuer=self.issuer, leeway=self.leeway,
                              options={"require": ["exp", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired: get a new one") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the token is not for this service (its audience must be "
                                  "{!r})".format(self.audience)) from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the token is not from this network's issuer ({})".format(
                self.issuer)) from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the token's signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated("the token lacks the claim {!r}".format(exc.claim)) from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("the token is invalid: {}".format(exc)) from None


def authenticate_header(exc, realm):
    """The ``WWW-Authenticate`` value of a 401 (RFC 6750: no error code when the request
    carried no credential at all)."""
    if exc.error is None:
        return 'Bearer realm="{}"'.format(realm)
    description = exc.message.replace("\\", "").replace('"', "'")
    return 'Bearer realm="{}", error="{}", error_description="{}"'.format(
        realm, exc.error, description)

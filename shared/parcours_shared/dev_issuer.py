"""The network's development token issuer: signing keys kept in a folder, tokens on demand.

It serves `make run`, the demo and the tests (``parcours token``); production uses a real
OpenID Connect provider, which the services verify the same way (parcours_shared.identity).

The folder holds the current private key (``signing-<kid>.pem``, readable by its owner only)
and ``jwks.json``, the public keys the services verify with. Keys are made on first use; the
folder is never committed. ``rotate`` makes a new current key and keeps the previous public key
in ``jwks.json``, so that tokens signed before the rotation stay valid until they expire; then
``retire`` drops every key but the current one (SECURITY.md, "Rotating the issuer's key").
"""
import json
import os
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ALGORITHM = "ES256"
DEFAULT_LIFETIME = 3600


class DevIssuer:
    def __init__(self, folder, issuer):
        self.folder, self.issuer = folder, issuer

    @property
    def jwks_path(self):
        return os.path.join(self.folder, "jwks.json")

    def token(self, partner, roles, audience, person=None, subject=None,
              lifetime=DEFAULT_LIFETIME, now=None):
        """A signed access token for ``audience`` (a service's name, or several)."""
        kid, private_key = self._current_key()
        issued = int(now if now is not None else time.time())
        claims = {"iss": self.issuer, "aud": audience,
                  "sub": subject or person or "partner:{}".format(partner),
                  "partner": partner, "roles": sorted(roles),
                  "iat": issued, "exp": issued + lifetime, "jti": uuid.uuid4().hex}
        if person:
            claims["person"] = person
        return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})

    def service_settings(self):
        """The config a service needs to check this issuer's tokens (its keys made now, before
        the service's first request)."""
        self.public_keys()
        return {"PARCOURS_TOKEN_ISSUER": self.issuer, "PARCOURS_JWKS": self.jwks_path}

    def rotate(self):
        """A new current key; the previous public key stays published. Returns the new kid."""
        return self._new_key(keep_published=True)

    def retire(self):
        """Publish only the current key: tokens signed by older ones stop verifying."""
        kid, private_key = self._current_key()
        self._write_jwks([_public_jwk(kid, private_key.public_key())])
        return kid

    def public_keys(self):
        self._current_key()
        with open(self.jwks_path) as document:
            return json.load(document)

    def _current_key(self):
        paths = self._private_key_paths()
        if not paths:
            self._new_key(keep_published=False)
            paths = self._private_key_paths()
        path = paths[-1]
        with open(path, "rb") as pem:
            private_key = serialization.load_pem_private_key(pem.read(), password=None)
        return _kid_of(path), private_key

    def _private_key_paths(self):
        if not os.path.isdir(self.folder):
            return []
        names = [name for name in os.listdir(self.folder)
                 if name.startswith("signing-") and name.endswith(".pem")]
        # the kid is the creation time: the newest sorts last
        return [os.path.join(self.folder, name) for name in sorted(names)]

    def _new_key(self, keep_published):
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        kid = "{:016x}".format(time.time_ns())  # sorts in creation order
        private_key = ec.generate_private_key(ec.SECP256R1())
        published = []
        if keep_published and os.path.exists(self.jwks_path):
            published = self.public_keys()["keys"]
        self._write_jwks(published + [_public_jwk(kid, private_key.public_key())])
        pem = private_key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        path = os.path.join(self.folder, "signing-{}.pem".format(kid))
        descriptor = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as written:
            written.write(pem)
        os.replace(path + ".new", path)
        for older in self._private_key_paths()[:-1]:  # only the current key signs
            os.remove(older)
        return kid

    def _write_jwks(self, keys):
        # the services re-read the file when it changes: replace it whole, never half-written
        with open(self.jwks_path + ".new", "w") as document:
            json.dump({"keys": keys}, document, indent=2)
        os.replace(self.jwks_path + ".new", self.jwks_path)


def _kid_of(path):
    return os.path.basename(path)[len("signing-"):-len(".pem")]


def _public_jwk(kid, public_key):
    jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    return dict(jwk, kid=kid, use="sig", alg=ALGORITHM)

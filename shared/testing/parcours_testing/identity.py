"""The tests' token issuer: one per test run, its keys in a temporary folder.

Every service under test trusts it (``service_config`` names its issuer and JWKS file), and an
``ApiClient`` calls as the test partner with every role unless told otherwise.
"""
import atexit
import functools
import shutil
import tempfile

from parcours_shared.dev_issuer import DevIssuer
from parcours_shared.identity import ROLES

ISSUER = "https://issuer.parcours.test"
TEST_PARTNER = "test-partner"
EVERY_ROLE = tuple(ROLES)


@functools.lru_cache(maxsize=None)
def issuer():
    folder = tempfile.mkdtemp(prefix="parcours-issuer-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return DevIssuer(folder, ISSUER)


def issuer_settings():
    """The config a service under test needs to check the tests' tokens."""
    return issuer().service_settings()


def bearer(audience, partner=TEST_PARTNER, roles=EVERY_ROLE, person=None, **claims):
    """An ``Authorization`` header value for a test caller."""
    return "Bearer " + issuer().token(partner, roles, audience, person=person, **claims)

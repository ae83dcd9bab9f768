"""People sign in to a page, in a real headless browser: the dashboard sends them to the
network's issuer (OpenID Connect, code flow with PKCE), they choose who they are, and come back
signed in with an HTTP-only session cookie; without the page's role they are refused."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import requests
from nameko.testing.utils import find_free_port
from parcours_shared.dev_issuer import DevIssuer
from parcours_testing import wait_for

from conftest import SERVICES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PEOPLE = [
    {"person": "p-anne-dubois", "partner": "steering-committee", "name": "Anne Dubois",
     "roles": ["steering"]},
    {"person": "p-claire-martin", "partner": "cci-paris-idf", "name": "Claire Martin",
     "roles": ["advisor"]},
]

# skipped where Chromium cannot be installed, but never in CI: there the pages must be tested
pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and (not os.path.exists(CHROMIUM) or not os.path.isdir(
        os.path.join(ROOT, "tools", "browser", "node_modules"))),
    reason="needs Chromium and tools/browser (make test installs both: scripts/ensure_browser.sh)")


@pytest.fixture
def issuer(tmp_path):
    """The dev issuer's OpenID Connect provider, as `make run` serves it."""
    port = find_free_port()
    url = "http://127.0.0.1:{}".format(port)
    keys = tmp_path / "issuer"
    DevIssuer(str(keys), url).public_keys()
    (keys / "people.json").write_text(json.dumps(PEOPLE))
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "parcours"), "--keys", str(keys),
         "--issuer", url, "issuer", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers():
        try:
            return requests.get(url + "/.well-known/openid-configuration", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(answers, what="the dev issuer to answer")
    yield {"PARCOURS_TOKEN_ISSUER": url, "PARCOURS_JWKS": str(keys / "jwks.json")}
    server.terminate()
    server.wait(timeout=10)


def sign_in(reporting, person):
    run = subprocess.run(["node", os.path.join(ROOT, "tools", "browser", "sign_in.mjs"),
                          reporting.base + "/dashboard", person, CHROMIUM],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_steering_committee_signs_in_and_reads_the_funnel(running_service, issuer):
    reporting = running_service(SERVICES["reporting"], **issuer)
    seen = sign_in(reporting, "p-anne-dubois")
    assert seen["signInTitle"] == "Sign in to Parcours"
    assert seen["signInUrl"].startswith(issuer["PARCOURS_TOKEN_ISSUER"] + "/authorize?")
    assert "code_challenge_method=S256" in seen["signInUrl"]
    assert seen["landedOn"] == reporting.base + "/dashboard"
    assert (seen["signedInAs"], seen["partner"]) == ("p-anne-dubois", "steering-committee")
    assert seen["funnelRows"] == 7
    assert seen["cookie"] == {"httpOnly": True, "sameSite": "Lax"}
    assert seen["scriptSeesCookie"] is False
    assert seen["afterSignOut"].startswith(issuer["PARCOURS_TOKEN_ISSUER"] + "/authorize?")


def test_a_person_without_the_pages_role_is_told_so(running_service, issuer):
    reporting = running_service(SERVICES["reporting"], **issuer)
    seen = sign_in(reporting, "p-claire-martin")
    assert seen["landedOn"] == reporting.base + "/dashboard"
    assert seen["heading"] == "Not for your role"
    assert seen["signedInAs"] is None


def test_a_stolen_code_is_useless_without_the_browsers_verifier(issuer):
    url = issuer["PARCOURS_TOKEN_ISSUER"]
    page = requests.post(url + "/authorize", data={
        "client_id": "reporting", "redirect_uri": "http://127.0.0.1:9/auth/callback",
        "state": "s", "code_challenge": "x" * 43, "code_challenge_method": "S256",
        "person": "p-anne-dubois"}, allow_redirects=False, timeout=5)
    assert page.status_code == 303
    code = page.headers["Location"].split("code=")[1].split("&")[0]
    refused = requests.post(url + "/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": "reporting",
        "redirect_uri": "http://127.0.0.1:9/auth/callback", "code_verifier": "guess"},
        timeout=5)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"

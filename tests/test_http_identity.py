"""Every service checks who calls it, on its own: the bearer token's signature, issuer, audience
and expiry (401), and the role its entrypoint needs (403)."""
import base64
import json
import os
import subprocess
import sys
import time

import pytest
from parcours_shared.dev_issuer import DevIssuer
from parcours_testing import luhn_valid_sirens
from parcours_testing.identity import ISSUER, TEST_PARTNER, bearer, issuer

from conftest import SERVICES
from pathway import READY_ANSWERS

SIREN = next(luhn_valid_sirens(51000000))
# per service: a call that needs a role, the role it needs, a role that is not enough, and the
# status of the call made with the right role
PROTECTED = {
    "intake": (("post", "/cases", {"siren": SIREN, "company_name": "Ateliers Durand",
                                   "channel": "web"}), "advisor", "reader", 201),
    "diagnostic": (("get", "/diagnostics", None), "reader", "steering", 200),
    "programmes": (("post", "/programmes", {"partner": TEST_PARTNER, "name": "Prépa export",
                                            "kind": "preparation",
                                            "maturity_levels": ["first_time_exporter"]}),
                   "programme_manager", "advisor", 201),
    "reporting": (("get", "/funnel", None), "steering", "advisor", 200),
}


def call(client, request, authorization=None):
    method, path, body = request
    headers = {} if authorization is None else {"Authorization": authorization}
    if method == "get":
        return client.anonymous().get(path, headers=headers)
    return client.anonymous().post(path, body, headers=headers)


def tampered(authorization):
    """The same token with its payload changed (another partner): the signature no longer
    matches."""
    header, payload, signature = authorization[len("Bearer "):].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["partner"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return "Bearer {}.{}.{}".format(header, forged, signature)


@pytest.mark.parametrize("name", sorted(PROTECTED))
def test_a_service_accepts_only_a_valid_token_with_the_role_its_entrypoint_needs(
        name, running_service, tmp_path):
    client = running_service(SERVICES[name])
    request, role, other_role, success = PROTECTED[name]

    refused = call(client, request)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="{}"'.format(name)
    assert "needs a bearer token" in refused.json()["message"]

    stranger = DevIssuer(str(tmp_path / "stranger"), ISSUER)  # same name, other keys
    expired = issuer().token("test-partner", [role], name, now=time.time() - 7200)
    for authorization, complaint in [
            ("Basic dXNlcjpwYXNz", "must be 'Bearer <token>'"),
            ("Bearer not-a-jwt", "not a JWT"),
            (tampered(bearer(name, roles=[role])), "signature does not verify"),
            ("Bearer " + stranger.token("test-partner", [role], name),
             "a key the issuer does not publish"),
            ("Bearer " + expired, "has expired"),
            (bearer("some-other-service", roles=[role]), "not for this service"),
    ]:
        response = call(client, request, authorization)
        assert response.status_code == 401, (complaint, response.text)
        assert complaint in response.json()["message"]
        assert response.headers["WWW-Authenticate"].startswith(
            'Bearer realm="{}", error='.format(name))

    forbidden = call(client, request, bearer(name, roles=[other_role]))
    assert forbidden.status_code == 403
    assert role in forbidden.json()["needed_roles"]
    assert other_role not in forbidden.json()["needed_roles"]
    assert role in forbidden.json()["message"]

    allowed = call(client, request, bearer(name, roles=[role], person="p-test"))
    assert allowed.status_code == success, allowed.text


@pytest.mark.parametrize("path", ["/health/live", "/health", "/metrics", "/asyncapi.json"])
def test_health_metrics_and_api_documents_need_no_token(path, running_service):
    client = running_service(SERVICES["intake"]).anonymous()
    assert client.get(path).status_code == 200


def test_an_answer_to_a_workshop_needs_an_advisor_not_a_referrer(running_service):
    """The roles are the caller's own: a cluster's referrer cannot complete a diagnostic."""
    client = running_service(SERVICES["diagnostic"])
    referrer = client.as_caller("medicen", ["referrer"], person="p-cluster")
    response = referrer.post("/diagnostics/answers", {"diagnostics": [
        {"diagnostic_id": "d-1", "answers": READY_ANSWERS}]})
    assert response.status_code == 403
    assert response.json()["needed_roles"] == ["advisor"]


def test_the_readme_says_who_may_do_what_as_the_entrypoints_declare_it():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    check = subprocess.run([sys.executable, "-W", "ignore",
                            os.path.join(root, "scripts", "roles_table.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_another_partners_programme_is_refused_with_a_403_saying_whose_it_is(running_service):
    programmes = running_service(SERVICES["programmes"])
    agency = programmes.as_caller("business-france", ["programme_manager"])
    bank = programmes.as_caller("bpifrance", ["programme_manager"])
    created = agency.post("/programmes", {"partner": "business-france", "name": "Prospection",
                                          "kind": "targeted_market",
                                          "maturity_levels": ["first_time_exporter"]})
    assert created.status_code == 201
    session = {"starts_on": "2027-03-01", "place": "Düsseldorf", "capacity": 8}
    path = "/programmes/{}/sessions".format(created.json()["id"])
    refused = bank.post(path, session)
    assert refused.status_code == 403
    assert refused.json()["reason"] == "not_yours"
    assert "is business-france's: a caller of bpifrance cannot change it" in (
        refused.json()["message"])
    assert agency.post(path, session).status_code == 201


def test_a_case_of_another_region_is_refused_to_a_chamber_with_a_403(running_service):
    intake = running_service(SERVICES["intake"])
    for partner, region in (("cci-international-paca", "93"), ("cci-international-aura", "84")):
        assert intake.post("/partners", {"id": partner, "name": partner, "regions": [region],
                                         "kind": "chamber_of_commerce"}).status_code == 201
    paca = intake.as_caller("cci-international-paca", ["advisor"])
    case = paca.post("/cases", {"siren": SIREN, "company_name": "Savonnerie de Marseille",
                                "region_code": "93", "channel": "walk_in"}).json()
    aura = intake.as_caller("cci-international-aura", ["advisor"])
    refused = aura.get("/cases/" + case["id"])
    assert refused.status_code == 403 and refused.json()["reason"] == "not_yours"
    assert aura.get("/cases").json()["cases"] == []
    assert paca.get("/cases/" + case["id"]).status_code == 200

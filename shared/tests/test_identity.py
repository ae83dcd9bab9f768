"""Bearer tokens checked without a service running: the claims a caller is made of, the clock's
leeway, the issuer's key rotation, and entrypoints that must say who may call them."""
import os
import time

import jwt
import pytest

from parcours_shared.dev_issuer import DevIssuer
from parcours_shared.http import api
from parcours_shared.identity import Caller, TokenVerifier, Unauthenticated

ISSUER = "https://issuer.example"


@pytest.fixture
def issuer(tmp_path):
    return DevIssuer(str(tmp_path / "issuer"), ISSUER)


@pytest.fixture
def verifier(issuer):
    issuer.public_keys()
    return TokenVerifier(ISSUER, issuer.jwks_path, "intake")


def bearer(token):
    return "Bearer " + token


def signed(issuer, claims):
    """A token with exactly ``claims``, signed by ``issuer``'s current key."""
    kid, key = issuer._current_key()
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


def test_a_token_names_the_partner_the_person_and_the_roles(issuer, verifier):
    token = issuer.token("cci-paris-idf", ["advisor", "reader"], "intake",
                         person="p-claire-martin")
    assert verifier.caller(bearer(token)) == Caller(
        subject="p-claire-martin", partner="cci-paris-idf",
        roles=frozenset({"advisor", "reader"}), person="p-claire-martin")


def test_a_partners_system_calls_without_a_person(issuer, verifier):
    caller = verifier.caller(bearer(issuer.token("bpifrance", ["referrer"], "intake")))
    assert caller.person is None and caller.subject == "partner:bpifrance"


def test_a_token_for_several_services_is_accepted_by_each(issuer, verifier):
    token = issuer.token("cci", ["reader"], ["intake", "reporting"])
    assert verifier.caller(bearer(token)).partner == "cci"


def test_a_clock_a_little_behind_is_forgiven_but_not_a_minute(issuer, verifier):
    just_expired = issuer.token("cci", ["reader"], "intake", lifetime=60, now=time.time() - 70)
    assert verifier.caller(bearer(just_expired)).partner == "cci"
    long_expired = issuer.token("cci", ["reader"], "intake", lifetime=60, now=time.time() - 120)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.caller(bearer(long_expired))


def test_keycloak_roles_are_read_from_realm_access(issuer, verifier):
    now = int(time.time())
    token = signed(issuer, {"iss": ISSUER, "aud": "intake", "sub": "f81d4fae", "exp": now + 60,
                            "partner": "cci", "realm_access": {"roles": ["advisor"]}})
    assert verifier.caller(bearer(token)).roles == {"advisor"}


@pytest.mark.parametrize("claims, complaint", [
    ({"partner": None}, "names no partner"),
    ({"roles": "advisor"}, "must be a list"),
    ({"sub": None}, "lacks the claim 'sub'"),
    ({"exp": None}, "lacks the claim 'exp'"),
    ({"iss": "https://elsewhere.example"}, "not from this network's issuer"),
])
def test_a_token_missing_what_names_the_caller_is_refused(issuer, verifier, claims, complaint):
    now = int(time.time())
    complete = {"iss": ISSUER, "aud": "intake", "sub": "p-1", "exp": now + 60,
                "partner": "cci", "roles": ["advisor"]}
    complete.update(claims)
    token = signed(issuer, {name: value for name, value in complete.items() if value is not None})
    with pytest.raises(Unauthenticated, match=complaint):
        verifier.caller(bearer(token))


def test_an_unsigned_token_is_refused(verifier):
    token = jwt.encode({"iss": ISSUER, "aud": "intake", "sub": "p", "partner": "cci",
                        "roles": ["admin"], "exp": int(time.time()) + 60}, None, algorithm="none")
    with pytest.raises(Unauthenticated, match="signed with 'none'"):
        verifier.caller(bearer(token))


def test_after_a_key_rotation_old_tokens_verify_until_the_old_key_is_retired(issuer, verifier):
    before = issuer.token("cci", ["reader"], "intake")
    issuer.rotate()
    after = issuer.token("cci", ["reader"], "intake")
    assert jwt.get_unverified_header(before)["kid"] != jwt.get_unverified_header(after)["kid"]
    assert verifier.caller(bearer(before)).partner == "cci"  # the verifier read the new file
    assert verifier.caller(bearer(after)).partner == "cci"
    issuer.retire()
    assert verifier.caller(bearer(after)).partner == "cci"
    with pytest.raises(Unauthenticated, match="a key the issuer does not publish"):
        verifier.caller(bearer(before))


def test_the_issuers_private_key_is_readable_by_its_owner_only(issuer):
    issuer.token("cci", ["reader"], "intake")
    [pem] = [name for name in os.listdir(issuer.folder) if name.endswith(".pem")]
    assert os.stat(os.path.join(issuer.folder, pem)).st_mode & 0o777 == 0o600


def test_an_entrypoint_must_say_who_may_call_it():
    def list_cases(self, request):
        return {}

    with pytest.raises(TypeError, match="say who may call it"):
        api("GET", "/cases")(list_cases)
    with pytest.raises(TypeError, match="unknown roles"):
        api("GET", "/cases", roles=("superuser",))(list_cases)


@pytest.mark.parametrize("next_page, allowed", [
    ("/dashboard", True), ("/dashboard?region=84", True), ("//evil.example", False),
    ("/\\evil.example", False), ("https://evil.example", False), ("dashboard", False)])
def test_after_signing_in_a_person_goes_back_to_a_page_of_this_service_only(next_page, allowed):
    from parcours_shared.web_session import LoginQuery
    assert (LoginQuery().validate({"next": next_page}) == {}) is allowed

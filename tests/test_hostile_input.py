"""Input a hostile or careless caller sends: every answer is JSON, a 4xx saying what to fix, never
a 500, and nothing reaches the database that it would refuse later."""
import socket

import pytest
import requests
from parcours_testing import luhn_valid_sirens
from parcours_testing.identity import TEST_PARTNER

from conftest import SERVICES

SIRENS = luhn_valid_sirens(52000000)


@pytest.fixture
def intake(running_service):
    return running_service(SERVICES["intake"])


def post_raw(client, path, raw):
    return requests.post(client.base + path, data=raw, timeout=10, headers={
        "Authorization": client.authorization, "Content-Type": "application/json"})


def firm(**fields):
    return dict({"siren": next(SIRENS), "company_name": "Ateliers Durand", "channel": "web"},
                **fields)


def test_deep_nesting_is_refused_not_a_crash(intake):
    for depth in (40, 100_000):  # past the limit, and past what the parser itself can nest
        response = post_raw(intake, "/cases", "[" * depth + "]" * depth)
        assert response.status_code == 400, response.text
        assert "nested" in response.text


def test_text_with_a_nul_byte_a_control_character_or_a_lone_surrogate_is_refused(intake):
    for raw_name, complaint in [(r'"Ateliers\u0000Durand"', "U+0000"),
                                (r'"Ateliers\u001bDurand"', "U+001B"),
                                (r'"Ateliers \ud800"', "lone UTF-16 surrogate")]:
        body = '{{"siren": "{}", "company_name": {}, "channel": "web"}}'.format(
            next(SIRENS), raw_name)
        response = post_raw(intake, "/cases", body)
        assert response.status_code == 400, response.text
        assert complaint in response.json()["fields"]["company_name"][0]
    # a name over two lines is text, still accepted
    assert intake.post("/cases", firm(company_name="Ateliers\nDurand")).status_code == 201


def test_a_query_value_or_an_id_in_the_path_with_a_nul_byte_is_refused(intake):
    response = intake.get("/cases", params={"siren": "732\x00829320"})
    assert response.status_code == 400 and "U+0000" in response.json()["fields"]["siren"][0]
    response = intake.get("/cases/abc%00def")
    assert response.status_code == 400 and "U+0000" in response.json()["fields"]["case_id"][0]


def test_a_count_must_be_a_whole_number_and_finite(running_service):
    programmes = running_service(SERVICES["programmes"])
    programme = programmes.post("/programmes", {
        "partner": TEST_PARTNER, "name": "Prépa export", "kind": "preparation",
        "maturity_levels": ["first_time_exporter"]}).json()
    path = "/programmes/{}/sessions".format(programme["id"])
    for capacity in ("3.0", '"3"', "3.5", "NaN", "Infinity", "1e400", "10000000000"):
        response = post_raw(programmes, path,
                            '{{"starts_on": "2027-03-01", "capacity": {}}}'.format(capacity))
        assert response.status_code == 400, (capacity, response.text)
        assert response.headers["Content-Type"] == "application/json"


def test_a_body_over_the_size_limit_is_refused(intake):
    response = post_raw(intake, "/cases/import",
                        '{"firms": [' + ",".join(['{"siren": "1"}'] * 200_000) + "]}")
    assert response.status_code == 413
    assert response.json()["error"] == "request_entity_too_large"


def test_unknown_routes_and_methods_answer_json(intake):
    response = intake.get("/no/such/route")
    assert response.status_code == 404
    assert response.json()["reason"] == "no_such_route"
    response = intake.anonymous().post("/health", {})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"].split(", ")
    assert "GET" in response.json()["message"]
    assert intake.get("/cases/").status_code in (404, 308)


def raw_http(client, request_bytes):
    host, port = client.base[len("http://"):].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request_bytes)
        received = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return received
            received += chunk


@pytest.mark.parametrize("length", [5_000, 20_000])
def test_an_over_long_url_answers_json(intake, length):
    response = intake.get("/cases?siren=" + "7" * length)
    assert response.status_code == 414
    assert "JSON body" in response.json()["message"]


def test_a_request_the_server_cannot_read_answers_json(intake):
    for request, status in [
            (b"GET /a b c HTTP/1.1\r\n\r\n", b"400"),
            (b"BREW /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"405"),
            (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n",
             b"400"),
            (b"POST /cases HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", b"400")]:
        answer = raw_http(intake, request)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0].split(b" ")[1] == status, answer[:200]
        assert b"application/json" in head.lower()
        assert body.startswith(b"{")

"""Each service's OpenAPI document, served and fuzzed: schemathesis generates requests from it
(valid and invalid, a bounded number per operation, authenticated as a caller with every
role) and checks that no answer is a 5xx and that every answer has a documented status, content
type and schema."""
import os
import subprocess
import sys

import pytest
import requests
from parcours_testing.identity import bearer

from conftest import SERVICES

# enough to reach every operation's edges (the coverage phase) while `make test` stays short
MAX_EXAMPLES = int(os.environ.get("PARCOURS_FUZZ_EXAMPLES", "12"))
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,response_headers_conformance,negative_data_rejection")


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_answer_of_a_fuzzed_service_is_documented_and_none_is_a_5xx(name, running_service,
                                                                          tmp_path):
    client = running_service(SERVICES[name])
    document = client.anonymous().get("/openapi.json")
    assert document.status_code == 200
    assert document.json()["openapi"] == "3.1.0"
    schemathesis = os.path.join(os.path.dirname(sys.executable), "st")
    run = subprocess.run(
        [schemathesis, "run", client.base + "/openapi.json", "--checks", CHECKS,
         "--max-examples", str(MAX_EXAMPLES), "--seed", "2016", "--workers", "1",
         "--phases", "examples,coverage,fuzzing", "--request-timeout", "10",
         "--generation-database", "none", "--no-color",
         "--header", "Authorization: " + bearer(name, person="p-fuzzer"),
         # the pages and the sign-in need a browser and a live issuer: tests/test_sign_in.py
         "--exclude-path-regex", "^/(login|logout|auth/|dashboard)", "--max-redirects", "0",
         "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_the_docs_page_works_offline(running_service):
    client = running_service(SERVICES["reporting"]).anonymous()
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "/openapi.json" in page.text and "http" not in page.text  # nothing from a CDN
    script = requests.get(client.base + "/docs/swagger-ui-bundle.js", timeout=10)
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert client.get("/docs/etc-passwd").status_code == 404

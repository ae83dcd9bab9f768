"""The steering committee's dashboard in a real headless browser: it loads without console
errors, shows the scenario's figures, and updates by itself after a new event; a screenshot
is kept in test-artifacts/dashboard.png."""
import json
import os
import subprocess
import uuid
from datetime import datetime, timezone

from parcours_shared.contracts import build_envelope
from parcours_shared.dev_issuer import DevIssuer
from parcours_testing import publish_raw, wait_for

from conftest import SERVICES
from test_sign_in import CHROMIUM, ROOT, issuer, pytestmark  # noqa: F401 (fixture, skip mark)

ARTIFACTS = os.path.join(ROOT, "test-artifacts")


def publish_opened(amqp_uri, region="84"):
    case_id = str(uuid.uuid4())
    envelope = build_envelope("intake", "case.opened", case_id, {
        "case_id": case_id, "siren": "732829320", "company_name": "Firme",
        "region_code": region, "naf_code": "25.62B", "channel": "web",
        "opened_at": datetime.now(timezone.utc), "partner": "cci-international-aura"},
        actor=None)
    publish_raw(amqp_uri, "intake.events", "case.opened", envelope)


def test_the_dashboard_shows_the_figures_and_updates_itself(running_service, issuer):  # noqa: F811
    reporting = running_service(SERVICES["reporting"], **issuer)
    steering = DevIssuer(os.path.dirname(issuer["PARCOURS_JWKS"]),
                         issuer["PARCOURS_TOKEN_ISSUER"]).token(
        "steering-committee", ["steering"], "reporting")
    reporting = reporting._with("Bearer " + steering)
    for region in ("84", "84", "53"):
        publish_opened(reporting.test_amqp_uri, region)
    wait_for(lambda: reporting.get("/funnel").json()["stages"][0]["cases"] == 3,
             what="three cases counted")
    year = datetime.now(timezone.utc).year
    posted = reporting.post("/objectives", {"objectives": [
        {"year": year, "partner": "network", "measure": "identified", "target": 2},
        {"year": year, "partner": "network", "measure": "diagnosed", "target": 500}]})
    assert posted.status_code == 200, posted.text

    os.makedirs(ARTIFACTS, exist_ok=True)
    screenshot = os.path.join(ARTIFACTS, "dashboard.png")
    browser = subprocess.Popen(
        ["node", os.path.join(ROOT, "tools", "browser", "dashboard.mjs"),
         reporting.base + "/dashboard", "p-anne-dubois", screenshot, CHROMIUM],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(browser.stdout.readline() or "{}")
        assert ready == {"ready": 3}, browser.stderr.read()[-3000:]
        publish_opened(reporting.test_amqp_uri)
        browser.stdin.write("published\n")
        browser.stdin.flush()
        out, err = browser.communicate(timeout=90)
    finally:
        if browser.poll() is None:
            browser.kill()
    assert browser.returncode == 0, err[-3000:]
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["consoleErrors"] == []
    assert (seen["openedBefore"], seen["openedAfter"]) == (3, 4)
    assert seen["charts"] == 2
    objectives = " ".join(seen["objectives"])
    assert "identified" in objectives and "diagnosed" in objectives
    assert "not at this pace" in objectives   # 500 diagnostics: none yet
    assert os.path.getsize(screenshot) > 10000

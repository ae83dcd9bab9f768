"""The public request page in a real headless browser (Chromium, driven by Playwright): a firm
fills it by its labels, sends it with mistakes, reads each error next to its field, fixes them
from the keyboard and sends it again; its case then exists once, with its channel and source.
Screenshots are kept in test-artifacts/request-page*.png."""
import json
import os
import subprocess

from parcours_testing import luhn_valid_sirens

from test_firm_request import register_cluster
from test_sign_in import CHROMIUM, ROOT, pytestmark  # noqa: F401 (the skip mark)

ARTIFACTS = os.path.join(ROOT, "test-artifacts")


def test_a_firm_fills_the_page_fixes_its_mistakes_and_its_case_exists_once(network):
    register_cluster(network)
    siren = next(luhn_valid_sirens(66000000))
    os.makedirs(ARTIFACTS, exist_ok=True)
    screenshot = os.path.join(ARTIFACTS, "request-page.png")
    url = network.intake.base + "/firm/request?source=pole-mer&campaign=site-web"
    run = subprocess.run(["node", os.path.join(ROOT, "tools", "browser", "request_page.mjs"),
                          url, siren, screenshot, CHROMIUM],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["consoleErrors"] == [] and seen["scripts"] == 0  # no JavaScript needed
    assert seen["errors"] == ["siren-error", "needs-error"]
    assert seen["summaryLinks"] == ["#siren", "#needs"]
    assert seen["invalid"] == ["siren", "needs"]
    assert seen["kept"] == "Savonnerie du Vieux Port"
    assert seen["heading"].startswith("Merci")

    found = network.intake.get("/cases", params={"siren": siren}).json()
    assert found["total"] == 1
    [case] = found["cases"]
    assert (case["channel"], case["opened_by"]) == ("web", "pole-mer")

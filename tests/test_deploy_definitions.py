"""deploy/rabbitmq/definitions.json pre-declares every consumer queue, as the services do."""
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import eventlet

from parcours_shared.contracts import build_envelope
from parcours_testing import ApiClient, publish_raw, wait_for

from conftest import SERVICES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFINITIONS = os.path.join(ROOT, "deploy", "rabbitmq", "definitions.json")


def test_definitions_are_in_step_with_the_inbox_handlers():
    check = subprocess.run([sys.executable, "-W", "ignore",
                            os.path.join(ROOT, "scripts", "rabbitmq_definitions.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_an_event_published_before_its_consumer_ever_started_waits_for_it(
        rabbit_config, rabbit_manager, container_factory, service_config):
    vhost = rabbit_config["vhost"]
    with open(DEFINITIONS) as loaded:
        definitions = json.load(loaded)
    topology = {kind: [dict(item, vhost=vhost) for item in definitions[kind]]
                for kind in ("exchanges", "queues", "bindings")}
    rabbit_manager._post("definitions", json=topology)  # the management API's import

    # intake publishes while diagnostic has never run on this broker
    envelope = build_envelope("intake", "case.opened", "case-early", {
        "case_id": "case-early", "siren": "732829320", "company_name": "Ateliers Durand",
        "channel": "web", "opened_at": datetime.now(timezone.utc)})
    publish_raw(rabbit_config["AMQP_URI"], "intake.events", "case.opened", envelope)

    # diagnostic declares the same queues (same arguments) and finds the event waiting
    config = service_config("diagnostic", PARCOURS_DECLARE_EXCHANGES=False)
    with eventlet.Timeout(30, AssertionError(
            "diagnostic could not start: without the definitions, intake.events does not exist")):
        container_factory(SERVICES["diagnostic"], config).start()
    diagnostic = ApiClient(config)
    wait_for(lambda: diagnostic.get("/diagnostics", params={"case_id": "case-early"})
             .json()["diagnostics"], what="the early event applied")

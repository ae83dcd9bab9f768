"""Fixtures for cross-service tests: the four services in one process, on one test vhost."""
import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import amqp
import pytest
from parcours_testing import ApiClient

from diagnostic.service import DiagnosticService
from intake.service import IntakeService
from programmes.service import ProgrammesService
from reporting.service import ReportingService

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import broker as broker_script  # noqa: E402  (scripts/broker.py; "broker" is the fixture here)

SERVICES = {
    "intake": IntakeService,
    "diagnostic": DiagnosticService,
    "programmes": ProgrammesService,
    "reporting": ReportingService,
}


class Network:
    """The running services: ``network.intake`` is an HTTP client, ``network.config[name]`` its
    config."""

    def __init__(self):
        self.config = {}
        self.containers = {}

    def add(self, name, container, config):
        self.containers[name] = container
        self.config[name] = config
        setattr(self, name, ApiClient(config))


@pytest.fixture
def network(container_factory, service_config, broker):
    """All four services started, consumers before publishers, as `make run` does: each as its
    own broker user with only the rights the code gives it (scripts/broker.py apply), trusting
    no other publisher with its events."""
    broker("apply")
    running = Network()
    for name in ("reporting", "programmes", "diagnostic", "intake"):
        config = service_config(name, AMQP_URI=broker.amqp_uri(name),
                                PARCOURS_DECLARE_EXCHANGES=False,
                                PARCOURS_TRUSTED_PUBLISHERS=[],
                                PARCOURS_BROKER_USER_PREFIX=broker.prefix)
        container = container_factory(SERVICES[name], config)
        container.start()
        running.add(name, container, config)
    return running


def pytest_collection_modifyitems(items):
    """The fault suite restarts the broker: run it after every other test (stable sort)."""
    items.sort(key=lambda item: item.get_closest_marker("faults") is not None)


@pytest.fixture
def broker(rabbit_config, rabbit_manager, tmp_path):
    """``broker("apply")`` runs scripts/broker.py on this test's vhost, with users of its own."""
    prefix = "t{}-".format(uuid.uuid4().hex[:8])
    secrets = tmp_path / "secrets"

    def run(*args):
        result = subprocess.run(
            [sys.executable, "-W", "ignore", os.path.join(ROOT, "scripts", "broker.py"),
             "--vhost", rabbit_config["vhost"], "--secrets", str(secrets),
             "--user-prefix", prefix, *args],
            capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def amqp_uri(service):
        """The URI the service's user connects with (after ``run("apply")``)."""
        host = urlsplit(rabbit_config["AMQP_URI"])
        return broker_script.Secrets(str(secrets)).uri(
            prefix + service, rabbit_config["vhost"], host.hostname, host.port or 5672)

    run.prefix, run.secrets, run.amqp_uri = prefix, secrets, amqp_uri
    yield run
    for user in rabbit_manager._get("users"):
        if user["name"].startswith(prefix):
            rabbit_manager._delete("users", user["name"])


def publish_confirmed(connection, exchange, routing_key, body=b"{}"):
    """Publish on a py-amqp connection and wait for the broker's confirm: a refusal raises."""
    channel = connection.channel()
    channel.confirm_select()
    channel.basic_publish_confirm(amqp.Message(body, content_type="application/json"),
                                  exchange=exchange, routing_key=routing_key, confirm_timeout=10)

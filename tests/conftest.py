"""Fixtures for cross-service tests: the four services in one process, on one test vhost."""
import os
import subprocess
import sys
import uuid

import pytest
from parcours_testing import ApiClient

from diagnostic.service import DiagnosticService
from intake.service import IntakeService
from programmes.service import ProgrammesService
from reporting.service import ReportingService

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
def network(container_factory, service_config):
    """All four services started, consumers before publishers, as `make run` does."""
    running = Network()
    for name in ("reporting", "programmes", "diagnostic", "intake"):
        config = service_config(name)
        container = container_factory(SERVICES[name], config)
        container.start()
        running.add(name, container, config)
    return running


def pytest_collection_modifyitems(items):
    """The fault suite restarts the broker: run it after every other test (stable sort)."""
    items.sort(key=lambda item: item.get_closest_marker("faults") is not None)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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

    run.prefix, run.secrets = prefix, secrets
    yield run
    for user in rabbit_manager._get("users"):
        if user["name"].startswith(prefix):
            rabbit_manager._delete("users", user["name"])

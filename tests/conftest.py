"""Fixtures for cross-service tests: the four services in one process, on one test vhost."""
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

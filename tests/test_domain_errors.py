"""Each service's domain errors are mapped to an HTTP status in its one table."""
import inspect

import pytest

from parcours_shared.domain import DomainError

from conftest import SERVICES


def domain_errors_of(service_cls):
    domain = __import__(service_cls.__module__.split(".")[0] + ".domain", fromlist=["domain"])
    return [value for _, value in inspect.getmembers(domain, inspect.isclass)
            if issubclass(value, DomainError) and value.__module__ == domain.__name__]


@pytest.mark.parametrize("service_cls", SERVICES.values(), ids=lambda cls: cls.name)
def test_every_domain_error_of_a_service_has_its_http_status(service_cls):
    table = getattr(service_cls, "http_errors", {})
    missing = [error.__name__ for error in domain_errors_of(service_cls) if error not in table]
    assert missing == [], "add them to {}'s HTTP_ERRORS".format(service_cls.name)
    assert all(400 <= status < 500 for status in table.values())

"""Parcours test helpers (test-only: never installed in a service's image).

- ``helpers``: ``wait_for`` (a deadline, never a sleep), ``ApiClient``, ``luhn_valid_sirens``,
  queue and outbox probes, raw publishing;
- ``broker_link``: ``BrokerLink``, a TCP link to the broker that a test can cut and restore;
- ``use_cases``: ``UseCaseDatabase``, units of work over an in-memory SQLite database that
  record what they publish, and ``event``, for fast use-case tests without a broker;
  ``example_data``, an event's data from its contract's example, with the values a test sets;
  ``at_revision``, a database migrated up to a revision, for a migration's test; ``Clock``,
  a clock the test moves by hand;
- ``pytest_plugin``: the ``parcours`` pytest plugin (eventlet monkey patch, a database per
  service under test, ``service_config``, ``running_service``).

The helpers are importable from here (``from parcours_testing import wait_for``), loaded on first
use: pytest imports this package to reach the plugin, and the plugin must monkey-patch before
kombu, requests or SQLAlchemy are imported.
"""
import importlib

_EXPORTS = {
    "Timeout": "helpers",
    "wait_for": "helpers",
    "luhn_valid_sirens": "helpers",
    "ApiClient": "helpers",
    "queue_messages": "helpers",
    "queue_depth": "helpers",
    "publish_raw": "helpers",
    "publish_messages": "helpers",
    "outbox_events": "helpers",
    "BrokerLink": "broker_link",
    "UseCaseDatabase": "use_cases",
    "event": "use_cases",
    "example_data": "use_cases",
    "at_revision": "use_cases",
    "Clock": "use_cases",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))
    value = getattr(importlib.import_module("." + _EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))

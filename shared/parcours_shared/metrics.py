"""Prometheus metrics shared by every service: one prefix, a ``service`` label, no case ids.

The default registry is used because each service runs in its own process; tests that start
several services in one process see them side by side, told apart by the ``service`` label.
"""
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

EVENTS_PUBLISHED = Counter(
    "parcours_events_published_total",
    "Events confirmed by the broker and marked sent by the outbox relay.",
    ["service", "type"],
)
EVENTS_CONSUMED = Counter(
    "parcours_events_consumed_total",
    "Events received by a consumer, by what became of them.",
    ["service", "type", "outcome"],  # applied, duplicate, retried, dead_lettered
)
HANDLER_SECONDS = Histogram(
    "parcours_handler_seconds",
    "Time spent applying one consumed event (handler and commit).",
    ["service", "type"],
)
OUTBOX_PENDING = Gauge(
    "parcours_outbox_pending",
    "Outbox rows committed but not yet confirmed by the broker.",
    ["service"],
)
RELAY_ERRORS = Counter(
    "parcours_outbox_relay_errors_total",
    "Relay attempts that failed (broker unreachable, confirm timeout, nack).",
    ["service"],
)
HTTP_REQUESTS = Counter(
    "parcours_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)


def render_metrics():
    """The body and content type of a ``GET /metrics`` answer."""
    return generate_latest(), CONTENT_TYPE_LATEST

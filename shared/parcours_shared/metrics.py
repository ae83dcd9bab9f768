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
    "Time spent applying one batch of consumed events (handler and commit).",
    ["service", "type"],
)
BATCH_EVENTS = Histogram(
    "parcours_inbox_batch_events",
    "Events applied together in one transaction by a consumer (1 at low load).",
    ["service", "type"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
EVENT_LAG = Histogram(
    "parcours_event_lag_seconds",
    "From an event's time (its transaction's commit at the publisher) to its effect "
    "committed by this consumer.",
    ["service", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0,
             1.5, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
OUTBOX_PENDING = Gauge(
    "parcours_outbox_pending",
    "Outbox rows committed but not yet confirmed by the broker.",
    ["service"],
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "parcours_outbox_oldest_pending_seconds",
    "Age of the oldest outbox row not yet confirmed by the broker (0: none waiting).",
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
HTTP_SECONDS = Histogram(
    "parcours_http_request_seconds",
    "Time to answer an HTTP request, by route template.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CASES_OPEN = Gauge(
    "parcours_cases_open",
    "Open cases by their stage on the pathway, as the single window sees them.",
    ["service", "stage"],
)
MAILS_SENT = Counter(
    "parcours_mails_sent_total",
    "Messages to firms handed to the mail transport (the folder, or SMTP), by template.",
    ["service", "template"],
)
MAIL_FAILURES = Counter(
    "parcours_mail_failures_total",
    "Attempts to hand a message to the mail transport that failed (it is tried again).",
    ["service"],
)


def render_metrics():
    """The body and content type of a ``GET /metrics`` answer."""
    return generate_latest(), CONTENT_TYPE_LATEST

"""``parcours follow <case id>``: a case's events across the network, live.

First the case's timeline so far, as reporting keeps it (``GET /audit?subject=``), then every
event about the case as the publishers send it: a queue of the follower's own (exclusive, gone
when it stops) bound to every publisher's exchange. One line an event (``--json``: one JSON
object a line, for scripts); Ctrl-C stops. The contact persons in contact.shared are personal
data: the follower sees their number, never who they are.
"""
import json
import os
import socket
from urllib.parse import quote, urlsplit, urlunsplit

from kombu import Connection, Consumer, Exchange, Queue, binding

from .contracts import REGISTRY, exchange_name
from .ops_command import Unanswered, _call

# make run's broker: its vhost, as an operator (guest has every right there on a dev machine)
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/parcours"
PERSONAL = {"contact.shared": "contacts"}
SHOWN = ("channel", "partner", "advisor", "reason", "maturity", "programme_name", "stage",
         "level", "verdict", "outcome", "kind", "referred_by", "source", "campaign")


def operator_amqp_uri():
    return os.environ.get("PARCOURS_OPERATOR_AMQP_URI") or DEFAULT_AMQP_URI


def about_case(envelope, case_id):
    return envelope.get("subject") == case_id or (
        (envelope.get("data") or {}).get("case_id") == case_id)


def without_personal_data(envelope):
    hidden = PERSONAL.get(envelope.get("type"))
    if hidden is None:
        return envelope
    data = dict(envelope.get("data") or {})
    data[hidden] = "{} hidden (personal data)".format(len(data.get(hidden) or []))
    return dict(envelope, data=data)


def line_of(envelope):
    data = envelope.get("data") or {}
    who = "/".join(part for part in (envelope.get("partner"), envelope.get("person")) if part)
    details = ", ".join("{}={}".format(name, data[name]) for name in SHOWN
                        if data.get(name) not in (None, "", []))
    return "{}  {:<26} {:<11} {}{}".format(
        envelope.get("time", "")[:19], envelope.get("type", "?"),
        (envelope.get("source") or "").rsplit("/", 1)[-1], "by " + who + "  " if who else "",
        details).rstrip()


def history(token, case_id):
    """The case's changes so far across the network, oldest first (reporting's timeline)."""
    return _call("GET", "reporting", "/audit?subject=" + quote(case_id, safe=""),
                 token)["changes"]


def follow(token, case_id, amqp_uri=None, as_json=False, out=print, running=lambda: True,
           with_history=True, on_ready=lambda: None):
    """Print the case's timeline, then its events as they come, while ``running()``
    (``on_ready()`` once its queue is bound). Exit code 0 when stopped, 1 when the broker
    could not be reached."""
    if with_history:
        try:
            for change in history(token, case_id):
                out(json.dumps(change) if as_json else line_of({
                    "time": change["at"], "type": change["event_type"],
                    "source": change["source"], "partner": change["partner"],
                    "person": change["person"]}))
        except Unanswered as exc:
            out("problem: the timeline so far is missing: {}".format(exc))
    amqp_uri = amqp_uri or operator_amqp_uri()
    exchanges = [Exchange(exchange_name(publisher), type="topic", durable=True,
                          no_declare=True) for publisher in REGISTRY.publishers()]
    queue = Queue("", exclusive=True, auto_delete=True, durable=False,
                  bindings=[binding(exchange, routing_key="#") for exchange in exchanges])

    def on_message(body, message):
        try:
            envelope = json.loads(body) if isinstance(body, (str, bytes)) else body
        except ValueError:
            envelope = {}
        if isinstance(envelope, dict) and about_case(envelope, case_id):
            shown = without_personal_data(envelope)
            out(json.dumps(shown) if as_json else line_of(shown))
        message.ack()

    try:
        with Connection(amqp_uri, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=2)
            with Consumer(connection.channel(), queues=[queue], callbacks=[on_message],
                          accept=["json", "application/json", "application/cloudevents+json"],
                          no_ack=False):
                if not as_json:
                    out("following case {} live (Ctrl-C stops)".format(case_id))
                on_ready()
                while running():
                    try:
                        connection.drain_events(timeout=0.5)
                    except socket.timeout:
                        continue
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # the broker is not there, or refused the operator
        out("problem: cannot follow the events at {} ({}: {}); set PARCOURS_OPERATOR_AMQP_URI "
            "to an operator's broker address".format(_safe(amqp_uri), type(exc).__name__, exc))
        return 1
    return 0


def _safe(amqp_uri):
    """The broker addresses without their passwords."""
    shown = []
    for address in amqp_uri.split(";"):
        parts = urlsplit(address)
        if parts.password:
            parts = parts._replace(netloc="{}:***@{}".format(parts.username, parts.hostname + (
                ":{}".format(parts.port) if parts.port else "")))
        shown.append(urlunsplit(parts))
    return ";".join(shown)

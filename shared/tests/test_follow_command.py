"""``parcours follow``: a case's events as they are published, and only that case's, with the
contact persons hidden; on the real broker."""
import json
import threading
from datetime import datetime, timezone

from kombu import Connection, Exchange
from parcours_shared.contracts import REGISTRY, build_envelope, exchange_name
from parcours_shared.follow_command import follow, line_of
from parcours_testing import publish_messages, wait_for


def declare_exchanges(amqp_uri):
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        for publisher in REGISTRY.publishers():
            Exchange(exchange_name(publisher), type="topic", durable=True)(channel).declare()


def envelope(type_name, case_id, data, publisher="intake"):
    return build_envelope(publisher, type_name, case_id, dict(data, case_id=case_id), actor=None)


def test_follow_shows_the_case_s_events_live_and_hides_its_contacts(rabbit_config):
    amqp_uri = rabbit_config["AMQP_URI"]
    declare_exchanges(amqp_uri)
    lines, stop, ready = [], threading.Event(), threading.Event()
    follower = threading.Thread(target=follow, kwargs=dict(
        token="unused", case_id="case-followed", amqp_uri=amqp_uri, as_json=True,
        out=lines.append, running=lambda: not stop.is_set(), with_history=False,
        on_ready=ready.set), daemon=True)
    follower.start()
    assert ready.wait(timeout=20), "the follower did not bind its queue"
    now = datetime.now(timezone.utc)
    messages = [
        ("intake.events", "case.assigned", envelope("case.assigned", "case-followed", {
            "advisor": "p-luc-marin", "partner": "cci-paca", "assigned_at": now})),
        ("intake.events", "case.assigned", envelope("case.assigned", "another-case", {
            "advisor": "p-luc-marin", "partner": "cci-paca", "assigned_at": now})),
        ("intake.events", "contact.shared", envelope("contact.shared", "case-followed", {
            "purposes": ["orientation"], "shared_at": now, "contacts": [{
                "contact_id": "c1", "name": "Inès Ferrand", "email": "ines@firme.example",
                "role": None, "phone": None}]})),
        ("diagnostic.events", "diagnostic.scheduled", envelope("diagnostic.scheduled",
                                                               "case-followed", {
            "diagnostic_id": "d1", "scheduled_at": now}, publisher="diagnostic")),
    ]
    publish_messages(amqp_uri, [(exchange, key, json.loads(json.dumps(body, default=str)),
                                 "application/json") for exchange, key, body in messages])
    wait_for(lambda: any('"diagnostic.scheduled"' in line for line in lines) or None,
             what="the diagnostic's event")
    stop.set()
    follower.join(timeout=10)
    seen = [json.loads(line) for line in lines]
    assert {event["subject"] for event in seen} == {"case-followed"}
    assert {event["type"] for event in seen} == {"case.assigned", "contact.shared",
                                                 "diagnostic.scheduled"}
    assert "Inès" not in "".join(lines) and "ines@" not in "".join(lines)
    shared = next(event for event in seen if event["type"] == "contact.shared")
    assert shared["data"]["contacts"] == "1 hidden (personal data)"


def test_a_line_says_when_what_where_and_who():
    line = line_of({"time": "2026-12-08T10:00:00+00:00", "type": "case.assigned",
                    "source": "/parcours/intake", "partner": "cci-paca", "person": "p-luc",
                    "data": {"advisor": "p-luc-marin", "partner": "cci-paca"}})
    assert line.startswith("2026-12-08T10:00:00  case.assigned")
    assert "intake" in line and "by cci-paca/p-luc" in line and "advisor=p-luc-marin" in line


def test_an_unreachable_broker_is_said_without_its_password():
    lines = []
    code = follow("unused", "case-1", "amqp://operator:s3cret@127.0.0.1:1/parcours",
                  out=lines.append, with_history=False)
    assert code == 1 and "s3cret" not in lines[-1] and "PARCOURS_OPERATOR_AMQP_URI" in lines[-1]


def test_the_timeline_so_far_comes_first(monkeypatch):
    from parcours_shared import follow_command
    monkeypatch.setattr(follow_command, "history", lambda token, case_id: [{
        "at": "2026-12-08T09:15:02.123456", "source": "/parcours/intake",
        "event_type": "case.opened", "event_id": "e1", "partner": "cci-paca",
        "person": None}])
    lines = []
    follow("unused", "case-1", "amqp://operator:s3cret@127.0.0.1:1/parcours", out=lines.append)
    assert lines[0] == "2026-12-08T09:15:02  case.opened                intake      by cci-paca"

"""Publisher identity on the bus: each service connects as its own broker user, its relay sets
the AMQP user_id (which RabbitMQ checks), and a consumer dead-letters an event whose source is
not its publisher's user."""
import json
import uuid
from datetime import datetime, timezone

import amqp
import pytest
from amqp.exceptions import PreconditionFailed
from parcours_shared.contracts import build_envelope
from parcours_shared.inbox import dead_letter_queue_name
from parcours_testing import ApiClient, luhn_valid_sirens, queue_messages, wait_for

from conftest import SERVICES

DIAGNOSTIC_QUEUE = "evt-intake-case.opened--diagnostic.on_case_opened"


@pytest.fixture
def network_as_own_users(broker, container_factory, service_config):
    """intake and diagnostic on this test's vhost, each as its own user with only its own
    rights (scripts/broker.py apply), trusting no other publisher."""
    broker("apply")

    def start(name):
        config = service_config(name, AMQP_URI=broker("uri", name).strip(),
                                PARCOURS_DECLARE_EXCHANGES=False,
                                PARCOURS_TRUSTED_PUBLISHERS=[],
                                PARCOURS_BROKER_USER_PREFIX=broker.prefix)
        container_factory(SERVICES[name], config).start()
        client = ApiClient(config)
        client.config = config
        return client

    return {name: start(name) for name in ("diagnostic", "intake")}


def test_events_flow_between_services_that_each_connect_as_their_own_user(
        network_as_own_users):
    intake, diagnostic = network_as_own_users["intake"], network_as_own_users["diagnostic"]
    case = intake.post("/cases", {"siren": next(luhn_valid_sirens()),
                                  "company_name": "Ateliers Durand", "channel": "web"}).json()
    wait_for(lambda: diagnostic.get("/diagnostics", params={"case_id": case["id"]})
             .json()["diagnostics"], what="diagnostic to schedule the case intake published")


def test_an_event_published_by_another_user_than_its_source_s_is_dead_lettered_with_why(
        network_as_own_users, rabbit_config):
    # the test broker's guest may write on intake.events, but it is not intake
    case_id = str(uuid.uuid4())
    forged = build_envelope("intake", "case.opened", case_id, {
        "case_id": case_id, "siren": "732829320", "company_name": "Forged Ltd",
        "channel": "web", "opened_at": datetime.now(timezone.utc)})
    connection = amqp.Connection("127.0.0.1:5672", userid="guest", password="guest",
                                 virtual_host=rabbit_config["vhost"])
    connection.connect()
    channel = connection.channel()
    channel.basic_publish(amqp.Message(json.dumps(forged), content_type="application/json",
                                       user_id="guest"),
                          exchange="intake.events", routing_key="case.opened")
    connection.close()

    dlq = dead_letter_queue_name(DIAGNOSTIC_QUEUE)
    [(body, headers)] = wait_for(lambda: queue_messages(rabbit_config["AMQP_URI"], dlq),
                                 what="the forged event dead-lettered")
    assert body["id"] == forged["id"]
    assert "published by the broker user 'guest', but only '{}intake' publishes it".format(
        network_as_own_users["intake"].config["PARCOURS_BROKER_USER_PREFIX"]) \
        in headers["x-parcours-error"]
    diagnostic = network_as_own_users["diagnostic"]
    assert diagnostic.get("/diagnostics", params={"case_id": case_id}).json()["diagnostics"] == []


def test_the_broker_refuses_a_user_id_that_is_not_the_connection_s(rabbit_config):
    connection = amqp.Connection("127.0.0.1:5672", userid="guest", password="guest",
                                 virtual_host=rabbit_config["vhost"])
    connection.connect()
    channel = connection.channel()
    channel.confirm_select()
    with pytest.raises(PreconditionFailed, match="user_id property set to 'intake'"):
        channel.basic_publish_confirm(amqp.Message(b"{}", user_id="intake"),
                                      exchange="", routing_key="nowhere", confirm_timeout=10)

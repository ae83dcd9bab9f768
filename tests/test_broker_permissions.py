"""Each service's broker user, with the rights deploy/rabbitmq/definitions.json gives it (derived
from the code), may publish only its own event types and read only its own queues: the broker
itself refuses the rest."""
import json
import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import amqp
import pytest
from amqp.exceptions import AccessRefused

from conftest import broker_script, publish_confirmed as publish

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFINITIONS = os.path.join(ROOT, "deploy", "rabbitmq", "definitions.json")


def test_deploy_files_are_consistent():
    check = subprocess.run([sys.executable, os.path.join(ROOT, "deploy", "validate.py")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.fixture
def broker_users(rabbit_config, rabbit_manager):
    """``connect("intake")``: a connection to this test's vhost as a user with exactly the rights
    the definitions give the intake user, on the definitions' exchanges and queues."""
    vhost = rabbit_config["vhost"]
    with open(DEFINITIONS) as loaded:
        definitions = json.load(loaded)
    management = broker_script.Management(broker_script.DEFAULT_API, broker_script.DEFAULT_ADMIN)
    management.call("POST", "definitions", body=broker_script.topology(vhost))
    created, connections = [], []

    def connect(service):
        user = "{}-{}".format(service, uuid.uuid4().hex[:8])
        password = uuid.uuid4().hex
        management.set_user(user, password)
        created.append(user)
        [permission] = [p for p in definitions["permissions"] if p["user"] == service]
        management.grant(vhost, user, permission,
                         [t for t in definitions["topic_permissions"] if t["user"] == service])
        host = urlsplit(rabbit_config["AMQP_URI"])
        connection = amqp.Connection("{}:{}".format(host.hostname, host.port or 5672),
                                     userid=user, password=password, virtual_host=vhost)
        connection.connect()
        connections.append(connection)
        return connection

    yield connect
    for connection in connections:
        try:
            connection.close()
        except Exception:
            pass
    for user in created:
        rabbit_manager._delete("users", user)


def test_a_service_publishes_its_own_event_types_on_its_own_exchange(broker_users):
    publish(broker_users("intake"), "intake.events", "case.opened")  # confirmed


def test_a_service_cannot_publish_another_s_event_type_even_on_its_own_exchange(broker_users):
    with pytest.raises(AccessRefused, match="diagnostic.completed"):
        publish(broker_users("intake"), "intake.events", "diagnostic.completed")


def test_a_service_cannot_publish_on_another_s_exchange(broker_users):
    with pytest.raises(AccessRefused, match="diagnostic.events"):
        publish(broker_users("intake"), "diagnostic.events", "diagnostic.completed")


def test_a_service_cannot_read_another_s_queue(broker_users):
    channel = broker_users("intake").channel()
    with pytest.raises(AccessRefused, match="evt-intake-case.opened--diagnostic.on_case_opened"):
        channel.basic_consume("evt-intake-case.opened--diagnostic.on_case_opened",
                              callback=lambda message: None)


def test_a_consumer_binds_only_the_types_it_consumes(broker_users):
    connection = broker_users("diagnostic")
    channel = connection.channel()
    queue = "evt-intake-case.referred--diagnostic.on_case_referred"  # one of its own names
    channel.queue_declare(queue, durable=False, auto_delete=True)
    channel.queue_bind(queue, "intake.events", "case.opened")  # it consumes case.opened
    with pytest.raises(AccessRefused, match="case.referred"):
        channel.queue_bind(queue, "intake.events", "case.referred")  # but not case.referred

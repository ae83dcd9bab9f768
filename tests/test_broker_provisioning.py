"""scripts/broker.py against the real broker: the services' users as the code derives them, an
integrator's read-only user, and a password rotation."""
import os
import subprocess
import sys
from urllib.parse import unquote, urlsplit

import amqp
import pytest
from amqp.exceptions import AccessRefused

from parcours_shared.topology import INTEGRATOR_QUEUE_CAP
from parcours_testing import wait_for

from conftest import publish_confirmed as publish

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def connect(uri):
    parts = urlsplit(uri)
    connection = amqp.Connection("{}:{}".format(parts.hostname, parts.port),
                                 userid=unquote(parts.username), password=unquote(parts.password),
                                 virtual_host=unquote(parts.path[1:]))
    connection.connect()
    return connection


def test_apply_gives_each_service_its_user_and_only_its_rights(broker):
    out = broker("apply")
    assert "passwords in" in out
    assert sorted(p.name for p in broker.secrets.iterdir()) == [
        broker.prefix + name + ".password"
        for name in ("diagnostic", "intake", "programmes", "reporting")]
    assert {p.stat().st_mode & 0o777 for p in broker.secrets.iterdir()} == {0o600}
    intake = connect(broker("uri", "intake").strip())
    publish(intake, "intake.events", "case.opened")
    with pytest.raises(AccessRefused):
        publish(intake, "intake.events", "diagnostic.completed")
    broker("apply")  # again: nothing changes, passwords kept
    publish(connect(broker("uri", "intake").strip()), "intake.events", "case.opened")


def test_an_integrator_reads_its_own_queue_of_the_types_it_may_see_and_nothing_else(
        broker, rabbit_manager, rabbit_config):
    broker("apply")
    out = broker("user", "add", "crm-lyon", "--types", "case.opened,case.closed")
    integrator = connect(out.strip().splitlines()[-1])
    intake = connect(broker("uri", "intake").strip())
    publish(intake, "intake.events", "case.opened", b'{"n": 1}')
    publish(intake, "intake.events", "case.assigned", b'{"n": 2}')  # not for this integrator
    publish(intake, "intake.events", "case.closed", b'{"n": 3}')

    channel = integrator.channel()
    received = []
    while True:
        message = channel.basic_get("integrator.crm-lyon", no_ack=True)
        if message is None:
            break
        received.append(message.body)
    assert received == [b'{"n": 1}', b'{"n": 3}']
    with pytest.raises(AccessRefused):
        integrator.channel().basic_consume("evt-intake-case.opened--diagnostic.on_case_opened",
                                           callback=lambda message: None)
    with pytest.raises(AccessRefused):
        publish(integrator, "intake.events", "case.opened")
    # capped, so that an integrator who stops reading cannot stall the network or fill the broker
    wait_for(lambda: rabbit_manager.get_queue(rabbit_config["vhost"], "integrator.crm-lyon")
             .get("effective_policy_definition") == INTEGRATOR_QUEUE_CAP,
             what="the integrator queue's cap in the broker's queue stats")


def test_an_integrator_cannot_be_given_a_type_that_does_not_exist(broker, rabbit_config):
    result = subprocess.run(
        [sys.executable, "-W", "ignore", os.path.join(ROOT, "scripts", "broker.py"),
         "--vhost", rabbit_config["vhost"], "--secrets", str(broker.secrets),
         "--user-prefix", broker.prefix, "user", "add", "dwh", "--types", "case.reopened"],
        capture_output=True, text=True)
    assert result.returncode != 0
    assert "unknown event type 'case.reopened'" in result.stderr
    assert "case.opened" in result.stderr  # it lists the types there are


def test_a_rotated_password_replaces_the_old_one(broker):
    broker("apply")
    old_uri = broker("uri", "intake").strip()
    broker("rotate", "intake")
    new_uri = broker("uri", "intake").strip()
    assert new_uri != old_uri
    publish(connect(new_uri), "intake.events", "case.opened")
    with pytest.raises(Exception, match="ACCESS_REFUSED|Login was refused|authentication"):
        connect(old_uri)

"""An integrator (a partner's CRM) subscribes to case events with plain kombu, no nameko."""
import json
import uuid
from datetime import datetime

from kombu import Connection, Consumer, Exchange, Queue

from parcours_testing import luhn_valid_sirens, wait_for


def test_a_plain_amqp_client_reads_self_describing_cloudevents(network, rabbit_config):
    received = []
    # an integrator on a development broker: its own user there (guest), not a service's
    with Connection(rabbit_config["AMQP_URI"]) as connection:
        # What an integrator writes: its own durable queue bound to intake's exchange.
        case_events = Queue("crm-case-events",
                            Exchange("intake.events", type="topic", durable=True),
                            routing_key="case.*", durable=True)
        with Consumer(connection, [case_events], accept=["application/json"],
                      callbacks=[lambda body, message: (received.append((body, message)),
                                                        message.ack())]):
            siren = next(luhn_valid_sirens())
            cluster = network.intake.as_caller("pole-mer-mediterranee", ["referrer"])
            referral = cluster.post("/referrals", {
                "siren": siren, "company_name": "Biotech du Sud", "region_code": "93",
                "reason": "export potential in Asia"})
            assert referral.status_code == 201, referral.text

            def drain():
                try:
                    connection.drain_events(timeout=0.2)
                except TimeoutError:
                    pass
                return len(received) >= 2
            wait_for(drain, what="two case events")

    by_type = {body["type"]: (body, message) for body, message in received}
    assert set(by_type) == {"case.opened", "case.referred"}
    opened, message = by_type["case.opened"]
    assert message.content_type == "application/json"
    assert message.properties["message_id"] == opened["id"]
    # who published it, as the broker checked: intake's own user
    intake_user = network.config["intake"]["PARCOURS_BROKER_USER_PREFIX"] + "intake"
    assert message.properties["user_id"] == intake_user
    assert opened["specversion"] == "1.0"
    uuid.UUID(opened["id"])
    assert opened["source"] == "/parcours/intake"
    assert opened["subject"] == referral.json()["id"]
    assert datetime.fromisoformat(opened["time"]).utcoffset().total_seconds() == 0
    assert opened["datacontenttype"] == "application/json"
    assert opened["dataschema"] == "urn:parcours:schema:case.opened:v1"
    assert opened["data"]["siren"] == siren and opened["data"]["channel"] == "referral"
    referred = by_type["case.referred"][0]
    assert referred["data"]["referred_by"] == "pole-mer-mediterranee"
    assert referred["partner"] == "pole-mer-mediterranee"  # who acted, as an extension
    json.dumps(opened)  # plain JSON all the way down

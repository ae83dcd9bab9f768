"""Consent gating, checked where integrators stand: on the bus. A firm's contact persons appear in
no event until it consents, then only in contact.shared, for what it consented to; withdrawing
makes the copy kept by programmes (for co-export matching) go."""
import json

from kombu import Connection, Consumer, Exchange, Queue

from parcours_testing import luhn_valid_sirens, wait_for

CLAIRE = {"name": "Claire Durand", "role": "export manager",
          "email": "claire.durand@ateliers.example", "phone": "+33 4 72 00 00 00"}


def test_contacts_leave_intake_only_with_consent_and_a_withdrawal_drops_the_copies(
        network, rabbit_config):
    received = []
    with Connection(rabbit_config["AMQP_URI"]) as connection:
        everything = [Queue("audit-all-" + name, Exchange(name + ".events", type="topic",
                                                          durable=True),
                            routing_key="#", durable=False, auto_delete=True)
                      for name in ("intake", "diagnostic", "programmes")]

        def drain(until):
            def probe():
                try:
                    connection.drain_events(timeout=0.2)
                except TimeoutError:
                    pass
                return until()
            return probe

        with Consumer(connection, everything, accept=["application/json"],
                      callbacks=[lambda body, message: (received.append(body), message.ack())]):
            opened = network.intake.post("/cases", {
                "siren": next(luhn_valid_sirens(62000000)), "company_name": "Ateliers Durand",
                "region_code": "84", "channel": "walk_in"})
            case_id = opened.json()["id"]
            contacts = "/cases/{}/contacts".format(case_id)
            assert network.intake.post(contacts, CLAIRE).status_code == 201
            wait_for(drain(lambda: any(e["type"] == "diagnostic.scheduled" for e in received)),
                     what="the case's first events")
            assert not [e["type"] for e in received if CLAIRE["email"] in json.dumps(e)]

            consent = "/cases/{}/consent".format(case_id)
            for purpose in ("orientation", "co_export_matching"):
                assert network.intake.post(consent, {"purpose": purpose, "granted": True,
                                                     "channel": "walk_in"}).status_code == 200
            wait_for(lambda: network.programmes.get(contacts).status_code == 200,
                     what="programmes to keep the contacts for co-export matching")
            assert network.programmes.get(contacts).json()["contacts"][0]["email"] == \
                CLAIRE["email"]

            withdrawn = network.intake.post(consent, {"purpose": "co_export_matching",
                                                      "granted": False, "channel": "email"})
            assert withdrawn.json()["granted"] == ["orientation"]
            wait_for(lambda: network.programmes.get(contacts).status_code == 404,
                     what="programmes to drop its copy")
            wait_for(drain(lambda: any(e["type"] == "contact.withdrawn" for e in received)),
                     what="the withdrawal on the bus")

    carrying = sorted({e["type"] for e in received if CLAIRE["email"] in json.dumps(e)})
    assert carrying == ["contact.shared"]
    assert all(e["data"]["purposes"] for e in received if e["type"] == "contact.shared")
    listed = network.intake.get(contacts).json()
    assert [r["purpose"] for r in listed["consent"]["history"]] == [
        "orientation", "co_export_matching", "co_export_matching"]

"""Reporting consumes events in any order and counts each case once per stage."""
import uuid
from datetime import datetime, timezone

import pytest

from parcours_shared.contracts import build_envelope
from parcours_shared.testing import ApiClient, publish_raw, wait_for

from reporting.service import ReportingService


@pytest.fixture
def reporting(container_factory, service_config):
    config = service_config("reporting")
    container_factory(ReportingService, config).start()
    client = ApiClient(config)
    client.amqp_uri = config["AMQP_URI"]
    return client


def publish(amqp_uri, service, type_name, case_id, data):
    envelope = build_envelope(service, type_name, case_id, dict(data, case_id=case_id))
    publish_raw(amqp_uri, "{}.events".format(service), type_name, envelope)
    return envelope


def counts(reporting, **params):
    stages = reporting.get("/funnel", params=params).json()["stages"]
    return {s["stage"]: s["cases"] for s in stages}


def test_stages_arriving_out_of_order_and_twice_count_once(reporting):
    case_id, now = str(uuid.uuid4()), datetime.now(timezone.utc)
    enrolment = {"enrolment_id": "e1", "session_id": "s1", "programme_id": "p1",
                 "programme_name": "Pavillon France", "at": now}
    # programmes' event overtakes intake's (they travel on different queues)
    confirmed = publish(reporting.amqp_uri, "programmes", "enrolment.confirmed", case_id, enrolment)
    publish(reporting.amqp_uri, "intake", "case.opened", case_id, {
        "siren": "732829320", "company_name": "Ateliers Durand", "region_code": "53",
        "channel": "walk_in", "opened_at": now})
    publish_raw(reporting.amqp_uri, "programmes.events", "enrolment.confirmed", confirmed)

    wait_for(lambda: counts(reporting)["opened"] == 1, what="the case counted as opened")
    wait_for(lambda: counts(reporting)["enrolment_confirmed"] == 1, what="the confirmation counted")
    assert counts(reporting, region_code="53")["opened"] == 1
    assert counts(reporting, region_code="11")["opened"] == 0
    funnel = reporting.get("/funnel").json()["stages"]
    assert [s["stage"] for s in funnel][:3] == ["opened", "diagnostic_scheduled",
                                                 "diagnostic_completed"]

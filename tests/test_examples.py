"""The integrator examples in docs/examples/ run against the real broker and a running network:
the pika follower as a subprocess (as an integrator runs it), the nameko subscriber in a
container on the network's vhost."""
import importlib.util
import logging
import os
import subprocess
import sys
from urllib.parse import quote, unquote, urlsplit

from parcours_testing import luhn_valid_sirens, wait_for

from pathway import READY_ANSWERS, add_programme, open_case, proposed_enrolment, \
    scheduled_diagnostic

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "docs", "examples")
FOLLOWER = os.path.join(EXAMPLES, "follow_case_pika.py")
PATHWAY_TYPES = ["case.opened", "diagnostic.scheduled", "diagnostic.completed",
                 "enrolment.proposed", "enrolment.confirmed", "enrolment.completed",
                 "outcome.recorded"]


def pika_url(kombu_uri):
    """pyamqp://guest:guest@localhost:5672/<vhost> -> amqp://...:5672/<vhost percent-encoded>
    (kombu reads the path as the vhost name; pika wants it percent-encoded, '/' as %2F)."""
    parts = urlsplit(kombu_uri)
    vhost = unquote(parts.path[1:]) or "/"
    return "amqp://{}/{}".format(parts.netloc, quote(vhost, safe=""))


def drive_to_outcome(network, siren, company="Biotech du Sud"):
    """One firm from its case to an outcome, over the services' HTTP APIs."""
    add_programme(network, ["first_time_exporter"])
    case = open_case(network, siren, company)
    diagnostic = scheduled_diagnostic(network, case["id"])
    answered = network.diagnostic.post(
        "/diagnostics/{}/answers".format(diagnostic["id"]), {"answers": READY_ANSWERS})
    assert answered.status_code == 200, answered.text
    enrolment = proposed_enrolment(network, case["id"])
    for step in ("confirm", "complete"):
        moved = network.programmes.post("/enrolments/{}/{}".format(enrolment["id"], step))
        assert moved.status_code == 200, moved.text
    outcome = network.programmes.post("/outcomes", {
        "case_id": case["id"], "enrolment_id": enrolment["id"], "kind": "contract_signed",
        "amount_eur": 12000, "country": "DE"})
    assert outcome.status_code == 201, outcome.text
    return case


class Follower:
    """follow_case_pika.py as a subprocess, its stdout and stderr going to a file read back."""

    def __init__(self, tmp_path, amqp_uri, *args):
        self.output_path = tmp_path / "follower.out"
        with open(self.output_path, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, FOLLOWER, "--amqp-url", pika_url(amqp_uri), *args],
                stdout=output, stderr=subprocess.STDOUT)

    def lines(self):
        return self.output_path.read_text().splitlines()

    def wait_listening(self):
        wait_for(lambda: any(line.startswith("listening on ") for line in self.lines())
                 or self.process.poll() is not None,
                 timeout=20, what="the follower to bind its queue")
        assert self.process.poll() is None, "\n".join(self.lines())

    def wait_exit(self, timeout):
        wait_for(lambda: self.process.poll() is not None, timeout=timeout,
                 what="the follower to exit")
        return self.process.returncode

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def test_the_pika_follower_prints_a_case_timeline_up_to_its_outcome(network, tmp_path,
                                                                    rabbit_config):
    siren = next(luhn_valid_sirens())
    # an integrator on a development broker: its own user there (guest), not a service's
    follower = Follower(tmp_path, rabbit_config["AMQP_URI"],
                        "--siren", siren, "--timeout", "60")
    try:
        follower.wait_listening()
        case = drive_to_outcome(network, siren)
        assert follower.wait_exit(timeout=30) == 0, "\n".join(follower.lines())
    finally:
        follower.kill()

    lines = follower.lines()
    timeline = [line.split()[1] for line in lines[1:] if not line.startswith("summary:")]
    assert timeline == PATHWAY_TYPES, "\n".join(lines)
    opened = lines[1]
    assert opened.endswith("Biotech du Sud opened (channel web, region 84)"), opened
    assert lines[-1] == ("summary: case {} (Biotech du Sud) reached outcome.recorded after 7 "
                         "events: contract_signed, 12000 EUR".format(case["id"]))


def test_the_pika_follower_exits_2_when_nothing_comes_in_time(rabbit_config, tmp_path):
    follower = Follower(tmp_path, rabbit_config["AMQP_URI"], "--siren", "999999998",
                        "--timeout", "1")
    try:
        assert follower.wait_exit(timeout=20) == 2, "\n".join(follower.lines())
    finally:
        follower.kill()
    lines = follower.lines()
    assert lines[0].startswith("listening on ")
    assert lines[-1] == "timeout: no case.opened for SIREN 999999998 within 1s"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_nameko_subscriber_receives_envelopes_as_dicts(network, container_factory, caplog,
                                                           rabbit_config):
    example = load_example("nameko_subscriber")
    caplog.set_level(logging.INFO, logger="crm_subscriber")
    container = container_factory(example.CrmSubscriber, {"AMQP_URI": rabbit_config["AMQP_URI"]})
    container.start()   # returns once its queues are declared and bound

    case = drive_to_outcome(network, next(luhn_valid_sirens()))

    def received():
        events = [r.cloudevent for r in caplog.records
                  if r.name == "crm_subscriber" and hasattr(r, "cloudevent")]
        return {e["type"]: e for e in events if e["subject"] == case["id"]}
    by_type = wait_for(lambda: len(received()) == 2 and received(),
                       what="crm_subscriber to log case.opened and outcome.recorded")
    opened = by_type["case.opened"]
    assert isinstance(opened, dict) and opened["data"]["company_name"] == "Biotech du Sud"
    assert opened["dataschema"] == "urn:parcours:schema:case.opened:v1"
    assert by_type["outcome.recorded"]["data"]["kind"] == "contract_signed"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING
                and r.name == "crm_subscriber"]
    queues = sorted(entrypoint.queue.name for entrypoint in container.entrypoints)
    assert queues == ["evt-intake-case.opened--crm_subscriber.on_case_opened",
                      "evt-programmes-outcome.recorded--crm_subscriber.on_outcome_recorded"]

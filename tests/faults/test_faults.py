"""Fault injection: nothing is lost, nothing counts twice, whatever breaks.

Each test starts the four services as processes (own PostgreSQL database each, a throwaway vhost),
drives PARCOURS_FAULT_CASES firms along the pathway over HTTP, injects one fault mid-flow, then
checks the invariants against the publishers' own records:
- every event in every outbox was applied by every subscriber (none lost);
- no effect was applied twice, and reporting's funnel equals the funnel recomputed from the
  sources' own tables;
- the dead-letter queues hold exactly the poison messages, and nothing else is left queued.

`make test` runs it with a few dozen cases; `make test-faults` with a thousand per fault and
writes the results table into tests/faults/README.md.
"""
import json
import os
import random
import shutil
import sys
import threading
import time
import uuid

import pytest
import requests

from parcours_testing import publish_messages

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import rabbitmq_cluster  # noqa: E402

from harness import (
    PUBLISHERS, FaultNetwork, PathwayDriver, converge, dead_letter_poison_ids, judge, published_events,
    queue_name, rabbitmqctl, subscriptions, wait_until,
)

CASES = int(os.environ.get("PARCOURS_FAULT_CASES", "30"))
RESULTS = os.environ.get("PARCOURS_FAULT_RESULTS")  # JSON lines, one per fault, for the README
DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(not DATABASE_URL.startswith("postgresql"),
                       reason="the fault suite runs on PostgreSQL: set DATABASE_URL=postgresql://..."),
]


@pytest.fixture
def network(tmp_path):
    network = FaultNetwork(str(tmp_path), DATABASE_URL)
    try:
        network.start()
        yield network
    finally:
        network.close()


def when(driver, fraction):
    """Wait until that fraction of the firms have entered the pathway (the fault's cue)."""
    while len(driver.opened) < fraction * driver.cases:
        time.sleep(0.05)


def total_consumed(network, outcome):
    """Sum of parcours_events_consumed_total{outcome=...} over the consuming services."""
    total = 0.0
    consumers = {service for found in subscriptions().values() for service, _ in found}
    for name in sorted(consumers):
        for line in requests.get(network.url(name) + "/metrics", timeout=5).text.splitlines():
            if (line.startswith("parcours_events_consumed_total{")
                    and 'outcome="{}"'.format(outcome) in line):
                total += float(line.rsplit(" ", 1)[1])
    return total


# --- the faults: each runs beside the driver and returns what the checks need ----------------

def broker_restart(network, driver):
    when(driver, 0.3)
    rabbitmqctl("stop_app")
    time.sleep(3)  # the outage itself
    rabbitmqctl("start_app")
    return {}


def kill_9(service):
    def fault(network, driver):
        when(driver, 0.3)
        network.services[service].kill()
        time.sleep(1)  # dead for a second, as under a supervisor's restart delay
        network.services[service].start()
        return {}
    fault.__name__ = "kill_9_" + service
    return fault


def duplicates_and_reordering(network, driver):
    when(driver, 0.5)
    events = published_events(network)
    random.Random(3).shuffle(events)
    publish_messages(network.amqp_uri, [(exchange, key, body, "application/json")
                                        for exchange, key, body in events])
    subscribers = subscriptions()
    copies = sum(len(subscribers.get((exchange.split(".")[0], key), []))
                 for exchange, key, _ in events)
    return {"injected": len(events), "expected_duplicates": copies}


def slow_consumer(network, driver):
    when(driver, 0.2)
    reporting, backlog = network.services["reporting"], 0
    for _ in range(4):
        published_before = events_sent(network)
        reporting.pause()  # reporting stalls while the others keep producing
        time.sleep(2.5)
        # Reporting consumes every event published: those sent while it stood still wait for
        # it. (Counted from the publishers' outboxes: the broker's queue statistics are only
        # refreshed every 5 s, and a paused consumer holds its prefetched messages unacked.)
        backlog = max(backlog, events_sent(network) - published_before)
        reporting.resume()
        time.sleep(0.5)
    return {"max_backlog": backlog}


def events_sent(network):
    return sum(network.rows(name, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
               [0][0] for name in PUBLISHERS)


POISON_ROUTES = [("intake", "case.opened"), ("diagnostic", "diagnostic.completed"),
                 ("programmes", "enrolment.confirmed")]


def poison_messages(network, driver):
    """Messages no consumer can apply, mixed into the flow at three moments."""
    valid = {"specversion": "1.0", "id": "", "source": "", "type": "", "subject": "x",
             "time": "2026-11-23T10:00:00+00:00", "datacontenttype": "application/json",
             "dataschema": "", "data": {}}
    expected, published = {}, 0
    for moment in (0.2, 0.5, 0.8):
        when(driver, moment)
        for source, event_type in POISON_ROUTES:
            kinds = [
                (b"{not json", "application/json"),
                (json.dumps(dict(valid, id=str(uuid.uuid4()), source="/parcours/" + source,
                                 type=event_type,
                                 dataschema="urn:parcours:schema:{}:v1".format(event_type))),
                 "application/json"),                                    # data fails its schema
                (json.dumps(dict(valid, id=str(uuid.uuid4()), source="/parcours/" + source,
                                 type=event_type,
                                 dataschema="urn:parcours:schema:{}:v9".format(event_type))),
                 "application/json"),                                    # unknown version
                (b"case opened, see attached", "text/plain"),
            ]
            for body, content_type in kinds:
                poison_id = str(uuid.uuid4())
                publish_messages(network.amqp_uri,
                                 [(source + ".events", event_type, body, content_type)],
                                 headers={"x-fault-poison": poison_id})
                published += 1
                for service, method in subscriptions()[(source, event_type)]:
                    expected.setdefault(queue_name(source, event_type, service, method),
                                        []).append(poison_id)
    return {"poison": expected, "injected": published}


def database_outage(network, driver):
    """diagnostic's database refuses connections for longer than the whole retry budget."""
    when(driver, 0.3)
    network.cut_database("diagnostic")
    time.sleep(6)
    network.restore_database("diagnostic")
    return {}


def password_rotation(network, driver):
    """intake's broker password changed under load, intake restarted with the new one."""
    when(driver, 0.3)
    network.rotate_password("intake")
    return {}


def kill_9_a_replica_of_each(network, driver):
    """With two processes of every service: the second of each killed at once, mid-flow, the
    first carrying on alone; then restarted."""
    when(driver, 0.3)
    for processes in network.processes.values():
        processes[1].kill()
    time.sleep(1)
    for processes in network.processes.values():
        processes[1].start()
    return {}


FAULTS = [broker_restart, kill_9("intake"), kill_9("diagnostic"), kill_9("programmes"),
          kill_9("reporting"), duplicates_and_reordering, slow_consumer, poison_messages,
          database_outage, password_rotation]
LABELS = {
    "broker_restart": "broker restart (stop_app, 3 s, start_app)",
    "kill_9_intake": "kill -9 intake, restart",
    "kill_9_diagnostic": "kill -9 diagnostic, restart",
    "kill_9_programmes": "kill -9 programmes, restart",
    "kill_9_reporting": "kill -9 reporting, restart",
    "duplicates_and_reordering": "every event so far republished, shuffled",
    "slow_consumer": "reporting stalled 4 × 2.5 s (SIGSTOP)",
    "poison_messages": "36 poison messages mixed in",
    "database_outage": "diagnostic's database down 6 s",
    "password_rotation": "intake's broker password rotated, intake restarted",
    "kill_9_a_replica_of_each": "2 replicas of every service, kill -9 one of each, restart",
    "kill_9_the_node_leading_the_queues": "3-node RabbitMQ cluster, quorum queues, kill -9 "
                                          "the node leading them",
}


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.__name__)
def test_nothing_is_lost_nothing_counts_twice(network, fault):
    if fault is broker_restart and not shutil.which("rabbitmqctl"):
        pytest.skip("rabbitmqctl is not on this machine")
    run_with_fault(network, fault)


@pytest.fixture
def replicated_network(tmp_path):
    """Two processes of every service, sharing its database, its queues and its outbox."""
    network = FaultNetwork(str(tmp_path), DATABASE_URL, replicas=2)
    try:
        network.start()
        yield network
    finally:
        network.close()


def test_replicas_share_the_work_and_one_killed_loses_nothing(replicated_network):
    run_with_fault(replicated_network, kill_9_a_replica_of_each)


@pytest.fixture
def cluster_network(tmp_path):
    """The network on a three-node RabbitMQ cluster started here (scripts/rabbitmq_cluster.py),
    its queues quorum queues, each service given every node's address."""
    cluster = rabbitmq_cluster.Cluster(str(tmp_path / "rabbitmq"))
    cluster.start(progress=lambda line: None)
    try:
        network = FaultNetwork(str(tmp_path), DATABASE_URL, cluster=cluster)
        try:
            network.start()
            yield network
        finally:
            network.close()
    finally:
        cluster.stop()


def kill_9_the_node_leading_the_queues(network, driver):
    """kill -9 of the cluster node that leads most quorum queues, mid-flow: their leadership
    moves to the other two, and the services reconnect to them without restarting; the node
    is started again (it rejoins with its data) once the services have recovered."""
    when(driver, 0.3)
    leaders = network.admin.queue_leaders(network.vhost)
    leader = max(leaders, key=leaders.get)
    node = next(node for node in network.cluster.nodes if node.name == leader)
    node.kill()
    outcome = {"killed": leader, "queues_led": leaders[leader]}
    print("\nkilled {}, which led {} of {} quorum queues".format(
        leader, leaders[leader], sum(leaders.values())))
    outcome["recovery"] = wait_until(
        lambda: network.all_healthy() and _consumers_attached(network), timeout=120)
    node.start()
    return outcome


@pytest.mark.skipif(not rabbitmq_cluster.available(),
                    reason="RabbitMQ's own scripts (rabbitmq-server) are not on this machine")
def test_a_cluster_node_leading_the_queues_killed_loses_nothing(cluster_network):
    run_with_fault(cluster_network, kill_9_the_node_leading_the_queues)


def run_with_fault(network, fault):
    driver = PathwayDriver(network, CASES)
    outcome = {}

    def inject():
        try:
            outcome.update(fault(network, driver) or {})
            # recovery: from the end of the fault until every service is healthy again and
            # every consumer queue has its consumer back (a fault may measure its own)
            if "recovery" not in outcome:
                outcome["recovery"] = wait_until(
                    lambda: network.all_healthy() and _consumers_attached(network),
                    timeout=120)
        except Exception as exc:
            outcome["error"] = exc

    duplicates_before = total_consumed(network, "duplicate")
    injector = threading.Thread(target=inject, daemon=True)
    started = time.monotonic()
    injector.start()
    try:
        driver.run(timeout=120 + CASES)
    except AssertionError as stuck:
        raise AssertionError("{}; the invariants say: {}".format(
            stuck, judge(network, {}).problems)) from None
    injector.join(timeout=120)
    assert "error" not in outcome, outcome.get("error")
    recovery = outcome["recovery"]
    assert recovery is not None, "the services did not recover within 120 s of the fault"

    poison = outcome.get("poison", {})
    verdict = converge(network, {queue + ".dlq": len(ids) for queue, ids in poison.items()},
                       timeout=120)
    drained_after = time.monotonic() - started
    _record(fault, verdict, outcome, recovery, drained_after)

    assert verdict.holds, verdict.problems
    assert verdict.lost == 0 and verdict.double_applied == 0
    assert dead_letter_poison_ids(network) == {q: sorted(ids) for q, ids in poison.items()}
    if "expected_duplicates" in outcome:
        discarded = total_consumed(network, "duplicate") - duplicates_before
        assert discarded >= outcome["expected_duplicates"], (discarded, outcome)
    if "max_backlog" in outcome:
        assert outcome["max_backlog"] > 0, "reporting's backlog never built up"


def _consumers_attached(network):
    queues = network.admin.queues(network.vhost)
    return queues is not None and all(queues.get(name, (0, 0))[1] >= 1
                                      for name in network.consumer_queues())


def _record(fault, verdict, outcome, recovery, elapsed):
    row = {"fault": LABELS[fault.__name__], "cases": CASES,
           "events": verdict.events + outcome.get("injected", 0),
           "lost": verdict.lost, "double_applied": verdict.double_applied,
           "recovery_s": round(recovery, 2), "run_s": round(elapsed, 1),
           "holds": verdict.holds}
    print("\nfault result: " + json.dumps(row))
    if RESULTS:
        with open(RESULTS, "a") as results:
            results.write(json.dumps(row) + "\n")

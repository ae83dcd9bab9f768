"""The Prometheus alert rules (deploy/prometheus/alerts.yml): valid, unit-tested with promtool
on made-up series (alerts_test.yml); they and the Grafana dashboard read only metrics the
services do export."""
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from parcours_shared import metrics

RULES = os.path.join(os.path.dirname(__file__), "..", "deploy", "prometheus")
promtool = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    promtool is None, reason="needs promtool (make test installs it: scripts/ensure_promtool.sh)")


@needs_promtool
@pytest.mark.parametrize("command", [["check", "rules", "alerts.yml"],
                                     ["test", "rules", "alerts_test.yml"]])
def test_promtool_accepts_the_rules_and_their_tests(command):
    run = subprocess.run([promtool, *command], cwd=RULES, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def exported_metric_names():
    """The series names of parcours_shared.metrics, as Prometheus stores them."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
    names = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                names.add(family.name)
                names.update(family.name + suffix for suffix in suffixes.get(family.type, []))
    return names


def test_the_rules_and_the_dashboard_read_only_metrics_the_services_export():
    with open(os.path.join(RULES, "alerts.yml"), encoding="utf-8") as file:
        rules = [rule for group in yaml.safe_load(file)["groups"] for rule in group["rules"]]
    used = {name for rule in rules for name in re.findall(r"\bparcours_\w+", rule["expr"])}
    assert used and used <= exported_metric_names(), used - exported_metric_names()
    with open(os.path.join(RULES, "..", "grafana", "dashboards", "parcours.json"),
              encoding="utf-8") as file:
        panels = json.load(file)["panels"]
    charted = {name for panel in panels for target in panel.get("targets", [])
               for name in re.findall(r"\bparcours_\w+", target["expr"])}
    assert charted <= exported_metric_names(), charted - exported_metric_names()
    every_alert = {rule["alert"] for rule in rules}
    assert {"DeadLetterQueueNotEmpty", "QueueWithoutConsumer", "OutboxStuck",
            "QueueBacklogGrowing", "EventDelayHigh"} <= every_alert

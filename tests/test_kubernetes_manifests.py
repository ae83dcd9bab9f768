"""deploy/kubernetes, checked without a cluster: every resource against the Kubernetes API's own
schemas (kubernetes-validate, strict: an unknown field fails), and the manifests in step with
the services (ports, probes, the config and secrets each one reads, replicas with a disruption
budget and an autoscaler)."""
import os

import kubernetes_validate
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFESTS = os.path.join(ROOT, "deploy", "kubernetes")
SERVICES = {"intake": 8001, "diagnostic": 8002, "programmes": 8003, "reporting": 8004}
KUBERNETES_VERSION = "1.37.0"
# resources of operators' own APIs, whose schemas ship with the operator, not with Kubernetes
OPERATOR_KINDS = {("rabbitmq.com/v1beta1", "RabbitmqCluster")}


def resources():
    found = []
    for name in sorted(os.listdir(MANIFESTS)):
        if name.endswith(".yaml") and name != "kustomization.yaml":
            with open(os.path.join(MANIFESTS, name)) as manifest:
                found += [(name, resource) for resource in yaml.safe_load_all(manifest)
                          if resource]
    return found


def of_kind(kind):
    return {resource["metadata"]["name"]: resource for _, resource in resources()
            if resource["kind"] == kind}


@pytest.mark.parametrize("name, resource", resources(), ids=lambda value: value if isinstance(
    value, str) else "{}/{}".format(value["kind"], value["metadata"]["name"]))
def test_each_resource_is_valid_for_kubernetes(name, resource):
    if (resource["apiVersion"], resource["kind"]) in OPERATOR_KINDS:
        assert resource["spec"]["replicas"] == 3  # the operator checks the rest at apply
        return
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_example_secrets():
    with open(os.path.join(MANIFESTS, "kustomization.yaml")) as loaded:
        listed = set(yaml.safe_load(loaded)["resources"])
    files = {name for name in os.listdir(MANIFESTS)
             if name.endswith(".yaml") and name != "kustomization.yaml"}
    assert listed == files - {"secrets.example.yaml"}


@pytest.mark.parametrize("service, port", sorted(SERVICES.items()))
def test_each_service_runs_as_replicas_probed_where_it_listens(service, port):
    deployment = of_kind("Deployment")[service]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["WEB_SERVER_ADDRESS"] == "0.0.0.0:{}".format(port)
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert deployment["spec"]["replicas"] >= 2
    labels = deployment["spec"]["selector"]["matchLabels"]
    assert of_kind("PodDisruptionBudget")[service]["spec"]["selector"]["matchLabels"] == labels
    autoscaler = of_kind("HorizontalPodAutoscaler")[service]["spec"]
    assert autoscaler["scaleTargetRef"]["name"] == service
    assert autoscaler["minReplicas"] >= 2 and autoscaler["maxReplicas"] > autoscaler["minReplicas"]
    service_port = of_kind("Service")[service]["spec"]["ports"][0]
    assert service_port["port"] == port and service_port["targetPort"] == "http"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_what_each_service_reads_is_a_setting_of_its_config(service):
    """Every variable the manifests give a service is one its config.yaml reads (a typo would
    be silently ignored); its Secret gives the broker and database URLs."""
    with open(os.path.join(ROOT, "services", service, "config.yaml")) as config:
        known = config.read()
    deployment = of_kind("Deployment")[service]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    given = [item["name"] for item in container["env"]]
    for source in container["envFrom"]:
        if "secretRef" in source:
            given += of_kind("Secret")[source["secretRef"]["name"]]["stringData"]
    with open(os.path.join(MANIFESTS, "kustomization.yaml")) as loaded:
        generated = {entry["name"]: [literal.split("=", 1)[0] for literal in entry["literals"]]
                     for entry in yaml.safe_load(loaded)["configMapGenerator"]}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            given += generated[source["configMapRef"]["name"]]
    assert {"AMQP_URI", "DATABASE_URL"} <= set(given)
    unknown = [name for name in given if "${" + name not in known and name + ":" not in known]
    assert unknown == []

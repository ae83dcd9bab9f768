"""The published contract (docs/events): in step with the code, valid by the ecosystem's own
tools, and compatible with every released version."""
import json
import os
import subprocess
import sys

import jsonschema
import pytest
import yaml
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_structured
from cloudevents.core.formats.json import JSONFormat

from parcours_shared.contracts import REGISTRY, parse_envelope
from parcours_shared.contracts.json_schema import schema_file_name
from parcours_shared.http import service_asyncapi_document

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENTS_DOCS = os.path.join(ROOT, "docs", "events")
ASYNCAPI_VALIDATOR = os.path.join(ROOT, "tools", "asyncapi", "validate.mjs")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from processes import service_classes  # noqa: E402


def load_asyncapi():
    with open(os.path.join(EVENTS_DOCS, "asyncapi.yaml"), encoding="utf-8") as committed:
        return yaml.safe_load(committed)


def committed_schema(event_type):
    path = os.path.join(EVENTS_DOCS, "schemas", schema_file_name(event_type))
    with open(path, encoding="utf-8") as committed:
        return json.load(committed)


def example_messages():
    document = load_asyncapi()
    return [(message_id, example["payload"], message["payload"])
            for message_id, message in document["components"]["messages"].items()
            for example in message["examples"]]


def test_the_committed_documents_are_what_the_code_generates():
    check = subprocess.run([sys.executable, "-W", "ignore",
                            os.path.join(ROOT, "scripts", "contracts.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_asyncapi_parser_accepts_the_network_document_and_each_service_part(tmp_path):
    if not os.path.isdir(os.path.join(ROOT, "tools", "asyncapi", "node_modules")):
        pytest.fail("AsyncAPI's parser is not installed: run make setup")
    parts = []
    for service_cls in service_classes():
        part = tmp_path / "{}.asyncapi.json".format(service_cls.name)
        part.write_text(json.dumps(service_asyncapi_document(service_cls)))
        parts.append(str(part))
    result = subprocess.run(["node", ASYNCAPI_VALIDATOR,
                             os.path.join(EVENTS_DOCS, "asyncapi.yaml"), *parts],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("valid AsyncAPI 3.0.0") == 1 + len(parts), result.stdout


def test_every_registered_version_has_its_schema_file_and_a_channel():
    document = load_asyncapi()
    for event_type in REGISTRY.every_version():
        schema = committed_schema(event_type)
        assert schema["$id"] == event_type.dataschema
        channel = document["channels"][event_type.name]
        assert "{}.v{}".format(event_type.name, event_type.version) in channel["messages"]
        assert channel["bindings"]["amqp"]["exchange"]["name"] == event_type.publisher + ".events"


@pytest.mark.parametrize("event_type", REGISTRY.every_version(), ids=lambda t: t.dataschema)
def test_each_schema_file_is_valid_json_schema_and_accepts_its_example(event_type):
    schema = committed_schema(event_type)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    assert schema["examples"], "each version documents an example"
    for example in schema["examples"]:
        validator.validate(example)
    # and the schema is not vacuous: the example without a required field is refused
    required = schema["required"][0]
    broken = {key: value for key, value in schema["examples"][0].items() if key != required}
    assert not validator.is_valid(broken)


@pytest.mark.parametrize("message_id,envelope,payload_schema", example_messages(),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_each_example_envelope_is_valid_and_read_by_the_cloudevents_sdk(
        message_id, envelope, payload_schema):
    validator = jsonschema.Draft7Validator(
        payload_schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    validator.validate(envelope)

    body = json.dumps(envelope).encode("utf-8")
    message = RabbitMQMessage(headers={}, content_type="application/cloudevents+json", body=body)
    event = from_structured(message, JSONFormat())
    for attribute in ("specversion", "id", "source", "type", "subject", "dataschema",
                      "datacontenttype"):
        assert event.get_attributes()[attribute] == envelope[attribute]
    assert event.get_data() == envelope["data"]
    # and our own consumers read it as the latest version of its type
    assert parse_envelope(envelope).type == envelope["type"]


def test_a_service_serves_its_part_of_the_contract():
    parts = {cls.name: service_asyncapi_document(cls) for cls in service_classes()}
    intake_sends = {op["channel"]["$ref"] for op in parts["intake"]["operations"].values()
                    if op["action"] == "send"}
    assert intake_sends == {"#/channels/" + t.name for t in REGISTRY.published_by("intake")}
    reporting = parts["reporting"]["operations"].values()
    assert {op["action"] for op in reporting} == {"receive"}
    from parcours_shared.directory import DIRECTORY_EVENT_TYPES
    from reporting.domain import CONSUMED_EVENT_TYPES
    assert {op["channel"]["$ref"] for op in reporting} == {
        "#/channels/" + name for name in CONSUMED_EVENT_TYPES + DIRECTORY_EVENT_TYPES}


def test_get_asyncapi_json_serves_the_service_part_over_http(running_service):
    from diagnostic.service import DiagnosticService
    diagnostic = running_service(DiagnosticService)
    response = diagnostic.get("/asyncapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document == json.loads(json.dumps(service_asyncapi_document(DiagnosticService)))
    actions = {(op["action"], op["channel"]["$ref"]) for op in document["operations"].values()}
    assert ("receive", "#/channels/case.opened") in actions
    assert ("send", "#/channels/diagnostic.completed") in actions


def run_make_contracts(*args):
    return subprocess.run([sys.executable, "-W", "ignore",
                           os.path.join(ROOT, "scripts", "contracts.py"), *args],
                          capture_output=True, text=True)


def test_make_contracts_refuses_a_change_that_breaks_a_released_version(tmp_path):
    import shutil
    docs = tmp_path / "events"
    shutil.copytree(EVENTS_DOCS, docs)
    # as if the code had dropped a field that the released case.opened v1 has
    released_file = docs / "schemas" / "case.opened.v1.json"
    released = json.loads(released_file.read_text())
    released["properties"]["legal_form"] = {"type": "string"}
    released["required"].append("legal_form")
    released_file.write_text(json.dumps(released))
    asyncapi_before = (docs / "asyncapi.yaml").read_text()

    refused = run_make_contracts("--docs", str(docs))
    assert refused.returncode != 0
    assert "case.opened v1 data.legal_form: removed" in refused.stderr
    assert "register the next version" in refused.stderr
    assert json.loads(released_file.read_text()) == released  # nothing written
    assert (docs / "asyncapi.yaml").read_text() == asyncapi_before


def test_make_contracts_writes_what_is_missing(tmp_path):
    import shutil
    docs = tmp_path / "events"
    shutil.copytree(EVENTS_DOCS, docs)
    (docs / "schemas" / "case.closed.v1.json").unlink()
    assert run_make_contracts("--docs", str(docs), "--check").returncode != 0
    written = run_make_contracts("--docs", str(docs))
    assert written.returncode == 0, written.stderr
    assert "case.closed.v1.json" in written.stdout
    assert run_make_contracts("--docs", str(docs), "--check").returncode == 0

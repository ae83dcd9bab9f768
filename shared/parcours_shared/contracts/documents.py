"""The contract's published files (docs/events): what the code generates, and the check that a
change to a released version does not break the integrators who rely on it.

Every schema file on main is a released version: it is frozen. A change that would break a
reader of it (``compatibility.breaking_changes``) is refused until the event's version is
bumped: register version N+1 with its upcast, and keep version N as released.
"""
import json

import yaml

from . import asyncapi
from .compatibility import breaking_changes
from .json_schema import schema_document, schema_file_name
from .registry import REGISTRY

ASYNCAPI_FILE = "asyncapi.yaml"
SCHEMAS_FOLDER = "schemas"


def asyncapi_yaml(subscriptions, registry=REGISTRY):
    return yaml.safe_dump(asyncapi.document(subscriptions, registry=registry),
                          sort_keys=False, allow_unicode=True, width=100)


def schema_json(event_type):
    return json.dumps(schema_document(event_type), indent=2, ensure_ascii=False) + "\n"


def generated_files(subscriptions, registry=REGISTRY):
    """``{path relative to docs/events: text}`` for the AsyncAPI document and one JSON Schema
    per registered type and version."""
    files = {ASYNCAPI_FILE: asyncapi_yaml(subscriptions, registry)}
    for event_type in registry.every_version():
        files[SCHEMAS_FOLDER + "/" + schema_file_name(event_type)] = schema_json(event_type)
    return files


def breaks_released(released, registry=REGISTRY):
    """What the registry's schemas break of the released ones, one line per problem.

    ``released``: ``{schema file name: its JSON document}`` as committed. A version with no
    released file is new and breaks nothing."""
    problems = []
    for event_type in registry.every_version():
        document = released.get(schema_file_name(event_type))
        if document is None:
            continue
        for change in breaking_changes(document, schema_document(event_type)):
            problems.append("{} v{} {}".format(event_type.name, event_type.version, change))
    return problems

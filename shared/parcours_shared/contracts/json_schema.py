"""The JSON Schema of each event type's data and of the envelope it travels in, generated from
the registry's marshmallow schemas (by apispec's converter, which knows marshmallow's fields and
validators) so that integrators can read the contract without reading Python.

Draft-07, the dialect AsyncAPI 3.0 payloads use by default, so the same schema serves in the
AsyncAPI document and in the per-version files of docs/events/schemas.
"""
import copy
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from .envelope import CONTENT_TYPE, SPEC_VERSION, source_uri

DIALECT = "http://json-schema.org/draft-07/schema#"


@lru_cache(maxsize=1)
def _converter():
    # nested schemas inlined (a resolver naming none): each event's schema stands on its own,
    # in its file as in the AsyncAPI document, with no components to refer to
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)
    # OpenAPI 3.1's schema objects are JSON Schema: nullable fields become ``type: [x, null]``.
    APISpec("parcours-events", "1", "3.1.0", plugins=[plugin])
    return plugin.converter


def data_schema(event_type):
    """The JSON Schema of one version's data (bare: no ``$schema``, ready to embed)."""
    schema = copy.deepcopy(_converter().schema2jsonschema(event_type.schema))
    # Consumers ignore unknown fields: say so, so that validators and code generators agree.
    schema["additionalProperties"] = True
    return schema


def envelope_schema(event_type):
    """The JSON Schema of the whole CloudEvents envelope of one version, its data included."""
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "subject", "time",
                     "datacontenttype", "dataschema", "data"],
        "properties": {
            "specversion": {"const": SPEC_VERSION},
            "id": {"type": "string", "format": "uuid",
                   "description": "Unique per event: consumers use it to apply an event once."},
            "source": {"const": source_uri(event_type.publisher)},
            "type": {"const": event_type.name},
            "subject": {"type": "string", "minLength": 1,
                        "description": "The case (or other entity) the event is about."},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": CONTENT_TYPE},
            "dataschema": {"const": event_type.dataschema},
            "data": data_schema(event_type),
            "partner": {"type": "string", "minLength": 1, "maxLength": 64,
                        "description": "Extension attribute: the partner whose caller caused "
                                       "the event (its id in the network directory); absent "
                                       "when the service acted by itself."},
            "person": {"type": "string", "minLength": 1, "maxLength": 64,
                       "description": "Extension attribute: the person who acted for that "
                                      "partner, when a person did."},
        },
        "additionalProperties": True,  # other CloudEvents extension attributes
    }


def schema_file_name(event_type):
    return "{}.v{}.json".format(event_type.name, event_type.version)


def schema_document(event_type):
    """The content of one version's file in docs/events/schemas: its data's JSON Schema, named
    by the ``dataschema`` URN every envelope of that version carries."""
    document = {
        "$schema": DIALECT,
        "$id": event_type.dataschema,
        "title": "{} v{}".format(event_type.name, event_type.version),
        "description": event_type.meaning,
        "x-parcours-publisher": event_type.publisher,
    }
    if event_type.accepted_until is not None:
        document["x-parcours-accepted-until"] = event_type.accepted_until.isoformat()
    document.update(data_schema(event_type))
    document["examples"] = [event_type.example]
    return document

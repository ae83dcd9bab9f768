"""The AsyncAPI 3.0 document of the network's events, generated from the registry and from the
services' subscriptions.

One channel per exchange and routing key (each event type travels on its publisher's topic
exchange with its name as routing key); a ``send`` operation per type for its publisher and a
``receive`` operation per consumer queue; each message is the CloudEvents envelope of one
version, with the JSON Schema of its data and an example. A superseded version stays in its
channel's messages while consumers still accept it.

``make contracts`` writes the whole network's document into docs/events/asyncapi.yaml; each
service serves its own part (what it publishes and what it consumes) at ``GET /asyncapi.json``.
"""
from .envelope import CONTENT_TYPE, SPEC_VERSION, exchange_name, source_uri
from .json_schema import envelope_schema
from .registry import REGISTRY

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
# Where the events can be read: the broker of `make run`, and the one deploy/ describes.
SERVERS = {
    "local": {
        "host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0-9-1",
        "pathname": "/parcours",
        "description": "The broker `make run` uses: vhost parcours, a user per service; an "
                       "integrator gets one of its own with `python scripts/broker.py user "
                       "add`.",
    },
    "network": {
        "host": "rabbitmq:5672", "protocol": "amqp", "protocolVersion": "0-9-1",
        "pathname": "/parcours",
        "description": "The network's broker as deploy/ runs it: vhost parcours, one user "
                       "per service and per integrator.",
    },
}
EXAMPLE_EVENT_ID = "0b8e5c4a-7f1d-4e2b-9c63-5a0d8f1e7b29"
EXAMPLE_TIME = "2026-03-02T09:15:00+00:00"


def message_id(event_type):
    return "{}.v{}".format(event_type.name, event_type.version)


def example_envelope(event_type):
    """A whole envelope around the type's example data, as a consumer receives it."""
    return {
        "specversion": SPEC_VERSION,
        "id": EXAMPLE_EVENT_ID,
        "source": source_uri(event_type.publisher),
        "type": event_type.name,
        "subject": event_type.example.get("case_id", "5f0c9a1e-2b7d-4c1a-9a57-0d3c2f6b8e41"),
        "time": EXAMPLE_TIME,
        "datacontenttype": CONTENT_TYPE,
        "dataschema": event_type.dataschema,
        "data": event_type.example,
    }


def _message(event_type, latest):
    summary = event_type.meaning
    if event_type is not latest:
        summary += " (superseded by v{}; accepted until {})".format(
            latest.version, event_type.accepted_until or "further notice")
    message = {
        "name": event_type.name,
        "title": "{} v{}".format(event_type.name, event_type.version),
        "summary": summary,
        "contentType": CONTENT_TYPE,
        "payload": envelope_schema(event_type),
        "examples": [{"name": "example", "payload": example_envelope(event_type)}],
    }
    personal = event_type.personal_fields
    if personal:
        message["x-parcours-personal-fields"] = list(personal)
    return message


def _channel(latest, versions):
    return {
        "address": latest.name,
        "title": "{} on {}".format(latest.name, exchange_name(latest.publisher)),
        "description": "Routing key {} on the topic exchange {}, published by {}.".format(
            latest.name, exchange_name(latest.publisher), latest.publisher),
        "messages": {message_id(v): {"$ref": "#/components/messages/" + message_id(v)}
                     for v in versions},
        "bindings": {"amqp": {
            "is": "routingKey",
            "exchange": {"name": exchange_name(latest.publisher), "type": "topic",
                         "durable": True, "autoDelete": False},
            "bindingVersion": AMQP_BINDING_VERSION,
        }},
    }


def _message_refs(channel_id, versions):
    return [{"$ref": "#/channels/{}/messages/{}".format(channel_id, message_id(v))}
            for v in versions]


def document(subscriptions=(), services=None, registry=REGISTRY):
    """The AsyncAPI document, as a dict ready for JSON or YAML.

    ``subscriptions``: the consumers' queues (parcours_shared.topology.Subscription);
    ``services``: keep only what these services publish or consume (one service's part),
    or everything when None.
    """
    subscriptions = [s for s in subscriptions if services is None or s.service in services]
    consumed = {s.event_type for s in subscriptions}
    channels, operations, messages = {}, {}, {}
    for latest in registry.latest_types():
        published_here = services is None or latest.publisher in services
        if not (published_here or latest.name in consumed):
            continue
        versions = registry.versions(latest.name)
        channel_id = latest.name
        channels[channel_id] = _channel(latest, versions)
        for version in versions:
            messages[message_id(version)] = _message(version, latest)
        if published_here:
            operations["{}.publish.{}".format(latest.publisher, latest.name)] = {
                "action": "send",
                "title": "{} publishes {}".format(latest.publisher, latest.name),
                "summary": "Published through {}'s outbox: at least once, in the latest "
                           "version.".format(latest.publisher),
                "channel": {"$ref": "#/channels/" + channel_id},
                "messages": _message_refs(channel_id, [latest]),
            }
    for subscription in subscriptions:
        if subscription.event_type not in channels:
            continue  # consumes a type no longer registered: topology tests report it
        versions = registry.versions(subscription.event_type)
        operations["{}.{}.{}".format(subscription.service, subscription.method,
                                     subscription.event_type)] = {
            "action": "receive",
            "title": "{} consumes {}".format(subscription.service, subscription.event_type),
            "summary": "Queue {}: applied once per event id, retried, then dead-lettered "
                       "with the reason.".format(subscription.queue),
            "channel": {"$ref": "#/channels/" + subscription.event_type},
            "messages": _message_refs(subscription.event_type, versions),
            "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
        }
    title = "Parcours network events"
    if services is not None:
        title = "Parcours events of {}".format(", ".join(sorted(services)))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:parcours:events",
        "info": {
            "title": title,
            "version": "1.0.0",
            "description": (
                "Every event of the Parcours export-support network travels as a CloudEvents "
                "1.0 JSON envelope (structured mode) on its publisher's topic exchange, with "
                "its type as routing key. `dataschema` names the data's version; the JSON "
                "Schema of each version is in docs/events/schemas. Consumers ignore unknown "
                "fields: adding an optional field is not a new version, any other change is. "
                "Bind a queue of your own to the routing keys you need."),
        },
        "servers": SERVERS,
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }

"""The broker topology the services' inbox handlers use, read from the service classes.

Used to pre-declare every consumer queue in RabbitMQ's definitions (deploy/rabbitmq), so that an
event published before a consumer's first start waits in its queue instead of being routed
nowhere; to give each service's broker user exactly the rights its publishing and consuming
need; and by the fault suite to know who must have applied what.
"""
import re
from dataclasses import dataclass

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from .contracts import REGISTRY, exchange_name
from .inbox import (
    InboxHandler, consumer_queue_name, dead_letter_queue_name, queue_arguments,
    retry_queue_name,
)

# An integrator's queue (scripts/broker.py user add), and the cap on it: the network's
# publishers must not stall, nor the broker fill up, because one integrator stopped reading.
# Past the cap the oldest messages are dropped; the integrator's runbook says to watch its depth.
INTEGRATOR_QUEUE = "integrator.{}"
INTEGRATOR_QUEUE_CAP = {"max-length": 1_000_000, "overflow": "drop-head"}


@dataclass(frozen=True)
class Subscription:
    source_service: str
    event_type: str
    service: str
    method: str

    @property
    def queue(self):
        return consumer_queue_name(self.source_service, self.event_type, self.service,
                                   self.method)


def subscriptions(service_classes):
    found = []
    for service_cls in service_classes:
        for attribute in sorted(dir(service_cls)):
            method = getattr(service_cls, attribute)
            # a method's entrypoints are a set: in type order, so generated files are stable
            handlers = sorted((extension for extension in
                               getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ())
                               if isinstance(extension, InboxHandler)),
                              key=lambda extension: extension.event_type)
            for extension in handlers:
                found.append(Subscription(extension.source_service, extension.event_type,
                                          service_cls.name, attribute))
    return found


def rabbitmq_definitions(service_classes, vhost, queue_type="classic"):
    """Queues and bindings, in RabbitMQ's definitions format, exactly as the services declare
    them with PARCOURS_QUEUE_TYPE ``queue_type`` (a mismatch in arguments would make the
    service's own declaration fail)."""
    queues, bindings = [], []

    def queue(name, role):
        queues.append({"name": name, "vhost": vhost, "durable": True, "auto_delete": False,
                       "arguments": queue_arguments(queue_type, role, subscription.queue)})

    for subscription in subscriptions(service_classes):
        queue(subscription.queue, "queue")
        queue(retry_queue_name(subscription.queue), "retry")
        queue(dead_letter_queue_name(subscription.queue), "dlq")
        bindings.append({"source": exchange_name(subscription.source_service), "vhost": vhost,
                         "destination": subscription.queue, "destination_type": "queue",
                         "routing_key": subscription.event_type, "arguments": {}})
    return queues, bindings


def _one_of(*patterns):
    """A RabbitMQ permission regex matching exactly these patterns (``^$``: nothing)."""
    patterns = [pattern for pattern in patterns if pattern]
    if not patterns:
        return "^$"
    return "^{}$".format(patterns[0] if len(patterns) == 1
                         else "({})".format("|".join(patterns)))


def broker_permissions(service_classes, vhost, registry=REGISTRY):
    """Each service's rights on the broker, in RabbitMQ's definitions format: ``(permissions,
    topic_permissions)``, derived from the registry (who publishes what) and the services'
    subscriptions (who consumes what).

    A service configures and writes only its own exchange and its own queues (and the default
    exchange, through which it moves a message to its retry or dead-letter queue), and reads only
    its own queues and the exchanges it consumes from. Topic permissions narrow the routing keys:
    on its own exchange it may publish only the types it publishes, and on another's it may bind
    only the types it consumes.
    """
    found = subscriptions(service_classes)
    services = sorted({cls.name for cls in service_classes} | set(registry.publishers()))
    permissions, topic_permissions = [], []
    for service in services:
        own_queues = r"evt-.+--{}\..+".format(re.escape(service))
        published = [event_type.name for event_type in registry.published_by(service)]
        own_exchange = re.escape(exchange_name(service)) if published else None
        consumed = {}
        for subscription in found:
            if subscription.service == service:
                consumed.setdefault(subscription.source_service, set()).add(
                    subscription.event_type)
        permissions.append({
            "user": service, "vhost": vhost,
            "configure": _one_of(own_queues, own_exchange),
            "write": _one_of(own_queues, own_exchange, r"amq\.default"),
            "read": _one_of(own_queues, *[re.escape(exchange_name(source))
                                          for source in sorted(consumed)]),
        })
        if published:
            topic_permissions.append({
                "user": service, "vhost": vhost, "exchange": exchange_name(service),
                "write": _one_of(*[re.escape(name) for name in sorted(published)]),
                "read": "^$"})
        for source, types in sorted(consumed.items()):
            topic_permissions.append({
                "user": service, "vhost": vhost, "exchange": exchange_name(source),
                "write": "^$", "read": _one_of(*[re.escape(name) for name in sorted(types)])})
    return permissions, topic_permissions


def broker_policies(vhost):
    """The policies the code sets on the broker, in RabbitMQ's definitions format."""
    return [{"vhost": vhost, "name": "integrator-queue-cap",
             "pattern": "^{}$".format(re.escape(INTEGRATOR_QUEUE.format("")) + ".+"),
             "apply-to": "queues", "priority": 0, "definition": dict(INTEGRATOR_QUEUE_CAP)}]

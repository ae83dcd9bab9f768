"""The broker topology the services' inbox handlers use, read from the service classes.

Used to pre-declare every consumer queue in RabbitMQ's definitions (deploy/rabbitmq), so that an
event published before a consumer's first start waits in its queue instead of being routed
nowhere, and by the fault suite to know who must have applied what.
"""
from dataclasses import dataclass

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from .contracts import exchange_name
from .inbox import (
    InboxHandler, consumer_queue_name, dead_letter_queue_name, retry_queue_name,
)


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


def rabbitmq_definitions(service_classes, vhost):
    """Queues and bindings, in RabbitMQ's definitions format, exactly as the services declare
    them (a mismatch in arguments would make the service's own declaration fail)."""
    queues, bindings = [], []

    def queue(name, arguments=None):
        queues.append({"name": name, "vhost": vhost, "durable": True, "auto_delete": False,
                       "arguments": arguments or {}})

    for subscription in subscriptions(service_classes):
        queue(subscription.queue)
        queue(retry_queue_name(subscription.queue), {
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": subscription.queue})
        queue(dead_letter_queue_name(subscription.queue))
        bindings.append({"source": exchange_name(subscription.source_service), "vhost": vhost,
                         "destination": subscription.queue, "destination_type": "queue",
                         "routing_key": subscription.event_type, "arguments": {}})
    return queues, bindings

"""The inbox entrypoint: consume an event type, validate it, apply it once; retry, then dead-letter.

``@inbox_handler("intake", "case.opened")`` is Parcours' replacement for nameko's
``@event_handler``: same exchange and queue naming (``evt-<source>-<type>--<service>.<method>``),
but nothing is lost or looped forever.

- A message that is not valid JSON or does not match its contract goes straight to
  ``<queue>.dlq`` with the reason; it never reaches the handler and never blocks the queue.
- A handler that raises has its message republished to ``<queue>.retry``, whose messages expire
  back into the queue after a growing delay; after ``max_attempts`` the message goes to
  ``<queue>.dlq`` with the error.
- An infrastructure failure (the database unreachable, a broken connection) is not the
  message's fault: it is retried with a capped delay for as long as it lasts, without using up
  attempts, so an outage never dead-letters good events.
- The message is acked only once the handler's transaction committed, or once its retry or
  dead-letter copy is confirmed by the broker.

Messages are taken raw (kombu ``on_message``) rather than decoded by kombu, because nameko's
queue consumer lets a decoding error escape and kill the container: an integrator's bad message
must not stop a partner's service.
"""
import json
import logging
import time
import traceback
from functools import partial

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Exchange, Queue
from kombu.exceptions import OperationalError as BrokerUnavailable
from nameko.amqp.publish import get_producer
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint
from nameko.messaging import QueueConsumer

from .contracts import ContractViolation, exchange_name, parse_envelope, utc_now
from .db import DATABASE_UNAVAILABLE
from .metrics import EVENT_LAG, EVENTS_CONSUMED, HANDLER_SECONDS

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = DATABASE_UNAVAILABLE + (BrokerUnavailable, ConnectionError)

RETRY_CONFIG_KEY = "PARCOURS_RETRY"
DECLARE_EXCHANGES_CONFIG_KEY = "PARCOURS_DECLARE_EXCHANGES"
ATTEMPTS_HEADER = "x-parcours-attempts"
ERROR_HEADER = "x-parcours-error"
QUEUE_HEADER = "x-parcours-queue"
FAILED_AT_HEADER = "x-parcours-failed-at"
ACCEPTED_CONTENT_TYPES = ("application/json", "application/cloudevents+json")
TRANSIENT_HEADER = "x-parcours-transient-retries"
DEFAULT_RETRY = {"max_attempts": 5, "delay_ms": 1000, "max_delay_ms": 60000,
                 "transient_max_delay_ms": 5000}


def retry_queue_name(queue_name):
    return queue_name + ".retry"


def dead_letter_queue_name(queue_name):
    return queue_name + ".dlq"


def decode_event(message):
    """Parse and validate a raw AMQP message; raise ContractViolation if it is unusable."""
    content_type = (message.content_type or "application/json").split(";")[0].strip()
    if content_type not in ACCEPTED_CONTENT_TYPES:
        raise ContractViolation("unsupported content type {!r}".format(content_type))
    body = message.body
    try:
        if isinstance(body, bytes):
            body = body.decode(message.content_encoding or "utf-8")
        document = json.loads(body)
    except (UnicodeDecodeError, LookupError, ValueError) as exc:
        raise ContractViolation("the message body is not valid JSON ({})".format(exc)) from None
    return parse_envelope(document)


class InboxConsumer(QueueConsumer):
    """nameko's queue consumer (connection, reconnection, graceful stop), fed raw messages."""

    def ack_message(self, message):
        try:
            super().ack_message(message)
        except CONNECTION_GONE as exc:
            _log_lost_settlement("ack", message, exc)

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except CONNECTION_GONE as exc:
            _log_lost_settlement("requeue", message, exc)

    def get_consumers(self, consumer_cls, channel):
        for provider in self._providers:
            provider.declare_retry_queues(channel)
            consumer = consumer_cls(
                queues=[provider.queue],
                on_message=partial(self.handle_message, provider, None),
            )
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()


class InboxHandler(Entrypoint):
    consumer = InboxConsumer()

    def __init__(self, source_service, event_type, **kwargs):
        self.source_service = source_service
        self.event_type = event_type
        self.queue = None
        super().__init__(**kwargs)

    # --- nameko lifecycle ----------------------------------------------------------------------

    def setup(self):
        queue_name = "evt-{}-{}--{}.{}".format(
            self.source_service, self.event_type, self.container.service_name, self.method_name)
        # Declaring the publisher's exchange lets a consumer start first; where the broker's
        # definitions create exchanges and a service user may not configure others', turn it off.
        declare = _is_true(self.container.config.get(DECLARE_EXCHANGES_CONFIG_KEY, True))
        exchange = Exchange(exchange_name(self.source_service), type="topic", durable=True,
                            no_declare=not declare)
        self.queue = Queue(queue_name, exchange=exchange, routing_key=self.event_type,
                           durable=True)
        self.retry = dict(DEFAULT_RETRY, **self.container.config.get(RETRY_CONFIG_KEY, {}))
        self.consumer.register_provider(self)

    def stop(self):
        self.consumer.unregister_provider(self)
        super().stop()

    def declare_retry_queues(self, channel):
        channel.queue_declare(
            queue=retry_queue_name(self.queue.name), durable=True, auto_delete=False,
            arguments={
                # expired retries go straight back to this handler's queue only
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue.name,
            })
        channel.queue_declare(queue=dead_letter_queue_name(self.queue.name), durable=True,
                              auto_delete=False)

    # --- one message ---------------------------------------------------------------------------

    def handle_message(self, _body, message):
        try:
            event = decode_event(message)
        except ContractViolation as exc:
            log.warning("%s: dead-lettering an invalid message: %s", self.queue.name, exc)
            self._settle(message, self._dead_letter, message, str(exc), attempts=0)
            EVENTS_CONSUMED.labels(self.container.service_name, self.event_type,
                                   "dead_lettered").inc()
            return
        started = time.monotonic()
        try:
            self.container.spawn_worker(
                self, (event,), {}, context_data={},
                handle_result=partial(self.handle_result, message, event, started))
        except ContainerBeingKilled:
            self.consumer.requeue_message(message)

    def handle_result(self, message, event, started, worker_ctx, result=None, exc_info=None):
        service = self.container.service_name
        HANDLER_SECONDS.labels(service, self.event_type).observe(time.monotonic() - started)
        if exc_info is None:
            self.consumer.ack_message(message)
            outcome = "duplicate" if result is False else "applied"
            if outcome == "applied":
                lag = (utc_now() - event.time).total_seconds()
                EVENT_LAG.labels(service, self.event_type).observe(max(lag, 0.0))
        else:
            headers = message.headers or {}
            error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
            attempts = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
            if is_transient(exc_info[1]):
                waited = int(headers.get(TRANSIENT_HEADER, 0)) + 1
                log.warning("%s: infrastructure unavailable (%s); retry %d, attempts unchanged",
                            self.queue.name, error, waited)
                self._settle(message, self._schedule_retry, message, error, TRANSIENT_HEADER,
                             waited, self.retry["transient_max_delay_ms"])
                outcome = "retried"
            elif attempts >= self.retry["max_attempts"]:
                log.error("%s: giving up after %d attempts, dead-lettering: %s",
                          self.queue.name, attempts, error)
                self._settle(message, self._dead_letter, message, error, attempts)
                outcome = "dead_lettered"
            else:
                log.warning("%s: attempt %d failed, retrying: %s", self.queue.name, attempts, error)
                self._settle(message, self._schedule_retry, message, error, ATTEMPTS_HEADER,
                             attempts, self.retry["max_delay_ms"])
                outcome = "retried"
        EVENTS_CONSUMED.labels(service, self.event_type, outcome).inc()
        return result, exc_info

    def _settle(self, message, republish, *args, **kwargs):
        """Ack only once the copy is safely with the broker; otherwise let the broker redeliver."""
        try:
            republish(*args, **kwargs)
        except Exception as exc:
            log.error("%s: could not republish (%s); the message will be redelivered",
                      self.queue.name, exc)
            self.consumer.requeue_message(message)
            return
        self.consumer.ack_message(message)

    def _schedule_retry(self, message, error, counter_header, count, max_delay_ms):
        """Back into the queue through ``<queue>.retry``, after a delay that doubles with
        ``count`` (kept in ``counter_header``) up to ``max_delay_ms``."""
        delay_ms = min(max_delay_ms, self.retry["delay_ms"] * 2 ** min(count - 1, 16))
        headers = dict(message.headers or {}, **{counter_header: count,
                                                 ERROR_HEADER: error[:1000]})
        self._republish(message, retry_queue_name(self.queue.name), headers,
                        expiration=delay_ms / 1000.0)

    def _dead_letter(self, message, reason, attempts):
        headers = dict(message.headers or {}, **{
            ATTEMPTS_HEADER: attempts,
            ERROR_HEADER: reason[:4000],
            QUEUE_HEADER: self.queue.name,
            FAILED_AT_HEADER: utc_now().isoformat(),
        })
        self._republish(message, dead_letter_queue_name(self.queue.name), headers)

    def _republish(self, message, queue_name, headers, expiration=None):
        properties = message.properties or {}
        body = message.body
        if isinstance(body, str):
            body = body.encode(message.content_encoding or "utf-8")
        with get_producer(self.container.config["AMQP_URI"], confirms=True) as producer:
            producer.publish(
                body,
                exchange="",
                routing_key=queue_name,
                headers=headers,
                content_type=message.content_type or "application/octet-stream",
                content_encoding=message.content_encoding or "binary",
                delivery_mode=2,
                expiration=expiration,
                message_id=properties.get("message_id"),
                type=properties.get("type"),
                app_id=properties.get("app_id"),
                retry=True,
                retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
            )


# nameko 2.14 guards acks against amqp's ConnectionError only; after a broker restart the socket
# raises ConnectionResetError or BrokenPipeError, which escaped, failed the worker and killed the
# whole container (found by the fault suite).
CONNECTION_GONE = (AmqpConnectionError, OSError)


def _log_lost_settlement(action, message, exc):
    log.warning("could not %s a message (%s): the connection is gone, so the broker will "
                "deliver it again and the inbox will discard the copy", action, exc)


def is_transient(exc):
    """Failures of the infrastructure rather than of the event: retry them without limit."""
    return isinstance(exc, TRANSIENT_ERRORS)


def _is_true(value):
    return value is True or str(value).strip().lower() in ("true", "1", "yes", "on")


inbox_handler = InboxHandler.decorator

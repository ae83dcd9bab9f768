"""The inbox entrypoint: consume an event type, validate it, apply it once; retry, then dead-letter.

``@inbox_handler("case.opened")`` is Parcours' replacement for nameko's ``@event_handler``:
same exchange and queue naming (``evt-<source>-<type>--<service>.<method>``, the source being
the type's publisher in the contract registry), but nothing is lost, looped forever or applied
twice. The method it decorates is ``(self, uow, events)``: it is called inside the unit of work
that claims the events in the service's inbox, with the new ones only (never a duplicate), and
whatever it writes or publishes commits with the claim. So a handler cannot forget to be
idempotent. One method may consume several types: ``@inbox_handler("a.b", "c.d")``.

- A message that is not valid JSON or does not match its contract goes straight to
  ``<queue>.dlq`` with the reason; it never reaches the handler and never blocks the queue.
- A handler that raises has its message republished to ``<queue>.retry``, whose messages expire
  back into the queue after a growing delay; after ``max_attempts`` the message goes to
  ``<queue>.dlq`` with the error.
- An infrastructure failure (the database unreachable, a broken connection) is not the
  message's fault: it is retried with a capped delay for as long as it lasts, without using up
  attempts, so an outage never dead-letters good events.
- The message is acked only once the handler's transaction committed, or once its retry or
  dead-letter copy is confirmed by the broker. Each queue has a channel of its own, so a batch's
  messages are acked together, with one ``basic_ack(multiple=True)`` (see ``AckWindow``).

Events are handed over in batches: while a batch is being applied, the messages that arrive
wait, and the next worker takes all of them (up to ``batch_size``). At low load a batch is one
event, so nothing waits for a batch to fill; under a burst, one transaction and one commit serve
many events; batches of other queues of the service that wait meanwhile share the transaction
(``once.GroupCommit``). When the transaction fails, the batch is applied again without the
event that failed, so one bad event is retried alone.

Messages are taken raw (kombu ``on_message``) rather than decoded by kombu, because nameko's
queue consumer lets a decoding error escape and kill the container: an integrator's bad message
must not stop a partner's service.
"""
import functools
import json
import logging
import time
import traceback
from collections import deque
from functools import partial

from amqp.exceptions import ConnectionError as AmqpConnectionError
import eventlet
from eventlet.event import Event as GreenEvent
from eventlet.queue import Empty, LightQueue
from eventlet.semaphore import Semaphore
from kombu import Connection, Consumer, Exchange, Queue
from kombu.exceptions import OperationalError as BrokerUnavailable
from nameko.amqp.publish import get_producer
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint
from nameko.messaging import QueueConsumer

from ..contracts import REGISTRY, ContractViolation, exchange_name, parse_envelope, utc_now
from ..db import Database, DatabaseAccess
from ..engine import DATABASE_UNAVAILABLE
from ..metrics import BATCH_EVENTS, EVENT_LAG, EVENTS_CONSUMED, HANDLER_SECONDS

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = DATABASE_UNAVAILABLE + (BrokerUnavailable, ConnectionError)

RETRY_CONFIG_KEY = "PARCOURS_RETRY"
INBOX_CONFIG_KEY = "PARCOURS_INBOX"
DECLARE_EXCHANGES_CONFIG_KEY = "PARCOURS_DECLARE_EXCHANGES"
# Broker users allowed to publish any event (operators replaying dead letters; guest on a
# development broker where every service connects as guest): a list, or words separated by
# commas. Every other publisher must be the event's own service (its user is named after it).
TRUSTED_PUBLISHERS_CONFIG_KEY = "PARCOURS_TRUSTED_PUBLISHERS"
# Prefixed to a service's name to make its broker user's (tests that share a broker; "" in
# deployments, where intake's user is "intake").
BROKER_USER_PREFIX_CONFIG_KEY = "PARCOURS_BROKER_USER_PREFIX"
PUBLISHED_BY_HEADER = "x-parcours-published-by"
ATTEMPTS_HEADER = "x-parcours-attempts"
ERROR_HEADER = "x-parcours-error"
QUEUE_HEADER = "x-parcours-queue"
FAILED_AT_HEADER = "x-parcours-failed-at"
ACCEPTED_CONTENT_TYPES = ("application/json", "application/cloudevents+json")
TRANSIENT_HEADER = "x-parcours-transient-retries"
DEFAULT_RETRY = {"max_attempts": 5, "delay_ms": 1000, "max_delay_ms": 60000,
                 "transient_max_delay_ms": 5000}
# prefetch: messages the broker may have delivered and not yet had acked, per queue. Twice the
# batch size lets the next batch gather while one is being applied.
DEFAULT_INBOX = {"batch_size": 100, "prefetch": 200}
_STOP = object()


def inbox_settings(config):
    """The service's PARCOURS_INBOX over the defaults."""
    return dict(DEFAULT_INBOX, **config.get(INBOX_CONFIG_KEY, {}))


# "classic" (one broker) or "quorum" (a cluster: each queue replicated on a majority of nodes,
# and it survives the loss of its leader)
QUEUE_TYPE_CONFIG_KEY = "PARCOURS_QUEUE_TYPE"
QUEUE_TYPES = ("classic", "quorum")


def queue_type(config):
    chosen = str(config.get(QUEUE_TYPE_CONFIG_KEY) or "classic").strip().lower()
    if chosen not in QUEUE_TYPES:
        raise ValueError("{} is {!r}: use classic (one broker) or quorum (a cluster)".format(
            QUEUE_TYPE_CONFIG_KEY, chosen))
    return chosen


def queue_arguments(kind, role, queue_name=None):
    """The arguments of a handler's queues: ``kind`` classic or quorum, ``role`` the queue's
    part (``queue``, ``retry``, ``dlq``; the retry queue names the queue it expires back to).
    The services and the broker's definitions take them from here: a mismatch would make the
    services' own declarations fail."""
    arguments = {}
    if role == "retry":
        # expired retries go straight back to this handler's queue only
        arguments.update({"x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue_name})
    if kind == "quorum":
        arguments["x-queue-type"] = "quorum"
        if role == "retry":
            # a retry expiring while its leader changes must still reach the queue
            # (quorum queues dead-letter at most once unless told; at least once needs
            # reject-publish)
            arguments.update({"x-dead-letter-strategy": "at-least-once",
                              "x-overflow": "reject-publish"})
    return arguments


def consumer_queue_name(source_service, event_type, service, method):
    """nameko's naming for a service-pool event handler's queue."""
    return "evt-{}-{}--{}.{}".format(source_service, event_type, service, method)


def retry_queue_name(queue_name):
    return queue_name + ".retry"


def dead_letter_queue_name(queue_name):
    return queue_name + ".dlq"


def trusted_publishers(config):
    value = config.get(TRUSTED_PUBLISHERS_CONFIG_KEY) or ()
    if isinstance(value, str):
        value = value.split(",")
    return frozenset(user.strip() for user in value if user and user.strip())


def first_publisher(message, own_user):
    """The broker user that first published ``message`` (None if it does not say): its
    ``user_id``, or, on a copy this consumer moved itself (``user_id`` its own, which no one
    else can set), the user its header names."""
    user = (message.properties or {}).get("user_id")
    headers = message.headers or {}
    if user is not None and user == own_user and PUBLISHED_BY_HEADER in headers:
        return headers[PUBLISHED_BY_HEADER]
    return user


def check_publisher(message, event, own_user, trusted=frozenset(), user_prefix=""):
    """Raise ContractViolation unless the broker user that published ``message`` may publish
    ``event``: its own service's user (named after it), or a trusted one.

    The user is the AMQP ``user_id`` property, which RabbitMQ checks against the publishing
    connection's user: a publisher cannot claim another's. A copy this consumer moved through
    its retry queue carries its own user (no one else can set it) and, in a header, the user it
    was first published by.
    """
    user = first_publisher(message, own_user)
    if user is None:
        raise ContractViolation("the message has no user_id: nothing vouches for who published "
                                "it (Parcours publishers set it; the broker checks it)")
    publisher_user = user_prefix + REGISTRY.latest(event.type).publisher
    if user != publisher_user and user not in trusted:
        raise ContractViolation(
            "{} from {} was published by the broker user {!r}, but only {!r} publishes "
            "it".format(event.type, event.source, user, publisher_user))


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

    KILL_GRACE_SECONDS = 5

    def kill(self):
        # nameko's kill waits for the consume loop to close its sockets; cut off from the broker,
        # that loop retries its connection for ever (kombu does not look at should_stop then),
        # and the container's kill hung with it. Past a grace period the loop is killed.
        thread = self._gt
        if thread is not None and not thread.dead:
            self.should_stop = True
            with eventlet.Timeout(self.KILL_GRACE_SECONDS, False):
                try:
                    thread.wait()
                except Exception as exc:  # already being killed: as nameko does, say and go on
                    log.warning("inbox consumer raised %r while killed", exc)
            if not thread.dead:
                log.warning("inbox consumer still reconnecting to the broker after %s s: killed",
                            self.KILL_GRACE_SECONDS)
                thread.kill()
        super().kill()

    @property
    def prefetch_count(self):
        return int(inbox_settings(self.container.config)["prefetch"])

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
        # Called after each (re)connection. A channel per queue, on the same connection: its
        # delivery tags are the queue's own, so a batch can be acked with one multiple ack.
        for provider in self._providers:
            provider.declare_retry_queues(channel)
            queue_channel = channel.connection.channel()
            provider.ack_window = AckWindow(queue_channel)
            # on_message runs in the consumer's own thread: the provider only decodes and
            # queues the message (no thread per message); the slow paths spawn their own.
            consumer = Consumer(queue_channel, queues=[provider.queue],
                                on_message=provider.receive,
                                on_decode_error=self.on_decode_error)
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()


class AckWindow:
    """The messages delivered on one queue's channel and not acked yet, in delivery order.

    A settled message is acked with the next ``flush``, which sends one
    ``basic_ack(multiple=True)`` for the settled messages at the head of the window: a batch
    costs one ack, not one per message. A multiple ack covers every earlier delivery on the
    channel, so it stops at the first message still in progress (say, an invalid message whose
    dead-letter copy the broker has not confirmed yet); the messages after it wait for the next
    flush. A requeued message was settled by its own reject, which the ack may then pass over.
    """
    ACKED, REQUEUED = "acked", "requeued"

    def __init__(self, channel):
        self.channel = channel
        self._delivered = deque()   # delivery tags, oldest first
        self._settled = {}          # delivery tag -> ACKED or REQUEUED
        self._sending = Semaphore()  # one ack on the wire at a time, in tag order

    def holds(self, message):
        return message.channel is self.channel

    def delivered(self, message):
        self._delivered.append(message.delivery_tag)

    def settled(self, message, how):
        self._settled[message.delivery_tag] = how

    def flush(self):
        with self._sending:
            last_acked = None
            while self._delivered and self._delivered[0] in self._settled:
                tag = self._delivered.popleft()
                if self._settled.pop(tag) == self.ACKED:
                    last_acked = tag
            if last_acked is None:
                return
            try:
                self.channel.basic_ack(last_acked, multiple=True)
            except CONNECTION_GONE as exc:
                log.warning("could not ack messages up to delivery %s (%s): the connection is "
                            "gone, so the broker will deliver them again and the inbox will "
                            "discard the copies", last_acked, exc)


class InboxHandler(Entrypoint):
    consumer = InboxConsumer()

    def __init__(self, event_type, **kwargs):
        self.event_type = event_type
        # an unknown type fails here, when the service's module is imported
        self.source_service = REGISTRY.latest(event_type).publisher
        self.queue = None
        self.batch_size = None
        self._waiting = LightQueue()   # (message, event) received, not yet handed to a worker
        self._dispatcher = None
        self.ack_window = None         # this queue's channel's, set at each (re)connection
        super().__init__(**kwargs)

    # --- nameko lifecycle ----------------------------------------------------------------------

    def setup(self):
        if not any(isinstance(dependency, Database) and dependency.inbox is not None
                   for dependency in self.container.dependencies):
            raise RuntimeError(
                "{}.{} is an inbox handler, but the service has no Database whose metadata has "
                "the inbox table (inbox_table(metadata))".format(
                    self.container.service_name, self.method_name))
        queue_name = consumer_queue_name(self.source_service, self.event_type,
                                         self.container.service_name, self.method_name)
        # Declaring the publisher's exchange lets a consumer start first; where the broker's
        # definitions create exchanges and a service user may not configure others', turn it off.
        declare = _is_true(self.container.config.get(DECLARE_EXCHANGES_CONFIG_KEY, True))
        exchange = Exchange(exchange_name(self.source_service), type="topic", durable=True,
                            no_declare=not declare)
        self.queue_type = queue_type(self.container.config)
        self.queue = Queue(queue_name, exchange=exchange, routing_key=self.event_type,
                           durable=True,
                           queue_arguments=queue_arguments(self.queue_type, "queue") or None)
        self.retry = dict(DEFAULT_RETRY, **self.container.config.get(RETRY_CONFIG_KEY, {}))
        self.own_user = Connection(self.container.config["AMQP_URI"]).userid
        self.trusted = trusted_publishers(self.container.config)
        self.user_prefix = self.container.config.get(BROKER_USER_PREFIX_CONFIG_KEY) or ""
        self.batch_size = max(1, int(inbox_settings(self.container.config)["batch_size"]))
        self.consumer.register_provider(self)

    def start(self):
        self._dispatcher = self.container.spawn_managed_thread(
            self._dispatch_batches, identifier="{}.batches".format(self.queue.name))

    def stop(self):
        # No more deliveries, then apply what was received before stopping.
        self.consumer.unregister_provider(self)
        self._waiting.put(_STOP)
        if self._dispatcher is not None:
            self._dispatcher.wait()
        super().stop()

    def kill(self):
        # Unacked messages, received or not, go back to the queue when the connection closes.
        if self._dispatcher is not None:
            self._dispatcher.kill()
        super().kill()

    def declare_retry_queues(self, channel):
        channel.queue_declare(
            queue=retry_queue_name(self.queue.name), durable=True, auto_delete=False,
            arguments=queue_arguments(self.queue_type, "retry", self.queue.name))
        channel.queue_declare(queue=dead_letter_queue_name(self.queue.name), durable=True,
                              auto_delete=False,
                              arguments=queue_arguments(self.queue_type, "dlq") or None)

    # --- receiving, batching ---------------------------------------------------------------------

    def receive(self, message):
        """kombu's on_message, in the consumer thread: decode, then queue for the next batch."""
        self.ack_window.delivered(message)
        try:
            event = decode_event(message)
            if event.type != self.event_type:
                raise ContractViolation("{} is not for this queue: it takes {} only".format(
                    event.type, self.event_type))
            check_publisher(message, event, self.own_user, self.trusted, self.user_prefix)
        except ContractViolation as exc:
            self.container.spawn_managed_thread(
                partial(self._reject_invalid, message, exc),
                identifier="{}.dead_letter".format(self.queue.name))
            return
        self._waiting.put((message, event))

    def _reject_invalid(self, message, exc):
        log.warning("%s: dead-lettering an invalid message: %s", self.queue.name, exc)
        self._settle(message, self._dead_letter, message, str(exc), attempts=0)
        self.ack_window.flush()
        EVENTS_CONSUMED.labels(self.container.service_name, self.event_type,
                               "dead_lettered").inc()

    def _dispatch_batches(self):
        """One batch at a time per queue: take what has arrived, have a worker apply it, wait."""
        stopping = False
        while not stopping:
            received = self._waiting.get()
            if received is _STOP:
                break
            batch = [received]
            while len(batch) < self.batch_size:
                try:
                    received = self._waiting.get_nowait()
                except Empty:
                    break
                if received is _STOP:
                    stopping = True
                    break
                batch.append(received)
            try:
                self._apply_batch(batch)
            except Exception:  # never let the dispatcher die; the broker delivers them again
                log.exception("%s: could not hand a batch of %d events to a worker",
                              self.queue.name, len(batch))
                for message, _ in batch:
                    self._requeue(message)
                self.ack_window.flush()

    def _apply_batch(self, batch):
        messages = [message for message, _ in batch]
        events = [event for _, event in batch]
        BATCH_EVENTS.labels(self.container.service_name, self.event_type).observe(len(batch))
        applied = GreenEvent()
        try:
            self.container.spawn_worker(
                self, (events,), {}, context_data={},
                handle_result=partial(self.handle_result, messages, events, time.monotonic(),
                                      applied))
        except ContainerBeingKilled:
            for message in messages:
                self._requeue(message)
            self.ack_window.flush()
            return
        applied.wait()

    # --- settling each message ----------------------------------------------------------------

    def handle_result(self, messages, events, started, applied, worker_ctx, result=None,
                      exc_info=None):
        try:
            HANDLER_SECONDS.labels(self.container.service_name, self.event_type).observe(
                time.monotonic() - started)
            if exc_info is not None:  # the whole batch failed (e.g. the database is down)
                outcomes = [exc_info[1]] * len(messages)
            elif isinstance(result, (list, tuple)) and len(result) == len(messages):
                outcomes = result
            else:  # a bug in the service: the messages are retried, then dead-lettered
                outcomes = [TypeError("{} returned {!r}: an inbox handler returns one outcome per "
                                      "event (True, False or an exception)".format(
                                          self.method_name, result))] * len(messages)
            now = utc_now()
            for message, event, outcome in zip(messages, events, outcomes):
                self._settle_one(message, event, outcome, now)
        finally:
            self.ack_window.flush()  # the batch's acks, in one
            applied.send()
        return result, exc_info

    def _settle_one(self, message, event, outcome, now):
        service = self.container.service_name
        if not isinstance(outcome, BaseException):
            self._ack(message)
            if outcome is False:
                EVENTS_CONSUMED.labels(service, self.event_type, "duplicate").inc()
            else:
                EVENTS_CONSUMED.labels(service, self.event_type, "applied").inc()
                EVENT_LAG.labels(service, self.event_type).observe(
                    max((now - event.time).total_seconds(), 0.0))
            return
        headers = message.headers or {}
        error = "".join(traceback.format_exception_only(type(outcome), outcome)).strip()
        attempts = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
        if is_transient(outcome):
            waited = int(headers.get(TRANSIENT_HEADER, 0)) + 1
            log.warning("%s: infrastructure unavailable (%s); retry %d, attempts unchanged",
                        self.queue.name, error, waited)
            self._settle(message, self._schedule_retry, message, error, TRANSIENT_HEADER,
                         waited, self.retry["transient_max_delay_ms"])
            outcome_name = "retried"
        elif attempts >= self.retry["max_attempts"]:
            log.error("%s: giving up after %d attempts, dead-lettering: %s",
                      self.queue.name, attempts, error)
            self._settle(message, self._dead_letter, message, error, attempts)
            outcome_name = "dead_lettered"
        else:
            log.warning("%s: attempt %d failed, retrying: %s", self.queue.name, attempts, error)
            self._settle(message, self._schedule_retry, message, error, ATTEMPTS_HEADER,
                         attempts, self.retry["max_delay_ms"])
            outcome_name = "retried"
        EVENTS_CONSUMED.labels(service, self.event_type, outcome_name).inc()

    def _settle(self, message, republish, *args, **kwargs):
        """Ack only once the copy is safely with the broker; otherwise let the broker redeliver."""
        try:
            republish(*args, **kwargs)
        except Exception as exc:
            log.error("%s: could not republish (%s); the message will be redelivered",
                      self.queue.name, exc)
            self._requeue(message)
            return
        self._ack(message)

    def _ack(self, message):
        """Settled: acked by the next ``ack_window.flush()``."""
        if self.ack_window.holds(message):
            self.ack_window.settled(message, AckWindow.ACKED)
        else:  # delivered on a connection since lost: this ack will fail and be logged
            self.consumer.ack_message(message)

    def _requeue(self, message):
        self.consumer.requeue_message(message)
        if self.ack_window.holds(message):
            self.ack_window.settled(message, AckWindow.REQUEUED)

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
        republish(self.container.config["AMQP_URI"], self.own_user, message, queue_name,
                  headers, expiration)


def republish(amqp_uri, own_user, message, queue_name, headers, expiration=None):
    """Publish a copy of a consumed ``message`` (a kombu Message) to one of the consumer's own
    queues (its retry or dead-letter queue, or back from the dead-letter queue), confirmed.

    The copy is published as this service's user (the broker allows no other); the user that
    first published it travels in a header (see check_publisher)."""
    properties = message.properties or {}
    headers = dict(headers)
    first_user = first_publisher(message, own_user)
    if first_user is not None:
        headers[PUBLISHED_BY_HEADER] = first_user
    body = message.body
    if isinstance(body, str):
        body = body.encode(message.content_encoding or "utf-8")
    with get_producer(amqp_uri, confirms=True) as producer:
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
            user_id=own_user,
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


def inbox_handler(*event_types, **kwargs):
    """``@inbox_handler("case.opened")`` on a method ``(self, uow, events)`` of a service whose
    Database has the inbox table: a queue per type, whose new events the method applies in the
    unit of work that claims them (see the module's docstring)."""
    if not event_types:
        raise TypeError("inbox_handler needs at least one event type")

    def decorate(apply):
        consume = _applied_once(apply)
        for event_type in event_types:
            InboxHandler.decorator(event_type, **kwargs)(consume)
        return consume

    return decorate


def _applied_once(apply):
    """The entrypoint's method: claim, then ``apply`` the new events, in one transaction; one
    outcome per event back to the entrypoint."""
    @functools.wraps(apply)
    def consume(self, events):
        db = _database_of(self)
        # keyed by the function, so that queues served by one method get one call per
        # transaction whatever worker takes them
        return db.group_commit.apply(db, events, partial(apply, self), key=apply)

    consume.applies = apply  # the method as written, for tests that call it with a unit of work
    return consume


def _database_of(service):
    for dependency in vars(service).values():
        if isinstance(dependency, DatabaseAccess) and dependency.group_commit is not None:
            return dependency
    raise RuntimeError("{} has inbox handlers but no Database with the inbox table".format(
        type(service).__name__))

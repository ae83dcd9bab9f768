"""A service's dead-lettered messages: seen with the reason each failed, sent back to their
queue once the cause is fixed, or discarded, without the broker's management UI.

Each service does this for its own dead-letter queues, over its own broker user, behind its
operations endpoints (``/operations/dead-letters``, role ``admin``): a message sent back is
published as the service's user with the header naming who first published it, exactly as the
consumer's own retries are, so it passes the consumer's publisher check. ``parcours
dead-letters`` calls those endpoints for every service.

A queue is read by taking its messages without acknowledging them: those not chosen go back
to the queue, in their order, when the channel closes.
"""
import json
from dataclasses import asdict, dataclass

from kombu import Connection

from .inbox.consumer import (
    ATTEMPTS_HEADER, ERROR_HEADER, FAILED_AT_HEADER, QUEUE_HEADER, TRANSIENT_HEADER,
    dead_letter_queue_name, republish,
)

# what a dead-lettered copy carries that its return to the queue must not
_FAILURE_HEADERS = (ATTEMPTS_HEADER, ERROR_HEADER, FAILED_AT_HEADER, QUEUE_HEADER,
                    TRANSIENT_HEADER)


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered message, as an operator sees it (the event's data is left out: it may
    carry personal data; its id, type and subject say which it is)."""
    queue: str              # the consumer's queue it failed in
    event_id: str | None    # None: the body was not an event at all
    type: str | None
    subject: str | None
    reason: str
    attempts: int
    failed_at: str | None

    def as_document(self):
        return asdict(self)


@dataclass(frozen=True)
class Choice:
    """Which dead letters an action takes: by event id, and/or by type; ``every``: all."""
    event_ids: frozenset = frozenset()
    type: str | None = None
    every: bool = False

    def takes(self, letter):
        if self.event_ids and letter.event_id not in self.event_ids:
            return False
        if self.type and letter.type != self.type:
            return False
        return bool(self.every or self.event_ids or self.type)


def _read(message, queue):
    headers = message.headers or {}
    try:
        envelope = json.loads(message.body)
        if not isinstance(envelope, dict):
            envelope = {}
    except (TypeError, ValueError):
        envelope = {}
    return DeadLetter(
        queue=headers.get(QUEUE_HEADER) or queue[:-len(".dlq")],
        event_id=envelope.get("id") if isinstance(envelope.get("id"), str) else None,
        type=envelope.get("type") if isinstance(envelope.get("type"), str) else None,
        subject=envelope.get("subject") if isinstance(envelope.get("subject"), str) else None,
        reason=str(headers.get(ERROR_HEADER) or "no reason recorded"),
        attempts=int(headers.get(ATTEMPTS_HEADER) or 0),
        failed_at=headers.get(FAILED_AT_HEADER))


def dead_letters(amqp_uri, consumer_queues, action="list", choice=Choice(), read_at_most=None):
    """The dead letters of these consumer queues, and the ones ``action`` took: ``list`` takes
    none, ``requeue`` sends the chosen back to their queue, ``discard`` drops them.
    ``read_at_most``: stop after reading that many (they are held unacknowledged while read).

    Returns (dead letters left, dead letters taken)."""
    left, taken = [], []
    with Connection(amqp_uri) as connection:
        own_user = connection.userid
        for queue in consumer_queues:
            dlq = dead_letter_queue_name(queue)
            channel = connection.channel()
            try:
                waiting = channel.queue_declare(dlq, passive=True).message_count
                for _ in range(waiting):
                    if read_at_most is not None and len(left) + len(taken) >= read_at_most:
                        break
                    raw = channel.basic_get(dlq, no_ack=False)
                    if raw is None:
                        break
                    message = channel.message_to_python(raw)
                    letter = _read(message, dlq)
                    if action == "list" or not choice.takes(letter):
                        left.append(letter)
                        continue
                    if action == "requeue":
                        headers = {name: value for name, value in (message.headers or {}).items()
                                   if name not in _FAILURE_HEADERS}
                        republish(amqp_uri, own_user, message, letter.queue, headers)
                    message.ack()
                    taken.append(letter)
            finally:
                channel.close()  # the messages not taken go back to the dead-letter queue
    return left, taken


def queue_status(amqp_uri, consumer_queues):
    """Per consumer queue: messages ready, consumers attached, and dead letters waiting."""
    status = []
    with Connection(amqp_uri, connect_timeout=5) as connection:
        connection.ensure_connection(max_retries=1, timeout=5)
        channel = connection.channel()
        try:
            for queue in consumer_queues:
                main = channel.queue_declare(queue, passive=True)
                dlq = channel.queue_declare(dead_letter_queue_name(queue), passive=True)
                status.append({"queue": queue, "ready": main.message_count,
                               "consumers": main.consumer_count,
                               "dead_letters": dlq.message_count})
        finally:
            channel.close()
    return status

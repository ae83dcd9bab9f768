"""What operations staff see and mend of a service's flow, over HTTP (role ``admin``): its
queues, its outbox backlog, and its dead-lettered messages, which they can send back once the
cause is fixed, or discard. ``parcours status`` and ``parcours dead-letters`` call these on
every service (README, "Operations").

Mixed into each service class, as ``parcours_operations.DeadLetterEndpoints`` (through its
module, so that ``nameko run`` finds only the service class in the service's module).
"""
import json

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .dead_letters import Choice, dead_letters, queue_status
from .http import api, listing
from .contracts import REGISTRY, utc_now
from .domain import as_utc

OPERATORS = ("admin",)


class QueueOut(Schema):
    queue = fields.String()
    ready = fields.Integer(metadata={"description": "messages waiting for the consumer"})
    consumers = fields.Integer()
    dead_letters = fields.Integer()


class QueuesOut(Schema):
    service = fields.String()
    outbox_pending = fields.Integer(allow_none=True, metadata={
        "description": "events committed, not yet confirmed by the broker (None: it does not "
                       "publish)"})
    broker = fields.String(metadata={"description": "ok, or why its queues could not be "
                                                    "read (the outbox is read all the same)"})
    outbox_oldest_seconds = fields.Float(allow_none=True, metadata={
        "description": "how long the oldest of them has waited (None: none waits, or it does "
                       "not publish); growing: the relay is stuck"})
    queues = fields.List(fields.Nested(QueueOut))


class DeadLetterOut(Schema):
    queue = fields.String(metadata={"description": "the consumer queue it failed in"})
    event_id = fields.String(allow_none=True)
    type = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    reason = fields.String()
    attempts = fields.Integer()
    failed_at = fields.String(allow_none=True)


DeadLetterList = listing("DeadLetterList", "dead_letters", DeadLetterOut)


class DeadLetterQuery(Schema):
    type = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=10000), metadata={
        "description": "read at most this many, queue after queue, each in its order"})


class DeadLetterChoice(Schema):
    """Which dead letters: by event id, by type, or ``all``."""
    event_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                            load_default=list, validate=validate.Length(max=10000))
    type = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    all = fields.Boolean(load_default=False)

    @validates_schema
    def _something_chosen(self, data, **_):
        if not (data["event_ids"] or data["type"] or data["all"]):
            raise ValidationError("say which: event_ids, a type, or all: true", "_schema")


class DeadLettersMoved(Schema):
    moved = fields.List(fields.Nested(DeadLetterOut))
    left = fields.Integer(metadata={"description": "dead letters still waiting"})


def _consumer_queues(service_cls):
    from .topology import subscriptions  # it reads the inbox handlers: import once they exist
    return [subscription.queue for subscription in subscriptions([service_cls])]


def _choice(command):
    return Choice(frozenset(command["event_ids"]), command["type"], command["all"])


class OutboxPageQuery(Schema):
    # a seq is a database integer: a larger number is refused, not passed to the database
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2 ** 63 - 1),
                           metadata={"description": "the last seq already read (0: from the "
                                                    "start)"})
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))


class OutboxPage(Schema):
    events = fields.List(fields.Dict(), metadata={
        "description": "the envelopes, as published, oldest first"})
    last_seq = fields.Integer(metadata={"description": "give it as ?after= for the next page"})
    more = fields.Boolean()


class OutboxReplay:
    """Mixed into a publishing service class: its outbox read back, page by page, for an
    operator recovering what a consumer lost (``parcours rebuild-reporting --from-outboxes``).
    Events are kept in the outbox once sent: they are the publisher's record of what it said.
    Events carrying personal data (contact.shared) are left out: the consumers the firm
    consented to keep their own copies, and an operator's page is no place for them."""

    @api("GET", "/operations/outbox", roles=OPERATORS, query=OutboxPageQuery,
         returns=OutboxPage)
    def operations_outbox(self, request):
        """The events this service published (or will), oldest first, a page at a time,
        without those carrying personal data."""
        query = request.query
        rows = self.db.outbox_page(query["after"], query["limit"])
        personal = {event_type.name for event_type in REGISTRY.latest_types()
                    if event_type.personal_fields}
        return {"events": [json.loads(row.body) for row in rows
                           if row.routing_key not in personal],
                "last_seq": rows[-1].seq if rows else query["after"],
                "more": len(rows) == query["limit"]}


class DeadLetterEndpoints:
    """Mixed into a service class (which has ``config`` and ``db``)."""

    @api("GET", "/operations/queues", roles=OPERATORS, returns=QueuesOut)
    def operations_queues(self, request):
        """This service's consumer queues: ready, consumers, dead letters; its outbox."""
        status = self.db.outbox_status()
        pending, oldest = status if status is not None else (None, None)
        waited = (round(max(0.0, (utc_now() - as_utc(oldest)).total_seconds()), 1)
                  if oldest is not None else None)
        try:
            queues, broker = queue_status(self.config["AMQP_URI"],
                                          _consumer_queues(type(self))), "ok"
        except (OSError, KombuError, AMQPError) as exc:  # what operators most need to know
            queues, broker = [], "unreachable ({}): events wait in the outbox".format(
                type(exc).__name__)
        return QueuesOut().dump({"service": self.name, "outbox_pending": pending,
                                 "outbox_oldest_seconds": waited, "broker": broker,
                                 "queues": queues})

    @api("GET", "/operations/dead-letters", roles=OPERATORS, query=DeadLetterQuery,
         returns=DeadLetterList)
    def operations_dead_letters(self, request):
        """The dead-lettered messages, with the reason each failed (not their data)."""
        query = request.query
        found, _ = dead_letters(self.config["AMQP_URI"], _consumer_queues(type(self)),
                                read_at_most=query["limit"])
        wanted = query["type"]
        return DeadLetterList().dump({"dead_letters": [
            letter.as_document() for letter in found if wanted in (None, letter.type)]})

    @api("POST", "/operations/dead-letters/requeue", roles=OPERATORS, body=DeadLetterChoice,
         returns=DeadLettersMoved)
    def operations_requeue(self, request):
        """Send these dead letters back to their queue (once their cause is fixed): the inbox
        applies each once."""
        return self._move_dead_letters("requeue", request.command)

    @api("POST", "/operations/dead-letters/discard", roles=OPERATORS, body=DeadLetterChoice,
         returns=DeadLettersMoved)
    def operations_discard(self, request):
        """Drop these dead letters for good."""
        return self._move_dead_letters("discard", request.command)

    def _move_dead_letters(self, action, command):
        left, moved = dead_letters(self.config["AMQP_URI"], _consumer_queues(type(self)),
                                   action, _choice(command))
        return DeadLettersMoved().dump({"moved": [m.as_document() for m in moved],
                                        "left": len(left)})

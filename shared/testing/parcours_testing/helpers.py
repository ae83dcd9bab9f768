"""Helpers for tests of Parcours services: wait on a condition with a deadline, never sleep."""
import json
import time

import requests
from kombu import Connection
from sqlalchemy import create_engine, text
from stdnum import luhn


class Timeout(AssertionError):
    pass


def wait_for(probe, timeout=15.0, interval=0.05, what="the condition"):
    """Call ``probe`` until it returns a truthy value, and return it; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise Timeout("{} did not happen within {}s (last value: {!r})".format(what, timeout, last))


def luhn_valid_sirens(first_prefix=10000000):
    """Luhn-valid 9-digit SIRENs for test firms: an 8-digit prefix and its check digit, the
    prefixes counting up from ``first_prefix`` (so never twice the same)."""
    prefix = first_prefix
    while True:
        digits = "{:08d}".format(prefix)
        yield digits + luhn.calc_check_digit(digits)
        prefix += 1


class ApiClient:
    """A tiny JSON client for one service under test, calling as the test partner with every
    role (``as_caller`` for another caller, ``anonymous`` for none)."""

    def __init__(self, config, authorization=None):
        from .identity import bearer
        host, port = config["WEB_SERVER_ADDRESS"].rsplit(":", 1)
        self.base = "http://{}:{}".format(host if host != "0.0.0.0" else "127.0.0.1", port)
        self.config = config
        self.audience = config.get("PARCOURS_TOKEN_AUDIENCE")
        self.authorization = authorization if authorization is not None else bearer(
            self.audience)

    def as_caller(self, partner, roles, person=None):
        from .identity import bearer
        return self._with(bearer(self.audience, partner, roles, person=person))

    def anonymous(self):
        return self._with("")

    def _with(self, authorization):
        client = ApiClient(self.config, authorization)
        client.__dict__.update({key: value for key, value in self.__dict__.items()
                                if key not in client.__dict__})  # what tests attached
        return client

    def _headers(self, kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        if self.authorization:
            headers.setdefault("Authorization", self.authorization)
        return headers

    def get(self, path, **kwargs):
        return requests.get(self.base + path, timeout=10, headers=self._headers(kwargs),
                            **kwargs)

    def post(self, path, body=None, **kwargs):
        return requests.post(self.base + path, json=body, timeout=10,
                             headers=self._headers(kwargs), **kwargs)

    def put(self, path, body=None, **kwargs):
        return requests.put(self.base + path, json=body, timeout=10,
                            headers=self._headers(kwargs), **kwargs)


def queue_messages(amqp_uri, queue_name):
    """Take every message out of a queue and return (body, headers) pairs (dead-letter checks)."""
    found = []
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        while True:
            message = channel.basic_get(queue_name, no_ack=True)
            if message is None:
                return found
            body = message.body
            try:
                body = json.loads(body)
            except (TypeError, ValueError):
                pass
            found.append((body, message.properties.get("application_headers") or {}))


def queue_depth(amqp_uri, queue_name):
    """Messages ready in a queue (the queue must exist)."""
    with Connection(amqp_uri) as connection:
        return connection.channel().queue_declare(queue_name, passive=True).message_count


def publish_raw(amqp_uri, exchange, routing_key, body, content_type="application/json"):
    """Publish bytes as any AMQP client could: to test what consumers do with them."""
    publish_messages(amqp_uri, [(exchange, routing_key, body, content_type)])


def publish_messages(amqp_uri, messages, headers=None):
    """Publish (exchange, routing key, body, content type) tuples, persistent, on one
    connection; a dict body is sent as JSON."""
    with Connection(amqp_uri) as connection:
        producer = connection.Producer()
        for exchange, routing_key, body, content_type in messages:
            if isinstance(body, dict):
                body = json.dumps(body)
            # user_id: who publishes, validated by the broker, as every Parcours publisher says
            producer.publish(body, exchange=exchange, routing_key=routing_key,
                             content_type=content_type, content_encoding="utf-8",
                             delivery_mode=2, headers=dict(headers or {}), retry=True,
                             user_id=connection.userid)


def outbox_events(database_url, type_name=None):
    """The events a service has recorded in its outbox, sent or not, in order (optionally of one
    type): what it publishes, read from its own database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            bodies = connection.execute(text("SELECT body FROM outbox ORDER BY seq")).scalars()
            events = [json.loads(body) for body in bodies]
    finally:
        engine.dispose()
    return [event for event in events if type_name in (None, event["type"])]

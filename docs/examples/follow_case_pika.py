#!/usr/bin/env python3
"""Follow one firm's case through the Parcours network and print its timeline.

A standalone example for integrators: it needs only ``pika`` (``pip install pika``) and a
RabbitMQ account on the network's broker. Nothing from Parcours is imported.

    python follow_case_pika.py --siren 732829320
    python follow_case_pika.py --case-id 4f1c... --timeout 3600 \
        --amqp-url amqp://crm:secret@broker.example:5672/parcours

It prints one line per event of the case and stops at ``outcome.recorded`` (exit 0), or after
``--timeout`` seconds without reaching it (exit 2). See README.md next to it.
"""
import argparse
import json
import sys
import time
from datetime import datetime

import pika

# Each publishing service has one durable topic exchange; the routing key is the event type.
EXCHANGES = ("intake.events", "diagnostic.events", "programmes.events")

# The contract versions this script understands, by event type. dataschema reads
# "urn:parcours:schema:<type>:v<N>"; a version not listed here is skipped, never guessed at.
SCHEMA_PREFIX = "urn:parcours:schema:"
KNOWN_VERSIONS = {
    "case.opened": {1}, "case.referred": {1}, "case.assigned": {1}, "case.closed": {1},
    "diagnostic.scheduled": {1}, "diagnostic.completed": {1, 2},
    "enrolment.proposed": {1}, "enrolment.confirmed": {1}, "enrolment.waitlisted": {1},
    "enrolment.completed": {1}, "enrolment.withdrawn": {1}, "outcome.recorded": {1},
}


def describe(event_type, data):
    """A short human description of one event, from its data (v1 fields; and the target
    markets of diagnostic.completed v2)."""
    if event_type == "case.opened":
        return "{} opened (channel {}, region {})".format(
            data["company_name"], data["channel"], data.get("region_code") or "-")
    if event_type == "case.referred":
        return "referred by {}: {}".format(data["referred_by"], data.get("reason") or "-")
    if event_type == "case.assigned":
        return "assigned to {} ({})".format(data["advisor"], data["partner"])
    if event_type == "case.closed":
        return "closed: {}".format(data["reason"])
    if event_type == "diagnostic.scheduled":
        return "diagnostic {} scheduled".format(data["diagnostic_id"])
    if event_type == "diagnostic.completed":
        markets = [market["country"] for market in data.get("target_markets", [])]  # v2
        return "diagnostic done: {}, score {}/100{}".format(
            data["maturity"], data["score"],
            ", markets " + " ".join(markets) if markets else "")
    if event_type.startswith("enrolment."):
        text = "{} in {}".format(event_type.split(".", 1)[1], data["programme_name"])
        if event_type == "enrolment.withdrawn" and data.get("reason"):
            text += " ({})".format(data["reason"])
        return text
    if event_type == "outcome.recorded":
        return outcome_text(data)
    return ""


def outcome_text(data):
    amount = data.get("amount_eur")
    return data["kind"] + (", {} EUR".format(amount) if amount is not None else "")


def short_time(value):
    """'2026-11-23T09:30:00.123456+00:00' -> '2026-11-23T09:30:00+00:00' (raw if unreadable)."""
    try:
        return datetime.fromisoformat(value).replace(microsecond=0).isoformat()
    except (TypeError, ValueError):
        return str(value)


def say(text):
    print(text, flush=True)  # one line at a time, even when stdout is a pipe or a file


class Follower:
    """Decides, envelope by envelope, what to print; knows nothing of AMQP."""

    def __init__(self, case_id=None, siren=None):
        self.case_id, self.siren = case_id, siren
        self.company = None
        self.seen = set()   # (source, id): delivery is at least once, a copy must not count
        self.events = 0
        self.done = False

    def waiting_for(self):
        if self.case_id is None:
            return "case.opened for SIREN {}".format(self.siren)
        return "outcome.recorded of case {}".format(self.case_id)

    def handle(self, body):
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or envelope.get("specversion") != "1.0":
            say("skipped: not a CloudEvents 1.0 JSON envelope")
            return
        event_type, subject = envelope.get("type"), envelope.get("subject")
        data = envelope.get("data")
        known = isinstance(data, dict) and self.schema_known(event_type,
                                                               envelope.get("dataschema"))
        if self.case_id is None and event_type == "case.opened" and known \
                and data.get("siren") == self.siren:
            self.case_id = subject   # the case of that SIREN: follow it from now on
        if subject is None or subject != self.case_id:
            return                   # another firm's case: not ours to print
        if (envelope.get("source"), envelope.get("id")) in self.seen:
            return                   # a redelivered copy: printed already
        self.seen.add((envelope.get("source"), envelope.get("id")))
        when = short_time(envelope.get("time"))
        if not known:
            say("{}  {:<22}skipped: unknown dataschema {}".format(
                when, str(event_type), envelope.get("dataschema")))
            return
        try:
            text = describe(event_type, data)
        except (KeyError, TypeError, AttributeError) as exc:
            say("{}  {:<22}skipped: data does not match {} ({!r})".format(
                when, event_type, envelope["dataschema"], exc))
            return
        self.events += 1
        if event_type == "case.opened":
            self.company = data["company_name"]
        say("{}  {:<22}{}".format(when, event_type, text))
        if event_type == "outcome.recorded":
            say("summary: case {} ({}) reached outcome.recorded after {} events: {}".format(
                self.case_id, self.company or "company unknown", self.events,
                outcome_text(data)))
            self.done = True

    @staticmethod
    def schema_known(event_type, dataschema):
        expected = "{}{}:v".format(SCHEMA_PREFIX, event_type)
        if not isinstance(dataschema, str) or not dataschema.startswith(expected):
            return False
        version = dataschema[len(expected):]
        return version.isdigit() and int(version) in KNOWN_VERSIONS.get(event_type, ())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/parcours",
                        help="broker URL; the vhost is percent-encoded (%%2F is the vhost '/')")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--case-id", help="follow this case")
    which.add_argument("--siren", help="follow the case that a case.opened for this SIREN opens")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds to wait for outcome.recorded once listening (default 600)")
    args = parser.parse_args(argv)
    follower = Follower(case_id=args.case_id, siren=args.siren)

    try:
        connection = pika.BlockingConnection(pika.URLParameters(args.amqp_url))
    except pika.exceptions.AMQPError as exc:
        print("cannot connect to {}: {!r}".format(args.amqp_url, exc), file=sys.stderr)
        return 1
    channel = connection.channel()

    # Declaring the exchanges exactly as the services do (durable topic) is harmless when they
    # exist and lets this script start before the services. Where your broker account may not
    # configure them, declare them with passive=True instead (it then fails if one is missing).
    for exchange in EXCHANGES:
        channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)

    # An EXCLUSIVE, server-named queue: this is a live view of one case, so it needs nothing
    # from before it started, and the broker deletes the queue when the connection closes (no
    # orphan queue filling up after we stop). A CRM that must not miss events while it is down
    # uses a durable, named queue instead (queue_declare("crm-events", durable=True)).
    queue = channel.queue_declare(queue="", exclusive=True).method.queue
    for exchange in EXCHANGES:
        channel.queue_bind(queue=queue, exchange=exchange, routing_key="#")  # every type

    def on_message(channel, method, properties, body):
        if follower.done:
            return   # delivered with the outcome: left unacked, the queue goes at close
        follower.handle(body)
        channel.basic_ack(delivery_tag=method.delivery_tag)  # after printing, not before

    channel.basic_qos(prefetch_count=100)
    channel.basic_consume(queue=queue, on_message_callback=on_message)
    say("listening on {} bound to {} (#), waiting for {}".format(
        queue, ", ".join(EXCHANGES), follower.waiting_for()))

    deadline = time.monotonic() + args.timeout
    try:
        while not follower.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                print("timeout: no {} within {:g}s".format(follower.waiting_for(), args.timeout),
                      file=sys.stderr, flush=True)
                return 2
            connection.process_data_events(time_limit=min(remaining, 1.0))
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        if connection.is_open:
            connection.close()   # the exclusive queue goes with it


if __name__ == "__main__":
    sys.exit(main())

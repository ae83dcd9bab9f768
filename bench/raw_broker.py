"""Part 1: the raw broker with kombu, the ceiling every other figure is compared with.

Same topology and messages as the services use: a durable topic exchange with a durable queue
bound to it, persistent ~500-byte CloudEvents JSON bodies. Measured in the benchmark's process,
under eventlet's monkey patch like the relay and the services, so the ratios compare like with
like.
"""
import statistics

from kombu import Connection, Exchange, Producer, Queue

from common import Progress, Stopwatch, case_opened_envelopes, per_second, to_json, \
    wait_queue_depth

EXCHANGE = Exchange("bench.raw.events", type="topic", durable=True)
QUEUE = Queue("bench.raw.all", exchange=EXCHANGE, routing_key="#", durable=True)
CONFIRM_QUEUE = Queue("bench.raw.confirmed", exchange=EXCHANGE, routing_key="confirmed.#",
                      durable=True)
PREFETCH = 500


def run(amqp_uri, messages, confirm_messages, repeat, step):
    """Publish then consume ``messages``, ``repeat`` times (the median goes to the report: the
    machine may be shared), and publish ``confirm_messages`` with a confirm each, once."""
    progress = Progress(step, "raw broker")
    bodies = [to_json(envelope) for envelope in case_opened_envelopes(messages)]
    progress.say("{} messages of {} bytes, {} runs".format(messages, len(bodies[0]), repeat))
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        for queue in (QUEUE, CONFIRM_QUEUE):
            queue(channel).declare()
            queue(channel).purge()

    publish_rates, consume_rates = [], []
    for attempt in range(1, repeat + 1):
        publish_rates.append(publish_without_confirms(amqp_uri, bodies, progress))
        consume_rates.append(consume_with_acks(amqp_uri, len(bodies), progress))
        progress.say("run {}/{}: publish, no confirms {:,.0f} msg/s; consume + ack, prefetch {} "
                     "{:,.0f} msg/s".format(attempt, repeat, publish_rates[-1], PREFETCH,
                                            consume_rates[-1]))
    publish_rate = statistics.median(publish_rates)

    confirm_rate = publish_confirm_each(amqp_uri, bodies[:confirm_messages], progress)
    progress.say("publish, a confirm per message: {:,.0f} msg/s ({:.0%} of the ceiling)".format(
        confirm_rate, confirm_rate / publish_rate))

    _delete_queues(amqp_uri)
    return {
        "raw_messages": messages,
        "raw_message_bytes": len(bodies[0]),
        "raw_publish_per_s": publish_rate,
        "raw_publish_runs_per_s": publish_rates,
        "raw_publish_confirm_each_per_s": confirm_rate,
        "raw_consume_per_s": statistics.median(consume_rates),
        "raw_consume_runs_per_s": consume_rates,
    }


def paired_run(amqp_uri, messages, step, consume=True):
    """One publish (then consume) run, for a figure to be compared with the broker as it is
    right now: the machine's speed drifts between parts of a run. Returns (publish, consume)
    msg/s (consume None if not measured: the queue is deleted with its messages)."""
    progress = Progress(step, "raw broker, paired")
    bodies = [to_json(envelope) for envelope in case_opened_envelopes(messages)]
    with Connection(amqp_uri) as connection:
        QUEUE(connection.channel()).declare()
    try:
        publish_rate = publish_without_confirms(amqp_uri, bodies, progress)
        consume_rate = consume_with_acks(amqp_uri, len(bodies), progress) if consume else None
    finally:
        _delete_queues(amqp_uri)
    progress.say("publish, no confirms {:,.0f} msg/s{}".format(
        publish_rate, "; consume + ack {:,.0f} msg/s".format(consume_rate) if consume else ""))
    return publish_rate, consume_rate


def _publish(producer, body, routing_key="case.opened"):
    producer.publish(body, routing_key=routing_key, content_type="application/json",
                     content_encoding="utf-8", delivery_mode=2, retry=False)


def publish_without_confirms(amqp_uri, bodies, progress):
    """The clock stops once the queue holds every message, not when the socket took the last one:
    without confirms a publisher only knows it wrote bytes."""
    with Connection(amqp_uri) as connection:
        producer = Producer(connection.channel(), exchange=EXCHANGE)
        clock = Stopwatch()
        for done, body in enumerate(bodies, 1):
            _publish(producer, body)
            if done % 1000 == 0:
                progress.update(done, len(bodies), "published (no confirms)")
        depth = wait_queue_depth(amqp_uri, QUEUE.name, len(bodies))
        seconds = clock.stop()
    if depth < len(bodies):
        raise RuntimeError("only {} of {} messages reached the queue".format(depth, len(bodies)))
    return per_second(len(bodies), seconds)


def publish_confirm_each(amqp_uri, bodies, progress):
    """kombu's ``confirm_publish`` makes every publish wait for the broker's ack."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection.channel(), exchange=EXCHANGE)
        clock = Stopwatch()
        for done, body in enumerate(bodies, 1):
            _publish(producer, body, routing_key="confirmed.case.opened")
            if done % 500 == 0:
                progress.update(done, len(bodies), "published (a confirm each)")
        seconds = clock.stop()
    return per_second(len(bodies), seconds)


def consume_with_acks(amqp_uri, expected, progress):
    """Raw messages, one ack each, as the inbox consumer gets them (it decodes them itself)."""
    received = [0]

    def on_message(message):
        message.ack()
        received[0] += 1

    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        consumer = connection.Consumer(QUEUE(channel), on_message=on_message)
        consumer.qos(prefetch_count=PREFETCH)
        clock = Stopwatch()
        with consumer:
            while received[0] < expected:
                connection.drain_events(timeout=10)
                progress.update(received[0], expected, "consumed and acked")
        seconds = clock.stop()
    return per_second(received[0], seconds)


def _delete_queues(amqp_uri):
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        for queue in (QUEUE, CONFIRM_QUEUE):
            queue(channel).delete()
        EXCHANGE(channel).delete()

"""What the benchmark parts share: the throwaway vhost, sample events, progress lines, timing."""
import copy
import json
import random
import time
import uuid

import requests

from parcours_shared.contracts import build_envelope, utc_now
from parcours_testing import luhn_valid_sirens, queue_depth

MANAGEMENT_API = "http://127.0.0.1:15672/api"
BROKER_AUTH = ("guest", "guest")
AMQP_BASE = "pyamqp://guest:guest@127.0.0.1:5672/"
PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


# --- the benchmark's own vhost -------------------------------------------------------------------

class BenchVhost:
    """A vhost of our own, so the benchmark never touches queues of `make run` or the tests."""

    def __init__(self):
        self.name = "parcours_bench_{}".format(uuid.uuid4().hex[:8])
        self.amqp_uri = AMQP_BASE + self.name

    def create(self):
        _management("PUT", "/vhosts/{}".format(self.name))
        _management("PUT", "/permissions/{}/guest".format(self.name),
                    {"configure": ".*", "write": ".*", "read": ".*"})
        return self

    def delete(self):
        _management("DELETE", "/vhosts/{}".format(self.name), ok_statuses=(204, 404))

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc_info):
        self.delete()


def _management(method, path, body=None, ok_statuses=(200, 201, 204), patience=60.0):
    """One management API call, retried while the broker is unreachable (it may be restarting:
    the fault-injection tests restart it), so that the vhost is deleted even then."""
    deadline = time.monotonic() + patience
    while True:
        try:
            response = requests.request(method, MANAGEMENT_API + path, json=body,
                                        auth=BROKER_AUTH, timeout=10)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    if response.status_code not in ok_statuses:
        raise RuntimeError("RabbitMQ management API: {} {} answered {}: {}".format(
            method, path, response.status_code, response.text))
    return response


def broker_versions():
    overview = _management("GET", "/overview").json()
    return overview.get("rabbitmq_version"), overview.get("erlang_version")


def wait_queue_depth(amqp_uri, queue_name, expected, timeout=30.0):
    """The queue's depth once it reaches ``expected`` (or what it was at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        depth = queue_depth(amqp_uri, queue_name)
        if depth >= expected or time.monotonic() > deadline:
            return depth
        time.sleep(0.05)


# --- realistic events ----------------------------------------------------------------------------

def case_opened_envelope():
    """One real case.opened envelope (validated by the contract), about 500 bytes of JSON."""
    case_id = str(uuid.uuid4())
    return build_envelope("intake", "case.opened", case_id, {
        "case_id": case_id, "siren": "732829320", "company_name": "Ateliers Durand",
        "region_code": "84", "naf_code": "21.20Z", "channel": "web", "opened_at": utc_now()})


def case_opened_envelopes(count):
    """``count`` distinct case.opened envelopes.

    build_envelope validates with marshmallow (~0.4 ms each): 20,000 of them would take longer
    than the relay run we time. So one is built for real and the others are copies with their
    own event id, case id and SIREN, which is all that varies between real events.
    """
    template = case_opened_envelope()
    sirens = luhn_valid_sirens(random.randrange(10_000_000, 90_000_000))
    for _ in range(count):
        envelope = copy.deepcopy(template)
        case_id = str(uuid.uuid4())
        envelope["id"] = str(uuid.uuid4())
        envelope["subject"] = envelope["data"]["case_id"] = case_id
        envelope["data"]["siren"] = next(sirens)
        yield envelope


def to_json(envelope):
    """The body as the outbox stores it (compact JSON, as UnitOfWork.publish writes it)."""
    return json.dumps(envelope, separators=(",", ":"))


# --- progress and timing -------------------------------------------------------------------------

class Progress:
    """Prints '[2/4] outbox relay: 12000/20000 published', at most every ``every`` seconds."""

    def __init__(self, step, label, every=2.0):
        self.step, self.label, self.every = step, label, every
        self._last = 0.0

    def say(self, text):
        print("{} {}: {}".format(self.step, self.label, text), flush=True)

    def update(self, done, total, what, force=False):
        now = time.monotonic()
        if force or now - self._last >= self.every:
            self._last = now
            self.say("{}/{} {}".format(done, total, what))


class Stopwatch:
    def __init__(self):
        self.started = time.perf_counter()
        self.stopped = None

    def stop(self):
        self.stopped = time.perf_counter()
        return self.elapsed

    @property
    def elapsed(self):
        return (self.stopped or time.perf_counter()) - self.started


def insert_in_chunks(engine, table, rows, chunk_size):
    """Bulk-insert an iterable of rows, ``chunk_size`` per transaction (keeps memory flat)."""
    from sqlalchemy import insert

    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == chunk_size:
            with engine.begin() as connection:
                connection.execute(insert(table), chunk)
            chunk = []
    if chunk:
        with engine.begin() as connection:
            connection.execute(insert(table), chunk)


def per_second(count, seconds):
    return round(count / seconds, 1) if seconds > 0 else None


def ratio(value, baseline):
    if value is None or not baseline:
        return None
    return round(value / baseline, 3)

"""Part 3: the pathway end to end, four services as four processes, driven over HTTP.

Throughput: open N cases, complete every diagnostic, confirm every enrolment, and wait until
reporting's funnel counts N confirmed enrolments and every service has handled the 7 events per
case it should (case.opened x2, diagnostic.scheduled, diagnostic.completed x2, enrolment.proposed,
enrolment.confirmed). Events handled are read from the services' own counters.

Latency: then, at half the case-open rate the throughput run reached, open cases at a steady pace
and read reporting's event lag histogram (event created at intake -> effect committed at
reporting) before and after.
"""
import importlib.util
import math
import os
import random
import shutil
import socket
import sys
import time

import eventlet
import requests
from eventlet.queue import Empty, LightQueue
from prometheus_client.parser import text_string_to_metric_families

from parcours_shared.testing import luhn_valid_sirens

from common import Progress, Stopwatch, per_second

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import processes  # noqa: E402  (scripts/processes.py: a service as a process, as `make run` has it)

EVENTS_PER_CASE = 7  # consumed events per case taken to a confirmed enrolment (see above)
SESSION_CAPACITY = 100000  # "a big session": every case gets a seat
LIST_LIMIT = 1000  # the largest page the list endpoints serve
REGIONS = ["84", "11", "53", "76", "32", "93", "44", "75", "52", "28"]
HTTP_TIMEOUT = 30


def _ready_answers():
    """The first_time_exporter answers of the cross-service tests (tests/pathway.py), loaded by
    path because this module is also called ``pathway``."""
    spec = importlib.util.spec_from_file_location(
        "parcours_tests_pathway", os.path.join(ROOT, "tests", "pathway.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.READY_ANSWERS


READY_ANSWERS = _ready_answers()


class PathwayError(RuntimeError):
    pass


# --- the four services ---------------------------------------------------------------------------

class Network:
    """The four services as four ``nameko run`` processes, as `make run` starts them, each on a
    free port (`make run` may be using 8001-8004) with a fresh SQLite file of its own in
    ``work_dir``, all on the benchmark's vhost."""

    def __init__(self, amqp_uri, work_dir):
        self.work_dir = work_dir
        self.log_dir = os.path.join(work_dir, "logs")
        self.names = list(processes.START_ORDER)  # consumers first
        self.services = {
            name: processes.ServiceProcess(name, _free_port(), self.log_dir, env={
                "AMQP_URI": amqp_uri,
                "DATABASE_URL": "sqlite:///{}".format(
                    os.path.join(work_dir, name + ".sqlite3")),
            })
            for name in self.names}
        self.urls = {name: service.url for name, service in self.services.items()}

    def start(self, progress):
        os.makedirs(self.log_dir, exist_ok=True)
        for name in self.names:
            service = self.services[name]
            progress.say("starting {} on port {}".format(name, service.port))
            service.start().wait_healthy()

    def stop(self):
        for service in self.services.values():
            service.terminate()

    def check_alive(self):
        dead = [name for name, service in self.services.items()
                if service.process is not None and not service.running()]
        if dead:
            raise PathwayError("{} stopped during the benchmark; logs in {}".format(
                ", ".join(dead), self.log_dir))

    def keep_logs(self, destination):
        if os.path.isdir(self.log_dir):
            shutil.copytree(self.log_dir, destination, dirs_exist_ok=True)

    def cpu_seconds(self):
        """User + system CPU time of each service process so far (from /proc), and of this
        process, the HTTP clients (to tell whether the driver itself was the bottleneck)."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = {}
        for name, service in self.services.items():
            with open("/proc/{}/stat".format(service.process.pid)) as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            used[name] = (int(fields[11]) + int(fields[12])) / ticks
        own = os.times()
        used["bench_clients"] = own.user + own.system
        return used

    def get(self, service, path, **params):
        response = requests.get(self.urls[service] + path, params=params, timeout=HTTP_TIMEOUT)
        _expect(response, 200)
        return response

    def post(self, service, path, body, expected=(200, 201), http=requests):
        response = http.post(self.urls[service] + path, json=body, timeout=HTTP_TIMEOUT)
        _expect(response, *expected)
        return response.json()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _expect(response, *statuses):
    if response.status_code not in statuses:
        raise PathwayError("{} {} answered {}: {}".format(
            response.request.method, response.url, response.status_code, response.text[:500]))


# --- concurrent HTTP clients ---------------------------------------------------------------------

def for_each(items, call, clients):
    """``call(http, item)`` for every item, by ``clients`` concurrent clients (green threads, the
    benchmark runs under eventlet), each with its own keep-alive session like a real front end."""
    todo = LightQueue()
    for item in items:
        todo.put(item)

    def client():
        with requests.Session() as http:
            while True:
                try:
                    item = todo.get_nowait()
                except Empty:
                    return
                call(http, item)

    threads = [eventlet.spawn(client) for _ in range(clients)]
    for thread in threads:
        thread.wait()  # re-raises a client's error


def _firm(siren):
    return {"siren": siren, "company_name": "Bench firm {}".format(siren),
            "region_code": random.choice(REGIONS), "naf_code": "21.20Z", "channel": "web"}


# --- metrics -------------------------------------------------------------------------------------

def _samples(network, service, sample_name):
    text = requests.get(network.urls[service] + "/metrics", timeout=HTTP_TIMEOUT).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == sample_name:
                yield sample


def events_handled(network):
    """Events applied or recognised as duplicates, summed over every service and event type."""
    return sum(sample.value
               for service in network.names
               for sample in _samples(network, service, "parcours_events_consumed_total")
               if sample.labels.get("outcome") in ("applied", "duplicate"))


def lag_buckets(network, service="reporting", event_type="case.opened"):
    """{upper bound in seconds: cumulative count} of parcours_event_lag_seconds."""
    return {float(sample.labels["le"]): sample.value
            for sample in _samples(network, service, "parcours_event_lag_seconds_bucket")
            if sample.labels.get("service") == service and sample.labels.get("type") == event_type}


def histogram_quantile(q, buckets):
    """Like Prometheus' histogram_quantile: find the bucket holding the q-th observation and
    interpolate linearly inside it. Returns seconds, or None without observations."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower  # beyond the last finite bucket: its bound is all we know
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def funnel(network):
    stages = network.get("reporting", "/funnel").json()["stages"]
    return {stage["stage"]: stage["cases"] for stage in stages}


# --- the throughput run --------------------------------------------------------------------------

def add_programme(network, cases):
    programme = network.post("programmes", "/programmes", {
        "partner": "Business France", "name": "Bench prospection Allemagne",
        "kind": "targeted_market", "maturity_levels": ["first_time_exporter"]})
    for _ in range(math.ceil(cases / SESSION_CAPACITY)):
        network.post("programmes", "/programmes/{}/sessions".format(programme["id"]), {
            "starts_on": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400)),
            "market": "DE", "place": "Düsseldorf", "capacity": SESSION_CAPACITY})


def open_cases(network, sirens, cases, clients, progress):
    """Returns the case-open rate reached (cases per second)."""
    opened = [0]

    def open_one(http, siren):
        network.post("intake", "/cases", _firm(siren), expected=(201,), http=http)
        opened[0] += 1
        progress.update(opened[0], cases, "cases opened")

    clock = Stopwatch()
    for_each([next(sirens) for _ in range(cases)], open_one, clients)
    seconds = clock.stop()
    progress.update(opened[0], cases, "cases opened in {:.1f}s".format(seconds), force=True)
    return per_second(cases, seconds)


def work_through(network, cases, clients, progress, deadline, listing, act, what):
    """Poll a list endpoint for items waiting for staff, act on each, until ``cases`` are done.

    Every page is fully acted on before the next poll, so nothing is acted on twice.
    """
    service, path, key, status = listing
    done = [0]

    def act_on(http, item):
        act(http, item)
        done[0] += 1
        progress.update(done[0], cases, what)

    while done[0] < cases:
        waiting = network.get(service, path, status=status, limit=LIST_LIMIT).json()[key]
        if waiting:
            for_each(waiting, act_on, clients)
            continue
        _check_progress(network, deadline, "{} {}".format(done[0], what))
        time.sleep(0.2)
    progress.update(done[0], cases, what, force=True)


def _check_progress(network, deadline, state):
    network.check_alive()
    if time.monotonic() > deadline:
        raise PathwayError("deadline passed with {}".format(state))


def complete_diagnostics(network, cases, clients, progress, deadline):
    def answer(http, diagnostic):
        network.post("diagnostic", "/diagnostics/{}/answers".format(diagnostic["id"]),
                     READY_ANSWERS, expected=(200,), http=http)

    work_through(network, cases, clients, progress, deadline,
                 ("diagnostic", "/diagnostics", "diagnostics", "scheduled"), answer,
                 "diagnostics completed")


def confirm_enrolments(network, cases, clients, progress, deadline):
    def confirm(http, enrolment):
        confirmed = network.post("programmes", "/enrolments/{}/confirm".format(enrolment["id"]),
                                 None, expected=(200,), http=http)
        if confirmed["status"] != "confirmed":
            raise PathwayError("enrolment {} was {}, not confirmed".format(
                enrolment["id"], confirmed["status"]))

    work_through(network, cases, clients, progress, deadline,
                 ("programmes", "/enrolments", "enrolments", "proposed"), confirm,
                 "enrolments confirmed")


def wait_until_all_handled(network, cases, handled_before, progress, deadline):
    """Until the funnel counts every confirmation and every expected event was handled."""
    expected = EVENTS_PER_CASE * cases
    while True:
        counts = funnel(network)
        handled = events_handled(network) - handled_before
        if counts["enrolment_confirmed"] >= cases and handled >= expected:
            return handled
        progress.update(int(handled), expected, "events handled (funnel: {})".format(
            ", ".join("{} {}".format(stage, counts[stage]) for stage in
                      ("opened", "diagnostic_completed", "enrolment_confirmed"))))
        _check_progress(network, deadline, "{} of {} events handled, funnel {}".format(
            handled, expected, counts))
        time.sleep(0.25)


def throughput(network, cases, clients, sirens, progress):
    deadline = time.monotonic() + max(240, 0.3 * cases)
    handled_before = events_handled(network)
    cpu_before = network.cpu_seconds()
    clock = Stopwatch()
    open_rate = open_cases(network, sirens, cases, clients, progress)
    complete_diagnostics(network, cases, clients, progress, deadline)
    confirm_enrolments(network, cases, clients, progress, deadline)
    handled = wait_until_all_handled(network, cases, handled_before, progress, deadline)
    seconds = clock.stop()
    cpu_after = network.cpu_seconds()
    rate = per_second(handled, seconds)
    progress.say("{:.0f} events handled in {:.1f}s: {:,.0f} events/s; cases opened at {:,.0f}/s"
                 .format(handled, seconds, rate, open_rate))
    cpu = {name: round(cpu_after[name] - cpu_before[name], 1) for name in cpu_after}
    progress.say("CPU seconds used meanwhile by each service and by the HTTP clients: {}".format(
        ", ".join("{} {}".format(name, used) for name, used in cpu.items())))
    return {
        "pathway_cases": cases,
        "pathway_seconds": round(seconds, 2),
        "pathway_events_handled": int(handled),
        "pathway_events_per_s": rate,
        "case_open_rate_per_s": open_rate,
        "pathway_cpu_seconds": cpu,
    }


# --- the latency run -----------------------------------------------------------------------------

def paced_opens(network, sirens, rate, count, progress):
    """Open ``count`` cases, the i-th at i/rate seconds, whatever the answers' durations."""
    sessions = LightQueue()
    for _ in range(32):
        sessions.put(requests.Session())
    errors = []

    def open_one(siren):
        http = sessions.get()
        try:
            network.post("intake", "/cases", _firm(siren), expected=(201,), http=http)
        except Exception as exc:  # reported after the run: one failure must not skew the pace
            errors.append(exc)
        finally:
            sessions.put(http)

    pool = eventlet.GreenPool(64)
    started = time.monotonic()
    for i in range(count):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            eventlet.sleep(delay)
        pool.spawn(open_one, next(sirens))
        progress.update(i + 1, count, "cases opened at {:.1f}/s".format(rate))
    pool.waitall()
    while not sessions.empty():
        sessions.get().close()
    if errors:
        raise PathwayError("{} of {} paced case openings failed, e.g. {}".format(
            len(errors), count, errors[0]))


def latency(network, sirens, rate, seconds, opened_before, progress):
    count = max(1, round(rate * seconds))
    before = lag_buckets(network)
    paced_opens(network, sirens, rate, count, progress)
    deadline = time.monotonic() + 60
    while funnel(network)["opened"] < opened_before + count:
        _check_progress(network, deadline, "reporting still missing case.opened events")
        time.sleep(0.1)
    after = lag_buckets(network)
    buckets = {bound: after[bound] - before.get(bound, 0.0) for bound in after}
    figures = {"latency_rate_cases_per_s": round(rate, 1), "latency_cases": count}
    for q in (50, 95, 99):
        value = histogram_quantile(q / 100, buckets)
        figures["latency_p{}_ms".format(q)] = round(value * 1000, 1) if value is not None else None
    progress.say("intake -> reporting lag over {} cases at {:.1f}/s: p50 {} ms, p95 {} ms, "
                 "p99 {} ms".format(count, rate, figures["latency_p50_ms"],
                                    figures["latency_p95_ms"], figures["latency_p99_ms"]))
    return figures


# --- the part as a whole -------------------------------------------------------------------------

def run(amqp_uri, cases, clients, latency_seconds, work_dir, step, keep_logs_in):
    progress = Progress(step, "pathway")
    network = Network(amqp_uri, work_dir)
    sirens = luhn_valid_sirens(random.randrange(10_000_000, 80_000_000))
    try:
        network.start(progress)
        add_programme(network, cases)
        figures = throughput(network, cases, clients, sirens, progress)
        figures.update(latency(network, sirens, figures["case_open_rate_per_s"] / 2,
                               latency_seconds, cases, progress))
        return figures
    except BaseException:
        network.keep_logs(keep_logs_in)
        progress.say("the services' logs are kept in {}".format(keep_logs_in))
        raise
    finally:
        progress.say("stopping the four services")
        network.stop()

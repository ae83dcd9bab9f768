"""Part 3: the pathway end to end, four services as four processes, driven over HTTP.

Throughput: import N firms (a cluster's member list, through intake's bulk endpoint), answer
every diagnostic and confirm every enrolment as they appear (the bulk endpoints of diagnostic and
programmes), and wait until reporting's funnel counts N confirmed enrolments and every service
has handled the 7 events per case it should (case.opened x2, diagnostic.scheduled,
diagnostic.completed x2, enrolment.proposed, enrolment.confirmed). Events handled are read from
the services' own counters.

Latency: then the same pathway at half the throughput run's case rate, firms imported a few at a
time on a steady schedule, reading reporting's event lag histogram (event created at intake ->
effect committed at reporting) before and after.
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
from prometheus_client.parser import text_string_to_metric_families

from parcours_testing import luhn_valid_sirens

from common import Progress, Stopwatch, per_second

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import processes  # noqa: E402  (scripts/processes.py: a service as a process, as `make run` has it)

EVENTS_PER_CASE = 7  # consumed events per case taken to a confirmed enrolment (see above)
SESSION_CAPACITY = 100000  # "a big session": every case gets a seat
LIST_LIMIT = 1000  # the largest page the list endpoints serve
IMPORT_CHUNK = 500  # firms per import (a cluster's member list)
ACTION_CHUNK = 250  # diagnostics answered, enrolments confirmed, per request
STAFF_POLL_INTERVAL = 0.25  # how often staff look for new work when there is none
OPENING_TICK = 0.1  # the paced run imports its firms this often
REGIONS = ["84", "11", "53", "76", "32", "93", "44", "75", "52", "28"]
HTTP_TIMEOUT = 30
AGENCY = "business-france"  # runs the programme the cases enrol in


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
        issuer = processes.dev_issuer(os.path.join(work_dir, "issuer"))
        self.headers = {"Authorization": processes.operator_authorization(issuer)}
        # the programme is the agency's: its enrolments are the agency's to decide
        self.agency_headers = {"Authorization": processes.partner_authorization(issuer, AGENCY)}
        self.services = {
            name: processes.ServiceProcess(name, _free_port(), self.log_dir, env={
                "AMQP_URI": amqp_uri, **issuer.service_settings(),
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
        """User + system CPU time so far (from /proc) of each service process, of this process
        (the HTTP clients: was the driver the bottleneck?), of RabbitMQ if it runs here, and of
        the whole machine (``machine``: all cores, every process)."""
        used = {name: _process_cpu_seconds(service.process.pid)
                for name, service in self.services.items()}
        own = os.times()
        used["bench_clients"] = own.user + own.system
        broker = _broker_pid()
        if broker is not None:
            used["rabbitmq"] = _process_cpu_seconds(broker)
        with open("/proc/stat") as stat:
            jiffies = [int(field) for field in stat.readline().split()[1:]]
        # user, nice, system, irq, softirq: not idle, iowait, nor steal (the host's other
        # tenants running on our cores)
        busy = sum(jiffies[:3]) + jiffies[5] + jiffies[6]
        used["machine"] = busy / os.sysconf("SC_CLK_TCK")
        return used

    def get(self, service, path, **params):
        response = requests.get(self.urls[service] + path, params=params, timeout=HTTP_TIMEOUT,
                                headers=self.headers)
        _expect(response, 200)
        return response

    def post(self, service, path, body, expected=(200, 201), http=requests):
        response = http.post(self.urls[service] + path, json=body, timeout=HTTP_TIMEOUT,
                             headers=self.agency_headers if service == "programmes"
                             else self.headers)
        _expect(response, *expected)
        return response.json()


def _process_cpu_seconds(pid):
    with open("/proc/{}/stat".format(pid)) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _broker_pid():
    """RabbitMQ's Erlang VM on this machine, if there is one (None where the broker is
    elsewhere: its share is then not measured)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/{}/cmdline".format(pid), "rb") as cmdline:
                arguments = cmdline.read().split(b"\0")
        except OSError:
            continue
        if arguments and os.path.basename(arguments[0]) == b"beam.smp" and b"rabbit" in b" ".join(
                arguments):
            return int(pid)
    return None


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _expect(response, *statuses):
    if response.status_code not in statuses:
        raise PathwayError("{} {} answered {}: {}".format(
            response.request.method, response.url, response.status_code, response.text[:500]))


# --- HTTP --------------------------------------------------------------------------------------

def _firm(siren):
    return {"siren": siren, "company_name": "Bench firm {}".format(siren),
            "region_code": random.choice(REGIONS), "naf_code": "21.20Z", "channel": "web"}


def _chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


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
        "partner": AGENCY, "name": "Bench prospection Allemagne",
        "kind": "targeted_market", "maturity_levels": ["first_time_exporter"]})
    for _ in range(math.ceil(cases / SESSION_CAPACITY)):
        network.post("programmes", "/programmes/{}/sessions".format(programme["id"]), {
            "starts_on": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400)),
            "market": "DE", "place": "Düsseldorf", "capacity": SESSION_CAPACITY})


class Driver:
    """The people along the pathway, as three concurrent loops over the bulk endpoints: the
    single window imports firms (a cluster's member list), advisors enter the answers of the
    diagnostics waiting for them, the selection committee confirms the proposed enrolments.
    Each loop acts on what is waiting as soon as it sees it, so the stages overlap as they would
    in a busy season."""

    def __init__(self, network, progress, cases, deadline):
        self.network = network
        self.progress = progress
        self.cases = cases
        self.deadline = deadline
        self.done = {"opened": 0, "diagnosed": 0, "confirmed": 0}

    def run(self, firms, opening_pace=None):
        """Until every firm is opened, diagnosed and confirmed. ``opening_pace``: cases per
        second to open (None: as fast as intake takes them)."""
        loops = [eventlet.spawn(self.open_cases, firms, opening_pace),
                 eventlet.spawn(self.complete_diagnostics),
                 eventlet.spawn(self.confirm_enrolments)]
        try:
            for loop in loops:
                loop.wait()  # re-raises a loop's error
        finally:
            for loop in loops:
                loop.kill()
        self._show(force=True)

    def _show(self, force=False):
        self.progress.update(
            self.done["confirmed"], self.cases, "confirmed (opened {opened}, diagnosed "
            "{diagnosed})".format(**self.done), force=force)

    def open_cases(self, firms, pace):
        with requests.Session() as http:
            if pace is None:
                for chunk in _chunks(firms, IMPORT_CHUNK):
                    self._import(http, chunk)
                return
            # Paced: a small import every OPENING_TICK seconds, on schedule whatever the answers'
            # durations (a late tick sends its firms with the next).
            started, sent = time.monotonic(), 0
            while sent < len(firms):
                due = min(len(firms), int((time.monotonic() - started) * pace) + 1)
                if due > sent:
                    self._import(http, firms[sent:due])
                    sent = due
                eventlet.sleep(OPENING_TICK)

    def _import(self, http, firms):
        answer = self.network.post("intake", "/cases/import", {"firms": firms},
                                   expected=(200, 201), http=http)
        if answer["opened"] != len(firms):
            raise PathwayError("intake opened {} of {} new firms".format(
                answer["opened"], len(firms)))
        self.done["opened"] += answer["opened"]
        self._show()

    def complete_diagnostics(self):
        def answer(http, diagnostics):
            self.network.post("diagnostic", "/diagnostics/answers", {"diagnostics": [
                {"diagnostic_id": diagnostic["id"], "answers": READY_ANSWERS}
                for diagnostic in diagnostics]}, expected=(200,), http=http)
            self.done["diagnosed"] += len(diagnostics)

        self._work_through("diagnosed", ("diagnostic", "/diagnostics", "diagnostics",
                                         "scheduled"), answer)

    def confirm_enrolments(self):
        def confirm(http, enrolments):
            answer = self.network.post("programmes", "/enrolments/confirm", {
                "enrolment_ids": [enrolment["id"] for enrolment in enrolments]},
                expected=(200,), http=http)
            waitlisted = [e["id"] for e in answer["enrolments"] if e["status"] != "confirmed"]
            if waitlisted:
                raise PathwayError("enrolments {} were not confirmed".format(waitlisted[:3]))
            self.done["confirmed"] += len(enrolments)

        self._work_through("confirmed", ("programmes", "/enrolments", "enrolments",
                                         "proposed"), confirm)

    def _work_through(self, counter, listing, act):
        """Poll a list of items waiting for staff and act on them, a chunk per request, until
        every case went through. A page is fully acted on before the next poll, so nothing is
        acted on twice."""
        service, path, key, status = listing
        with requests.Session() as http:
            while self.done[counter] < self.cases:
                waiting = self.network.get(service, path, status=status,
                                           limit=LIST_LIMIT).json()[key]
                for chunk in _chunks(waiting, ACTION_CHUNK):
                    act(http, chunk)
                    self._show()
                if not waiting:
                    _check_progress(self.network, self.deadline, "{} of {} cases {}".format(
                        self.done[counter], self.cases, counter))
                    eventlet.sleep(STAFF_POLL_INTERVAL)


def _check_progress(network, deadline, state):
    network.check_alive()
    if time.monotonic() > deadline:
        raise PathwayError("deadline passed with {}".format(state))


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


def throughput(network, cases, sirens, progress):
    deadline = time.monotonic() + max(240, 0.3 * cases)
    firms = [_firm(next(sirens)) for _ in range(cases)]
    handled_before = events_handled(network)
    cpu_before = network.cpu_seconds()
    clock = Stopwatch()
    Driver(network, progress, cases, deadline).run(firms)
    handled = wait_until_all_handled(network, cases, handled_before, progress, deadline)
    seconds = clock.stop()
    cpu_after = network.cpu_seconds()
    rate = per_second(handled, seconds)
    progress.say("{:.0f} events handled in {:.1f}s: {:,.0f} events/s ({:,.0f} cases/s)".format(
        handled, seconds, rate, cases / seconds))
    cpu = {name: round(cpu_after[name] - cpu_before[name], 1) for name in cpu_after}
    progress.say("CPU seconds used meanwhile by each service, the HTTP clients, RabbitMQ and the "
                 "whole machine ({} cores x {:.1f} s): {}".format(
                     os.cpu_count(), seconds,
                     ", ".join("{} {}".format(name, used) for name, used in cpu.items())))
    return {
        "pathway_cases": cases,
        "pathway_seconds": round(seconds, 2),
        "pathway_events_handled": int(handled),
        "pathway_events_per_s": rate,
        "pathway_cases_per_s": per_second(cases, seconds),
        "pathway_cpu_seconds": cpu,
    }


# --- the latency run -----------------------------------------------------------------------------

def latency(network, sirens, cases_per_s, seconds, cases_before, progress):
    """The whole pathway at ``cases_per_s`` (half the throughput run's): firms imported a few at
    a time on a steady schedule, diagnosed and confirmed as they come; the figure is reporting's
    lag on case.opened over that run."""
    count = max(1, round(cases_per_s * seconds))
    deadline = time.monotonic() + seconds + max(120, 0.3 * count)
    firms = [_firm(next(sirens)) for _ in range(count)]
    before = lag_buckets(network)
    Driver(network, progress, count, deadline).run(firms, opening_pace=cases_per_s)
    while funnel(network)["opened"] < cases_before + count:
        _check_progress(network, deadline, "reporting still missing case.opened events")
        time.sleep(0.1)
    after = lag_buckets(network)
    buckets = {bound: after[bound] - before.get(bound, 0.0) for bound in after}
    figures = {"latency_rate_cases_per_s": round(cases_per_s, 1), "latency_cases": count}
    for q in (50, 95, 99):
        value = histogram_quantile(q / 100, buckets)
        figures["latency_p{}_ms".format(q)] = round(value * 1000, 1) if value is not None else None
    progress.say("intake -> reporting lag over {} cases at {:.1f}/s: p50 {} ms, p95 {} ms, "
                 "p99 {} ms".format(count, cases_per_s, figures["latency_p50_ms"],
                                    figures["latency_p95_ms"], figures["latency_p99_ms"]))
    return figures


# --- the part as a whole -------------------------------------------------------------------------

def run(amqp_uri, cases, latency_seconds, work_dir, step, keep_logs_in):
    progress = Progress(step, "pathway")
    network = Network(amqp_uri, work_dir)
    sirens = luhn_valid_sirens(random.randrange(10_000_000, 80_000_000))
    try:
        network.start(progress)
        add_programme(network, cases)
        figures = throughput(network, cases, sirens, progress)
        figures.update(latency(network, sirens, figures["pathway_cases_per_s"] / 2,
                               latency_seconds, cases, progress))
        return figures
    except BaseException:
        network.keep_logs(keep_logs_in)
        progress.say("the services' logs are kept in {}".format(keep_logs_in))
        raise
    finally:
        progress.say("stopping the four services")
        network.stop()

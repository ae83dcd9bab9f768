"""Fault-injection harness: the four services as real processes, on the real broker and
PostgreSQL, driven along the pathway over HTTP while a fault is injected, then checked against
the publishers' own records.
"""
import itertools
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

import requests
from kombu import Connection
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from parcours_shared import topology
from parcours_testing import luhn_valid_sirens
from pathway import READY_ANSWERS  # the cross-service tests' ready-to-export diagnostic

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import broker  # noqa: E402
from processes import (  # noqa: E402
    START_ORDER, ServiceProcess, dev_issuer, operator_authorization,
    partner_authorization,
)

PUBLISHERS = ("intake", "diagnostic", "programmes")
AGENCY = "business-france"  # runs the programme the driven firms enrol in
DIRECTORY_PARTNERS = 10  # registered while the cases flow (PathwayDriver._keep_directory)
DIRECTORY_COPIES = ("diagnostic", "programmes", "reporting")
CONTACT = {"name": "Claire Durand", "email": "claire.durand@firme.example"}
REQUEST_FORM = {"region_code": "84", "contact_name": "Inès Ferrand",
                "contact_email": "ines.ferrand@firme.example", "need_first_export": "yes",
                "consent_orientation": "yes"}
RABBIT_API = os.environ.get("RABBIT_API_URI", "http://guest:guest@127.0.0.1:15672")
# Short delays so retries and the relay's polling do not dominate the measured recovery.
SERVICE_ENV = {
    "PARCOURS_RETRY_MAX_ATTEMPTS": "3",
    "PARCOURS_RETRY_DELAY_MS": "100",
    "PARCOURS_RETRY_TRANSIENT_MAX_DELAY_MS": "1000",
    "PARCOURS_RELAY_IDLE_INTERVAL": "0.2",
    "PARCOURS_MAIL_POLL_SECONDS": "0.2",
    "PARCOURS_MAIL_CLAIM_SECONDS": "5",  # a message held by a process killed is sent on soon
    "PARCOURS_LINK_SECRET": "the fault suite's link secret",
    # the driver sends every firm's request from one address
    "PARCOURS_REQUEST_LIMIT": "1000000/60",
}


def subscriptions():
    """(source service, event type) -> [(consuming service, method)], from the service classes."""
    from diagnostic.service import DiagnosticService
    from intake.service import IntakeService
    from programmes.service import ProgrammesService
    from reporting.service import ReportingService

    found = {}
    for s in topology.subscriptions([IntakeService, DiagnosticService, ProgrammesService,
                                     ReportingService]):
        found.setdefault((s.source_service, s.event_type), []).append((s.service, s.method))
    return found


def queue_name(source, event_type, service, method):
    return topology.Subscription(source, event_type, service, method).queue


class RabbitAdmin:
    """The management API, for vhosts and queue figures (it is down while the broker is); on a
    cluster, any node's that answers."""

    def __init__(self, bases=(RABBIT_API,)):
        self.bases = list(bases)

    def _request(self, method, path, **kwargs):
        failure = None
        for base in self.bases:
            try:
                response = requests.request(method, "{}/api/{}".format(base, path), **kwargs)
                response.raise_for_status()
                return response
            except requests.RequestException as exc:
                failure = exc
        raise failure

    def create_vhost(self, vhost):
        self._request("PUT", "vhosts/" + quote(vhost, safe=""), timeout=10)
        self._request("PUT", "permissions/{}/guest".format(quote(vhost, safe="")),
                      json={"configure": ".*", "write": ".*", "read": ".*"}, timeout=10)

    def delete_vhost(self, vhost):
        try:
            self._request("DELETE", "vhosts/" + quote(vhost, safe=""), timeout=30)
        except requests.RequestException:
            pass

    def queues(self, vhost):
        """{queue name: (ready + unacked messages, consumers)}, or None while unreachable."""
        try:
            response = self._request("GET", "queues/" + quote(vhost, safe=""), timeout=5,
                                     params={"columns": "name,messages,consumers"})
        except requests.RequestException:
            return None
        return {q["name"]: (q.get("messages", 0), q.get("consumers", 0))
                for q in response.json()}

    def queue_leaders(self, vhost):
        """{node: how many of the vhost's quorum queues it leads}; every queue of the vhost
        must be a quorum queue."""
        response = self._request("GET", "queues/" + quote(vhost, safe=""), timeout=10,
                                 params={"columns": "name,type,leader,node"})
        found = {}
        for queue in response.json():
            if queue.get("type") != "quorum":
                raise AssertionError("{} is a {} queue, not a quorum queue".format(
                    queue["name"], queue.get("type")))
            leader = queue.get("leader") or queue.get("node")
            found[leader] = found.get(leader, 0) + 1
        return found


class FaultNetwork:
    """The four services as processes, each with its own PostgreSQL database, on a new vhost."""

    def __init__(self, workdir, database_url, replicas=1, cluster=None):
        """``cluster``: a scripts/rabbitmq_cluster.Cluster to run on, with quorum queues
        (else the machine's broker, with classic queues)."""
        self.token = uuid.uuid4().hex[:8]
        self.mail_folder = os.path.join(workdir, "mail")  # intake's messages to firms
        self.cluster = cluster
        ports = [node.amqp_port for node in cluster.nodes] if cluster else [5672]
        self.admin = RabbitAdmin([node.management_url for node in cluster.nodes] if cluster
                                 else [RABBIT_API])
        self.vhost = "parcours_faults_" + self.token
        self.admin.create_vhost(self.vhost)
        self.amqp_uri = ";".join("pyamqp://guest:guest@127.0.0.1:{}/{}".format(port, self.vhost)
                                 for port in ports)
        # each service as its own broker user, with only its own rights (scripts/broker.py);
        # guest, which injects the duplicates and the poison, is trusted as an operator is
        self.user_prefix = "f{}-".format(self.token)
        self.broker = broker.Management(
            cluster.nodes[0].management_url.replace("guest:guest@", "") if cluster
            else broker.DEFAULT_API, broker.DEFAULT_ADMIN)
        self.secrets = broker.Secrets(os.path.join(workdir, "secrets"))
        queue_type = "quorum" if cluster else "classic"
        broker.apply(self.broker, self.secrets, self.vhost, self.user_prefix, queue_type)
        self._broker_ports = ports
        self._server = make_url(database_url)
        self.database_urls = {}
        with self._admin_engine().connect() as connection:
            for name in START_ORDER:
                database = "faults_{}_{}".format(self.token, name)
                connection.execute(text('CREATE DATABASE "{}"'.format(database)))
                self.database_urls[name] = self._server.set(database=database).render_as_string(
                    hide_password=False)
        self.engines = {name: create_engine(url, pool_size=2) for name, url
                        in self.database_urls.items()}
        ports = iter(_free_ports(len(START_ORDER) * replicas))
        issuer = dev_issuer(os.path.join(workdir, "issuer"))
        self.authorization = operator_authorization(issuer)
        # the programme is the agency's: its enrolments are the agency's to decide
        self.agency_authorization = partner_authorization(issuer, AGENCY)
        # every process of every service; the driver calls each service's first
        self.processes = {
            name: [ServiceProcess(name, next(ports), workdir, replica=number, env=dict(
                SERVICE_ENV, **issuer.service_settings(), DATABASE_URL=self.database_urls[name],
                PARCOURS_MAIL_URL="folder:" + self.mail_folder, PARCOURS_QUEUE_TYPE=queue_type,
                AMQP_URI=self.service_amqp_uri(name), PARCOURS_DECLARE_EXCHANGES="false",
                PARCOURS_TRUSTED_PUBLISHERS="guest", PARCOURS_BROKER_USER_PREFIX=self.user_prefix))
                for number in range(1, replicas + 1)]
            for name in START_ORDER}
        self.services = {name: processes[0] for name, processes in self.processes.items()}

    def service_amqp_uri(self, name):
        """The service's user on every broker node: it fails over from one to the next."""
        return ";".join(self.secrets.uri(self.user_prefix + name, self.vhost, port=port)
                        for port in self._broker_ports)

    def rotate_password(self, name):
        """A new password for the service's user, then the service restarted with it (a
        graceful stop: its outbox keeps what it has not sent)."""
        user = self.user_prefix + name
        self.broker.set_user(user, self.secrets.password(user, new=True))
        service = self.services[name]
        service.terminate()
        service.env["AMQP_URI"] = self.service_amqp_uri(name)
        service.start().wait_healthy()

    def _admin_engine(self):
        return create_engine(self._server, isolation_level="AUTOCOMMIT", pool_size=1)

    def start(self):
        # one process at a time: the first of a service migrates its database
        for name in START_ORDER:
            for process in self.processes[name]:
                process.start().wait_healthy()

    def restart(self, name):
        self.services[name].start().wait_healthy()

    def all_processes(self):
        return [process for name in START_ORDER for process in self.processes[name]]

    def all_healthy(self):
        return all(process.healthy() for process in self.all_processes())

    def url(self, name):
        """A running process of the service, any of them when it has replicas (a call to one
        killed meanwhile fails, and is tried again on another)."""
        running = [process for process in self.processes[name] if process.running()]
        return random.choice(running or self.processes[name]).url

    def close(self):
        for process in self.all_processes():
            process.kill()
        for name in START_ORDER:
            self.broker.call("DELETE", "users", self.user_prefix + name)
        for engine in self.engines.values():
            engine.dispose()
        with self._admin_engine().connect() as connection:
            for url in self.database_urls.values():
                database = make_url(url).database
                connection.execute(text('ALTER DATABASE "{}" ALLOW_CONNECTIONS true'.format(
                    database)))
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = :db"), {"db": database})
                connection.execute(text('DROP DATABASE IF EXISTS "{}"'.format(database)))
        self.admin.delete_vhost(self.vhost)

    # --- faults on the database -----------------------------------------------------------------

    def cut_database(self, name):
        database = make_url(self.database_urls[name]).database
        with self._admin_engine().connect() as connection:
            connection.execute(text('ALTER DATABASE "{}" ALLOW_CONNECTIONS false'.format(database)))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :db AND pid <> pg_backend_pid()"),
                               {"db": database})

    def restore_database(self, name):
        database = make_url(self.database_urls[name]).database
        with self._admin_engine().connect() as connection:
            connection.execute(text('ALTER DATABASE "{}" ALLOW_CONNECTIONS true'.format(database)))

    # --- what the oracle reads -------------------------------------------------------------------

    def rows(self, name, query, **params):
        with self.engines[name].connect() as connection:
            return connection.execute(text(query), params).all()

    def consumer_queues(self):
        return [queue_name(source, event_type, service, method)
                for (source, event_type), consumers in subscriptions().items()
                for service, method in consumers]


def _free_ports(count):
    import socket
    sockets, ports = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


# --- the driver ----------------------------------------------------------------------------------

class PathwayDriver:
    """Drives N firms along the pathway over HTTP as partners' staff would, riding out outages:
    a call that fails (connection refused, 503) is tried again."""

    def __init__(self, network, cases, seed=7, openers=4):
        self.network = network
        self.cases = cases
        self.openers = openers
        first_prefix = random.Random(seed).randrange(10000000, 90000000)
        self.sirens = list(itertools.islice(luhn_valid_sirens(first_prefix), cases))
        self.opened, self.diagnosed, self.confirmed = set(), set(), set()
        self.errors = []
        self._stop = threading.Event()
        self.directory_kept = threading.Event()

    def _call(self, method, service, path, body=None, ok=(200, 201)):
        """Try until the service answers one of ``ok`` (or 409: it was done already)."""
        while not self._stop.is_set():
            try:
                response = requests.request(
                    method, self.network.url(service) + path, json=body, timeout=10,
                    headers={"Authorization": self.network.agency_authorization
                             if service == "programmes" else self.network.authorization})
                if response.status_code in ok or response.status_code == 409:
                    return response
                if response.status_code < 500:
                    raise AssertionError("{} {}{} answered {}: {}".format(
                        method, service, path, response.status_code, response.text))
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise InterruptedError("driver stopped")

    def setup(self):
        programme = self._call("POST", "programmes", "/programmes", {
            "partner": AGENCY, "name": "Prospection Allemagne",
            "kind": "targeted_market", "maturity_levels": ["first_time_exporter"]}).json()
        self._call("POST", "programmes", "/programmes/{}/sessions".format(programme["id"]), {
            "starts_on": "2099-01-15", "market": "DE", "place": "Düsseldorf",
            "capacity": 1000000})

    def run(self, timeout):
        self.setup()
        workers = [threading.Thread(target=self._guard(self._open_cases, i), daemon=True)
                   for i in range(self.openers)]
        workers += [threading.Thread(target=self._guard(self._answer_diagnostics), daemon=True),
                    threading.Thread(target=self._guard(self._confirm_enrolments), daemon=True),
                    threading.Thread(target=self._guard(self._keep_directory), daemon=True)]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + timeout
        next_report = time.monotonic() + 5
        dead_since = {}
        while ((len(self.confirmed) < self.cases or not self.directory_kept.is_set())
               and not self.errors):
            self._check_alive(dead_since)
            if time.monotonic() > next_report:  # long runs show where they are
                print("  driving: {} opened, {} diagnosed, {} confirmed of {}".format(
                    len(self.opened), len(self.diagnosed), len(self.confirmed), self.cases),
                    flush=True)
                next_report += 5
            if time.monotonic() > deadline:
                self._stop.set()
                raise AssertionError("the pathway did not complete within {}s: {} opened, {} "
                                     "diagnosed, {} confirmed of {}".format(
                                         timeout, len(self.opened), len(self.diagnosed),
                                         len(self.confirmed), self.cases))
            time.sleep(0.1)
        self._stop.set()
        if self.errors:
            raise self.errors[0]

    def _keep_directory(self):
        """The directory changes while the cases flow, so that its copies (diagnostic,
        programmes, reporting) meet the faults too: a partner and a person registered every
        tenth of the cases opened, then an update and a departure."""
        for number in range(DIRECTORY_PARTNERS):
            while (len(self.opened) < number * self.cases // DIRECTORY_PARTNERS
                   and not self._stop.is_set()):
                time.sleep(0.05)
            partner = "fault-partner-{}".format(number)
            self._call("POST", "intake", "/partners", {
                "id": partner, "name": "Partner {}".format(number), "kind": "large_group",
                "regions": ["84"]})
            self._call("POST", "intake", "/partners/{}/people".format(partner), {
                "id": "p-fault-{}".format(number), "region_code": "84", "role": "referrer",
                "name": "Person {}".format(number), "email": "p{}@fault.example".format(number)})
        self._call("PUT", "intake", "/partners/fault-partner-0", {
            "name": "Partner 0, renamed", "kind": "large_group", "regions": ["84", "93"]})
        self._call("POST", "intake", "/people/p-fault-1/leave")
        self.directory_kept.set()

    def _check_alive(self, dead_since):
        """A service dead for longer than any fault keeps one down died by itself: fail now,
        with its log, rather than at the timeout."""
        now = time.monotonic()
        for name, service in self.network.services.items():
            if service.running():
                dead_since.pop(name, None)
            elif now - dead_since.setdefault(name, now) > 10:
                self._stop.set()
                raise AssertionError("{} died (exit code {}) and stayed down; its log ends "
                                     "with:\n{}".format(name, service.process.returncode,
                                                        service.log_tail(40)))

    def _guard(self, work, *args):
        def run():
            try:
                work(*args)
            except InterruptedError:
                pass
            except Exception as exc:  # surfaced by run()
                self.errors.append(exc)
        return run

    def _request(self, siren):
        """The firm asks through the public request page, consenting to be kept informed (its
        pathway is then mailed to it); tried until the page thanks it."""
        while not self._stop.is_set():
            try:
                response = requests.post(self.network.url("intake") + "/firm/request", timeout=10,
                                         data=dict(REQUEST_FORM, siren=siren,
                                                   company_name="Firme " + siren))
                if response.status_code == 200:
                    return
                if response.status_code < 500:
                    raise AssertionError("the request page answered {}: {}".format(
                        response.status_code, response.text[:500]))
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise InterruptedError("driver stopped")

    def _open_cases(self, worker):
        for number, siren in enumerate(self.sirens[worker::self.openers]):
            if number % 4 == 1:  # the firm comes by itself
                self._request(siren)
                self.opened.add(siren)
                continue
            case = self._call("POST", "intake", "/cases", {
                "siren": siren, "company_name": "Firme " + siren, "region_code": "84",
                "channel": "web"}).json()
            if number % 3 == 0:  # a contact, shared for co-export matching; withdrawn for some
                self._call("POST", "intake", "/cases/{}/contacts".format(case["id"]), CONTACT)
                for granted in (True, False)[:1 + (number % 6 == 0)]:
                    self._call("POST", "intake", "/cases/{}/consent".format(case["id"]), {
                        "purpose": "co_export_matching", "granted": granted, "channel": "web"})
            self.opened.add(siren)

    def _answer_diagnostics(self):
        while len(self.diagnosed) < self.cases and not self._stop.is_set():
            scheduled = self._call("GET", "diagnostic",
                                   "/diagnostics?status=scheduled&limit=200").json()["diagnostics"]
            for diagnostic in scheduled:
                self._call("POST", "diagnostic", "/diagnostics/{}/answers".format(
                    diagnostic["id"]), {"answers": READY_ANSWERS})
                self.diagnosed.add(diagnostic["case_id"])
            if not scheduled:
                time.sleep(0.1)

    def _confirm_enrolments(self):
        while len(self.confirmed) < self.cases and not self._stop.is_set():
            proposed = self._call("GET", "programmes",
                                  "/enrolments?status=proposed&limit=200").json()["enrolments"]
            for enrolment in proposed:
                self._call("POST", "programmes", "/enrolments/{}/confirm".format(enrolment["id"]))
                self.confirmed.add(enrolment["case_id"])
            if not proposed:
                time.sleep(0.1)


# --- what the publishers published ----------------------------------------------------------

def published_events(network):
    """Every event in every publisher's outbox: (exchange, routing key, body)."""
    events = []
    for name in PUBLISHERS:
        events += [tuple(row) for row in network.rows(
            name, "SELECT exchange, routing_key, body FROM outbox ORDER BY seq")]
    return events


# --- the oracle ------------------------------------------------------------------------------

@dataclass
class Verdict:
    events: int = 0
    lost: int = 0
    double_applied: int = 0
    unsent: int = 0
    backlog: int = 0
    reporting: dict = field(default_factory=dict)
    recomputed: dict = field(default_factory=dict)
    dead_letters: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def holds(self):
        return not self.problems


def recompute_funnel(network):
    """The funnel as the sources' own records say it should be."""
    def count(name, query):
        return network.rows(name, query)[0][0]
    return {
        "opened": count("intake", "SELECT count(*) FROM cases"),
        "diagnostic_scheduled": count("diagnostic", "SELECT count(*) FROM diagnostics"),
        "diagnostic_completed": count(
            "diagnostic", "SELECT count(*) FROM diagnostics WHERE status = 'completed'"),
        "enrolment_proposed": count("programmes", "SELECT count(DISTINCT case_id) FROM enrolments"),
        "enrolment_confirmed": count(
            "programmes", "SELECT count(DISTINCT case_id) FROM enrolments "
                          "WHERE status IN ('confirmed', 'completed')"),
        "enrolment_completed": count(
            "programmes", "SELECT count(DISTINCT case_id) FROM enrolments "
                          "WHERE status = 'completed'"),
        "outcome_recorded": count("programmes", "SELECT count(DISTINCT case_id) FROM outcomes"),
    }


def check_directory_copies(network, verdict):
    """Each copy of the directory is intake's, as the events tell it (partners by id, name
    and regions; people by id and whether they left)."""
    partners = sorted(tuple(row) for row in network.rows(
        "intake", "SELECT id, name FROM partners"))
    people = sorted(tuple(row) for row in network.rows(
        "intake", "SELECT id, status = 'left' FROM people"))
    for service in DIRECTORY_COPIES:
        copied = sorted(tuple(row) for row in network.rows(
            service, "SELECT id, name FROM directory_partners"))
        copied_people = sorted(tuple(row) for row in network.rows(
            service, "SELECT id, left_at IS NOT NULL FROM directory_people"))
        if copied != partners or copied_people != people:
            verdict.problems.append("{}'s copy of the directory differs from intake's: "
                                    "{} partners and {} people for {} and {}".format(
                                        service, len(copied), len(copied_people),
                                        len(partners), len(people)))


def check_contact_copies(network, verdict):
    """Programmes keeps the contacts of exactly the firms whose latest word on co-export
    matching is yes (and that have a contact), whatever the faults did to the order."""
    consented = {row[0] for row in network.rows("intake", """
        SELECT c.case_id FROM consents c
        WHERE c.purpose = 'co_export_matching' AND c.granted
          AND c.id = (SELECT max(d.id) FROM consents d
                      WHERE d.case_id = c.case_id AND d.purpose = c.purpose)
          AND EXISTS (SELECT 1 FROM contacts WHERE contacts.case_id = c.case_id)""")}
    kept = {row[0] for row in network.rows(
        "programmes", "SELECT case_id FROM firm_contacts WHERE contacts IS NOT NULL")}
    if kept != consented:
        verdict.problems.append("programmes keeps the contacts of {} firm(s) for {} that "
                                "consent ({} without consent)".format(
                                    len(kept), len(consented), len(kept - consented)))


def check_case_stages(network, verdict):
    """Intake's stage of each case is the furthest its events took it: assigned at intake, then
    what diagnostic's and programmes' outboxes say, in whatever order they arrived."""
    from intake.domain import STAGE_OF_EVENT, later_stage

    expected = {case_id: "assigned" if advisor else "opened" for case_id, advisor in network.rows(
        "intake", "SELECT id, advisor FROM cases")}
    for name in ("diagnostic", "programmes"):
        for event_type, body in network.rows(name, "SELECT routing_key, body FROM outbox"):
            if event_type in STAGE_OF_EVENT:
                case_id = json.loads(body)["data"]["case_id"]
                expected[case_id] = later_stage(expected.get(case_id), STAGE_OF_EVENT[event_type])
    followed = dict(network.rows("intake", "SELECT id, stage FROM cases"))
    wrong = sorted(case_id for case_id in expected if followed.get(case_id) != expected[case_id])
    if wrong:
        verdict.problems.append("intake follows {} case(s) at the wrong stage, such as {}: {} "
                                "instead of {}".format(len(wrong), wrong[0],
                                                      followed.get(wrong[0]), expected[wrong[0]]))


def check_firm_mail(network, verdict):
    """Each firm that asked through the request page (and so consented to be kept informed)
    hears once of each step its case took, as the publishers' own records say it took them;
    each message is sent, and written to the mail folder once."""
    informed = {row[0] for row in network.rows("intake", "SELECT DISTINCT case_id FROM "
                                                         "firm_requests")}
    expected = {"request_received:" + row[0] for row in network.rows(
        "intake", "SELECT id FROM firm_requests")}
    steps = {"diagnostic.scheduled": ("diagnostic_scheduled", "diagnostic_id"),
             "enrolment.proposed": ("programmes_proposed", "enrolment_id"),
             "enrolment.confirmed": ("enrolment_confirmed", "enrolment_id")}
    for name in ("diagnostic", "programmes"):
        for event_type, body in network.rows(name, "SELECT routing_key, body FROM outbox"):
            data = json.loads(body)["data"]
            if event_type in steps and data["case_id"] in informed:
                template, about = steps[event_type]
                expected.add("{}:{}".format(template, data[about]))
    for case_id, advisor in network.rows("intake", "SELECT id, advisor FROM cases "
                                                   "WHERE advisor IS NOT NULL"):
        if case_id in informed:
            expected.add("taken_in_charge:{}:{}".format(case_id, advisor))
    queued = dict(network.rows("intake", "SELECT key, sent_at IS NOT NULL FROM mail_outbox"))
    if set(queued) != expected:
        verdict.problems.append("intake queued {} firm message(s) for {} steps: {} missing, {} "
                                "unexpected, such as {}".format(
                                    len(queued), len(expected), len(expected - set(queued)),
                                    len(set(queued) - expected),
                                    sorted(expected ^ set(queued))[:1]))
    unsent = sum(1 for sent in queued.values() if not sent)
    written = len([name for name in (os.listdir(network.mail_folder) if os.path.isdir(
        network.mail_folder) else ()) if name.endswith(".eml")])
    if unsent or written != len(queued):
        verdict.problems.append("{} firm message(s) unsent, {} file(s) in the mail folder for "
                                "{} message(s)".format(unsent, written, len(queued)))


def judge(network, expected_dead_letters):
    """Check the invariants once. ``expected_dead_letters``: {queue: count of poison messages}."""
    verdict = Verdict()
    published = {}
    for name in PUBLISHERS:
        for event_id, event_type, sent in network.rows(
                name, "SELECT event_id, routing_key, published_at IS NOT NULL FROM outbox"):
            published.setdefault((name, event_type), set()).add(event_id)
            verdict.unsent += 0 if sent else 1
    verdict.events = sum(len(ids) for ids in published.values())

    for (source, event_type), consumers in subscriptions().items():
        for service, _method in consumers:
            applied = {row[0] for row in network.rows(
                service, "SELECT event_id FROM inbox WHERE source = :source AND event_type = :type",
                source="/parcours/" + source, type=event_type)}
            missing = published.get((source, event_type), set()) - applied
            verdict.lost += len(missing)
            if missing:
                verdict.problems.append("{} has not applied {} {} event(s)".format(
                    service, len(missing), event_type))

    # double effects: the sources' own rows, one per case, and reporting never above them
    for service, query in (
            ("diagnostic", "SELECT count(*) - count(DISTINCT case_id) FROM diagnostics"),
            # a case may be proposed several programmes, each once
            ("programmes", "SELECT count(*) - count(DISTINCT case_id || ':' || programme_id) "
                           "FROM enrolments")):
        verdict.double_applied += network.rows(service, query)[0][0]
    verdict.recomputed = recompute_funnel(network)
    check_directory_copies(network, verdict)
    check_case_stages(network, verdict)
    check_contact_copies(network, verdict)
    check_firm_mail(network, verdict)
    # reporting's timeline and its event store: one row per case event it applied, never two
    timeline, kept, applied = (network.rows("reporting", query)[0][0] for query in (
        "SELECT count(*) FROM timeline", "SELECT count(*) FROM received_events",
        "SELECT count(*) FROM inbox WHERE event_type NOT LIKE 'partner.%' "
        "AND event_type NOT LIKE 'person.%'"))
    if not timeline == kept == applied:
        verdict.problems.append("reporting's timeline has {} rows and its event store {} for "
                                "{} case events applied".format(timeline, kept, applied))
    try:
        stages = requests.get(network.url("reporting") + "/funnel", timeout=5, headers={
            "Authorization": network.authorization}).json()["stages"]
        verdict.reporting = {s["stage"]: s["cases"] for s in stages}
    except requests.RequestException as exc:
        verdict.problems.append("reporting does not answer: {}".format(exc))
    verdict.double_applied += sum(max(0, verdict.reporting.get(k, 0) - v)
                                  for k, v in verdict.recomputed.items())
    if verdict.reporting != verdict.recomputed:
        verdict.problems.append("reporting {} != recomputed {}".format(
            verdict.reporting, verdict.recomputed))
    if verdict.double_applied:
        verdict.problems.append("{} effect(s) applied twice".format(verdict.double_applied))
    if verdict.unsent:
        verdict.problems.append("{} event(s) still in an outbox".format(verdict.unsent))

    queues = network.admin.queues(network.vhost) or {}
    verdict.dead_letters = {name: depth for name, (depth, _) in queues.items()
                            if name.endswith(".dlq") and depth}
    verdict.backlog = sum(depth for name, (depth, _) in queues.items()
                          if not name.endswith(".dlq"))
    if verdict.backlog:
        verdict.problems.append("{} message(s) still queued".format(verdict.backlog))
    if verdict.dead_letters != expected_dead_letters:
        verdict.problems.append("dead-letter queues hold {}, expected {}".format(
            verdict.dead_letters, expected_dead_letters))
    return verdict


def converge(network, expected_dead_letters, timeout):
    """Judge until the invariants hold or ``timeout`` passes; return the last verdict."""
    deadline = time.monotonic() + timeout
    while True:
        verdict = judge(network, expected_dead_letters)
        if verdict.holds or time.monotonic() > deadline:
            return verdict
        time.sleep(0.5)


def dead_letter_poison_ids(network):
    """Take every dead-lettered message and return {queue: sorted poison ids} from its headers."""
    found = {}
    with Connection(network.amqp_uri) as connection:
        channel = connection.channel()
        for queue in network.consumer_queues():
            while True:
                message = channel.basic_get(queue + ".dlq", no_ack=True)
                if message is None:
                    break
                headers = message.properties.get("application_headers") or {}
                found.setdefault(queue, []).append(headers.get("x-fault-poison", "NOT POISON"))
    return {queue: sorted(ids) for queue, ids in found.items()}


def wait_until(probe, timeout, interval=0.05):
    """Seconds it took ``probe`` to become true, or None if it did not within ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if probe():
            return time.monotonic() - started
        time.sleep(interval)
    return None


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def json_dumps(value):
    return json.dumps(value, sort_keys=True)

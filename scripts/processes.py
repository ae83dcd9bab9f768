"""A Parcours service as an operating-system process: start, health, stop, kill -9, pause.

Used by `make run`, the fault-injection suite and the benchmarks, so all three run the services
exactly as a partner would (``nameko run`` with the service's own config.yaml).
"""
import os
import signal
import subprocess
import sys
import time

import requests

from parcours_shared.ops_command import DEFAULT_PORTS  # noqa: F401  (run_network starts them there)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICE_CLASSES = {"intake": "IntakeService", "diagnostic": "DiagnosticService",
                   "programmes": "ProgrammesService", "reporting": "ReportingService"}
# consumers first, so that their queues exist before events flow
START_ORDER = ("reporting", "programmes", "diagnostic", "intake")


def service_classes():
    """The four nameko service classes, imported (for what is generated from them)."""
    import importlib
    return [getattr(importlib.import_module(name + ".service"), class_name)
            for name, class_name in SERVICE_CLASSES.items()]


def dev_issuer(folder):
    """The development issuer whose public keys the services check callers' tokens with
    (``data/issuer/`` for `make run` and ``parcours token``)."""
    from parcours_shared.cli import dev_issuer as issuer_in
    return issuer_in(folder)


def partner_authorization(issuer, partner, roles=None, lifetime=24 * 3600):
    """An ``Authorization`` header for the tools that drive the whole network (the demo loader,
    the benchmark, the fault suite), acting for ``partner``: ``roles`` (default every role), on
    all four services. Each partner changes only what is its own: a programme's enrolments are
    confirmed by a caller of the partner that runs it."""
    from parcours_shared.identity import ROLES
    return "Bearer " + issuer.token(partner, list(roles or ROLES), list(SERVICE_CLASSES),
                                    lifetime=lifetime)


def operator_authorization(issuer, lifetime=24 * 3600):
    return partner_authorization(issuer, "network-operator", lifetime=lifetime)


class ServiceFailed(RuntimeError):
    pass


class ServiceProcess:
    """One process of a service; ``replica``: its number when the service runs several (they
    share the service's database and queues)."""

    def __init__(self, name, port, log_dir, env=None, replica=1):
        self.name = name
        self.port = port
        self.url = "http://127.0.0.1:{}".format(port)
        self.log_path = os.path.join(log_dir, "{}{}.log".format(
            name, "" if replica == 1 else "-{}".format(replica)))
        self.env = env or {}
        self.process = None

    def start(self):
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)  # one database per service: never share one by accident
        env["WEB_SERVER_ADDRESS"] = "127.0.0.1:{}".format(self.port)
        # nameko 2.14's CLI imports pkg_resources and eventlet, both announce deprecation
        env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning,ignore::UserWarning")
        env.update(self.env)
        nameko = os.path.join(os.path.dirname(sys.executable), "nameko")
        command = [nameko, "run", "--config",
                   os.path.join(ROOT, "services", self.name, "config.yaml"),
                   "{}.service:{}".format(self.name, SERVICE_CLASSES[self.name])]
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return self

    def healthy(self):
        try:
            return requests.get(self.url + "/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_healthy(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceFailed("{} stopped while starting (exit code {}); its log, {}, "
                                    "ends with:\n{}".format(self.name, self.process.returncode,
                                                            self.log_path, self.log_tail()))
            if self.healthy():
                return self
            time.sleep(0.2)
        raise ServiceFailed("{} was not healthy after {}s; see {} (is port {} free?)".format(
            self.name, timeout, self.log_path, self.port))

    def running(self):
        return self.process is not None and self.process.poll() is None

    def terminate(self, timeout=15):
        """Graceful stop (nameko finishes its workers on SIGTERM); kill after ``timeout``."""
        stop_all([self], timeout)

    def kill(self):
        """kill -9: no cleanup, no acks, no goodbye to the broker."""
        if self.running():
            self.process.kill()
            self.process.wait()

    def pause(self):
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def log_tail(self, lines=25):
        try:
            with open(self.log_path, errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return "(no log)"


class Supervisor:
    """Keeps services up, as `make run` does: one that dies is started again after a delay that
    doubles while it keeps dying (1 s, 2 s, 4 s... at most 30 s), and goes back to 1 s once it has
    stayed up a minute; the others go on serving meanwhile. Each stop and restart is said."""

    def __init__(self, services, say=print, clock=time.monotonic, first_delay=1.0,
                 max_delay=30.0, stable_after=60.0):
        self.services, self.say, self.clock = services, say, clock
        self.first_delay, self.max_delay, self.stable_after = (
            first_delay, max_delay, stable_after)
        self._delay = {name: first_delay for name in services}
        self._restart_at = {}
        self._started_at = {name: clock() for name in services}

    def tick(self):
        """One look at every service: note the dead, start those whose delay is over."""
        now = self.clock()
        for name, service in self.services.items():
            if service.running():
                if now - self._started_at[name] >= self.stable_after:
                    self._delay[name] = self.first_delay
                continue
            if name not in self._restart_at:
                delay = self._delay[name]
                self._restart_at[name] = now + delay
                self._delay[name] = min(delay * 2, self.max_delay)
                self.say("==> {} stopped (exit code {}); starting it again in {:g} s (its log: "
                         "{})".format(name, service.process.returncode if service.process
                                      else None, delay, service.log_path))
            elif now >= self._restart_at[name]:
                del self._restart_at[name]
                service.start()
                self._started_at[name] = now
                self.say("==> {} started again (pid {})".format(name, service.process.pid))


def stop_all(services, timeout=15):
    """Ask every service to stop at once (SIGTERM), then wait; kill what is left after
    ``timeout`` seconds."""
    running = [service for service in services if service.running()]
    for service in running:
        service.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for service in running:
        try:
            service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print("{} did not stop within {}s: killing it".format(service.name, timeout))
            service.kill()

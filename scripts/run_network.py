"""`make run`: start the four services as four processes, load the demo network, print the URLs.

Each service gets its own SQLite file under data/ (or ``<SERVICE>_DATABASE_URL``, e.g.
INTAKE_DATABASE_URL=postgresql://...), and its log under data/logs/. Ctrl-C stops everything.
"""
import os
import signal
import subprocess
import sys
import time

import requests

import demo_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = [("reporting", 8004), ("programmes", 8003), ("diagnostic", 8002), ("intake", 8001)]
SERVICE_CLASSES = {"intake": "IntakeService", "diagnostic": "DiagnosticService",
                   "programmes": "ProgrammesService", "reporting": "ReportingService"}
STARTUP_SECONDS = 90


def start(name, port, log_dir):
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # one database per service: never share one by accident
    own_url = os.environ.get("{}_DATABASE_URL".format(name.upper()))
    if own_url:
        env["DATABASE_URL"] = own_url
    env["WEB_SERVER_ADDRESS"] = "127.0.0.1:{}".format(port)
    # nameko 2.14's CLI imports pkg_resources and eventlet, both of which announce deprecation
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning,ignore::UserWarning")
    log = open(os.path.join(log_dir, name + ".log"), "ab")
    command = [os.path.join(os.path.dirname(sys.executable), "nameko"), "run", "--config",
               os.path.join(ROOT, "services", name, "config.yaml"),
               "{}.service:{}".format(name, SERVICE_CLASSES[name])]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_healthy(name, port, process, log_dir):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("{} stopped while starting (exit code {}). Its log, {}, says:\n{}"
                             .format(name, process.returncode, _log_path(log_dir, name),
                                     _tail(_log_path(log_dir, name))))
        try:
            if requests.get("http://127.0.0.1:{}/health".format(port), timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("{} was not healthy after {}s; see {} (is port {} free?)".format(
        name, STARTUP_SECONDS, _log_path(log_dir, name), port))


def _log_path(log_dir, name):
    return os.path.join(log_dir, name + ".log")


def _tail(path, lines=25):
    with open(path, errors="replace") as log:
        return "".join(log.readlines()[-lines:])


def stop(processes):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan a service
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # nameko stops gracefully on SIGTERM
    deadline = time.monotonic() + 15
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print("{} did not stop within 15s: killing it".format(name))
            process.kill()


def main():
    log_dir = os.path.join(ROOT, "data", "logs")
    os.makedirs(log_dir, exist_ok=True)
    processes = {}
    try:
        for name, port in SERVICES:  # consumers first, so their queues exist before events flow
            print("==> starting {} on port {} ...".format(name, port), flush=True)
            processes[name] = start(name, port, log_dir)
            wait_healthy(name, port, processes[name], log_dir)
        urls = {name: "http://127.0.0.1:{}".format(port) for name, port in SERVICES}
        if demo_data.is_empty(urls):
            print("==> loading the demo network through the services' APIs")
            demo_data.load(urls, progress=lambda text, end="\n": print(text, end=end, flush=True))
        else:
            print("==> databases already hold data: demo not loaded (`make clean` starts afresh)")
        print_summary(urls, log_dir)
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        dead = [name for name, p in processes.items() if p.poll() is not None]
        print("{} stopped unexpectedly; see {}".format(", ".join(dead), log_dir))
        return 1
    except KeyboardInterrupt:
        print("\n==> stopping the four services")
        return 0
    except demo_data.DemoError as exc:
        print("demo data could not be loaded: {}".format(exc))
        return 1
    finally:
        stop(processes)


def print_summary(urls, log_dir):
    funnel = requests.get(urls["reporting"] + "/funnel", timeout=5).json()["stages"]
    print("\nParcours is running. Ctrl-C stops it.\n")
    for name, url in urls.items():
        print("  {:<11} {}   ({}/health, {}/metrics)".format(name, url, url, url))
    print("  RabbitMQ    http://127.0.0.1:15672 (guest/guest)")
    print("  logs        {}\n".format(log_dir))
    print("Funnel ({}/funnel):".format(urls["reporting"]))
    for stage in funnel:
        print("  {:<22} {:>4}".format(stage["stage"], stage["cases"]))
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())

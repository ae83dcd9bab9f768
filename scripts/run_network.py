"""`make run`: start the four services as four processes, load the demo network, print the URLs.

Each service gets its own SQLite file under data/ (or ``<SERVICE>_DATABASE_URL``, e.g.
INTAKE_DATABASE_URL=postgresql://...), and its log under data/logs/. Ctrl-C stops everything.
"""
import os
import signal
import sys
import time

import requests

import demo_data
from processes import (
    DEFAULT_PORTS, ROOT, START_ORDER, ServiceFailed, ServiceProcess, stop_all,
)


def service_processes(log_dir):
    """The four services on their usual ports, each on its own database: a SQLite file under
    data/ unless ``<SERVICE>_DATABASE_URL`` is set."""
    processes = {}
    for name in START_ORDER:
        own_url = os.environ.get("{}_DATABASE_URL".format(name.upper()))
        processes[name] = ServiceProcess(name, DEFAULT_PORTS[name], log_dir,
                                         env={"DATABASE_URL": own_url} if own_url else {})
    return processes


def stop(processes):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan a service
    stop_all(processes.values())


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    # Explicit handlers: a process started in the background inherits SIGINT as ignored, and a
    # supervisor stops us with SIGTERM; either way the four services must be stopped too.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    log_dir = os.path.join(ROOT, "data", "logs")
    os.makedirs(log_dir, exist_ok=True)
    processes = service_processes(log_dir)
    try:
        for name in START_ORDER:  # consumers first, so their queues exist before events flow
            print("==> starting {} on port {} ...".format(name, processes[name].port), flush=True)
            processes[name].start().wait_healthy()
        urls = {name: service.url for name, service in processes.items()}
        if demo_data.is_empty(urls):
            print("==> loading the demo network through the services' APIs")
            demo_data.load(urls, progress=lambda text, end="\n": print(text, end=end, flush=True))
        else:
            print("==> databases already hold data: demo not loaded (`make clean` starts afresh)")
        print_summary(urls, log_dir)
        while all(service.running() for service in processes.values()):
            time.sleep(0.5)
        dead = [name for name, service in processes.items() if not service.running()]
        print("{} stopped unexpectedly; see {}".format(", ".join(dead), log_dir))
        return 1
    except KeyboardInterrupt:
        print("\n==> stopping the four services", flush=True)
        return 0
    except demo_data.DemoError as exc:
        print("demo data could not be loaded: {}".format(exc))
        return 1
    except ServiceFailed as exc:
        print(exc)
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

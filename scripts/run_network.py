"""`make run`: start the four services as four processes, load the demo network, print the URLs.

Each service gets its own SQLite file under data/ (or ``<SERVICE>_DATABASE_URL``, e.g.
INTAKE_DATABASE_URL=postgresql://...), its log under data/logs/, and its own broker user on the
vhost ``parcours``, with only the rights the code derives (scripts/broker.py apply; passwords in
data/secrets/): no service connects as guest. Ctrl-C stops everything.
"""
import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import requests

import broker
import demo_data
from processes import (
    DEFAULT_PORTS, ROOT, START_ORDER, ServiceFailed, ServiceProcess, Supervisor, dev_issuer,
    operator_authorization, partner_authorization, stop_all,
)


MAIL_FOLDER = os.path.join(ROOT, "data", "mail")  # intake's PARCOURS_MAIL_URL default


def service_processes(log_dir, amqp_uris, issuer):
    """The four services on their usual ports, each on its own database (a SQLite file under
    data/ unless ``<SERVICE>_DATABASE_URL`` is set), as its own broker user, and checking
    callers' tokens against the dev issuer's keys."""
    processes = {}
    for name in START_ORDER:
        env = {"AMQP_URI": amqp_uris[name], **issuer.service_settings(),
               # the exchanges exist (apply declared them); a consumer may not declare another's
               "PARCOURS_DECLARE_EXCHANGES": "false",
               # every publisher has its own user: trust no other with its events
               "PARCOURS_TRUSTED_PUBLISHERS": "",
               # the demo's member list met its firms weeks ago: show them overdue soon
               "PARCOURS_FOLLOW_UP_CHECK_SECONDS": "20",
               "PARCOURS_MAIL_URL": "folder:" + MAIL_FOLDER,
               # the demo network is small: judge the partners needing attention on 2 cases
               "PARCOURS_ATTENTION_MIN_CASES": "2"}
        own_url = os.environ.get("{}_DATABASE_URL".format(name.upper()))
        if own_url:
            env["DATABASE_URL"] = own_url
        processes[name] = ServiceProcess(name, DEFAULT_PORTS[name], log_dir, env=env)
    return processes


def broker_users():
    """Each service's user and rights on the vhost, as the code derives them; their URIs."""
    management = broker.Management(broker.DEFAULT_API, broker.DEFAULT_ADMIN)
    store = broker.Secrets(broker.DEFAULT_SECRETS)
    broker.apply(management, store, broker.DEFAULT_VHOST)
    return {name: store.uri(name, broker.DEFAULT_VHOST) for name in START_ORDER}


def start_sign_in(issuer, log_dir):
    """The dev issuer's OpenID Connect provider (people signing in to the pages), with the
    demo directory's people to choose from."""
    with open(os.path.join(issuer.folder, "people.json"), "w") as people:
        json.dump([{"person": person_id, "partner": partner_id, "name": name, "roles": [role]}
                   for partner_id, _, _, _, staff in demo_data.DIRECTORY
                   for person_id, _, role, name in staff], people, ensure_ascii=False)
    port = urlsplit(issuer.issuer).port or 80
    print("==> starting the sign-in (dev issuer) on port {} ...".format(port), flush=True)
    log = open(os.path.join(log_dir, "issuer.log"), "ab")
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "parcours"), "--keys", issuer.folder,
         "--issuer", issuer.issuer, "issuer", "serve", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceFailed("the dev issuer stopped at start (is port {} free?); see {}"
                                .format(port, os.path.join(log_dir, "issuer.log")))
        try:
            if requests.get(issuer.issuer + "/.well-known/openid-configuration",
                            timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    raise ServiceFailed("the dev issuer did not answer on port {}".format(port))


def stop(processes):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan a service
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stop_all(processes.values())


def _interrupt(signum, frame):
    # the first signal stops the network; those after it (a second Ctrl-C, the SIGTERM that
    # `timeout` or a supervisor forwards) must not interrupt the stopping and orphan a service
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main():
    # Explicit handlers: a process started in the background inherits SIGINT as ignored, and a
    # supervisor stops us with SIGTERM; either way the four services must be stopped too.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    log_dir = os.path.join(ROOT, "data", "logs")
    os.makedirs(log_dir, exist_ok=True)
    try:
        print("==> broker: a user per service on vhost {}, with only its own rights".format(
            broker.DEFAULT_VHOST), flush=True)
        amqp_uris = broker_users()
    except broker.BrokerError as exc:
        print("broker: {}".format(exc))
        return 1
    issuer = dev_issuer(os.path.join(ROOT, "data", "issuer"))
    operator = operator_authorization(issuer)
    processes = service_processes(log_dir, amqp_uris, issuer)
    sign_in = None
    try:
        sign_in = start_sign_in(issuer, log_dir)
        for name in START_ORDER:  # consumers first, so their queues exist before events flow
            print("==> starting {} on port {} ...".format(name, processes[name].port), flush=True)
            processes[name].start().wait_healthy()
        urls = {name: service.url for name, service in processes.items()}
        if demo_data.is_empty(urls, operator):
            print("==> loading the demo network through the services' APIs")
            demo_data.load(urls, lambda partner: partner_authorization(issuer, partner),
                           progress=lambda text, end="\n": print(text, end=end, flush=True),
                           mail_folder=MAIL_FOLDER)
        else:
            print("==> databases already hold data: demo not loaded (`make clean` starts afresh)")
        print_summary(urls, log_dir, operator)
        supervisor = Supervisor(processes, say=lambda text: print(text, flush=True))
        while True:  # until Ctrl-C: a service that dies is started again
            supervisor.tick()
            time.sleep(0.5)
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
        if sign_in is not None:
            sign_in.terminate()
            sign_in.wait(timeout=10)


def print_summary(urls, log_dir, operator):
    funnel = requests.get(urls["reporting"] + "/funnel", timeout=5,
                          headers={"Authorization": operator}).json()["stages"]
    partners = requests.get(urls["intake"] + "/partners", timeout=5,
                            headers={"Authorization": operator}).json()["partners"]
    print("\nParcours is running. Ctrl-C stops it.\n")
    for name, url in urls.items():
        print("  {:<11} {}   ({}/health, {}/metrics)".format(name, url, url, url))
    print("  RabbitMQ    http://127.0.0.1:15672 (guest/guest; the services connect as their own "
          "users, vhost {})".format(broker.DEFAULT_VHOST))
    print("  events      docs/events/asyncapi.yaml (AsyncAPI); each service's part at "
          "<url>/asyncapi.json")
    print("  directory   {} partners ({}/partners); people at {}/partners/<id>".format(
        len(partners), urls["intake"], urls["intake"]))
    print("  dashboard   {}/dashboard (sign in as a demo person: the steering committee's "
          "p-anne-dubois sees the funnel)".format(urls["reporting"]))
    print("  tokens      .venv/bin/parcours token --partner <id> --role <role> (README, "
          "'Calling a service')")
    print("  request     {}/firm/request (the public page firms fill; a partner's embed code: "
          "GET /partners/<id>/embed)".format(urls["intake"]))
    print("  mail        {} (what intake sent to firms, a .eml file each, with their personal "
          "links to {}/firm/...)".format(MAIL_FOLDER, urls["intake"]))
    print("  logs        {}\n".format(log_dir))
    print("Funnel ({}/funnel):".format(urls["reporting"]))
    for stage in funnel:
        print("  {:<22} {:>4}".format(stage["stage"], stage["cases"]))
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())

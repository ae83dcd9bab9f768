"""``parcours status``, ``parcours dead-letters`` and ``parcours rebuild-reporting``: the
network's flow at a glance, its dead-lettered messages seen, sent back or discarded, and
reporting's figures rebuilt from its events, from the command line.

They call each service's operations endpoints (parcours_shared.operations) with an ``admin``
token: human tables by default, ``--json`` for scripts. Exit code 0 when all went well, 1 when
a service did not answer or refused (each says why).
"""
import json
import os
import sys
import time

import requests

SERVICES = ("intake", "diagnostic", "programmes", "reporting")
# where `make run` serves them (scripts/processes.py starts them there)
DEFAULT_PORTS = {"intake": 8001, "diagnostic": 8002, "programmes": 8003, "reporting": 8004}


def service_url(service):
    """``$PARCOURS_<SERVICE>_URL``, else the service's port on this machine."""
    return os.environ.get("PARCOURS_{}_URL".format(service.upper())) or (
        "http://127.0.0.1:{}".format(DEFAULT_PORTS[service]))


class Unanswered(Exception):
    pass


def _call(method, service, path, token, body=None):
    url = service_url(service) + path
    try:
        response = requests.request(method, url, json=body, timeout=30,
                                    headers={"Authorization": "Bearer " + token})
    except requests.RequestException as exc:
        raise Unanswered("{} did not answer at {} ({}): is it running? `make run` starts the "
                         "network".format(service, url, type(exc).__name__)) from None
    if response.status_code >= 400:
        try:
            message = response.json().get("message", response.text)
        except ValueError:
            message = response.text
        raise Unanswered("{} answered {} to {} {}: {}".format(
            service, response.status_code, method, path, message))
    return response.json()


def _table(rows, columns):
    widths = [max([len(title)] + [len(str(row[key])) for row in rows]) for key, title in columns]
    lines = ["  ".join(title.ljust(width) for (_, title), width in zip(columns, widths))]
    lines += ["  ".join(str(row[key]).ljust(width) for (key, _), width in zip(columns, widths))
              for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def status(token, services=SERVICES, as_json=False, out=print):
    """Each service's health, outbox backlog (and how long its oldest row has waited), and
    queues (ready, consumers, dead letters)."""
    report, problems = [], []
    for service in services:
        try:
            health = _call("GET", service, "/health", token)["status"]
        except Unanswered as exc:
            problems.append(str(exc))
            report.append({"service": service, "health": "down", "outbox_pending": "-",
                           "outbox_oldest_seconds": None, "queues": []})
            continue
        try:
            queues = _call("GET", service, "/operations/queues", token)
        except Unanswered as exc:
            problems.append(str(exc))
            queues = {"outbox_pending": "-", "queues": []}
        if queues.get("broker", "ok") != "ok":
            problems.append("{}'s broker: {}".format(service, queues["broker"]))
        report.append({"service": service, "health": health,
                       "outbox_pending": queues["outbox_pending"],
                       "outbox_oldest_seconds": queues.get("outbox_oldest_seconds"),
                       "queues": queues["queues"]})
    if as_json:
        out(json.dumps({"services": report, "problems": problems}, indent=2))
    else:
        out(_table([dict(r, outbox_pending="-" if r["outbox_pending"] is None
                         else r["outbox_pending"],
                         oldest=_age(r["outbox_oldest_seconds"]),
                         dead_letters=sum(q["dead_letters"] for q in r["queues"]),
                         ready=sum(q["ready"] for q in r["queues"]))
                    for r in report],
                   [("service", "SERVICE"), ("health", "HEALTH"), ("ready", "READY"),
                    ("dead_letters", "DEAD LETTERS"), ("outbox_pending", "OUTBOX"),
                    ("oldest", "OLDEST UNSENT")]))
        queue_rows = [dict(q, service=r["service"]) for r in report for q in r["queues"]
                      if q["ready"] or q["dead_letters"] or not q["consumers"]]
        if queue_rows:
            out("\nqueues needing a look (backlog, dead letters or no consumer):")
            out(_table(queue_rows, [("service", "SERVICE"), ("queue", "QUEUE"),
                                    ("ready", "READY"), ("consumers", "CONSUMERS"),
                                    ("dead_letters", "DEAD LETTERS")]))
        for problem in problems:
            out("problem: " + problem)
    return 1 if problems else 0


def _age(seconds):
    if seconds is None:
        return "-"
    return "{:.0f} s".format(seconds) if seconds < 120 else "{:.0f} min".format(seconds / 60)


def dead_letters(token, action, services=SERVICES, event_ids=(), event_type=None,
                 every=False, as_json=False, out=print):
    """``list`` the dead letters of these services (``show``: the chosen ones, each in full),
    or ``requeue`` / ``discard`` the chosen ones (by event id, by type, or all)."""
    found, problems = [], []
    for service in services:
        try:
            if action in ("list", "show"):
                answer = _call("GET", service, "/operations/dead-letters" + (
                    "?type=" + event_type if event_type else ""), token)
                rows = [row for row in answer["dead_letters"]
                        if not event_ids or row["event_id"] in event_ids]
            else:
                answer = _call("POST", service, "/operations/dead-letters/" + action, token, {
                    "event_ids": list(event_ids), "type": event_type, "all": every})
                rows = answer["moved"]
        except Unanswered as exc:
            problems.append(str(exc))
            continue
        found += [dict(row, service=service) for row in rows]
    if as_json:
        key = {"list": "dead_letters", "show": "dead_letters", "requeue": "requeued",
               "discard": "discarded"}[action]
        out(json.dumps({key: found, "problems": problems}, indent=2))
    elif action == "show":
        for letter in found:  # each field on its line, the reason whole
            out("\n".join("{:<10} {}".format(name, letter[name]) for name in (
                "service", "queue", "event_id", "type", "subject", "attempts", "failed_at",
                "reason")) + "\n")
        out("{} dead letters".format(len(found)))
        for problem in problems:
            out("problem: " + problem)
    else:
        if found:
            out(_table([dict(r, reason=r["reason"][:70]) for r in found], [
                ("service", "SERVICE"), ("event_id", "EVENT"), ("type", "TYPE"),
                ("attempts", "ATTEMPTS"), ("failed_at", "FAILED AT"), ("reason", "REASON")]))
        out({"list": "{} dead letters", "requeue": "{} sent back to their queue",
             "discard": "{} discarded"}[action].format(len(found)))
        for problem in problems:
            out("problem: " + problem)
    return 1 if problems else 0


PUBLISHERS = ("intake", "diagnostic", "programmes")
OUTBOX_PAGE = 2000


def recover_from_outboxes(token, as_json=False, bar=None):
    """Read every publisher's outbox back and hand reporting the events it never applied
    (lost on their way, or with a queue dropped): {publisher: (read, new to reporting)}."""
    bar = bar or sys.stderr
    found = {}
    for service in PUBLISHERS:
        after, more, read, applied = 0, True, 0, 0
        while more:
            page = _call("GET", service, "/operations/outbox?after={}&limit={}".format(
                after, OUTBOX_PAGE), token)
            if page["events"]:
                answer = _call("POST", "reporting", "/operations/recovered-events", token,
                               {"events": page["events"]})
                read, applied = read + answer["read"], applied + answer["applied"]
            after, more = page["last_seq"], page["more"]
            if not as_json:
                bar.write("\r{}'s outbox: {:,} events for reporting read back, {:,} it had "
                          "not applied".format(service, read, applied))
                bar.flush()
        if not as_json:
            bar.write("\n")
        found[service] = (read, applied)
    return found


def rebuild_reporting(token, as_json=False, out=print, poll_seconds=0.5, bar=None,
                      from_outboxes=False):
    """Drop reporting's figures and rebuild them from the events it kept, showing progress
    until it is done; ``from_outboxes``: first recover, from the publishers' outboxes, the
    events it never received."""
    bar = bar or sys.stderr
    recovered = None
    try:
        if from_outboxes:
            recovered = recover_from_outboxes(token, as_json, bar)
        rebuild = _call("POST", "reporting", "/operations/rebuild", token)
        while not rebuild["finished_at"]:
            if not as_json:
                _progress_bar(rebuild, bar)
            time.sleep(poll_seconds)
            rebuild = _call("GET", "reporting", "/operations/rebuild", token)
    except Unanswered as exc:
        out("problem: {}".format(exc))
        return 1
    if as_json:
        out(json.dumps(dict(rebuild, recovered=recovered and {
            service: {"read": read, "applied": applied}
            for service, (read, applied) in recovered.items()}), indent=2))
    else:
        _progress_bar(rebuild, bar)
        bar.write("\n")
        if recovered:
            out("{:,} events recovered from the publishers' outboxes".format(
                sum(applied for _, applied in recovered.values())))
        out("reporting rebuilt from {:,} events".format(rebuild["done"]))
    return 0


def _progress_bar(rebuild, out, width=30):
    done = int(rebuild["progress"] * width)
    out.write("\r[{}{}] {:3.0f}%  {:,} of {:,} events replayed".format(
        "#" * done, "-" * (width - done), rebuild["progress"] * 100, rebuild["done"],
        rebuild["total"]))
    out.flush()


REPORT_FORMATS = ("html", "pdf", "csv")


def quarterly_report(token, quarter=None, report_format="html", out_path=None, out=print):
    """Save the steering committee's quarterly report (the last quarter ended by default);
    its file's path is printed."""
    url = service_url("reporting") + "/reports/quarterly"
    params = {"format": report_format, **({"quarter": quarter} if quarter else {})}
    try:
        response = requests.get(url, params=params, timeout=120,
                                headers={"Authorization": "Bearer " + token})
    except requests.RequestException as exc:
        out("problem: reporting did not answer at {} ({}): is it running? `make run` starts "
            "the network".format(url, type(exc).__name__))
        return 1
    if response.status_code >= 400:
        try:
            body = response.json()
            message = "; ".join(sum((body.get("fields") or {}).values(), [])) or body.get(
                "message", "")
        except ValueError:
            message = response.text[:300]
        out("problem: reporting refused the report ({}): {}".format(response.status_code,
                                                                   message))
        return 1
    disposition = response.headers.get("Content-Disposition", "")
    path = out_path or (disposition.split('filename="')[-1].rstrip('"') if "filename=" in
                        disposition else "parcours-report." + report_format)
    with open(path, "wb") as saved:
        saved.write(response.content)
    out("the quarterly report: {}".format(os.path.abspath(path)))
    return 0

#!/usr/bin/env python3
"""Static checks for deploy/ (there is no Docker engine on the dev machine).

- every *.yaml / *.yml / *.json under deploy/ parses;
- each AMQP password in compose.yaml matches its hash in definitions.json;
- the permission regexes grant / deny what the README says.

Needs only PyYAML: python3 deploy/validate.py
"""
import base64
import hashlib
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

HERE = Path(__file__).resolve().parent
PUBLISHERS = ["intake", "diagnostic", "programmes"]
SERVICES = PUBLISHERS + ["reporting"]


def parse_all():
    for path in sorted(HERE.rglob("*")):
        if path.suffix in (".yaml", ".yml"):
            list(yaml.safe_load_all(path.read_text()))
        elif path.suffix == ".json":
            json.loads(path.read_text())
        else:
            continue
        print("ok  ", path.relative_to(HERE))


def hash_matches(password, password_hash):
    raw = base64.b64decode(password_hash)
    salt, digest = raw[:4], raw[4:]
    return hashlib.sha256(salt + password.encode()).digest() == digest


def check_passwords(defs):
    users = {u["name"]: u for u in defs["users"]}
    compose = yaml.safe_load((HERE / "compose.yaml").read_text())
    for svc in SERVICES:
        # one address per node of the cluster, separated by ';'
        for address in compose["services"][svc]["environment"]["AMQP_URI"].split(";"):
            uri = urlsplit(address)
            assert uri.username == svc and uri.path == "/parcours", uri
            assert hash_matches(uri.password, users[svc]["password_hash"]), svc
    print("ok   compose AMQP passwords match definitions.json hashes")


def check_permissions(defs):
    perms = {p["user"]: p for p in defs["permissions"] if p["vhost"] == "parcours"}

    def allowed(user, kind, name):
        return re.fullmatch(perms[user][kind], name) is not None  # RabbitMQ: re:run anchored by ^$

    for s in SERVICES:
        own = [f"evt-intake-case.opened--{s}.handle", f"evt-intake-case.opened--{s}.handle.retry",
               f"evt-intake-case.opened--{s}.handle.dlq"]
        other = [q.replace(f"--{s}.", "--x.") for q in own]
        for q in own:
            for kind in ("configure", "write", "read"):
                assert allowed(s, kind, q), (s, kind, q)
        for q in other:
            for kind in ("configure", "write", "read"):
                assert not allowed(s, kind, q), (s, kind, q)
        assert allowed(s, "write", "amq.default"), s
        for p in PUBLISHERS:
            ex = f"{p}.events"
            mine = p == s
            assert allowed(s, "configure", ex) == mine, (s, ex)
            assert allowed(s, "write", ex) == mine, (s, ex)
            # it binds its queues only to the exchanges it consumes from (generated from the code)
            consumes = any(t["user"] == s and t["exchange"] == ex and t["read"] != "^$"
                           for t in defs["topic_permissions"])
            assert allowed(s, "read", ex) == (not mine and consumes), (s, ex)
    print("ok   permission regexes")


if __name__ == "__main__":
    parse_all()
    defs = json.loads((HERE / "rabbitmq" / "definitions.json").read_text())
    check_passwords(defs)
    check_permissions(defs)
    sys.exit(0)

"""Write what deploy/rabbitmq/definitions.json derives from the code: the consumer queues and
their bindings, a user per service with its permissions and topic permissions, and the
policies; and the same as definitions.quorum.json, its queues quorum queues, for a cluster
(the services then run with PARCOURS_QUEUE_TYPE=quorum).

    python scripts/rabbitmq_definitions.py          # rewrite them
    python scripts/rabbitmq_definitions.py --check  # exit 1 if a file is out of date

Run it after adding or renaming an @inbox_handler or an event type (a test fails until you do).
Users not derived from the code (admin) keep the permissions written for them. A service's user
keeps the password hash the file has for it; a new one gets the hash of the placeholder
``change-me-<service>`` that deploy/compose.yaml uses (deploy/README.md: change both).
"""
import json
import os
import sys

from processes import ROOT, service_classes

sys.path.insert(0, os.path.join(ROOT, "deploy", "rabbitmq"))
from hash_password import rabbit_sha256_hash  # noqa: E402

DEFINITIONS = os.path.join(ROOT, "deploy", "rabbitmq", "definitions.json")
QUORUM_DEFINITIONS = os.path.join(ROOT, "deploy", "rabbitmq", "definitions.quorum.json")
VHOST = "parcours"


def service_users(definitions, names):
    """A user entry per service, keeping the password hash already in the file."""
    hashes = {user["name"]: user["password_hash"] for user in definitions.get("users", [])}
    return [{"name": name,
             "password_hash": hashes.get(name) or rabbit_sha256_hash("change-me-" + name),
             "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}
            for name in names]


def generated(definitions, queue_type="classic"):
    from parcours_shared.topology import (
        broker_permissions, broker_policies, rabbitmq_definitions,
    )
    classes = service_classes()
    queues, bindings = rabbitmq_definitions(classes, VHOST, queue_type)
    permissions, topic_permissions = broker_permissions(classes, VHOST)
    policies = broker_policies(VHOST)
    derived = [permission["user"] for permission in permissions]

    def kept(kind, key):  # entries the code does not derive, as written in the file
        derived_keys = derived if kind != "policies" else [p["name"] for p in policies]
        return [item for item in definitions.get(kind, []) if item[key] not in derived_keys]

    return dict(definitions,
                users=service_users(definitions, derived) + kept("users", "name"),
                permissions=permissions + kept("permissions", "user"),
                topic_permissions=topic_permissions, policies=policies + kept("policies", "name"),
                queues=queues, bindings=bindings)


def main(argv):
    with open(DEFINITIONS) as current:
        definitions = json.load(current)
    for path, queue_type in ((DEFINITIONS, "classic"), (QUORUM_DEFINITIONS, "quorum")):
        # the quorum file is made from the classic one: users and passwords are the same
        wanted = generated(definitions, queue_type)
        if "--check" in argv:
            try:
                with open(path) as current:
                    up_to_date = json.load(current) == wanted
            except FileNotFoundError:
                up_to_date = False
            if not up_to_date:
                sys.exit("{} is out of date: run python scripts/rabbitmq_definitions.py".format(
                    path))
            continue
        with open(path, "w") as out:
            json.dump(wanted, out, indent=2, ensure_ascii=False)
            out.write("\n")
        print("wrote {} {} queues and {} bindings into {}".format(
            len(wanted["queues"]), queue_type, len(wanted["bindings"]), path))


if __name__ == "__main__":
    main(sys.argv[1:])

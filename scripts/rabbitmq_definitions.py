"""Write what deploy/rabbitmq/definitions.json derives from the code: the consumer queues and
their bindings, and each service user's permissions and topic permissions.

    python scripts/rabbitmq_definitions.py          # rewrite them
    python scripts/rabbitmq_definitions.py --check  # exit 1 if the file is out of date

Run it after adding or renaming an @inbox_handler or an event type (a test fails until you do).
Users not derived from the code (admin) keep the permissions written for them.
"""
import json
import os
import sys

from processes import ROOT, service_classes

DEFINITIONS = os.path.join(ROOT, "deploy", "rabbitmq", "definitions.json")
VHOST = "parcours"


def generated(definitions):
    from parcours_shared.topology import broker_permissions, rabbitmq_definitions
    classes = service_classes()
    queues, bindings = rabbitmq_definitions(classes, VHOST)
    permissions, topic_permissions = broker_permissions(classes, VHOST)
    derived = {permission["user"] for permission in permissions}
    kept = [permission for permission in definitions.get("permissions", [])
            if permission["user"] not in derived]
    return dict(definitions, queues=queues, bindings=bindings, permissions=permissions + kept,
                topic_permissions=topic_permissions)


def main(argv):
    with open(DEFINITIONS) as current:
        definitions = json.load(current)
    wanted = generated(definitions)
    if "--check" in argv:
        if wanted != definitions:
            sys.exit("{} is out of date: run python scripts/rabbitmq_definitions.py".format(
                DEFINITIONS))
        return
    with open(DEFINITIONS, "w") as out:
        json.dump(wanted, out, indent=2, ensure_ascii=False)
        out.write("\n")
    print("wrote {} queues and {} bindings into {}".format(
        len(wanted["queues"]), len(wanted["bindings"]), DEFINITIONS))


if __name__ == "__main__":
    main(sys.argv[1:])

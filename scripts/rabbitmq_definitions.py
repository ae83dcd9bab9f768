"""Write the consumer queues and bindings of deploy/rabbitmq/definitions.json from the code.

    python scripts/rabbitmq_definitions.py          # rewrite them
    python scripts/rabbitmq_definitions.py --check  # exit 1 if the file is out of date

Run it after adding or renaming an @inbox_handler (a test fails until you do).
"""
import json
import os
import sys

from processes import ROOT, service_classes

DEFINITIONS = os.path.join(ROOT, "deploy", "rabbitmq", "definitions.json")
VHOST = "parcours"


def generated(definitions):
    from parcours_shared.topology import rabbitmq_definitions
    queues, bindings = rabbitmq_definitions(service_classes(), VHOST)
    return dict(definitions, queues=queues, bindings=bindings)


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

"""Write the network's event contract into docs/events from the code: the AsyncAPI document
(asyncapi.yaml) and one JSON Schema per event type and version (schemas/).

    python scripts/contracts.py          # rewrite them (what `make contracts` runs)
    python scripts/contracts.py --check  # exit 1 if a file is out of date (a test runs this)

A schema file on main is a released version, frozen for the integrators who read it: when a
change would break it, nothing is written and each breaking change is listed. Then either undo
the change or register the next version of the event type (with its upcast) and keep the
released one as it is.
"""
import json
import os
import sys

from processes import ROOT, service_classes

EVENTS_DOCS = os.path.join(ROOT, "docs", "events")


def released_schemas():
    from parcours_shared.contracts.documents import SCHEMAS_FOLDER
    folder = os.path.join(EVENTS_DOCS, SCHEMAS_FOLDER)
    if not os.path.isdir(folder):
        return {}
    released = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name), encoding="utf-8") as committed:
                released[name] = json.load(committed)
    return released


def committed_text(relative_path):
    try:
        with open(os.path.join(EVENTS_DOCS, relative_path), encoding="utf-8") as committed:
            return committed.read()
    except FileNotFoundError:
        return None


def main(argv):
    from parcours_shared.contracts.documents import breaks_released, generated_files
    from parcours_shared.topology import subscriptions

    problems = breaks_released(released_schemas())
    if problems:
        sys.exit("These changes would break integrators reading a released version:\n  "
                 + "\n  ".join(problems)
                 + "\nUndo them, or register the next version of the event type with an upcast "
                   "(shared/parcours_shared/contracts/) and keep the released one.")
    files = generated_files(subscriptions(service_classes()))
    stale = [path for path, text in files.items() if committed_text(path) != text]
    if "--check" in argv:
        if stale:
            sys.exit("docs/events is out of date ({}): run make contracts".format(
                ", ".join(stale)))
        return
    for path in stale:
        target = os.path.join(EVENTS_DOCS, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as out:
            out.write(files[path])
        print("wrote docs/events/" + path)
    print("docs/events is up to date: {} files, {} rewritten".format(len(files), len(stale)))


if __name__ == "__main__":
    main(sys.argv[1:])

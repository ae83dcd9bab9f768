"""Write the network's event contract into docs/events from the code: the AsyncAPI document
(asyncapi.yaml) and one JSON Schema per event type and version (schemas/).

    python scripts/contracts.py          # rewrite them (what `make contracts` runs)
    python scripts/contracts.py --check  # exit 1 if a file is out of date (a test runs this)
    python scripts/contracts.py --docs DIR  # another folder than docs/events (tests)

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


def released_schemas(events_docs):
    from parcours_shared.contracts.documents import SCHEMAS_FOLDER
    folder = os.path.join(events_docs, SCHEMAS_FOLDER)
    if not os.path.isdir(folder):
        return {}
    released = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name), encoding="utf-8") as committed:
                released[name] = json.load(committed)
    return released


def committed_text(events_docs, relative_path):
    try:
        with open(os.path.join(events_docs, relative_path), encoding="utf-8") as committed:
            return committed.read()
    except FileNotFoundError:
        return None


def main(argv):
    from parcours_shared.contracts.documents import breaks_released, generated_files
    from parcours_shared.topology import subscriptions

    events_docs = EVENTS_DOCS
    if "--docs" in argv:
        events_docs = argv[argv.index("--docs") + 1]
    problems = breaks_released(released_schemas(events_docs))
    if problems:
        sys.exit("These changes would break integrators reading a released version:\n  "
                 + "\n  ".join(problems)
                 + "\nUndo them, or register the next version of the event type with an upcast "
                   "(shared/parcours_shared/contracts/) and keep the released one.")
    files = generated_files(subscriptions(service_classes()))
    stale = [path for path, text in files.items() if committed_text(events_docs, path) != text]
    if "--check" in argv:
        if stale:
            sys.exit("docs/events is out of date ({}): run make contracts".format(
                ", ".join(stale)))
        return
    for path in stale:
        target = os.path.join(events_docs, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as out:
            out.write(files[path])
        print("wrote " + os.path.relpath(target))
    print("{} is up to date: {} files, {} rewritten".format(
        os.path.relpath(events_docs), len(files), len(stale)))


if __name__ == "__main__":
    main(sys.argv[1:])

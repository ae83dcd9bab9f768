"""``parcours``: the network's development token issuer, on the command line.

    parcours token --partner cci-paris-idf --role advisor --person p-claire-martin
    parcours token --partner business-france --role programme_manager --audience programmes
    parcours issuer rotate      # a new signing key; the previous one still verifies
    parcours issuer retire      # only the current key verifies from now on
    parcours issuer keys        # where the public keys (JWKS) are
    parcours issuer serve       # the sign-in pages' OpenID Connect provider, on :8090
    parcours import members.csv --partner cci-paris-idf --person p-claire-martin
                                # a member list into intake, with a progress bar
    parcours status             # every service: health, queues, dead letters, outbox
    parcours dead-letters list  # the dead-lettered messages, with why each failed
    parcours dead-letters requeue --service programmes --type diagnostic.completed
    parcours dead-letters discard --service intake --event <event id>

A token is printed on its own line, for ``curl -H "Authorization: Bearer $(parcours token ...)"``.
Keys live in ``$PARCOURS_ISSUER_KEYS`` (default: ``data/issuer/`` of this checkout), made on first
use; the services read the same ``jwks.json`` (their ``PARCOURS_JWKS``). Production uses the
network's OpenID Connect provider instead (README, "Calling a service").
"""
import argparse
import os
import sys

from .checkout import checkout_path
from .dev_issuer import DEFAULT_LIFETIME, DevIssuer
from .identity import ROLES
from .ops_command import SERVICES, service_url

DEFAULT_ISSUER = "http://127.0.0.1:8090"


def default_keys_folder():
    return checkout_path("data", "issuer") or os.path.join(os.getcwd(), "data", "issuer")


def dev_issuer(folder=None, issuer=None):
    return DevIssuer(folder or os.environ.get("PARCOURS_ISSUER_KEYS") or default_keys_folder(),
                     issuer or os.environ.get("PARCOURS_TOKEN_ISSUER") or DEFAULT_ISSUER)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="parcours", description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", help="the issuer's key folder (default: data/issuer/)")
    parser.add_argument("--issuer", help="the issuer's identifier, the tokens' iss (default: "
                                         "$PARCOURS_TOKEN_ISSUER or {})".format(DEFAULT_ISSUER))
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="a signed access token for a partner's caller")
    token.add_argument("--partner", required=True, help="the partner's id in the directory")
    token.add_argument("--role", action="append", required=True, choices=sorted(ROLES),
                       help="a role (repeat for several)")
    token.add_argument("--person", help="the person's id, when a person acts")
    token.add_argument("--audience", action="append", choices=SERVICES,
                       help="the service it is for (repeat; default: all four)")
    token.add_argument("--lifetime", type=int, default=DEFAULT_LIFETIME, help="seconds")
    issuer_command = commands.add_parser("issuer", help="the issuer's signing keys")
    issuer_command.add_argument("action", choices=("rotate", "retire", "keys", "serve"))
    issuer_command.add_argument("--port", type=int, default=8090, help="for serve")
    issuer_command.add_argument("--people", help="for serve: the people who may sign in "
                                                 "(default: people.json beside the keys)")
    member_list = commands.add_parser("import", help="import a member list (CSV) into intake")
    member_list.add_argument("file", help="the CSV file, as exported (comma or semicolon, "
                                          "UTF-8 or Windows-1252)")
    member_list.add_argument("--intake", default=service_url("intake"),
                             help="intake's URL (default: $PARCOURS_INTAKE_URL or :8001)")
    member_list.add_argument("--token", default=os.environ.get("PARCOURS_TOKEN"),
                             help="your access token (default: $PARCOURS_TOKEN, else one from "
                                  "the dev issuer for --partner and --person)")
    member_list.add_argument("--partner", help="with the dev issuer: your partner's id")
    member_list.add_argument("--person", help="with the dev issuer: your person id")
    operator_help = ("an admin's access token (default: $PARCOURS_TOKEN, else one from the "
                     "dev issuer for the network operator)")
    status_command = commands.add_parser("status", help="every service's health, queues, "
                                                        "dead letters and outbox backlog")
    status_command.add_argument("--json", action="store_true", help="for scripts")
    status_command.add_argument("--token", default=os.environ.get("PARCOURS_TOKEN"),
                                help=operator_help)
    letters = commands.add_parser("dead-letters", help="see, send back or discard the "
                                                       "dead-lettered messages")
    letters.add_argument("action", choices=("list", "show", "requeue", "discard"),
                         help="show: the chosen ones (--event, --type) each in full")
    letters.add_argument("--service", action="append", choices=SERVICES,
                         help="repeat for several (default: all four)")
    letters.add_argument("--event", action="append", default=[], help="an event id (repeat)")
    letters.add_argument("--type", help="every dead letter of this event type")
    letters.add_argument("--all", action="store_true", help="every dead letter")
    letters.add_argument("--json", action="store_true", help="for scripts")
    letters.add_argument("--token", default=os.environ.get("PARCOURS_TOKEN"),
                         help=operator_help)
    rebuild = commands.add_parser("rebuild-reporting", help="drop reporting's figures and "
                                                            "rebuild them from its events")
    rebuild.add_argument("--from-outboxes", action="store_true",
                         help="first recover from the publishers' outboxes the events "
                              "reporting never received")
    rebuild.add_argument("--json", action="store_true", help="for scripts")
    rebuild.add_argument("--token", default=os.environ.get("PARCOURS_TOKEN"),
                         help=operator_help)
    report = commands.add_parser("quarterly-report", help="save the steering committee's "
                                                          "quarterly report")
    report.add_argument("--quarter", help="like 2026-Q2 (default: the last quarter ended)")
    report.add_argument("--format", choices=("html", "pdf", "csv"), default="html")
    report.add_argument("--out", help="the file to write (default: parcours-<quarter>.<format>)")
    report.add_argument("--token", default=os.environ.get("PARCOURS_TOKEN"),
                        help="a steering committee member's access token (default: "
                             "$PARCOURS_TOKEN, else one from the dev issuer)")
    follow = commands.add_parser("follow", help="a case's events across the network: its "
                                                "timeline, then live")
    follow.add_argument("case_id")
    follow.add_argument("--amqp-uri", help="an operator's broker address (default: "
                                           "$PARCOURS_OPERATOR_AMQP_URI, else make run's)")
    follow.add_argument("--json", action="store_true", help="one JSON object a line")
    follow.add_argument("--token", default=os.environ.get("PARCOURS_TOKEN"),
                        help=operator_help)
    args = parser.parse_args(argv)

    issuer = dev_issuer(args.keys, args.issuer)
    if args.command in ("status", "dead-letters", "rebuild-reporting"):
        from . import ops_command
        token = args.token or issuer.token("network-operator", ["admin"], list(SERVICES))
        if args.command == "status":
            return ops_command.status(token, as_json=args.json)
        if args.command == "rebuild-reporting":
            return ops_command.rebuild_reporting(token, as_json=args.json,
                                                 from_outboxes=args.from_outboxes)
        if args.action in ("requeue", "discard") and not (args.event or args.type or args.all):
            parser.error("say which dead letters: --event ID, --type TYPE, or --all")
        return ops_command.dead_letters(token, args.action, args.service or SERVICES,
                                        args.event, args.type, args.all, as_json=args.json)
    if args.command == "follow":
        from .follow_command import follow
        token = args.token or issuer.token("network-operator", ["admin"], "reporting")
        return follow(token, args.case_id, args.amqp_uri, as_json=args.json)
    if args.command == "quarterly-report":
        from . import ops_command
        token = args.token or issuer.token("steering-committee", ["steering"], "reporting")
        return ops_command.quarterly_report(token, args.quarter, args.format, args.out)
    if args.command == "import":
        from .import_command import run_import
        token = args.token
        if not token:
            if not args.partner:
                parser.error("give --token (or $PARCOURS_TOKEN), or --partner for a dev token")
            token = issuer.token(args.partner, ["advisor"], "intake", person=args.person)
        return run_import(args.file, args.intake, token)
    if args.command == "token":
        audience = args.audience or list(SERVICES)
        print(issuer.token(args.partner, args.role, audience[0] if len(audience) == 1
                           else audience, person=args.person, lifetime=args.lifetime))
    elif args.action == "rotate":
        kid = issuer.rotate()
        print("new signing key {}; the previous key still verifies until `parcours issuer "
              "retire` (after the longest token lifetime)".format(kid))
    elif args.action == "serve":
        from .dev_issuer_server import serve
        print("dev issuer {} on port {}".format(issuer.issuer, args.port), flush=True)
        serve(issuer, args.port, args.people)
    elif args.action == "retire":
        print("only key {} verifies now".format(issuer.retire()))
    else:
        issuer.public_keys()
        print(issuer.jwks_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

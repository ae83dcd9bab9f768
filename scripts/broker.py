"""The broker's users and their rights, applied to a running RabbitMQ through its management API.

    python scripts/broker.py apply                  # vhost, exchanges, queues, a user per service
    python scripts/broker.py user add crm-lyon --types case.opened,case.closed
    python scripts/broker.py rotate intake          # a new password for intake's user
    python scripts/broker.py uri intake             # the AMQP URI intake connects with

``apply`` declares the vhost and what deploy/rabbitmq/definitions.json derives from the code (the
exchanges, every consumer queue and its binding, the policies), creates each service's user and gives it
exactly the permissions and topic permissions the code derives (parcours_shared.topology). It
can be run again at any time: it sets everything to what the code says.

``user add`` creates an integrator's user: read-only, with a queue of its own (``integrator.<name>``)
bound to the event types it may see, and nothing else.

Passwords are generated and kept in ``<secrets>/<user>.password`` (readable by its owner only;
``data/`` is never committed). ``rotate`` makes a new one: restart the service afterwards, and
its outbox keeps its events while it reconnects (SECURITY.md).

The management API is reached with an administrator's credentials: ``--api`` (default
``$PARCOURS_RABBIT_API`` or http://127.0.0.1:15672), ``--admin`` (default ``$PARCOURS_RABBIT_ADMIN``
or guest:guest, which RabbitMQ accepts from localhost only).
"""
import argparse
import json
import os
import secrets
import sys
from urllib.parse import quote

import requests

from processes import ROOT, service_classes

DEFINITIONS = os.path.join(ROOT, "deploy", "rabbitmq", "definitions.json")
DEFINITIONS_BY_QUEUE_TYPE = {"classic": DEFINITIONS, "quorum": os.path.join(
    os.path.dirname(DEFINITIONS), "definitions.quorum.json")}
DEFAULT_SECRETS = os.path.join(ROOT, "data", "secrets")
DEFAULT_VHOST = "parcours"
DEFAULT_API = os.environ.get("PARCOURS_RABBIT_API", "http://127.0.0.1:15672")
DEFAULT_ADMIN = os.environ.get("PARCOURS_RABBIT_ADMIN", "guest:guest")


class BrokerError(Exception):
    pass


class Management:
    """The few calls of RabbitMQ's management API that provisioning needs."""

    def __init__(self, api, admin):
        self.api = api.rstrip("/") + "/api/"
        user, _, password = admin.partition(":")
        self.auth = (user, password)

    def call(self, method, *path, body=None):
        url = self.api + "/".join(quote(part, safe="") for part in path)
        try:
            response = requests.request(method, url, auth=self.auth, json=body, timeout=10)
        except requests.ConnectionError as exc:
            raise BrokerError("the management API at {} does not answer ({}): is RabbitMQ "
                              "running with its management plugin (make broker)?".format(
                                  self.api, exc)) from None
        if response.status_code == 404 and method == "DELETE":
            return None
        if response.status_code >= 400:
            raise BrokerError("{} {} answered {}: {}".format(method, url, response.status_code,
                                                             response.text[:300]))
        return response.json() if response.content else None

    def set_user(self, user, password):
        self.call("PUT", "users", user, body={"password": password, "tags": ""})

    def grant(self, vhost, user, permission, topic_permissions):
        self.call("PUT", "permissions", vhost, user, body={
            kind: permission[kind] for kind in ("configure", "write", "read")})
        self.call("DELETE", "topic-permissions", vhost, user)  # none left from older code
        for topic in topic_permissions:
            self.call("PUT", "topic-permissions", vhost, user, body={
                "exchange": topic["exchange"], "write": topic["write"], "read": topic["read"]})


class Secrets:
    def __init__(self, folder):
        self.folder = folder

    def path(self, user):
        return os.path.join(self.folder, "{}.password".format(user))

    def password(self, user, new=False, make=True):
        """The user's password, made (or remade, ``new``) if it has none yet (unless not
        ``make``: then a user without one is an error)."""
        path = self.path(user)
        if not make and not os.path.exists(path):
            raise BrokerError("no password for {} in {}: run `python scripts/broker.py apply` "
                              "(or `user add`) first".format(user, self.folder))
        if not new and os.path.exists(path):
            with open(path) as kept:
                return kept.read().strip()
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        password = secrets.token_urlsafe(24)
        descriptor = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as written:
            written.write(password + "\n")
        os.replace(path + ".new", path)
        return password

    def uri(self, user, vhost, host="127.0.0.1", port=5672):
        """The AMQP URI the user connects with, from the password kept for it."""
        return amqp_uri(user, self.password(user, make=False), vhost, host, port)


def service_rights(vhost, prefix=""):
    """{service: (its user, permission, topic permissions)}, as the code derives them."""
    from parcours_shared.topology import broker_permissions
    permissions, topic_permissions = broker_permissions(service_classes(), vhost)
    return {permission["user"]: (
        prefix + permission["user"], permission,
        [topic for topic in topic_permissions if topic["user"] == permission["user"]])
        for permission in permissions}


def topology(vhost, queue_type="classic"):
    """The exchanges, queues, bindings and policies of deploy/rabbitmq/definitions.json (its
    quorum twin, definitions.quorum.json, for ``queue_type`` quorum), on ``vhost``."""
    with open(DEFINITIONS_BY_QUEUE_TYPE[queue_type]) as loaded:
        definitions = json.load(loaded)
    return {kind: [dict(item, vhost=vhost) for item in definitions[kind]]
            for kind in ("exchanges", "queues", "bindings", "policies")}


def apply(management, secrets_store, vhost, prefix="", queue_type="classic"):
    management.call("PUT", "vhosts", vhost, body={})
    admin_user = management.auth[0]
    management.call("PUT", "permissions", vhost, admin_user,
                    body={"configure": ".*", "write": ".*", "read": ".*"})
    management.call("POST", "definitions", body=topology(vhost, queue_type))
    users = []
    for service, (user, permission, topic_permissions) in service_rights(vhost, prefix).items():
        management.set_user(user, secrets_store.password(user))
        management.grant(vhost, user, permission, topic_permissions)
        users.append(user)
    return users


def add_integrator(management, secrets_store, vhost, name, type_names, prefix=""):
    """An integrator's read-only user and its queue, bound to ``type_names``; returns the
    queue's name."""
    from parcours_shared.contracts import REGISTRY, ContractViolation, exchange_name
    from parcours_shared.topology import INTEGRATOR_QUEUE
    try:
        event_types = [REGISTRY.latest(type_name) for type_name in type_names]
    except ContractViolation as exc:
        raise BrokerError("{}; the types are: {}".format(exc, ", ".join(REGISTRY.names())))
    user = prefix + name
    queue = INTEGRATOR_QUEUE.format(name)
    management.call("PUT", "queues", vhost, queue, body={"durable": True, "auto_delete": False})
    for event_type in event_types:
        management.call("POST", "bindings", vhost, "e", exchange_name(event_type.publisher),
                        "q", queue, body={"routing_key": event_type.name})
    management.set_user(user, secrets_store.password(user))
    escaped = queue.replace(".", r"\.")
    management.grant(vhost, user, {"configure": "^$", "write": "^$",
                                   "read": "^{}$".format(escaped)}, [])
    return queue


def amqp_uri(user, password, vhost, host="127.0.0.1", port=5672):
    return "amqp://{}:{}@{}:{}/{}".format(quote(user, safe=""), quote(password, safe=""), host,
                                          port, quote(vhost, safe=""))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", default=DEFAULT_API)
    parser.add_argument("--admin", default=DEFAULT_ADMIN,
                        help="user:password of an administrator of the broker")
    parser.add_argument("--vhost", default=DEFAULT_VHOST)
    parser.add_argument("--secrets", default=DEFAULT_SECRETS,
                        help="where the generated passwords are kept")
    parser.add_argument("--user-prefix", default="",
                        help="prefixed to every user name (tests sharing a broker)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("apply", help="the vhost, its queues and the services' users and rights")
    user = commands.add_parser("user", help="integrators' users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="a read-only user with a queue of its own")
    add.add_argument("name")
    add.add_argument("--types", required=True, help="comma-separated event types it may see")
    rotate = commands.add_parser("rotate", help="a new password for a user")
    rotate.add_argument("user")
    uri = commands.add_parser("uri", help="the AMQP URI a user connects with")
    uri.add_argument("user")
    args = parser.parse_args(argv)

    management = Management(args.api, args.admin)
    store = Secrets(args.secrets)
    try:
        if args.command == "apply":
            users = apply(management, store, args.vhost, args.user_prefix)
            print("vhost {}: users {} with their rights; passwords in {}".format(
                args.vhost, ", ".join(users), args.secrets))
        elif args.command == "user":
            queue = add_integrator(management, store, args.vhost, args.name,
                                   [t.strip() for t in args.types.split(",") if t.strip()],
                                   args.user_prefix)
            user_name = args.user_prefix + args.name
            print("user {} may read queue {} (bound to {}), and nothing else".format(
                user_name, queue, args.types))
            print(amqp_uri(user_name, store.password(user_name), args.vhost))
        elif args.command == "rotate":
            user_name = args.user_prefix + args.user
            management.set_user(user_name, store.password(user_name, new=True))
            print("new password for {} in {}: restart the service that connects as {} (its "
                  "outbox keeps its events meanwhile)".format(user_name, store.path(user_name),
                                                             user_name))
        elif args.command == "uri":
            user_name = args.user_prefix + args.user
            print(store.uri(user_name, args.vhost))
    except BrokerError as exc:
        sys.exit("broker: {}".format(exc))


if __name__ == "__main__":
    main(sys.argv[1:])

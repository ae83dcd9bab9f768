"""pytest plugin installed with parcours-testing (entry point ``pytest11``).

It applies eventlet's monkey patch before any test module is imported (plain pytest no longer
does since nameko 2.14; a late patch leaves locks ungreened), and gives every service test a fresh
database of its own (a SQLite file, or a PostgreSQL schema when ``DATABASE_URL`` is set) and,
through ``running_service``, a broker user of its own.
"""
import warnings

with warnings.catch_warnings():
    # eventlet announces its bugfix-only mode at import; the pinned set is tested together.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import uuid  # noqa: E402

import pytest  # noqa: E402
from nameko.testing.utils import find_free_port  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

# Short delays so retry and dead-letter tests run in well under a second.
TEST_RETRY = {"max_attempts": 3, "delay_ms": 50, "max_delay_ms": 200}
TEST_RELAY = {"idle_interval": 0.2, "max_backoff": 1.0}


@pytest.fixture
def database_url(tmp_path):
    """Factory: ``database_url("intake")`` gives a new, empty database for that service."""
    base = os.environ.get("DATABASE_URL")
    schemas = []

    def make(service_name):
        if not base:
            return "sqlite:///{}".format(tmp_path / "{}.sqlite3".format(service_name))
        schema = "t_{}_{}".format(uuid.uuid4().hex[:10], service_name)
        schemas.append(schema)
        with _admin_engine(base).begin() as connection:
            connection.execute(text('CREATE SCHEMA "{}"'.format(schema)))
        url = make_url(base).update_query_dict({"options": "-csearch_path={}".format(schema)})
        return url.render_as_string(hide_password=False)

    yield make
    if schemas:
        with _admin_engine(base).begin() as connection:
            for schema in schemas:
                connection.execute(text('DROP SCHEMA IF EXISTS "{}" CASCADE'.format(schema)))


@pytest.fixture
def engine_with_tables(database_url):
    """Factory: ``engine_with_tables(metadata, "name")`` gives an engine on a new database
    (see ``database_url``) with the tables of ``metadata`` created; disposed after the test."""
    from parcours_shared.engine import create_db_engine

    engines = []

    def make(metadata, name):
        engine = create_db_engine(database_url(name))
        engines.append(engine)
        metadata.create_all(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


_ENGINES = {}


def _admin_engine(url):
    if url not in _ENGINES:
        _ENGINES[url] = create_engine(url, pool_size=1)
    return _ENGINES[url]


@pytest.fixture
def service_config(rabbit_config, database_url, tmp_path):
    """Factory: the config of one service under test, on this test's own vhost and database
    (its mail to firms in the test's folder ``mail/``)."""

    from .identity import issuer_settings

    def make(service_name, **overrides):
        config = {
            "AMQP_URI": rabbit_config["AMQP_URI"],
            "WEB_SERVER_ADDRESS": "127.0.0.1:{}".format(find_free_port()),
            "DATABASE_URL": database_url(service_name),
            "PARCOURS_RETRY": dict(TEST_RETRY),
            "PARCOURS_RELAY": dict(TEST_RELAY),
            # every service under test connects as the test broker's guest
            "PARCOURS_TRUSTED_PUBLISHERS": [rabbit_config["username"]],
            # and trusts the tests' token issuer (parcours_testing.identity)
            **issuer_settings(), "PARCOURS_TOKEN_AUDIENCE": service_name,
            "PARCOURS_MAIL_URL": "folder:{}".format(tmp_path / "mail"),
            "PARCOURS_MAIL_POLL_SECONDS": 0.2,
            "PARCOURS_LINK_SECRET": "the tests' link secret",
        }
        config.update(overrides)
        return config

    return make


@pytest.fixture
def running_service(container_factory, service_config, rabbit_config, rabbit_manager):
    """Factory: start a service class in a container, on this test's vhost and a database of
    its own, and return an ``ApiClient`` for its HTTP API (its config as ``.config``, and
    ``.test_amqp_uri`` for what the test publishes and reads itself).

    The service connects as a broker user of its own, with exactly the rights its code derives
    (parcours_shared.topology.broker_permissions), as in `make run`; the exchanges exist
    beforehand, as the network's definitions make them. The test broker's guest, with which
    tests publish what they need, stays trusted."""
    from parcours_shared.contracts import REGISTRY, exchange_name
    from .helpers import ApiClient

    vhost = rabbit_config["vhost"]
    prefix = "t{}-".format(uuid.uuid4().hex[:8])
    for publisher in REGISTRY.publishers():
        rabbit_manager._put("exchanges", vhost, exchange_name(publisher),
                            json={"type": "topic", "durable": True, "auto_delete": False})
    created = []

    def start(service_class, **overrides):
        settings = dict(_own_broker_user(rabbit_manager, rabbit_config, service_class, prefix,
                                         created),
                        PARCOURS_DECLARE_EXCHANGES=False, PARCOURS_BROKER_USER_PREFIX=prefix)
        settings.update(overrides)
        config = service_config(service_class.name, **settings)
        container_factory(service_class, config).start()
        client = ApiClient(config)
        client.config = config
        # what the test itself publishes or reads with: the test broker's own user, not the
        # service's (which may publish only the service's events)
        client.test_amqp_uri = rabbit_config["AMQP_URI"]
        return client

    yield start
    for user in created:
        rabbit_manager._delete("users", user)


def _own_broker_user(rabbit_manager, rabbit_config, service_class, prefix, created):
    """``{"AMQP_URI": ...}`` of a new user with the rights the code gives ``service_class``."""
    from urllib.parse import quote, urlsplit

    from parcours_shared.topology import broker_permissions

    vhost, service = rabbit_config["vhost"], service_class.name
    permissions, topic_permissions = broker_permissions([service_class], vhost)
    [permission] = [p for p in permissions if p["user"] == service]
    user, password = prefix + service, uuid.uuid4().hex
    rabbit_manager._put("users", user, json={"password": password, "tags": ""})
    created.append(user)
    rabbit_manager._put("permissions", vhost, user, json={
        kind: permission[kind] for kind in ("configure", "write", "read")})
    for topic in topic_permissions:
        if topic["user"] == service:
            rabbit_manager._put("topic-permissions", vhost, user, json={
                "exchange": topic["exchange"], "write": topic["write"], "read": topic["read"]})
    host = urlsplit(rabbit_config["AMQP_URI"])
    return {"AMQP_URI": "amqp://{}:{}@{}:{}/{}".format(
        user, password, host.hostname, host.port or 5672, quote(vhost, safe=""))}

"""Parcours shared library: what every partner service uses the same way.

- ``contracts``: CloudEvents envelope and the versioned schema of every event type;
- ``db``: the service's own database, unit of work, outbox and inbox tables, migrations;
- ``outbox``: the relay publishing committed events with publisher confirms;
- ``inbox``: the ``inbox_handler`` entrypoint (validate, apply once, retry, dead-letter);
- ``http``: JSON HTTP entrypoint, who may call it, error mapping, health and metrics endpoints;
- ``identity``: the callers' bearer tokens checked (``Caller``, roles); ``dev_issuer``: the
  development issuer's keys and tokens (``parcours token``);
- ``metrics``: Prometheus metrics.
"""

"""A partner's CRM subscribing to Parcours events with nameko's own ``event_handler``.

A standalone example for integrators: it needs only nameko 2.14 (``pip install nameko==2.14.1``)
and a RabbitMQ account on the network's broker. Nothing from Parcours is imported. Run it either
way (see README.md next to it):

    nameko run --config crm_subscriber.yaml nameko_subscriber
    python nameko_subscriber.py --amqp-url pyamqp://guest:guest@127.0.0.1:5672/

Parcours publishes each event as a CloudEvents 1.0 JSON envelope (content type
application/json) on ``<service>.events`` with the event type as routing key: the same exchange
and routing key nameko's EventDispatcher would use, so ``event_handler("intake", "case.opened")``
binds to it as is. kombu decodes the JSON body, so a handler receives the envelope as a dict:
``envelope["data"]`` holds the event's fields, ``envelope["subject"]`` is the case id.

Pitfalls of nameko 2.14's event_handler, and what this example does about them:

* Each handler gets its own durable queue, ``evt-<source>-<type>--<service>.<method>`` (the
  default handler_type SERVICE_POOL): events wait there while the CRM is stopped, and several
  instances of ``crm_subscriber`` share them. Renaming the service or a method means a new
  queue (drain, then delete the old one on the broker).
* A handler that raises has its message ACKED: the event is gone. With
  ``requeue_on_error=True`` it is requeued at once and redelivered at once, forever, for an
  error that will not go away (a bad event, a bug). Neither is what you want: handle errors in
  the handler. Here every handler goes through ``_apply``, which logs the failure with the whole
  envelope (to replay it by hand); a real CRM would store it in a "to retry" table.
* A body that is not JSON (or a content type other than application/json) never reaches a
  handler: kombu logs "Can't decode message body" and the message is dropped.
* Delivery is at least once: the same event may arrive twice. Deduplicate on
  (``source``, ``id``); here in memory, in a real CRM with a unique key in its own database,
  written in the same transaction as the change the event makes.
"""
if __name__ == "__main__":
    # Run as a script: eventlet must patch the standard library before nameko (or anything
    # using sockets or threads) is imported. `nameko run` and nameko's pytest plugin patch
    # themselves, so importing this module there does not patch again.
    import warnings
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # nameko needs it
    import eventlet
    eventlet.monkey_patch()

import argparse  # noqa: E402 (after the monkey patch, on purpose)
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
from collections import OrderedDict  # noqa: E402

from nameko.events import event_handler  # noqa: E402

log = logging.getLogger("crm_subscriber")

SEEN_MAX = 100_000
_seen = OrderedDict()   # (source, id) of the events applied lately, oldest first


def first_time(envelope):
    """True the first time an event is seen; False for a redelivered copy."""
    key = (envelope["source"], envelope["id"])
    if key in _seen:
        return False
    _seen[key] = True
    if len(_seen) > SEEN_MAX:
        _seen.popitem(last=False)
    return True


class CrmSubscriber:
    name = "crm_subscriber"   # part of each queue's name: keep it stable

    @event_handler("intake", "case.opened")
    def on_case_opened(self, envelope):
        self._apply(envelope, lambda data: "{} (SIREN {}) opened, channel {}, region {}".format(
            data["company_name"], data["siren"], data["channel"], data.get("region_code")))

    @event_handler("programmes", "outcome.recorded")
    def on_outcome_recorded(self, envelope):
        self._apply(envelope, lambda data: "outcome {}{}".format(
            data["kind"], "" if data.get("amount_eur") is None
            else ", {} EUR".format(data["amount_eur"])))

    def _apply(self, envelope, describe):
        """Check the envelope, apply it once, and never let an error escape to nameko (it
        would ack the message and the event would be lost without a trace)."""
        try:
            expected = "urn:parcours:schema:{}:v1".format(envelope.get("type"))
            if envelope.get("specversion") != "1.0" or envelope.get("dataschema") != expected:
                log.warning("skipped %s: contract %s not understood here",
                            envelope.get("id"), envelope.get("dataschema"))
                return
            if not first_time(envelope):
                return
            # Your CRM's work goes here (upsert the firm, add a note to the account, ...).
            log.info("%s %s case %s: %s", envelope["time"], envelope["type"],
                     envelope["subject"], describe(envelope["data"]),
                     extra={"cloudevent": envelope})   # for a structured (JSON) log formatter
        except Exception:
            log.exception("could not apply event; kept here for replay: %s",
                          json.dumps(envelope, default=str))


def main():
    import eventlet
    from nameko.runners import ServiceRunner

    parser = argparse.ArgumentParser(description="Log Parcours events as a CRM would see them.")
    parser.add_argument("--amqp-url", default="pyamqp://guest:guest@127.0.0.1:5672/parcours",
                        help="broker URL, kombu style: a trailing '/' is the vhost '/', "
                             "'/parcours' the vhost parcours")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    runner = ServiceRunner({"AMQP_URI": args.amqp_url, "max_workers": 10})
    runner.add_service(CrmSubscriber)

    def stop(signum, frame):
        # Signal handlers run outside eventlet's hub: stop from a green thread (as `nameko run`).
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    runner.start()
    log.info("crm_subscriber listening on %s; Ctrl-C stops it", args.amqp_url)
    eventlet.spawn(runner.wait).wait()   # returns once the runner has stopped


if __name__ == "__main__":
    main()

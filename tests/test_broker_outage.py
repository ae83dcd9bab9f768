"""(c) An event committed while the broker is unreachable, or just before a crash, is published
once the broker or the service is back."""
import pytest
from sqlalchemy import select

from parcours_shared.db import Database
from parcours_shared.metrics import RELAY_ERRORS
from parcours_testing import ApiClient, BrokerLink, luhn_valid_sirens, wait_for

from conftest import SERVICES
from pathway import funnel_counts, open_case
from intake.store import outbox


@pytest.fixture
def link(rabbit_config):
    link = BrokerLink(rabbit_config["AMQP_URI"])
    yield link
    link.close()


def test_an_event_committed_during_an_outage_is_published_when_the_broker_returns(
        container_factory, service_config, link):
    class Network:
        pass
    network = Network()
    reporting_config = service_config("reporting")  # reporting reaches the broker directly
    container_factory(SERVICES["reporting"], reporting_config).start()
    network.reporting = ApiClient(reporting_config)
    intake_config = service_config("intake", AMQP_URI=link.amqp_uri)
    intake = container_factory(SERVICES["intake"], intake_config)
    intake.start()
    network.intake = ApiClient(intake_config)
    intake_db = next(d for d in intake.dependencies if isinstance(d, Database))

    def unsent():
        with intake_db.engine.connect() as connection:
            return connection.execute(select(outbox.c.routing_key)
                                      .where(outbox.c.published_at.is_(None))).scalars().all()

    link.cut()
    errors_before = RELAY_ERRORS.labels("intake")._value.get()
    open_case(network, next(luhn_valid_sirens()))  # the firm's case is opened all the same
    assert network.intake.get("/health").json()["checks"]["broker"].startswith("failing")

    wait_for(lambda: RELAY_ERRORS.labels("intake")._value.get() > errors_before,
             what="the relay to try and fail")
    assert unsent() == ["case.opened"]
    assert funnel_counts(network)["opened"] == 0
    # what an operator sees meanwhile (parcours status): the backlog, its age, and why
    queues = network.intake.get("/operations/queues").json()
    assert (queues["outbox_pending"], queues["queues"]) == (1, [])
    assert queues["outbox_oldest_seconds"] >= 0 and queues["broker"].startswith("unreachable")

    link.restore()
    wait_for(lambda: funnel_counts(network)["opened"] == 1, what="reporting to see the case")
    # the relay marks a row sent once the broker confirmed it, which may come after a consumer
    # has applied the event: wait for the mark, do not race it
    wait_for(lambda: unsent() == [], what="the outbox row marked sent")


def test_events_stranded_by_a_crash_after_commit_are_published_at_restart(
        container_factory, service_config):
    """intake committed a case and its event, then died before its relay ran."""
    from sqlalchemy.orm import Session

    from intake import handlers, service as intake_service
    from parcours_shared.engine import create_db_engine, upgrade_to_head
    from parcours_shared.unit_of_work import UnitOfWork

    reporting_config = service_config("reporting")
    container_factory(SERVICES["reporting"], reporting_config).start()
    intake_config = service_config("intake")
    engine = create_db_engine(intake_config["DATABASE_URL"])
    upgrade_to_head(engine, intake_service.MIGRATIONS)
    with Session(engine) as session, session.begin():
        uow = UnitOfWork(session, "intake", outbox)
        handlers.open_case(uow, {"siren": next(luhn_valid_sirens()), "company_name": "Verrerie"},
                           channel="walk_in")
        uow.write_outbox()
    engine.dispose()

    class Network:
        reporting = ApiClient(reporting_config)
    assert funnel_counts(Network)["opened"] == 0
    container_factory(SERVICES["intake"], intake_config).start()  # the restart
    wait_for(lambda: funnel_counts(Network)["opened"] == 1, what="the stranded event delivered")

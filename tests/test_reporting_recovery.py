"""Reporting rebuilt from a replay of the publishers' outboxes: events it lost (here removed
from its inbox and event store, as if they had never arrived) are read back from intake's,
diagnostic's and programmes' outboxes, applied once, and the figures are whole again, over
HTTP and ``parcours rebuild-reporting --from-outboxes``."""
from parcours_shared import ops_command
from parcours_testing import luhn_valid_sirens, wait_for
from parcours_testing.identity import bearer
from sqlalchemy import create_engine, text

from conftest import SERVICES
from pathway import READY_ANSWERS, funnel_counts, open_case, scheduled_diagnostic


def test_events_reporting_lost_are_recovered_from_the_outboxes_once(network, monkeypatch,
                                                                   capsys):
    sirens = luhn_valid_sirens(67000000)
    cases = [open_case(network, next(sirens)) for _ in range(3)]
    for case in cases[:2]:
        diagnostic = scheduled_diagnostic(network, case["id"])
        assert network.diagnostic.post("/diagnostics/{}/answers".format(diagnostic["id"]),
                                       {"answers": READY_ANSWERS}).ok
    wait_for(lambda: funnel_counts(network)["diagnostic_completed"] == 2 or None,
             what="reporting to count two diagnoses")
    # no programme exists: programmes answers each diagnosis with enrolment.none_proposed,
    # which must be counted too before the figures are taken as whole
    def settled():
        funnel = network.reporting.get("/funnel").json()
        return funnel if funnel["measures"].get("none_proposed") == 2 else None
    whole = wait_for(settled, what="reporting to hear that nothing was proposed")

    # the diagnoses never reached reporting: a queue lost, say
    engine = create_engine(network.config["reporting"]["DATABASE_URL"])
    with engine.begin() as connection:
        for table in ("inbox", "received_events"):
            connection.execute(text("DELETE FROM {} WHERE {} = 'diagnostic.completed'".format(
                table, "event_type" if table == "inbox" else "type")))
    engine.dispose()
    for name in SERVICES:
        monkeypatch.setenv("PARCOURS_{}_URL".format(name.upper()), getattr(network, name).base)
    token = bearer(list(SERVICES), roles=["admin"])[len("Bearer "):]
    assert ops_command.rebuild_reporting(token, poll_seconds=0.05) == 0
    assert funnel_counts(network)["diagnostic_completed"] == 0  # what it kept lacks them

    assert ops_command.rebuild_reporting(token, poll_seconds=0.05, from_outboxes=True) == 0
    said = capsys.readouterr()
    assert "2 events recovered from the publishers' outboxes" in said.out
    assert "diagnostic's outbox" in said.err
    assert network.reporting.get("/funnel").json() == whole
    # read back again: nothing new, nothing counted twice
    assert ops_command.recover_from_outboxes(token, as_json=True) == {
        "intake": (consumed_in_outbox(network, "intake"), 0),
        "diagnostic": (consumed_in_outbox(network, "diagnostic"), 0),
        "programmes": (consumed_in_outbox(network, "programmes"), 0)}
    assert network.reporting.get("/funnel").json() == whole

    broken = network.reporting.post("/operations/recovered-events", {"events": [
        {"type": "case.opened", "id": "x"}]})
    assert broken.status_code == 400 and "0" in broken.json()["fields"]["events"]
    # personal data does not leave through an operator's page
    contact = network.intake.post("/cases/{}/contacts".format(cases[0]["id"]), {
        "name": "Claire Durand", "email": "claire@ateliers.example"})
    assert contact.status_code == 201
    assert network.intake.post("/cases/{}/consent".format(cases[0]["id"]), {
        "purpose": "orientation", "granted": True, "channel": "phone"}).ok
    assert "contact.shared" not in {event["type"] for event in outbox_of(network, "intake")}
    assert "claire@" not in str(outbox_of(network, "intake"))


def consumed_in_outbox(network, publisher):
    """How many of the publisher's events reporting consumes."""
    from reporting.domain import CONSUMED_EVENT_TYPES
    return sum(1 for event in outbox_of(network, publisher)
               if event["type"] in CONSUMED_EVENT_TYPES)


def outbox_of(network, publisher):
    client = getattr(network, publisher)
    found, after, more = [], 0, True
    while more:
        page = client.get("/operations/outbox", params={"after": after, "limit": 100}).json()
        found += page["events"]
        after, more = page["last_seq"], page["more"]
    return found

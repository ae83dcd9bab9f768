"""The services' /metrics after a scenario, scraped as Prometheus does: the counters moved by
exactly what the scenario did (events published and consumed per type, HTTP requests and their
latency per route), and the business gauge says where the open cases are."""
from prometheus_client.parser import text_string_to_metric_families
from parcours_testing import luhn_valid_sirens, wait_for

from pathway import READY_ANSWERS, add_programme, open_case, proposed_enrolment, \
    scheduled_diagnostic


def scrape(client):
    """{(sample name, frozenset of its labels): value} of one /metrics answer."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples}


def value(samples, name, **labels):
    """The sum of the samples of ``name`` whose labels include ``labels`` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (sample, sample_labels), v in samples.items()
               if sample == name and wanted <= sample_labels)


def test_the_counters_move_by_what_the_scenario_did(network):
    add_programme(network, ["first_time_exporter"])
    before = {name: scrape(getattr(network, name)) for name in network.containers}
    sirens = luhn_valid_sirens()
    cases = [open_case(network, next(sirens)) for _ in range(3)]
    diagnostic = scheduled_diagnostic(network, cases[0]["id"])
    assert network.diagnostic.post("/diagnostics/{}/answers".format(diagnostic["id"]),
                                   {"answers": READY_ANSWERS}).status_code == 200
    proposed_enrolment(network, cases[0]["id"])
    for case in cases[1:]:
        scheduled_diagnostic(network, case["id"])

    def moved(scraped, name, **labels):
        """How far ``name`` moved on the ``scraped`` service's /metrics, for its own label."""
        labels["service"] = scraped
        after = scrape(getattr(network, scraped))
        return value(after, name, **labels) - value(before[scraped], name, **labels)

    published = "parcours_events_published_total"
    wait_for(lambda: moved("intake", published, type="case.opened") == 3,
             what="intake's relay to publish the three cases")
    assert moved("intake", "parcours_http_requests_total", method="POST",
                 route="/cases", status="201") == 3
    assert moved("intake", "parcours_http_request_seconds_count",
                 method="POST", route="/cases") == 3
    consumed = "parcours_events_consumed_total"
    wait_for(lambda: moved("diagnostic", consumed, type="case.opened",
                           outcome="applied") == 3, what="diagnostic to apply the three cases")
    wait_for(lambda: moved("diagnostic", published, type="diagnostic.completed") == 1,
             what="diagnostic to publish the completed diagnostic")
    wait_for(lambda: moved("programmes", consumed, type="diagnostic.completed",
                           outcome="applied") == 1, what="programmes to count what it applied")
    assert moved("programmes", consumed, type="case.opened",
                 outcome="dead_lettered") == 0
    wait_for(lambda: moved("diagnostic", "parcours_event_lag_seconds_count",
                           type="case.opened") == 3, what="diagnostic to time the three events")
    # where the open cases are, as intake sees them now
    intake_now = scrape(network.intake)
    assert value(intake_now, "parcours_cases_open", service="intake") == 3
    wait_for(lambda: value(scrape(network.intake), "parcours_cases_open", service="intake",
                           stage="proposed") == 1, what="intake to see the case proposed")
    assert value(scrape(network.intake), "parcours_outbox_oldest_pending_seconds",
                 service="intake") < 60

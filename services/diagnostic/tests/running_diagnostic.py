"""Cases announced to a running diagnostic service, and its diagnostics listed."""
import uuid

from parcours_shared.contracts import build_envelope, utc_now
from parcours_testing import luhn_valid_sirens, publish_messages, wait_for


def scheduled(diagnostic, count):
    """``count`` new cases announced by intake, and the diagnostic scheduled for each, in the
    order of the cases."""
    sirens = luhn_valid_sirens()
    case_ids = [str(uuid.uuid4()) for _ in range(count)]
    publish_messages(diagnostic.test_amqp_uri, [
        ("intake.events", "case.opened", build_envelope("intake", "case.opened", case_id, {
            "case_id": case_id, "siren": next(sirens), "company_name": "Firme {}".format(n),
            "region_code": "53", "channel": "walk_in", "opened_at": utc_now()}),
         "application/json")
        for n, case_id in enumerate(case_ids)])
    found = wait_for(lambda: _if_all(listed(diagnostic, "scheduled"), count),
                     what="{} diagnostics scheduled".format(count))
    by_case = {d["case_id"]: d for d in found}
    return [by_case[case_id] for case_id in case_ids]


def _if_all(found, count):
    return found if len(found) == count else None


def listed(diagnostic, status):
    return diagnostic.get("/diagnostics", params={"status": status, "limit": 1000}).json()[
        "diagnostics"]

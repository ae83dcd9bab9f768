"""check_publisher: who published an event, as the broker vouches for it, must be its source."""
from datetime import datetime, timezone

import pytest

from parcours_shared.contracts import ContractViolation, build_envelope, parse_envelope
from parcours_shared.inbox.consumer import (
    PUBLISHED_BY_HEADER, check_publisher, trusted_publishers,
)


class Message:
    def __init__(self, user_id=None, headers=None):
        self.properties = {"user_id": user_id} if user_id else {}
        self.headers = headers or {}


CASE_OPENED = parse_envelope(build_envelope("intake", "case.opened", "c1", {
    "case_id": "c1", "siren": "732829320", "company_name": "Ateliers Durand", "channel": "web",
    "opened_at": datetime(2026, 3, 2, tzinfo=timezone.utc)}))


def test_the_source_s_own_user_may_publish_it():
    check_publisher(Message("intake"), CASE_OPENED, own_user="diagnostic")


def test_another_user_may_not_unless_trusted():
    with pytest.raises(ContractViolation, match="broker user 'programmes', but only 'intake'"):
        check_publisher(Message("programmes"), CASE_OPENED, own_user="diagnostic")
    check_publisher(Message("admin"), CASE_OPENED, own_user="diagnostic",
                    trusted=frozenset({"admin"}))


def test_a_message_without_user_id_is_refused():
    with pytest.raises(ContractViolation, match="no user_id"):
        check_publisher(Message(), CASE_OPENED, own_user="diagnostic")


def test_a_retry_copy_is_judged_by_the_user_that_first_published_it():
    # the consumer's own retry copy: user_id is its own, the first publisher in a header
    check_publisher(Message("diagnostic", {PUBLISHED_BY_HEADER: "intake"}), CASE_OPENED,
                    own_user="diagnostic")
    with pytest.raises(ContractViolation, match="'programmes'"):
        check_publisher(Message("diagnostic", {PUBLISHED_BY_HEADER: "programmes"}),
                        CASE_OPENED, own_user="diagnostic")


def test_only_the_consumer_s_own_user_makes_the_header_count():
    # anyone can write the header; only the consumer's own connection can set its user_id
    with pytest.raises(ContractViolation, match="'programmes'"):
        check_publisher(Message("programmes", {PUBLISHED_BY_HEADER: "intake"}), CASE_OPENED,
                        own_user="diagnostic")


def test_user_names_may_carry_a_prefix():
    check_publisher(Message("t1-intake"), CASE_OPENED, own_user="t1-diagnostic",
                    user_prefix="t1-")
    with pytest.raises(ContractViolation):
        check_publisher(Message("intake"), CASE_OPENED, own_user="t1-diagnostic",
                        user_prefix="t1-")


def test_trusted_publishers_come_as_a_list_or_words_separated_by_commas():
    assert trusted_publishers({"PARCOURS_TRUSTED_PUBLISHERS": "guest, admin"}) == {"guest",
                                                                                    "admin"}
    assert trusted_publishers({"PARCOURS_TRUSTED_PUBLISHERS": ["guest"]}) == {"guest"}
    assert trusted_publishers({"PARCOURS_TRUSTED_PUBLISHERS": ""}) == frozenset()
    assert trusted_publishers({}) == frozenset()

"""Personal links: valid, expired, tampered, used, revoked; on the service's clock."""
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import Session

from parcours_shared import signed_links
from parcours_shared.signed_links import FirmLinks, LinkRefused, firm_links_table, link_secret
from parcours_testing import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def session():
    metadata = MetaData()
    firm_links_table(metadata)
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        yield session


@pytest.fixture
def links(clock):
    return FirmLinks("secret", firm_links_table(MetaData()), clock)


def refusal(links, session, token, purpose="outcome_review"):
    with pytest.raises(LinkRefused) as refused:
        links.open(session, token, purpose)
    return refused.value.reason


def test_a_link_opens_until_it_is_used_once(links, session):
    token = links.issue(session, "outcome_review", "case-1", subject_id="enrolment-1")
    link = links.open(session, token, "outcome_review")
    assert (link.case_id, link.subject_id) == ("case-1", "enrolment-1")
    assert links.use(session, link) is True
    assert links.use(session, link) is False   # a second tab's answer is refused
    assert refusal(links, session, token) == "used"


def test_a_follow_link_is_not_single_use(links, session):
    token = links.issue(session, "follow_request", "case-1")
    links.use(session, links.open(session, token, "follow_request"))
    assert links.open(session, token, "follow_request").case_id == "case-1"


def test_a_link_expires_with_its_purpose(links, session, clock):
    token = links.issue(session, "outcome_review", "case-1")
    clock.now += timedelta(days=29, hours=23)
    assert links.open(session, token, "outcome_review")
    clock.now += timedelta(hours=2)
    assert refusal(links, session, token) == "expired"


@pytest.mark.parametrize("alter", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # the signature
    lambda token: "x" + token,                                                 # the payload
    lambda token: token[: len(token) // 2],                                    # cut in two
    lambda token: "",
])
def test_an_altered_link_is_refused(links, session, alter):
    token = links.issue(session, "outcome_review", "case-1")
    assert refusal(links, session, alter(token)) == "tampered"


def test_a_link_signed_with_another_secret_or_for_another_purpose_is_refused(
        links, session, clock):
    stranger = FirmLinks("another secret", links.table, clock)
    assert refusal(links, session, stranger.issue(session, "outcome_review", "c")) == "tampered"
    follow = links.issue(session, "follow_request", "case-1")
    assert refusal(links, session, follow, "outcome_review") == "tampered"


def test_revoked_links_are_refused_and_the_others_of_the_firm_kept(links, session):
    review = links.issue(session, "outcome_review", "case-1")
    follow = links.issue(session, "follow_request", "case-1")
    other_firm = links.issue(session, "follow_request", "case-2")
    assert links.revoke_for_case(session, "case-1", "follow_request") == 1
    assert refusal(links, session, follow, "follow_request") == "revoked"
    assert links.open(session, review, "outcome_review")
    assert links.open(session, other_firm, "follow_request")


def test_a_development_secret_is_made_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("PARCOURS_HOME", str(tmp_path))
    first = link_secret({}, "intake")
    signed_links._kept_secret.cache_clear()  # as a restarted process: read from its file
    assert len(first) >= 32 and link_secret({}, "intake") == first
    assert (tmp_path / "data" / "secrets" / "intake-link-secret").stat().st_mode & 0o077 == 0
    assert link_secret({"PARCOURS_LINK_SECRET": "configured"}, "intake") == "configured"

"""What the single window writes to firms, and the personal links it puts in: every message
goes through the service's mail outbox (parcours_shared.mail), to a contact of the firm, only
for a purpose the firm consented to, once per step (its outbox key says which), and each
carries the firm's link to follow its request.

The firm hears of its pathway (request received, taken in charge, diagnostic scheduled,
programmes proposed, enrolment confirmed or waitlisted, and a nudge when nothing moved) if it
consented to be oriented (``orientation``); it is asked for its view (after a programme, and
once its case is closed) if it consented to satisfaction surveys.
"""
import functools
import os
from datetime import date

from parcours_shared.mail import MailTemplates, queue_message
from parcours_shared.signed_links import PURPOSES, FirmLinks

from . import store
from .domain import CLOSED, as_utc
from .firm_words import NEED_LABELS

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
OUTCOME_REVIEW, FOLLOW_REQUEST, CASE_SURVEY = "outcome_review", "follow_request", "case_survey"
# where each personal link leads, under the service's public address
LINK_PATHS = {OUTCOME_REVIEW: "/firm/review/", FOLLOW_REQUEST: "/firm/follow/",
              CASE_SURVEY: "/firm/survey/"}
KEPT_INFORMED = "orientation"        # the consent that lets the window tell the firm its steps
ASKED_FOR_VIEW = "satisfaction_surveys"


@functools.lru_cache(maxsize=None)
def mail_templates():
    return MailTemplates(os.path.join(TEMPLATES, "mail"))


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


def french_date(day):
    """3 mars 2026, 1er avril 2026 (a date, or its ISO text)."""
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return "{} {} {}".format("1er" if day.day == 1 else day.day, MONTHS[day.month - 1],
                             day.year)


class Correspondence:
    """``links``: the service's FirmLinks; ``public_url``: where firms reach the service."""

    def __init__(self, links: FirmLinks, public_url):
        self.links = links
        self.public_url = public_url.rstrip("/")

    # --- the pathway, step by step ---------------------------------------------------------

    def request_received(self, uow, case, request_id, request):
        """Every request is acknowledged, even one about a case closed since: the firm asked."""
        return self._write(uow, case, "request_received", request_id, KEPT_INFORMED,
                           needs=[NEED_LABELS[need] for need in request.needs])

    def taken_in_charge(self, uow, case):
        """Once per advisor: a case given to someone else is news again."""
        person = store.person_by_id(uow.session, case.advisor)
        if person is None:
            return False
        partner = store.partner_by_id(uow.session, person.partner_id)
        return self._tell(uow, case, "taken_in_charge", "{}:{}".format(case.id, person.id),
                          advisor=person.name, partner=partner.name if partner else None)

    def diagnostic_scheduled(self, uow, case, data):
        person = store.person_by_id(uow.session, data["advisor"]) if data.get("advisor") \
            else None
        return self._tell(uow, case, "diagnostic_scheduled", data["diagnostic_id"],
                          advisor=person.name if person else None,
                          due_on=french_date(data["due_on"]) if data.get("due_on") else None)

    def programmes_proposed(self, uow, case, proposals):
        """The programmes proposed together, in one message (about the first of them)."""
        proposals = sorted(proposals, key=lambda data: (data.get("rank") or 0,
                                                        data["enrolment_id"]))
        return self._tell(uow, case, "programmes_proposed", proposals[0]["enrolment_id"],
                          programmes=[data["programme_name"] for data in proposals])

    def enrolment_step(self, uow, case, step, data):
        """``step``: confirmed or waitlisted."""
        return self._tell(uow, case, "enrolment_" + step, data["enrolment_id"],
                          programme=data["programme_name"], position=data.get("position"))

    def nudge(self, uow, case, quiet_days):
        """Once per quiet spell: the spell is named by when it began."""
        spell = "{}:{}".format(case.id, as_utc(case.last_activity_at).strftime("%Y%m%dT%H%M%S"))
        return self._tell(uow, case, "nudge", spell, days=quiet_days)

    # --- the firm's view --------------------------------------------------------------------

    def ask_for_review(self, uow, case, enrolment):
        """After a completed enrolment: a single-use link to confirm the outcomes and rate the
        programme. Once per enrolment, however often the completion is told."""
        partner = store.with_partner_name(uow.session, enrolment)["partner_name"]
        return self._write(uow, case, OUTCOME_REVIEW, enrolment["enrolment_id"], ASKED_FOR_VIEW,
                           answer_link=(OUTCOME_REVIEW, enrolment["enrolment_id"]),
                           programme=enrolment["programme_name"], partner=partner)

    def ask_about_pathway(self, uow, case):
        """Once the case is closed: a single-use link to rate the whole pathway."""
        return self._write(uow, case, CASE_SURVEY, case.id, ASKED_FOR_VIEW,
                           answer_link=(CASE_SURVEY, None))

    # --- how any message is written ---------------------------------------------------------

    def _tell(self, uow, case, step, about, **context):
        if case.status == CLOSED:
            return False  # the pathway is over: the firm hears nothing more of it
        return self._write(uow, case, step, about, KEPT_INFORMED, **context)

    def _write(self, uow, case, template, about, purpose, answer_link=None, **context):
        """Queue ``template`` about ``about`` (its outbox key: ``template:about``) to the
        firm's contact if the firm consented to ``purpose``; ``answer_link``: (purpose,
        subject) of a link to answer through. True if a message was queued."""
        key = "{}:{}".format(template, about)
        session = uow.session
        if store.mail_queued(session, key):
            return False
        contact = self._contact_for(session, case.id, purpose)
        if contact is None:
            return False
        if answer_link is not None:
            link_purpose, subject = answer_link
            context.update(link=self._link(session, link_purpose, case.id, subject),
                           days=PURPOSES[link_purpose]["days"])
        message = mail_templates().render(
            template, contact_name=contact.name, firm=case.company_name,
            follow_link=self._link(session, FOLLOW_REQUEST, case.id, contact.id),
            follow_days=PURPOSES[FOLLOW_REQUEST]["days"], **context)
        return queue_message(session, store.mail_outbox, key, contact.email, message,
                             case_id=case.id)

    def _link(self, session, purpose, case_id, subject_id):
        return self.public_url + LINK_PATHS[purpose] + self.links.issue(
            session, purpose, case_id, subject_id=subject_id)

    @staticmethod
    def _contact_for(session, case_id, purpose):
        """The firm's first contact with an email, if the firm consented to ``purpose``."""
        if purpose not in store.consents_of(session, case_id).granted():
            return None
        return next((contact for contact in store.contacts_of(session, case_id)
                     if contact.email), None)

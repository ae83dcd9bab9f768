"""What the single window writes to firms, and the personal links it puts in: every message
goes through the service's mail outbox (parcours_shared.mail), to a contact of the firm, only
for a purpose the firm consented to.
"""
import functools
import os

from parcours_shared.mail import MailTemplates, queue_message
from parcours_shared.signed_links import PURPOSES, FirmLinks

from . import store

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
OUTCOME_REVIEW = "outcome_review"
REVIEW_PATH = "/firm/review/"


@functools.lru_cache(maxsize=None)
def mail_templates():
    return MailTemplates(os.path.join(TEMPLATES, "mail"))


class Correspondence:
    """``links``: the service's FirmLinks; ``public_url``: where firms reach the service."""

    def __init__(self, links: FirmLinks, public_url):
        self.links = links
        self.public_url = public_url.rstrip("/")

    def ask_for_review(self, uow, case, enrolment):
        """After a completed enrolment: a single-use link to confirm the outcomes and rate the
        programme, to the firm's contact if it consented to satisfaction surveys. Once per
        enrolment, however often the completion is told. True if a message was queued."""
        key = "{}:{}".format(OUTCOME_REVIEW, enrolment["enrolment_id"])
        session = uow.session
        if store.mail_queued(session, key):
            return False
        contact = self._contact_for(session, case.id, "satisfaction_surveys")
        if contact is None:
            return False
        token = self.links.issue(session, OUTCOME_REVIEW, case.id,
                                 subject_id=enrolment["enrolment_id"])
        message = mail_templates().render(
            OUTCOME_REVIEW, contact_name=contact.name, firm=case.company_name,
            programme=enrolment["programme_name"],
            partner=store.with_partner_name(session, enrolment)["partner_name"],
            link=self.public_url + REVIEW_PATH + token, days=PURPOSES[OUTCOME_REVIEW]["days"])
        return queue_message(session, store.mail_outbox, key, contact.email, message,
                             case_id=case.id)

    @staticmethod
    def _contact_for(session, case_id, purpose):
        """The firm's first contact with an email, if the firm consented to ``purpose``."""
        if purpose not in store.consents_of(session, case_id).granted():
            return None
        return next((contact for contact in store.contacts_of(session, case_id)
                     if contact.email), None)

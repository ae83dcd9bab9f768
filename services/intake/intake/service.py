"""The intake service: thin HTTP entrypoints over the use cases in ``handlers``."""
import csv
import functools
import hmac
import io
import os
import tempfile
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from parcours_shared.contracts import ROLES, utc_now
from parcours_shared.contracts.intake import CONSENT_PURPOSES
from parcours_shared.background import BackgroundJobs, timer
from parcours_shared.db import Database
from parcours_shared import audit as parcours_audit
from parcours_shared import http as parcours_http
from parcours_shared import operations as parcours_operations
from parcours_shared.http import api
from parcours_shared.inbox import inbox_handler
from parcours_shared.mail import MailSender
from parcours_shared.metrics import CASES_OPEN
from parcours_shared.signed_links import FirmLinks, LinkRefused, link_secret
from parcours_shared.sql import my_turn
from parcours_shared.web_session import public_url

from . import firm_pages, handlers, store
from .correspondence import Correspondence
from .domain import (
    LEFT, PATHWAY_STAGES, STAGE_OF_EVENT, CaseMoveRefused, CaseNotFound, CaseSearch,
    ContactNotFound, DirectoryIdTaken, FollowUpPolicy, ImportNotFound, InvalidNafCode, InvalidSiren,
    OutsidePartnerRegions, PartnerNotFound, PersonMoveRefused, PersonNotFound,
    ReferralMoveRefused, ReferralNotFound, RegionStillStaffed, RequestLimit, UnknownAdvisor,
    may_see_contact_details,
)
from .member_list import UnreadableFile, read_members
from .schemas import (
    AssignmentRequest, CaseList, CaseListQuery, CaseOpenOut, CaseOut, CaseWithHistoryOut,
    ClosureRequest, ConsentOut, ConsentRequest, ContactOut, ContactRequest, ContactsOut, EmbedOut,
    ImportCasesRequest, ImportOut, ImportQuery, MemberImportOut, OpenCaseRequest, PartnerFields,
    PartnerList, PartnerOut,
    PartnerRequest, PartnerWithPeopleOut, PersonFields, PersonOut, PersonRequest,
    PersonWithContactOut, ReferralDoneRequest, ReferralList, ReferralListQuery, ReferralOpenOut,
    ReferralOut, ReferralRequest, ReferralWithCaseOut, ReferredCaseOut, RejectionRequest,
    RevokedLinksOut,
)

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")
# how often the follow-up deadlines are looked at (a deadline is a matter of days)
FOLLOW_UP_CHECK_SECONDS = float(os.environ.get("PARCOURS_FOLLOW_UP_CHECK_SECONDS", "300"))
# how often quiet firms are looked for (a nudge is a matter of weeks)
FIRM_NUDGE_CHECK_SECONDS = float(os.environ.get("PARCOURS_FIRM_NUDGE_CHECK_SECONDS", "3600"))

# Who may call what (parcours_shared.identity.ROLES; README, "Who may do what").
ADVISOR = ("advisor",)
REFERRERS = ("referrer", "advisor")
READERS = ("reader", "advisor")
DIRECTORY_KEEPER = ("admin",)
EVERYONE = tuple(ROLES)  # the directory is how the network knows itself
case_out, case_with_history_out = CaseOut(), CaseWithHistoryOut()
referral_out, referred_case_out = ReferralOut(), ReferredCaseOut()
contact_out, contacts_out, consent_out = ContactOut(), ContactsOut(), ConsentOut()
import_out = MemberImportOut()
MAX_IMPORT_BYTES = 512 * 1024 * 1024  # a member list of a few million rows
MAX_FORM_BYTES = 64 * 1024  # a firm's form: a few answers and a comment
partner_out, person_out, person_with_contact_out = (
    PartnerOut(), PersonOut(), PersonWithContactOut())

# What each of intake's domain errors is for an HTTP caller (applied by parcours_shared.http).
HTTP_ERRORS = {InvalidSiren: 400, InvalidNafCode: 400, CaseNotFound: 404, CaseMoveRefused: 409,
               PartnerNotFound: 404, PersonNotFound: 404, DirectoryIdTaken: 409,
               OutsidePartnerRegions: 400, RegionStillStaffed: 409, PersonMoveRefused: 409,
               UnknownAdvisor: 400, ReferralNotFound: 404, ReferralMoveRefused: 409,
               ContactNotFound: 404, ImportNotFound: 404, UnreadableFile: 400}


# The mixin is reached through its module so that `nameko run <name>.service` finds only
# this class in the module (it runs every class with entrypoints it finds).
class IntakeService(parcours_http.OperationalEndpoints, parcours_operations.DeadLetterEndpoints,
                    parcours_operations.OutboxReplay, parcours_audit.AuditTrail):
    name = "intake"
    http_errors = HTTP_ERRORS

    db = Database(store.metadata, MIGRATIONS)
    jobs = BackgroundJobs()  # member list imports go on after their request answered
    mail = MailSender()      # the messages to firms, from the mail outbox

    @api("POST", "/cases", roles=ADVISOR, body=OpenCaseRequest,
         returns={201: CaseOpenOut, 200: CaseOpenOut})
    def open_case(self, request):
        command = request.command
        case, created = self._open_once(request, handlers.open_case, command, command["channel"],
                                        assign=self.assign_on_open)
        return (201 if created else 200), dict(case_out.dump(case), created=created)

    @api("POST", "/cases/import", roles=ADVISOR, body=ImportCasesRequest,
         returns={201: ImportOut, 200: ImportOut})
    def import_cases(self, request):
        firms = request.command["firms"]
        results = self._open_once(request, handlers.import_firms, firms,
                                  assign=self.assign_on_open)
        cases = [{"siren": case.siren, "case_id": case.id,
                  "status": "opened" if created else "existing"} for case, created in results]
        # counted by firm: a SIREN repeated in the list counts once
        opened = len({case.id for case, created in results if created})
        existing = len({case.id for case, created in results if not created})
        return (201 if opened else 200), {"cases": cases, "opened": opened, "existing": existing}

    @api("POST", "/referrals", roles=REFERRERS, body=ReferralRequest,
         returns={201: ReferralOpenOut, 200: ReferralOpenOut})
    def refer_firm(self, request):
        """The case's fields (opened or found, as POST /cases answers), and the referral."""
        case, referral, created = self._open_once(request, handlers.refer_firm, request.command,
                                                  assign=self.assign_on_open)
        return (201 if created else 200), dict(case_out.dump(case), created=created,
                                               referral=referral_out.dump(referral))

    @api("GET", "/referrals", roles=READERS + ("referrer",), query=ReferralListQuery,
         returns=ReferralList)
    def list_referrals(self, request):
        """The referrals the caller's partner sent, and those of the cases it may read."""
        with self.db.reading() as session:
            found, total = handlers.visible_referrals(session, request.caller, request.query)
        return {"referrals": [self._referral(referral, case) for referral, case in found],
                "total": total}

    @api("GET", "/referrals/<referral_id>", roles=READERS + ("referrer",),
         returns=ReferralWithCaseOut)
    def get_referral(self, request, referral_id):
        with self.db.reading() as session:
            return self._referral(*handlers.readable_referral(session, referral_id,
                                                              request.caller))

    @api("POST", "/referrals/<referral_id>/accept", roles=ADVISOR, returns=ReferralWithCaseOut)
    def accept_referral(self, request, referral_id):
        with self.db.transaction(request.caller) as uow:
            return self._referral(*handlers.accept_referral(uow, referral_id))

    @api("POST", "/referrals/<referral_id>/reject", roles=ADVISOR, body=RejectionRequest,
         returns=ReferralWithCaseOut)
    def reject_referral(self, request, referral_id):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            return self._referral(*handlers.reject_referral(
                uow, referral_id, command["reason"], command["note"]))

    @api("POST", "/referrals/<referral_id>/done", roles=ADVISOR, body=ReferralDoneRequest,
         returns=ReferralWithCaseOut)
    def complete_referral(self, request, referral_id):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            return self._referral(*handlers.complete_referral(
                uow, referral_id, command["outcome"], command["note"]))

    @timer(interval=FOLLOW_UP_CHECK_SECONDS, eager=True)
    def check_follow_ups(self):
        """Raise the follow-up deadlines passed (handlers.raise_follow_ups)."""
        with self.db.transaction() as uow:
            if my_turn(uow.session, "intake.follow_ups"):
                handlers.raise_follow_ups(uow, self.follow_up_policy, utc_now())

    @property
    def follow_up_policy(self):
        return FollowUpPolicy.from_config(self.config.get("PARCOURS_FOLLOW_UP"))

    def update_business_gauges(self):
        """Open cases by stage, for /metrics (one GROUP BY at each scrape)."""
        with self.db.reading() as session:
            counts = store.open_cases_by_stage(session)
        for stage in PATHWAY_STAGES:
            CASES_OPEN.labels(self.name, stage).set(counts.get(stage, 0))

    @inbox_handler(*STAGE_OF_EVENT)
    def on_pathway_event(self, uow, events):
        """Where each firm is on the pathway, for the single window and its referrers; after a
        programme, the firm is asked for its word."""
        handlers.follow_pathway(uow, events, self.correspondence)
        self.mail.wake()

    @property
    def links(self):
        return _firm_links(link_secret(self.config, self.name))

    @property
    def correspondence(self):
        return Correspondence(self.links, public_url(self.config, self.name))

    @api("GET", "/firm/review/<token>", public=True, html=True,
         returns={200: "text/html", 404: "text/html", 410: "text/html"})
    def outcome_review_page(self, request, token):
        """The firm's page behind its review link: the outcomes recorded after its programme,
        to confirm or correct, and a short survey. Plain HTML, no JavaScript needed."""
        return self._behind_link(lambda session: handlers.outcome_review(
            session, self.links, token), firm_pages.review_page)

    @api("POST", "/firm/review/<token>", public=True, html=True,
         returns={200: "text/html", 400: "text/html", 404: "text/html", 410: "text/html",
                  413: "text/html"})
    def answer_outcome_review(self, request, token):
        """The firm's answer (a form): the page again with each error next to its field, or
        its thanks; the link then answers no more."""
        if firm_pages.too_long(request, MAX_FORM_BYTES):
            return firm_pages.too_long_page()
        try:
            with self.db.transaction() as uow:
                subject = handlers.outcome_review(uow.session, self.links, token)
                answer, errors = firm_pages.read_review_form(request.form, subject.outcomes)
                if errors:
                    return firm_pages.review_page(subject, request.form, errors, status=400)
                handlers.answer_outcome_review(uow, self.links, subject, answer)
        except LinkRefused as refused:
            return firm_pages.refused_link(refused.reason)
        return firm_pages.html("survey_thanks.html", about="Vos réponses sur « {} » ont été "
                               "transmises au réseau.".format(subject.enrolment["programme_name"]))

    # --- the firm's side of the window: its request, its follow page, its survey --------------

    @api("GET", "/firm/request", public=True, html=True, returns={200: "text/html"})
    def request_page(self, request):
        """The public request page, in French, without JavaScript. Embedded on a partner's site
        (GET /partners/<id>/embed), ``?source=<partner>&campaign=<name>`` counts its requests
        under that partner and campaign."""
        with self.db.reading() as session:
            source, campaign, source_name = self._source(session, request.args)
        return firm_pages.request_page(source, campaign, source_name)

    @api("POST", "/firm/request", public=True, html=True,
         returns={200: "text/html", 400: "text/html", 413: "text/html", 429: "text/html"})
    def submit_request(self, request):
        """The firm's request (a form): its case opened or enriched (channel web) with its
        contact and consent, or the page again with each error next to its field. Each address
        may send PARCOURS_REQUEST_LIMIT requests (default 10 an hour)."""
        if firm_pages.too_long(request, MAX_FORM_BYTES):
            return firm_pages.too_long_page()
        form = request.form
        with self.db.transaction() as uow:
            allowed = handlers.count_request_attempt(uow, self._address_key(request),
                                                     self.request_limit)
            source, campaign, source_name = self._source(uow.session, form)
        if not allowed:
            page = firm_pages.html(
                "notice.html", status=429, heading="Trop de demandes envoyées",
                explanation="Beaucoup de demandes sont parties de votre connexion : réessayez "
                            "dans une heure, ou appelez le guichet unique de votre région.")
            page.headers["Retry-After"] = str(self.request_limit.seconds)
            return page
        if form.get(firm_pages.HONEYPOT):
            # a script filled the field people do not see: it is thanked, and nothing is kept
            return firm_pages.html("request_thanks.html", kept_informed=False)
        firm_request, errors = firm_pages.read_request_form(form)
        if errors:
            return firm_pages.request_page(source, campaign, source_name, form, errors, 400)
        firm_request.source, firm_request.campaign = source, campaign
        self._open_once(request, handlers.submit_request, firm_request, self.correspondence,
                        assign=self.assign_on_open)
        self.mail.wake()
        return firm_pages.request_thanks(firm_request)

    @api("GET", "/partners/<partner_id>/embed", roles=EVERYONE, returns=EmbedOut)
    def embed_code(self, request, partner_id):
        """The code a partner puts on its site so that firms reach the single window from it:
        an iframe, or a link, whose requests count under the partner (and ``?campaign=``)."""
        with self.db.reading() as session:
            partner = handlers.get_partner(session, partner_id)
        campaign = firm_pages.campaign_of(request.args.get("campaign"))
        return firm_pages.embed_code(public_url(self.config, self.name), partner, campaign)

    @api("GET", "/firm/follow/<token>", public=True, html=True,
         returns={200: "text/html", 404: "text/html", 410: "text/html"})
    def follow_page(self, request, token):
        """The firm's page behind the link each message carries: where its request stands, in
        plain words; its contact details to correct; its consent to change."""
        return self._behind_link(lambda session: handlers.followed_request(
            session, self.links, token), firm_pages.follow_page)

    @api("POST", "/firm/follow/<token>", public=True, html=True,
         returns={200: "text/html", 400: "text/html", 404: "text/html", 410: "text/html",
                  413: "text/html"})
    def change_from_follow_page(self, request, token):
        """``action=contact``: the contact details corrected; ``action=consent``: the purposes
        ticked are those the firm now consents to."""
        if firm_pages.too_long(request, MAX_FORM_BYTES):
            return firm_pages.too_long_page()
        form = request.form
        try:
            with self.db.transaction() as uow:
                followed = handlers.followed_request(uow.session, self.links, token)
                if form.get("action") == "consent":
                    granted = [purpose for purpose in CONSENT_PURPOSES
                               if form.get("consent_" + purpose) == "yes"]
                    followed.consents = handlers.change_consent(uow, self.links, followed,
                                                                granted)
                    notice = ("Vos choix sont enregistrés." if followed.consents.granted() else
                              "Vous ne recevrez plus rien du guichet unique ; ce lien ne "
                              "servira plus.")
                else:
                    fields, errors = firm_pages.read_contact_form(form)
                    if errors:
                        return firm_pages.follow_page(followed, values=form, errors=errors,
                                                      status=400)
                    handlers.correct_contact(uow, followed, fields)
                    notice = "Vos coordonnées sont corrigées."
        except LinkRefused as refused:
            return firm_pages.refused_link(refused.reason)
        return firm_pages.follow_page(followed, notice=notice)

    @api("GET", "/firm/survey/<token>", public=True, html=True,
         returns={200: "text/html", 404: "text/html", 410: "text/html"})
    def pathway_survey_page(self, request, token):
        """The survey sent once the firm's case is closed."""
        return self._behind_link(lambda session: handlers.pathway_survey(
            session, self.links, token)[1], firm_pages.survey_page)

    @api("POST", "/firm/survey/<token>", public=True, html=True,
         returns={200: "text/html", 400: "text/html", 404: "text/html", 410: "text/html",
                  413: "text/html"})
    def answer_pathway_survey(self, request, token):
        if firm_pages.too_long(request, MAX_FORM_BYTES):
            return firm_pages.too_long_page()
        try:
            with self.db.transaction() as uow:
                link, case = handlers.pathway_survey(uow.session, self.links, token)
                answer, errors = firm_pages.read_survey_form(request.form)
                if errors:
                    return firm_pages.survey_page(case, request.form, errors, status=400)
                handlers.answer_pathway_survey(uow, self.links, link, case, answer)
        except LinkRefused as refused:
            return firm_pages.refused_link(refused.reason)
        return firm_pages.html("survey_thanks.html", about="Votre avis sur votre parcours est "
                                                           "transmis au réseau.")

    @api("POST", "/cases/<case_id>/firm-links/revoke", roles=ADVISOR, returns=RevokedLinksOut)
    def revoke_firm_links(self, request, case_id):
        """Take back every personal link sent to the firm (an email forwarded, a contact who
        left): they answer "withdrawn" from now on; the next message carries a new one."""
        with self.db.transaction(request.caller) as uow:
            return {"revoked": handlers.revoke_firm_links(uow, self.links, case_id)}

    @timer(interval=FIRM_NUDGE_CHECK_SECONDS, eager=False)
    def nudge_quiet_firms(self):
        """Firms whose case nothing moved for PARCOURS_FIRM_NUDGE_DAYS hear it is not
        forgotten (handlers.nudge_quiet_firms)."""
        with self.db.transaction() as uow:
            if my_turn(uow.session, "intake.nudges"):
                handlers.nudge_quiet_firms(uow, self.correspondence, utc_now(), float(
                    self.config.get("PARCOURS_FIRM_NUDGE_DAYS", 21)))
        self.mail.wake()

    def _behind_link(self, opened, page):
        """A firm's page behind its personal link: ``opened(session)``, what the link is about
        (LinkRefused: the page saying why it may not be used), shown by ``page``."""
        with self.db.reading() as session:
            try:
                subject = opened(session)
            except LinkRefused as refused:
                return firm_pages.refused_link(refused.reason)
        return page(subject)

    @property
    def request_limit(self):
        return RequestLimit.from_config(self.config.get("PARCOURS_REQUEST_LIMIT"))

    def _address_key(self, request):
        """The caller's address as a keyed hash: the rate limit needs to know it again, not to
        know it."""
        secret = link_secret(self.config, self.name).encode()
        return hmac.new(secret, (request.remote_addr or "").encode(), "sha256").hexdigest()

    @staticmethod
    def _source(session, args):
        """(source, campaign, source's name) from the page's parameters: a source that is not
        a partner of the directory counts as the network's own page."""
        partner = args.get("source") and store.partner_by_id(session, args["source"])
        if not partner:
            return None, None, None
        return partner.id, firm_pages.campaign_of(args.get("campaign")), partner.name

    @inbox_handler("enrolment.none_proposed")
    def on_nothing_proposed(self, uow, events):
        handlers.note_nothing_proposed(uow, events)

    @api("GET", "/cases", roles=READERS, query=CaseListQuery, returns=CaseList)
    def list_cases(self, request):
        """Search the cases you may read: by number, name, region, sector, status, stage,
        channel, referring partner or advisor; one page, sorted, with the total."""
        with self.db.reading() as session:
            found, total = handlers.visible_cases(session, request.caller,
                                                  CaseSearch(**request.query))
        return {"cases": case_out.dump(found, many=True), "total": total}

    @api("GET", "/cases/<case_id>", roles=READERS, returns=CaseWithHistoryOut)
    def get_case(self, request, case_id):
        with self.db.reading() as session:
            return case_with_history_out.dump(handlers.readable_case(session, case_id,
                                                                     request.caller))

    @api("POST", "/cases/<case_id>/assign", roles=ADVISOR, body=AssignmentRequest,
         returns=CaseOut)
    def assign_case(self, request, case_id):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            case = handlers.assign_case(uow, case_id, command["advisor"], command.get("partner"),
                                        self.correspondence)
        self.mail.wake()
        return case_out.dump(case)

    @api("POST", "/cases/<case_id>/close", roles=ADVISOR, body=ClosureRequest, returns=CaseOut)
    def close_case(self, request, case_id):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            case = handlers.close_case(uow, case_id, command["reason"], command["note"],
                                       self.correspondence)
        self.mail.wake()
        return case_out.dump(case)

    # --- the firm's contact persons and its consent ----------------------------------------------

    @api("GET", "/cases/<case_id>/contacts", roles=READERS, returns=ContactsOut)
    def list_contacts(self, request, case_id):
        """The firm's contact persons and its consent (personal data: never in a log)."""
        with self.db.reading() as session:
            contacts, consents = handlers.contacts_and_consent(session, case_id, request.caller)
        return contacts_out.dump({"contacts": contacts, "consent": consents})

    @api("POST", "/cases/<case_id>/contacts", roles=ADVISOR, body=ContactRequest,
         returns={201: ContactOut})
    def add_contact(self, request, case_id):
        with self.db.transaction(request.caller) as uow:
            return 201, contact_out.dump(handlers.add_contact(uow, case_id, request.command))

    @api("PUT", "/cases/<case_id>/contacts/<contact_id>", roles=ADVISOR, body=ContactRequest,
         returns=ContactOut)
    def update_contact(self, request, case_id, contact_id):
        with self.db.transaction(request.caller) as uow:
            return contact_out.dump(handlers.update_contact(uow, case_id, contact_id,
                                                            request.command))

    @api("DELETE", "/cases/<case_id>/contacts/<contact_id>", roles=ADVISOR, returns=ContactsOut)
    def remove_contact(self, request, case_id, contact_id):
        """The contacts left, and the consent."""
        with self.db.transaction(request.caller) as uow:
            contacts = handlers.remove_contact(uow, case_id, contact_id)
            consents = store.consents_of(uow.session, case_id)
        return contacts_out.dump({"contacts": contacts, "consent": consents})

    @api("POST", "/cases/<case_id>/consent", roles=ADVISOR, body=ConsentRequest,
         returns=ConsentOut)
    def record_consent(self, request, case_id):
        """The firm's yes or no to one purpose; its contacts are shared for what it consents
        to, and every copy is dropped when it withdraws."""
        command = request.command
        with self.db.transaction(request.caller) as uow:
            consents = handlers.record_consent(uow, case_id, command["purpose"],
                                               command["granted"], command["channel"])
        return consent_out.dump(consents)

    # --- member lists imported as a job -------------------------------------------------------

    @api("POST", "/imports", roles=REFERRERS, query=ImportQuery,
         returns={202: MemberImportOut})
    def start_import(self, request):
        """A member list as a CSV file (the body itself, or the ``file`` field of a form):
        checked for its columns, then imported in the background; follow it at
        GET /imports/<id>."""
        upload = request.files.get("file")
        filename = (upload.filename if upload else None) or request.query["filename"]
        path, size = save_upload(upload.stream if upload else request.stream)
        try:
            with open(path, "rb") as stream:
                read_members(stream)  # the columns: refused at once if they are not there
            with self.db.transaction(request.caller) as uow:
                job = handlers.start_import(uow, filename, size)
        except Exception:
            os.remove(path)
            raise
        self.jobs(functools.partial(self._run_import, job.id, path, request.caller))
        return 202, import_out.dump(job)

    @timer(interval=60, eager=True)
    def fail_interrupted_imports(self):
        """An import that stopped moving (its process died) says it was cut off."""
        with self.db.transaction() as uow:
            if my_turn(uow.session, "intake.interrupted_imports"):
                handlers.fail_interrupted_imports(uow, utc_now())

    def _run_import(self, import_id, path, caller):
        try:
            handlers.run_import(self.db.transaction, import_id, path, caller,
                                assign=self.assign_on_open)
        finally:
            os.remove(path)

    @api("GET", "/imports/<import_id>", roles=READERS + ("referrer",), returns=MemberImportOut)
    def get_import(self, request, import_id):
        with self.db.reading() as session:
            return import_out.dump(handlers.get_import(session, import_id))

    @api("GET", "/imports/<import_id>/rejected.csv", roles=READERS + ("referrer",),
         returns="text/csv")
    def rejected_rows(self, request, import_id):
        """The rows the import refused, with their line and what to fix, as CSV (UTF-8 with
        its BOM, which spreadsheets need to show accents)."""
        with self.db.reading() as session:
            handlers.get_import(session, import_id)
            body = rejected_rows_csv(store.rejections_of(session, import_id))
        return Response(body, status=200, content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="rejected-{}.csv"'.format(import_id)})

    # --- the network directory ------------------------------------------------------------------

    @api("POST", "/partners", roles=DIRECTORY_KEEPER, body=PartnerRequest,
         returns={201: PartnerOut})
    def register_partner(self, request):
        command = request.command
        with self._id_once(command["id"]), self.db.transaction(request.caller) as uow:
            return 201, partner_out.dump(handlers.register_partner(uow, command))

    @api("GET", "/partners", roles=EVERYONE, returns=PartnerList)
    def list_partners(self, request):
        with self.db.reading() as session:
            return {"partners": partner_out.dump(store.list_partners(session), many=True)}

    @api("GET", "/partners/<partner_id>", roles=EVERYONE, returns=PartnerWithPeopleOut)
    def get_partner(self, request, partner_id):
        with self.db.reading() as session:
            partner = handlers.get_partner(session, partner_id)
            people = store.people_of(session, partner_id)
        return dict(partner_out.dump(partner),
                    people=[self._person(request.caller, person) for person in people])

    @api("PUT", "/partners/<partner_id>", roles=DIRECTORY_KEEPER, body=PartnerFields,
         returns=PartnerOut)
    def update_partner(self, request, partner_id):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            return partner_out.dump(handlers.update_partner(uow, partner_id, command))

    @api("POST", "/partners/<partner_id>/people", roles=DIRECTORY_KEEPER, body=PersonRequest,
         returns={201: PersonWithContactOut})
    def register_person(self, request, partner_id):
        command = request.command
        with self._id_once(command["id"]), self.db.transaction(request.caller) as uow:
            person = handlers.register_person(uow, partner_id, command)
        return 201, self._person(request.caller, person)

    @api("GET", "/people/<person_id>", roles=EVERYONE, returns=PersonWithContactOut)
    def get_person(self, request, person_id):
        with self.db.reading() as session:
            return self._person(request.caller, handlers.get_person(session, person_id))

    @api("PUT", "/people/<person_id>", roles=DIRECTORY_KEEPER, body=PersonFields,
         returns=PersonWithContactOut)
    def update_person(self, request, person_id):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            person = handlers.update_person(uow, person_id, command)
        return self._person(request.caller, person)

    @api("POST", "/people/<person_id>/leave", roles=DIRECTORY_KEEPER,
         returns=PersonWithContactOut)
    def record_departure(self, request, person_id):
        with self.db.transaction(request.caller) as uow:
            return self._person(request.caller, handlers.record_departure(uow, person_id))

    @staticmethod
    def person_has_left(session, person_id):
        """The HTTP layer refuses the tokens of people who left (parcours_shared.http)."""
        person = store.person_by_id(session, person_id)
        return person is not None and person.status == LEFT

    @staticmethod
    def _referral(referral, case):
        return dict(referral_out.dump(referral), case=referred_case_out.dump(case))

    @staticmethod
    def _person(caller, person):
        schema = (person_with_contact_out if may_see_contact_details(caller, person)
                  else person_out)
        return schema.dump(person)

    @staticmethod
    @contextmanager
    def _id_once(directory_id):
        """Two requests registering the same new id race on its primary key: the loser is told
        the id is taken, as if it had come second."""
        try:
            yield
        except IntegrityError:
            raise DirectoryIdTaken("id {} is taken: ids are never reused".format(directory_id),
                                   fields={"id": ["taken"]}) from None

    @property
    def assign_on_open(self):
        """New cases go to their region's advisors in turn (PARCOURS_ASSIGN_ON_OPEN)."""
        return str(self.config.get("PARCOURS_ASSIGN_ON_OPEN", True)).lower() not in (
            "false", "0", "no")

    def _open_once(self, request, use_case, *args, **kwargs):
        """Two requests for the same new firm race on the SIREN's unique key: the loser reads
        the winner's case instead of failing."""
        try:
            with self.db.transaction(request.caller) as uow:
                return use_case(uow, *args, **kwargs)
        except IntegrityError:
            with self.db.transaction(request.caller) as uow:
                return use_case(uow, *args, **kwargs)


def save_upload(stream, limit=MAX_IMPORT_BYTES):
    """The uploaded file, copied to a temporary file as it arrives: (path, size)."""
    with tempfile.NamedTemporaryFile("wb", prefix="parcours-import-", suffix=".csv",
                                     delete=False) as copy:
        size = 0
        while True:
            chunk = stream.read(1024 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                copy.close()
                os.remove(copy.name)
                raise RequestEntityTooLarge("a member list is at most {} MiB: split it".format(
                    limit // (1024 * 1024)))
            copy.write(chunk)
    return copy.name, size


def rejected_rows_csv(rejections):
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["line", "reason", "row"])
    for line, reason, raw in rejections:
        writer.writerow([line, reason, raw])
    return out.getvalue()


@functools.lru_cache(maxsize=None)
def _firm_links(secret):
    return FirmLinks(secret, store.firm_links, clock=utc_now)

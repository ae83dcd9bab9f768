"""The programmes service: thin entrypoints over the use cases in ``handlers``."""
import os

from parcours_shared.db import Database
from parcours_shared import directory as parcours_directory
from parcours_shared import audit as parcours_audit
from parcours_shared import http as parcours_http
from parcours_shared import operations as parcours_operations
from parcours_shared.http import api
from parcours_shared.inbox import inbox_handler

from parcours_shared.contracts import utc_now

from . import handlers, store
from .domain import (
    CaseNotEnrolled, EnrolmentClosed, EnrolmentMoveRefused, EnrolmentNotFound,
    EnrolmentOfAnotherCase, NoContactConsent, ProgrammeNameTaken, ProgrammeNotFound,
)
from .co_export import CallClosed, CallNotFound, InterestMoveRefused, NotAMatch
from .schemas import (
    CallList, CallOut, CallRequest, DecisionRequest, InterestOut, InterestRequest, MatchList,
    ConfirmationsRequest, EligibilityOut, EligibilityQuery, EnrolmentList, EnrolmentListQuery,
    EnrolmentOut, FirmContactsOut, FirmQuery, OutcomeList, OutcomeListQuery, OutcomeOut,
    OutcomeRequest, ProgrammeList,
    ProgrammeOut, ProgrammeRequest, SessionOut, SessionRequest, WhoDoesWhat, WithdrawalRequest,
)

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")

# Who may call what (parcours_shared.identity.ROLES; README, "Who may do what").
MANAGER = ("programme_manager",)
READERS = ("reader", "advisor", "programme_manager")
# a large group's staff post calls through their partner: its programme managers or referrers
CALL_KEEPERS = ("programme_manager", "referrer")
# who says a firm is interested: its advisor, or a programme manager for it
FIRM_SPOKESPEOPLE = ("advisor", "programme_manager")
programme_out, session_out = ProgrammeOut(), SessionOut()
enrolment_out, outcome_out = EnrolmentOut(), OutcomeOut()

# What each of programmes' domain errors is for an HTTP caller (applied by parcours_shared.http).
HTTP_ERRORS = {
    ProgrammeNotFound: 404, EnrolmentNotFound: 404, CaseNotEnrolled: 404,
    ProgrammeNameTaken: 409, EnrolmentMoveRefused: 409, EnrolmentOfAnotherCase: 409,
    EnrolmentClosed: 409, NoContactConsent: 404, CallNotFound: 404, CallClosed: 409,
    NotAMatch: 409, InterestMoveRefused: 409,
}
call_out, match_list, interest_out = CallOut(), MatchList(), InterestOut()
eligibility_out, who_does_what_out = EligibilityOut(), WhoDoesWhat()


# The mixin is reached through its module so that `nameko run <name>.service` finds only
# this class in the module (it runs every class with entrypoints it finds).
class ProgrammesService(parcours_http.OperationalEndpoints,
                        parcours_operations.DeadLetterEndpoints,
                        parcours_operations.OutboxReplay, parcours_audit.AuditTrail,
                        parcours_directory.DirectoryCopy):
    name = "programmes"
    http_errors = HTTP_ERRORS

    db = Database(store.metadata, MIGRATIONS)
    directory = store.directory

    @inbox_handler("diagnostic.completed")
    def on_diagnostic_completed(self, uow, events):
        handlers.propose_enrolments(uow, events)

    @inbox_handler("case.opened", "case.enriched")
    def on_firm_data(self, uow, events):
        handlers.keep_firm_profiles(uow, events)

    @inbox_handler("case.closed")
    def on_case_closed(self, uow, events):
        handlers.withdraw_for_closed_cases(uow, events)

    @inbox_handler("outcome.reviewed")
    def on_outcome_reviewed(self, uow, events):
        """The firm's word on an outcome recorded for it (confirmed or corrected)."""
        handlers.keep_firm_reviews(uow, events)

    @inbox_handler("contact.shared", "contact.withdrawn")
    def on_contacts(self, uow, events):
        handlers.keep_contacts(uow, events)

    @api("GET", "/cases/<case_id>/contacts", roles=MANAGER, returns=FirmContactsOut)
    def firm_contacts(self, request, case_id):
        """The firm's contact persons, to put it in touch with a large group: only while it
        consents to co-export matching (personal data: 404 otherwise)."""
        with self.db.reading() as session:
            return {"case_id": case_id,
                    "contacts": handlers.contacts_for_matching(session, case_id)}

    @api("POST", "/programmes", roles=MANAGER, body=ProgrammeRequest,
         returns={201: ProgrammeOut})
    def create_programme(self, request):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            programme = handlers.create_programme(uow, command)
        return 201, programme_out.dump(dict(programme.as_row(), sessions=[]))

    @api("GET", "/programmes", roles=READERS, returns=ProgrammeList)
    def list_programmes(self, request):
        with self.db.reading() as session:
            return {"programmes": programme_out.dump(handlers.catalogue(session), many=True)}

    @api("GET", "/programmes/<programme_id>/eligibility", roles=READERS, query=EligibilityQuery,
         returns=EligibilityOut)
    def programme_eligibility(self, request, programme_id):
        """Whether a case's firm may enter the programme, and why, rule by rule."""
        with self.db.reading() as session:
            return eligibility_out.dump(handlers.eligibility_for_case(
                session, programme_id, request.query["case_id"], utc_now().date()))

    @api("GET", "/who-does-what", roles=READERS, query=FirmQuery, returns=WhoDoesWhat)
    def who_does_what(self, request):
        """For a maturity, a region, a sector...: the programmes that fit, by partner."""
        query = request.query
        firm = {"region_code": query["region_code"], "naf_code": query["naf_code"],
                "headcount_band": query["headcount_band"]}
        diagnosis = {"maturity": query["maturity"], "target_markets": [
            {"country": query["target_market"]}] if query["target_market"] else []}
        with self.db.reading() as session:
            return who_does_what_out.dump({"partners": handlers.who_does_what(
                session, firm, diagnosis, utc_now().date())})

    @api("POST", "/programmes/<programme_id>/sessions", roles=MANAGER, body=SessionRequest,
         returns={201: SessionOut})
    def add_session(self, request, programme_id):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            programme_session = handlers.add_session(uow, programme_id, command)
        return 201, session_out.dump(dict(programme_session, seats_left=command["capacity"]))

    @api("GET", "/enrolments", roles=READERS, query=EnrolmentListQuery,
         returns=EnrolmentList)
    def list_enrolments(self, request):
        query = request.query
        with self.db.reading() as session:
            if query["case_id"]:
                found = store.enrolments_for_case(session, query["case_id"])
            else:
                found = store.list_enrolments(
                    session, query["status"], query["limit"], query["offset"])
        return {"enrolments": enrolment_out.dump(found, many=True)}

    @api("GET", "/enrolments/<enrolment_id>", roles=READERS, returns=EnrolmentOut)
    def get_enrolment(self, request, enrolment_id):
        with self.db.reading() as session:
            return enrolment_out.dump(handlers.get_enrolment(session, enrolment_id))

    @api("POST", "/enrolments/confirm", roles=MANAGER, body=ConfirmationsRequest,
         returns=EnrolmentList)
    def confirm_enrolments(self, request):
        enrolment_ids = request.command["enrolment_ids"]
        with self.db.transaction(request.caller) as uow:
            enrolments = handlers.confirm_enrolments(uow, enrolment_ids)
        return {"enrolments": enrolment_out.dump(enrolments, many=True)}

    @api("POST", "/enrolments/<enrolment_id>/confirm", roles=MANAGER, returns=EnrolmentOut)
    def confirm_enrolment(self, request, enrolment_id):
        with self.db.transaction(request.caller) as uow:
            return enrolment_out.dump(handlers.confirm_enrolment(uow, enrolment_id))

    @api("POST", "/enrolments/<enrolment_id>/complete", roles=MANAGER, returns=EnrolmentOut)
    def complete_enrolment(self, request, enrolment_id):
        with self.db.transaction(request.caller) as uow:
            return enrolment_out.dump(handlers.complete_enrolment(uow, enrolment_id))

    @api("POST", "/enrolments/<enrolment_id>/withdraw", roles=MANAGER, body=WithdrawalRequest,
         returns=EnrolmentOut)
    def withdraw_enrolment(self, request, enrolment_id):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            return enrolment_out.dump(
                handlers.withdraw_enrolment(uow, enrolment_id, command["reason"]))

    @api("POST", "/outcomes", roles=MANAGER, body=OutcomeRequest, returns={201: OutcomeOut})
    def record_outcome(self, request):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            return 201, outcome_out.dump(handlers.record_outcome(uow, command))

    @api("GET", "/outcomes", roles=READERS, query=OutcomeListQuery, returns=OutcomeList)
    def list_outcomes(self, request):
        """What came of the support, per case, per programme or per partner."""
        query = dict(request.query)
        limit, offset = query.pop("limit"), query.pop("offset")
        with self.db.reading() as session:
            found, total = store.list_outcomes(session, query, limit, offset)
        return {"outcomes": outcome_out.dump(found, many=True), "total": total}

    @api("POST", "/co-export-calls", roles=CALL_KEEPERS, body=CallRequest,
         returns={201: CallOut})
    def publish_call(self, request):
        command = dict(request.command)
        with self.db.transaction(request.caller) as uow:
            return 201, call_out.dump(handlers.publish_call(uow, command))

    @api("GET", "/co-export-calls", roles=READERS + ("referrer",), returns=CallList)
    def open_calls(self, request):
        with self.db.reading() as session:
            return {"calls": call_out.dump(store.open_calls(session, utc_now().date()),
                                           many=True)}

    @api("GET", "/co-export-calls/<call_id>/matches", roles=CALL_KEEPERS, returns=MatchList)
    def call_matches(self, request, call_id):
        """The firms that fit, best first: for the call's partner, who contacts them."""
        with self.db.reading() as session:
            call, matches = handlers.call_matches(session, call_id, request.caller)
        return match_list.dump({"call": call, "matches": matches})

    @api("POST", "/co-export-calls/<call_id>/interests", roles=FIRM_SPOKESPEOPLE,
         body=InterestRequest, returns={201: InterestOut})
    def express_interest(self, request, call_id):
        with self.db.transaction(request.caller) as uow:
            return 201, interest_out.dump(handlers.express_interest(
                uow, call_id, request.command["case_id"]))

    @api("POST", "/co-export-calls/<call_id>/interests/<case_id>/decision",
         roles=CALL_KEEPERS, body=DecisionRequest, returns=InterestOut)
    def decide_on_interest(self, request, call_id, case_id):
        command = request.command
        with self.db.transaction(request.caller) as uow:
            return interest_out.dump(handlers.decide_on_interest(
                uow, call_id, case_id, command["decision"], command["note"]))

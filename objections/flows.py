"""The objection's work: who has to do what next, and the clocks on it. The objection's state is the law
(objections.models); each task here is ended by a legal step of the objection, taken on the task's page or
through the API (objections.services.on_step → credit.workflow.end_task).

    start → register (intake: flag the record and forward; 1 WD, escalates)
          → acceptance (the deciding department's officer)
              ├─ accepted → verify (officer; 7 WD, escalates; moved by an extension)
              │     → legal review (a reviewer who neither accepted nor drafted)
              │           → approved: end (the decision applied); returned: verify again
              ├─ non-acceptance proposed → review (reviewer) → acceptance again, or end
              └─ withdrawn → end
    reopen (set aside on reconsideration) → verify again if it was decided, acceptance if not accepted
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.models import Process

from credit.flows import Escalate, case_of, clock_of, escalate
from credit.selectors import Scope
from credit.services.transitions import System, perform_transition
from credit.workflow import CASE_SUMMARY, CaseTask, ScopedFlowMixin, deadline_timer_of

from .models import Complaint, Objection, ObjectionState, Reconsideration, ReconsiderationState

SYSTEM = System("system:reconsideration-timer")


def _state(state: str) -> Any:
    return lambda activation: activation.process.artifact.state == state


# Verification runs through drafting and legal review; an extension replaces its clock.
_VERIFICATION_CLOCK = ("objection.verify", "objection.extend")
_RECONSIDERATION_CLOCK = (
    "reconsideration.decide",
    "reconsideration.decide_simplified",
    "reconsideration.extend",
)


class ObjectionFlow(ScopedFlowMixin, flow.Flow):
    process_class = Process
    lock_impl = lock.select_for_update_lock
    case_model = Objection
    process_title = _("Objection")
    process_description = _("An objection to a credit record or a repair decision.")
    process_summary_template = CASE_SUMMARY

    start = flow.StartHandle(this.start_case).Next(this.register)
    # A decision set aside on reconsideration reopens the objection: verify again, or decide acceptance.
    reopen = flow.StartHandle(this.start_case).Next(this.after_reopen)
    after_reopen = flow.Switch().Case(this.verify, _state(ObjectionState.ACCEPTED)).Default(this.acceptance)
    register = (
        CaseTask(steps=["forward"], perm="objections.forward_objection")
        .Annotation(title=_("Flag the record and forward the objection"))
        .OnTimeout(deadline_timer_of("objection.forward"), this.overdue, interrupting=False)
        .Next(this.acceptance)
    )
    acceptance = (
        CaseTask(steps=["accept", "propose_non_acceptance"], perm="objections.handle_objection")
        .Annotation(title=_("Decide whether to accept the objection"))
        .Next(this.after_acceptance)
    )
    after_acceptance = (
        flow.Switch()
        .Case(this.verify, _state(ObjectionState.ACCEPTED))
        .Case(this.review, _state(ObjectionState.NON_ACCEPTANCE_REVIEW))
        .Default(this.end)
    )
    review = (
        CaseTask(
            steps=["approve_non_acceptance", "return_non_acceptance"], perm="objections.review_objection"
        )
        .Annotation(title=_("Legal review of the non-acceptance"))
        .Next(this.after_review)
    )
    after_review = flow.Switch().Case(this.acceptance, _state(ObjectionState.FORWARDED)).Default(this.end)
    verify = (
        CaseTask(steps=["draft_decision"], perm="objections.handle_objection")
        .Annotation(title=_("Verify and draft the decision"))
        .OnTimeout(deadline_timer_of(*_VERIFICATION_CLOCK), this.overdue, interrupting=False)
        .Next(this.after_verify)
    )
    after_verify = (
        flow.Switch().Case(this.legal_review, _state(ObjectionState.DECISION_REVIEW)).Default(this.end)
    )
    legal_review = (
        CaseTask(steps=["approve_decision", "return_decision"], perm="objections.review_objection")
        .Annotation(title=_("Legal review of the decision"))
        .OnTimeout(deadline_timer_of(*_VERIFICATION_CLOCK), this.overdue, interrupting=False)
        .Next(this.after_legal_review)
    )
    after_legal_review = flow.Switch().Case(this.verify, _state(ObjectionState.ACCEPTED)).Default(this.end)
    overdue = Escalate(this.report_overdue)
    end = flow.End()

    def start_case(self, activation: Any, *, objection: Objection) -> Process:
        activation.process.artifact = objection
        activation.process.save()
        return activation.process

    def report_overdue(self, activation: Any) -> None:
        """Tell the head: the clock of the objection's current task ran out (once per deadline)."""
        objection = case_of(activation)
        if objection.state == ObjectionState.SUBMITTED:
            kinds = ["objection.forward", "objection.flag"]
        else:
            kinds = list(_VERIFICATION_CLOCK)
        deadline = clock_of(objection, kinds)
        escalate(deadline, objection, activation.task)


class ReconsiderationFlow(ScopedFlowMixin, flow.Flow):
    """start → acceptance (the office; 5 WD, then deemed accepted) ─┬─ accepted → decide → approval → end
                                                                  ├─ supplement asked → supplement
                                                                  │     (the applicant; 10 WD, then deemed
                                                                  │     withdrawn) → acceptance
                                                                  └─ not accepted, withdrawn → end
    The decision's clock (60 or 30 calendar days, +30 extended) escalates without interrupting."""

    process_class = Process
    lock_impl = lock.select_for_update_lock
    case_model = Reconsideration
    process_title = _("Administrative reconsideration")
    process_description = _("An application for administrative reconsideration of a decision.")
    process_summary_template = CASE_SUMMARY

    start = flow.StartHandle(this.start_case).Next(this.acceptance)
    acceptance = (
        CaseTask(steps=["accept", "reject", "request_supplement"], perm="objections.decide_reconsideration")
        .Annotation(title=_("Decide whether to accept the reconsideration"))
        .OnTimeout(deadline_timer_of("reconsideration.accept"), this.deem_accept, interrupting=True)
        .Next(this.after_acceptance)
    )
    deem_accept = flow.Function(this.deem_accepted).Next(this.decide)
    after_acceptance = (
        flow.Switch()
        .Case(this.decide, _state(ReconsiderationState.ACCEPTED))
        .Case(this.supplement, _state(ReconsiderationState.AWAITING_SUPPLEMENT))
        .Default(this.end)
    )
    supplement = (
        flow.Handle(this.done)
        .Annotation(title=_("Wait for the supplement"))
        .OnTimeout(
            deadline_timer_of("reconsideration.supplement_reply"), this.deem_withdraw, interrupting=True
        )
        .Next(this.after_supply)
    )
    deem_withdraw = flow.Function(this.deem_withdrawn).Next(this.withdrawn)
    after_supply = (
        flow.Switch().Case(this.acceptance, _state(ReconsiderationState.SUBMITTED)).Default(this.end)
    )
    decide = (
        CaseTask(steps=["draft"], perm="objections.decide_reconsideration")
        .Annotation(title=_("Review and draft the decision"))
        .OnTimeout(deadline_timer_of(*_RECONSIDERATION_CLOCK), this.overdue, interrupting=False)
        .Next(this.after_decide)
    )
    after_decide = (
        flow.Switch().Case(this.review, _state(ReconsiderationState.DECISION_REVIEW)).Default(this.end)
    )
    review = (
        CaseTask(steps=["approve", "return_draft"], perm="objections.decide_reconsideration")
        .Annotation(title=_("Approve the decision"))
        .OnTimeout(deadline_timer_of(*_RECONSIDERATION_CLOCK), this.overdue, interrupting=False)
        .Next(this.after_review)
    )
    after_review = flow.Switch().Case(this.decide, _state(ReconsiderationState.ACCEPTED)).Default(this.end)
    overdue = Escalate(this.report_overdue)
    end = flow.End()
    withdrawn = flow.End()

    def start_case(self, activation: Any, *, reconsideration: Reconsideration) -> Process:
        activation.process.artifact = reconsideration
        activation.process.save()
        return activation.process

    def done(self, activation: Any) -> None:
        """The step that ends this task was taken through the case's transition."""

    def deem_accepted(self, activation: Any) -> None:
        case = activation.process.artifact
        if case.state == ReconsiderationState.SUBMITTED:
            perform_transition(case, "deem_accepted", actor=SYSTEM)

    def deem_withdrawn(self, activation: Any) -> None:
        case = activation.process.artifact
        if case.state == ReconsiderationState.AWAITING_SUPPLEMENT:
            perform_transition(case, "deem_withdrawn", actor=SYSTEM)

    def report_overdue(self, activation: Any) -> None:
        case = case_of(activation)
        escalate(clock_of(case, _RECONSIDERATION_CLOCK), case, activation.task)


class ComplaintFlow(ScopedFlowMixin, flow.Flow):
    """start → reply (the head of the department concerned; the city's period, escalates) → end."""

    process_class = Process
    lock_impl = lock.select_for_update_lock
    case_model = Complaint
    process_title = _("Complaint")
    process_description = _("A complaint about a case's handling or a staff member's conduct.")
    process_summary_template = CASE_SUMMARY

    start = flow.StartHandle(this.start_case).Next(this.reply)
    reply = (
        CaseTask(steps=["answer"], perm="objections.reply_complaint")
        .Annotation(title=_("Reply to the complaint in writing"))
        .OnTimeout(deadline_timer_of("complaint.reply"), this.overdue, interrupting=False)
        .Next(this.end)
    )
    overdue = Escalate(this.report_overdue)
    end = flow.End()

    def scope(self, user: Any) -> Scope:
        from .complaint_services import complaint_scope

        return complaint_scope(user)

    def start_case(self, activation: Any, *, complaint: Complaint) -> Process:
        activation.process.artifact = complaint
        activation.process.save()
        return activation.process

    def report_overdue(self, activation: Any) -> None:
        complaint = case_of(activation)
        escalate(clock_of(complaint, ["complaint.reply"], running=False), complaint, activation.task)

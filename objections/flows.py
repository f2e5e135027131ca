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
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.models import Process

from credit.flows import deadline_overdue
from credit.models import Deadline
from credit.workflow import CASE_SUMMARY, CaseTask, ScopedFlowMixin, deadline_timer_of

from .models import Objection, ObjectionState


def _state(state: str) -> Any:
    return lambda activation: activation.process.artifact.state == state


# Verification runs through drafting and legal review; an extension replaces its clock.
_VERIFICATION_CLOCK = ("objection.verify", "objection.extend")


class ObjectionFlow(ScopedFlowMixin, flow.Flow):
    process_class = Process
    lock_impl = lock.select_for_update_lock
    case_model = Objection
    process_title = _("Objection")
    process_description = _("An objection to a credit record or a repair decision.")
    process_summary_template = CASE_SUMMARY

    start = flow.StartHandle(this.start_case).Next(this.register)
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
    overdue = flow.Function(this.report_overdue).Next(this.escalated)
    end = flow.End()
    escalated = flow.End()

    def start_case(self, activation: Any, *, objection: Objection) -> Process:
        activation.process.artifact = objection
        activation.process.save()
        return activation.process

    def report_overdue(self, activation: Any) -> None:
        """Tell the head: the clock of the objection's current task ran out (once per deadline)."""
        objection = activation.process.artifact
        if objection.state == ObjectionState.SUBMITTED:
            kinds = ["objection.forward", "objection.flag"]
        else:
            kinds = list(_VERIFICATION_CLOCK)
        deadline = (
            Deadline.objects.for_object(objection)
            .filter(kind__in=kinds, status__in=[Deadline.Status.PENDING, Deadline.Status.MISSED])
            .order_by("-pk")
            .first()
        )
        if deadline is not None:
            deadline_overdue.send(sender=Deadline, deadline=deadline, task=activation.task)

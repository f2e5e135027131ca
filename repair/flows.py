"""The repair case's work: who has to do what next, and the clocks on it. The case's state is the law
(repair.models); each task here is ended by a legal step of the case, whether taken on the task's page or
through the API (repair.services.on_step → credit.workflow.end_task).

    start → examine (officer; 3 WD, escalates)
            ├─ supplement asked → supplement (the applicant; 10 WD: the case lapses) → examine
            ├─ accepted → decide (officer; 7 WD, escalates; moved by an extension)
            │     → legal review (a reviewer who neither drafted nor verified)
            │           → approved: end; returned: decide
            ├─ non-acceptance proposed → review (reviewer) → examine again, or end
            └─ withdrawn → end
    reopen (a decision set aside) → decide again if it was a refusal, examine again if a non-acceptance

The human tasks (examine, decide, legal review, review) appear in viewflow's queue, inbox and archive pages
at /workflow/, limited to the user's departments (credit.workflow).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.models import Process

from credit.flows import Escalate, case_of, clock_of, escalate
from credit.services.deadlines import deadline_timer
from credit.services.transitions import System, perform_transition
from credit.workflow import (  # noqa: F401  (move_timer: used through this module by repair.services)
    CASE_SUMMARY,
    CaseTask,
    ScopedFlowMixin,
    deadline_timer_of,
    end_task,
    move_timer,
)

from .models import RepairCase, RepairState


def _state(state: str) -> Any:
    return lambda activation: activation.process.artifact.state == state


# The decision's clock runs through drafting and legal review; an extension replaces it.
_DECISION_CLOCK = ("repair.decide", "repair.extend")


class RepairFlow(ScopedFlowMixin, flow.Flow):
    process_class = Process
    lock_impl = lock.select_for_update_lock
    case_model = RepairCase
    process_title = _("Credit repair")
    process_description = _("A credit repair application, from filing to the decision.")
    process_summary_template = CASE_SUMMARY

    start = flow.StartHandle(this.start_case).Next(this.examine)
    # A decision set aside (a founded objection, a reconsideration) reopens the case: decide again.
    reopen = flow.StartHandle(this.start_case).Next(this.after_reopen)
    after_reopen = flow.Switch().Case(this.decide, _state(RepairState.ACCEPTED)).Default(this.examine)
    examine = (
        CaseTask(
            steps=["accept", "request_supplement", "propose_non_acceptance"], perm="repair.handle_repair"
        )
        .Annotation(title=_("Examine the application"))
        .OnTimeout(deadline_timer("repair.accept"), this.overdue, interrupting=False)
        .Next(this.after_examine)
    )
    after_examine = (
        flow.Switch()
        .Case(this.supplement, _state(RepairState.AWAITING_SUPPLEMENT))
        .Case(this.decide, _state(RepairState.ACCEPTED))
        .Case(this.review, _state(RepairState.NON_ACCEPTANCE_REVIEW))
        .Default(this.end)
    )
    supplement = (
        flow.Handle(this.done)
        .Annotation(title=_("Wait for the supplement"))
        .OnTimeout(deadline_timer("repair.supplement"), this.lapse, interrupting=True)
        .Next(this.after_wait)
    )
    review = (
        CaseTask(steps=["approve_non_acceptance", "return_non_acceptance"], perm="repair.review_repair")
        .Annotation(title=_("Legal review of the non-acceptance"))
        .Next(this.after_wait)
    )
    after_wait = flow.Switch().Case(this.examine, _state(RepairState.SUBMITTED)).Default(this.end)
    decide = (
        CaseTask(steps=["draft_decision"], perm="repair.handle_repair")
        .Annotation(title=_("Verify and draft the decision"))
        .OnTimeout(deadline_timer_of(*_DECISION_CLOCK), this.overdue, interrupting=False)
        .Next(this.after_decide)
    )
    after_decide = (
        flow.Switch().Case(this.legal_review, _state(RepairState.DECISION_REVIEW)).Default(this.end)
    )
    legal_review = (
        CaseTask(steps=["approve_decision", "return_decision"], perm="repair.review_repair")
        .Annotation(title=_("Legal review of the decision"))
        .OnTimeout(deadline_timer_of(*_DECISION_CLOCK), this.overdue, interrupting=False)
        .Next(this.after_legal_review)
    )
    after_legal_review = flow.Switch().Case(this.decide, _state(RepairState.ACCEPTED)).Default(this.end)
    lapse = flow.Function(this.lapse_case).Next(this.lapsed)
    overdue = Escalate(this.report_overdue)
    end = flow.End()
    lapsed = flow.End()

    def start_case(self, activation: Any, *, case: RepairCase) -> Process:
        activation.process.artifact = case
        activation.process.save()
        return activation.process

    def done(self, activation: Any) -> None:
        """The step that ends this task was taken through the case's transition."""

    def lapse_case(self, activation: Any) -> None:
        case = activation.process.artifact
        if case.state == RepairState.AWAITING_SUPPLEMENT:
            perform_transition(case, "lapse", actor=System("system:repair-timer"))

    def report_overdue(self, activation: Any) -> None:
        """Tell the head: the clock of the case's current task ran out (keyed by the deadline: told once)."""
        case = case_of(activation)
        kinds = ["repair.accept"] if case.state == RepairState.SUBMITTED else list(_DECISION_CLOCK)
        escalate(clock_of(case, kinds), case, activation.task)


def complete(case: RepairCase, node: Any, actor: Any = None) -> None:
    """End the case's open task at `node`, if it has one (inside the step's transaction)."""
    end_task(case, node, actor)

"""The repair case's work: who has to do what next, and the clocks on it. The case's state is the law
(repair.models); each task here is completed by the step that ends it (repair.services.on_step).

    start → examine (3 WD, escalates) ─┬─ supplement asked → supplement (10 WD: lapses the case) → examine
                                        ├─ accepted → decide (7 WD, escalates; moved by an extension) → end
                                        ├─ non-acceptance proposed → legal review → examine again, or end
                                        └─ withdrawn → end
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from credit.flows import deadline_overdue
from credit.models import Deadline
from credit.services.deadlines import deadline_timer
from credit.services.transitions import System, perform_transition

from .models import RepairCase, RepairState


def _state(state: str) -> Any:
    return lambda activation: activation.process.artifact.state == state


class RepairFlow(flow.Flow):
    process_class = Process
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_case).Next(this.examine)
    examine = (
        flow.Handle(this.done)
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
        .OnTimeout(deadline_timer("repair.supplement"), this.lapse, interrupting=True)
        .Next(this.after_wait)
    )
    review = flow.Handle(this.done).Next(this.after_wait)
    after_wait = flow.Switch().Case(this.examine, _state(RepairState.SUBMITTED)).Default(this.end)
    decide = (
        flow.Handle(this.done)
        .OnTimeout(deadline_timer("repair.decide"), this.overdue, interrupting=False)
        .Next(this.end)
    )
    lapse = flow.Function(this.lapse_case).Next(this.lapsed)
    overdue = flow.Function(this.report_overdue).Next(this.escalated)
    end = flow.End()
    lapsed = flow.End()
    escalated = flow.End()

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
        case = activation.process.artifact
        deadline = (
            Deadline.objects.for_object(case)
            .pending()
            .filter(kind__in=["repair.accept", "repair.decide", "repair.extend"])
            .order_by("due_date")
            .first()
        )
        if deadline is not None:
            deadline_overdue.send(sender=Deadline, deadline=deadline, task=activation.task)


def complete(case: RepairCase, node: Any) -> None:
    """Complete the case's open task at `node`, if it has one (inside the step's transaction)."""
    process = Process.objects.filter(
        artifact_content_type=ContentType.objects.get_for_model(RepairCase), artifact_object_id=case.pk
    ).first()
    if process is None:
        return
    task = Task.objects.filter(process=process, flow_task=node, status=STATUS.NEW).first()
    if task is not None:
        node.run(task)


def move_timer(original: Deadline, replacement: Deadline) -> None:
    """An extension moves the boundary timer of the deadline it replaces to the new due moment."""
    if original.task_id is not None:
        Task.objects.filter(pk=original.task_id, status=STATUS.SCHEDULED).update(scheduled=replacement.due_at)
        Deadline.objects.filter(pk=replacement.pk).update(task_id=original.task_id)

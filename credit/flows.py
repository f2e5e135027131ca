"""Flows of the credit kernel. The flow routes the work; the record's transitions are the law.

RecordMaskFlow: when a court accepts a bankruptcy reorganisation, the deciding department masks the
person's record within 10 working days (Order 36 Art. 20). The deadline row drives the boundary timer; an
overdue mask is escalated without interrupting the officer's task.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.dispatch import Signal
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.models import Process

from credit.models import CreditRecord, Deadline, RuleSet
from credit.services.deadlines import deadline_timer, meet_deadline, open_deadline
from credit.services.transitions import perform_transition

# Sent when a deadline's boundary timer fires before its task is done: sender=Deadline, deadline, task.
# The notifications registry (issue #4) will tell the head of department; nothing listens yet.
deadline_overdue = Signal()


def case_of(activation: Any) -> Any:
    """The process's case with its department, in one query (escalations run by the thousand per sweep)."""
    process = activation.process
    model = ContentType.objects.get_for_id(process.artifact_content_type_id).model_class()
    assert model is not None
    return model._default_manager.select_related("department").get(pk=process.artifact_object_id)


def escalate(deadline: Deadline | None, subject: Any, task: Any) -> None:
    """Report an overdue deadline (the receivers tell the head), its subject already at hand."""
    if deadline is None:
        return
    deadline.subject = subject  # the generic relation's cache: the receivers need not fetch it again
    deadline_overdue.send(sender=Deadline, deadline=deadline, task=task)


class RecordMaskFlow(flow.Flow):
    process_class = Process
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.mask)
    mask = (
        flow.Handle(this.do_mask)
        .OnTimeout(deadline_timer("record.mask"), this.escalate, interrupting=False)
        .Next(this.end)
    )
    escalate = flow.Function(this.report_overdue).Next(this.escalated)
    escalated = flow.End()
    end = flow.End()

    def start_process(self, activation: Any, *, record: CreditRecord, received: date, ruling: str) -> Process:
        activation.process.artifact = record
        activation.process.data = {"ruling": ruling, "received": received.isoformat()}
        activation.process.save()
        # Procedure follows the rule set in force when the ruling was received.
        open_deadline(
            subject=record, kind="record.mask", start=received, ruleset=RuleSet.objects.in_force(received)
        )
        return activation.process

    def do_mask(self, activation: Any, *, officer: Any) -> None:
        record = activation.process.artifact
        perform_transition(record, "temp_mask", actor=officer, reason=activation.process.data["ruling"])
        meet_deadline(subject=record, kind="record.mask")

    def report_overdue(self, activation: Any) -> None:
        record = case_of(activation)
        deadline = Deadline.objects.for_object(record).filter(kind="record.mask").order_by("-pk").first()
        escalate(deadline, record, activation.task)

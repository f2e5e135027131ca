"""Flows of the credit kernel. The flow routes the work; the record's transitions are the law.

RecordMaskFlow: when a court accepts a bankruptcy reorganisation, the deciding department masks the
person's record within 10 working days (Order 36 Art. 20). The deadline row drives the boundary timer; an
overdue mask is escalated without interrupting the officer's task.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.dispatch import Signal
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.models import Process

from credit.batching import prime, taken
from credit.models import CreditRecord, Deadline, RuleSet
from credit.services.deadlines import deadline_timer, meet_deadline, open_deadline
from credit.services.transitions import perform_transition

# Sent when a deadline's boundary timer fires before its task is done: sender=Deadline, deadline, task.
# The notifications registry (issue #4) will tell the head of department; nothing listens yet.
deadline_overdue = Signal()


def case_of(activation: Any) -> Any:
    """The process's case with its department, in one query (or from the sweep's batch, which read every
    case of its timers at once: see prime_cases)."""
    process = activation.process
    content_type_id, object_id = process.artifact_content_type_id, process.artifact_object_id

    def load() -> Any:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        assert model is not None
        return model._default_manager.select_related("department").get(pk=object_id)

    return taken(("case", content_type_id, object_id), load)


def _deadlines(content_type_id: int, object_id: int) -> list[Deadline]:
    return list(Deadline.objects.filter(content_type_id=content_type_id, object_id=object_id).order_by("pk"))


def clock_of(subject: Any, kinds: Collection[str], *, running: bool = True) -> Deadline | None:
    """The subject's latest deadline of these kinds (only open ones, if `running`: pending, or missed with the
    step outstanding): the clock whose timer ran out."""
    content_type_id = ContentType.objects.get_for_model(subject).pk
    deadlines = taken(
        ("deadlines", content_type_id, subject.pk), lambda: _deadlines(content_type_id, subject.pk)
    )
    for deadline in reversed(deadlines):
        still_open = deadline.status == Deadline.Status.PENDING or (
            deadline.status == Deadline.Status.MISSED and deadline.closed_at is None
        )
        if deadline.kind in kinds and (not running or still_open):
            return deadline
    return None


def prime_cases(processes: Iterable[Any]) -> None:
    """Read the cases of these processes, with their departments and deadlines, in one query per case type
    and one for all their deadlines, for case_of and clock_of during a sweep's batch."""
    by_type: dict[int, set[int]] = {}
    for process in processes:
        if process.artifact_content_type_id and process.artifact_object_id:
            by_type.setdefault(process.artifact_content_type_id, set()).add(process.artifact_object_id)
    for content_type_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is None:
            continue
        related = ["department"] if any(f.name == "department" for f in model._meta.fields) else []
        found: dict[int, list[Deadline]] = {pk: [] for pk in ids}
        for case in model._default_manager.select_related(*related).filter(pk__in=ids):
            prime(("case", content_type_id, case.pk), case)
        for deadline in Deadline.objects.filter(content_type_id=content_type_id, object_id__in=ids).order_by(
            "pk"
        ):
            found[deadline.object_id].append(deadline)
        for pk, deadlines in found.items():
            prime(("deadlines", content_type_id, pk), deadlines)


class Escalate(flow.Function):
    """The path of a non-interrupting deadline timer: report the overdue deadline, and end there. The task it
    leaves is the record that the escalation ran; no End follows it (an activity without an outgoing flow ends
    its path, as in BPMN), which spares every escalation a second task, its link and a count of the process's
    open tasks. The process ends when its main path does."""


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
    escalate = Escalate(this.report_overdue)
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
        escalate(clock_of(record, ["record.mask"], running=False), record, activation.task)

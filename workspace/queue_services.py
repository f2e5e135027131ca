"""Taking and giving tasks from the staff queues: claim, give to a colleague (assign, reassign, in bulk),
release. Each goes through viewflow's task activation (`assign`, `reassign`, `unassign`) under the flow's
process lock, with the rules of the stock pages checked explicitly, because viewflow does not enforce a
transition's `permission=` when it is called (../shared/FINDINGS.md):

- claim: viewflow's `can_assign` for the user (the owner permission, and `CaseTask.may_work`: a step of the
  task the user may take on this case now, four-eyes included);
- give: the colleague must be able to claim the task (so the drafter never gets the approval); the giver
  must be able to claim it too (a peer hands out shared work), or own it (hands it over), or be the head of
  the case's department (for department work);
- release: the owner (`can_unassign`; nobody has viewflow's manage permission here).

viewflow keeps only a task's current owner. Each change is also written to the case's audit trail
(`TransitionLog` through `write_log`, in the same transaction; the case's state does not change): who did it,
the step, from whom to whom (in the entry's details, not its reason, which applicants see), and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.models import User
from credit.selectors import is_staff_member
from credit.services.transitions import write_log

from .queues import Step, could_claim, heads_department, is_department_step, step_of

logger = logging.getLogger("workspace.assignments")


class Refused(Exception):
    def __init__(self, message: str, task_id: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.task_id = task_id


def _locked(task_id: int, actor: Any) -> tuple[Task, Step, Any]:
    """The task, re-read under its process lock (call inside the lock), its step and its case, if the actor
    may see the case; else Refused, saying nothing about a task out of scope."""
    task = Task.objects.select_related("process", "owner").filter(pk=task_id).first()
    step = step_of(task) if task is not None else None
    if task is None or step is None:
        raise Refused(_("There is no such task among yours."), task_id)
    case = step.kind.visible(actor).filter(pk=task.process.artifact_object_id).first()
    if case is None or task.process.artifact_content_type_id != step.kind.content_type().pk:
        raise Refused(_("There is no such task among yours."), task_id)
    task.process.artifact = case
    return task, step, case


@contextmanager
def _each_locked(task_ids: list[int], actor: Any) -> Iterator[list[tuple[Task, Step, Any]]]:
    """Inside a transaction: lock the tasks' processes (the flows' own lock, the one a step and the timer
    sweep take) in one order, process id then task id, so that two bulk actions never wait on each other in
    a cycle; re-read each task under its lock; hold every lock until the work is done."""
    found = dict(Task.objects.filter(pk__in=task_ids).values_list("pk", "process_id"))
    missing = [pk for pk in task_ids if pk not in found]
    if missing:
        raise Refused(_("There is no such task among yours."), missing[0])
    with ExitStack() as locks:
        result = []
        for task_id in sorted(task_ids, key=lambda pk: (found[pk], pk)):
            node = Task.objects.get(pk=task_id).flow_task
            if node is None:
                raise Refused(_("There is no such task among yours."), task_id)
            try:
                locks.enter_context(node.flow_class.lock(found[task_id]))
            except FlowLockFailed as exc:
                raise Refused(_("Someone is working on this case right now; try again."), task_id) from exc
            result.append(_locked(task_id, actor))
        yield result


def _log(
    case: Any, name: str, actor: Any, task: Task, step: Step, before: Any, after: Any, reason: str
) -> None:
    write_log(
        case,
        name,
        source=case.state,
        target=case.state,
        actor=actor,
        reason=reason.strip(),
        payload={
            "task": task.pk,
            "step": step.ref,
            "from": before.get_username() if before is not None else None,
            "to": after.get_username() if after is not None else None,
        },
    )
    logger.info(
        "task %s (%s) %s by user %s: %s -> %s",
        task.pk,
        step.ref,
        name,
        actor.pk,
        getattr(before, "pk", None),
        getattr(after, "pk", None),
    )


def claim(*, task_id: int, actor: Any) -> Task:
    """The actor takes an unclaimed task of their queue."""
    with transaction.atomic(), _each_locked([task_id], actor) as locked:
        ((task, step, case),) = locked
        if task.status != STATUS.NEW or task.owner_id is not None:
            raise Refused(_("This task has been claimed or done already."), task_id)
        if not task.flow_task.can_assign(actor, task):
            raise Refused(
                _("You may not take this task now (your role, your department or four-eyes)."), task_id
            )
        activation = task.flow_task.activation_class(task)
        task.assigned = timezone.now()
        activation.assign(actor)
        _log(case, "claim", actor, task, step, None, actor, "")
    return task


def give(*, task_ids: list[int], to: Any, actor: Any, reason: str = "") -> list[Task]:
    """Give tasks to a colleague: all of them, or none (the first refusal is raised and nothing changes)."""
    if not isinstance(to, User) or not (to.is_active and is_staff_member(to)):
        raise Refused(_("Tasks can be given to active staff only."))
    given = []
    with transaction.atomic(), _each_locked(task_ids, actor) as locked:
        for task, step, case in locked:
            label = case.number or str(case)
            previous = task.owner
            if task.status not in (STATUS.NEW, STATUS.ASSIGNED):
                raise Refused(_("%(case)s: this task is being worked on or done.") % {"case": label}, task.pk)
            if previous is not None and previous.pk == to.pk:
                raise Refused(
                    _("%(case)s: the task is %(user)s's already.")
                    % {"case": label, "user": to.get_username()},
                    task.pk,
                )
            head = heads_department(actor, case) and is_department_step(step)
            if previous is None:
                allowed = head or could_claim(actor, task)
            else:
                allowed = head or previous.pk == actor.pk
            if not allowed:
                raise Refused(_("%(case)s: you may not hand out this task.") % {"case": label}, task.pk)
            if not could_claim(to, task):
                raise Refused(
                    _("%(case)s: %(user)s may not take this task (role, department or four-eyes).")
                    % {"case": label, "user": to.get_username()},
                    task.pk,
                )
            activation = task.flow_task.activation_class(task)
            task.assigned = timezone.now()
            if previous is None:
                activation.assign(to)
                name = "assign"
            else:
                activation.reassign(user=to)
                name = "reassign"
            _log(case, name, actor, task, step, previous, to, reason)
            given.append(task)
    return given


def release(*, task_id: int, actor: Any) -> Task:
    """The owner puts a claimed task back in the queue."""
    with transaction.atomic(), _each_locked([task_id], actor) as locked:
        ((task, step, case),) = locked
        if task.status != STATUS.ASSIGNED or not task.flow_task.can_unassign(actor, task):
            raise Refused(_("Only the task's owner can put it back, before working on it."), task_id)
        previous = task.owner
        activation = task.flow_task.activation_class(task)
        task.assigned = None
        activation.unassign()
        _log(case, "release", actor, task, step, previous, None, "")
    return task

"""The timer dispatcher: viewflow's due timer tasks, claimed in bounded batches and fired through viewflow's
activation API, exactly once however many workers and beats sweep at the same time.

viewflow's own `fire_due_timers()` reads every due timer at once, then takes one process lock per timer with
a back-off of up to seconds when another sweep holds it, and retries a failing escalation on every sweep
forever, only logging it (../shared/FINDINGS.md). Here:

- **Claim.** Each batch is claimed with `SELECT … FOR UPDATE SKIP LOCKED` on the due timer rows, in the order
  they fell due, through a partial index on scheduled timers (`viewflow_task_due_timers`). Parallel sweeps
  take disjoint batches and never wait on each other. A row fired by one sweep is no longer SCHEDULED for the
  next, which re-checks it under the lock.
- **Fire.** Each timer fires in its own savepoint, under the process's row lock taken without waiting (a
  process that a person is working on right now is skipped and fired by the next sweep). A timer whose
  host task has finished since it was claimed is cancelled by viewflow itself, as before.
- **Fail.** viewflow keeps a failed escalation task in ERROR and carries on silently. Here the failure is
  also written on the timer task, and reported once (the `timer.failed` notification to the head of the
  department and the administrators). A timer that cannot fire at all is marked ERROR itself. Neither is
  retried on every sweep. After fixing the cause, an administrator revives it (`credit.timers.revive_failed`).
- **Read once.** What the firings of a batch need (their cases and deadlines, a department's head, a
  user's notification preferences) is read once per batch (`credit.batching`), not once per timer.
- **Join in.** A sweep that finds more than a batch due calls for help (`on_backlog`): beat's task then
  queues helper sweeps, which the worker's other pool processes run beside it (settings.TIMER_SWEEP_HELPERS).
- **Commit.** Each batch commits on its own: a worker killed mid-sweep loses at most its current batch's
  uncommitted work, which the next sweep claims again; nothing is half-fired, because a firing and its
  effects are one savepoint inside the batch's transaction.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from credit.batching import batch
from credit.flows import prime_cases

logger = logging.getLogger(__name__)

DUE_TIMERS = Q(flow_task_type="TIMER", status=STATUS.SCHEDULED)


@dataclass
class SweepResult:
    fired: int = 0
    skipped: int = 0  # the process was locked by someone working on it: the next sweep fires it
    failed: list[int] = field(default_factory=list)
    batches: int = 0


def due_timer_ids(
    now: datetime, limit: int, *, passed_over: set[int] | frozenset[int] = frozenset()
) -> list[int]:
    """Claim up to `limit` due timer rows for this transaction (skipping rows another sweep has claimed, and
    the ones this sweep has passed over because a person held their process)."""
    return list(
        Task.objects.filter(DUE_TIMERS, scheduled__lte=now)
        .exclude(pk__in=passed_over)
        .order_by("scheduled", "pk")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)[:limit]
    )


def _lock_process(task: Task) -> bool:
    """The process row, without waiting: False if someone holds it now."""
    process_class = task.flow_task.flow_class.process_class
    try:
        with transaction.atomic():
            process_class._default_manager.filter(pk=task.process_id).select_for_update(nowait=True).exists()
    except DatabaseError:
        return False
    return True


def _fire(task: Task) -> bool:
    activation = task.flow_task.activation_class(task)
    start = getattr(activation, "start", None)
    if start is None:  # the timer node was renamed or removed: an orphan that can never fire
        raise LookupError(f"timer task {task.pk} references a missing node {task.flow_task!r}")
    if not start.can_proceed():
        return False
    activation.start()
    activation.execute()
    return True


def _record_failure(timer_id: int, failed: Task | None, error: str, trace: str = "") -> None:
    """Mark the failure on the timer task and tell the people who can act on it, once: a failed timer leaves
    the due set, and a failed escalation task stays failed, so no later sweep meets either again."""
    timer = Task.objects.get(pk=timer_id)
    data = dict(timer.data or {})
    if failed is None:  # the timer itself could not fire
        timer.status = STATUS.ERROR
        timer.finished = timezone.now()
        data["_exception"] = {"title": error, "traceback": trace[-4000:]}
        timer.data = data
        timer.save(update_fields=["status", "finished", "data"])
    else:  # it fired, and the escalation it started failed (viewflow keeps that task in ERROR)
        data["_escalation_failed"] = {"task": failed.pk, "error": error}
        timer.data = data
        timer.save(update_fields=["data"])
    from credit.signals import timer_failed

    timer_failed.send(sender=Task, task=failed or timer, error=error)


def _failed_downstream(fired: dict[int, Task], since: datetime) -> list[Task]:
    """The tasks of these timers' paths that viewflow recorded as failed (one per process at most)."""
    if not fired:
        return []
    failed = (
        Task.objects.filter(process_id__in=list(fired), status=STATUS.ERROR, created__gte=since)
        .exclude(pk__in=[timer.pk for timer in fired.values()])
        .order_by("pk")
    )
    first: dict[int, Task] = {}
    for task in failed:
        first.setdefault(task.process_id, task)
    return list(first.values())


def _lock_processes(tasks: list[Task]) -> set[int]:
    """The batch's process rows, locked without waiting; the ones someone holds now are left out."""
    ids = {task.process_id for task in tasks}
    return set(
        Process.objects.filter(pk__in=ids).select_for_update(skip_locked=True).values_list("pk", flat=True)
    )


def _run_batch(ids: list[int], result: SweepResult, passed_over: set[int], *, careful: bool) -> None:
    """Fire the claimed timers. Optimistic by default: no savepoint per timer (viewflow already keeps a
    failing escalation in its own savepoint and marks it ERROR); should a firing itself raise, the caller
    rolls the batch back and runs it again `careful`ly, each timer in its own savepoint."""
    with batch():
        _fire_batch(ids, result, passed_over, careful=careful)


def _fire_batch(ids: list[int], result: SweepResult, passed_over: set[int], *, careful: bool) -> None:
    tasks = list(Task.objects.filter(pk__in=ids).select_related("process").order_by("scheduled", "pk"))
    free = _lock_processes(tasks)
    # The escalations of the batch read their cases and deadlines from here: two queries, not two per timer.
    prime_cases(task.process for task in tasks if task.process_id in free)
    failures: list[tuple[int, Task | None, str, str]] = []
    fired_by_process: dict[int, Task] = {}
    started = timezone.now()
    for task in tasks:
        if task.process_id not in free:
            result.skipped += 1
            passed_over.add(task.pk)
            continue
        if careful:
            try:
                with transaction.atomic():
                    fired = _fire(task)
            except Exception as exc:  # one broken flow must not stop the sweep
                logger.exception("Timer task %s failed to fire", task.pk)
                failures.append((task.pk, None, str(exc), traceback.format_exc()))
                continue
        else:
            fired = _fire(task)
        if fired:
            result.fired += 1
            fired_by_process[task.process_id] = task
    # One query for the whole batch: the escalations viewflow recorded as failed.
    for failed in _failed_downstream(fired_by_process, started):
        timer = fired_by_process[failed.process_id]
        error = (failed.data or {}).get("_exception", {}).get("title", "")
        logger.error("The escalation of timer task %s failed: %s", timer.pk, error)
        failures.append((timer.pk, failed, error, ""))
    for timer_id, failed, error, trace in failures:
        with transaction.atomic():
            _record_failure(timer_id, failed, error, trace)
        result.failed.append(timer_id)


def dispatch_due_timers(
    *,
    batch_size: int = 500,
    now: datetime | None = None,
    max_batches: int | None = None,
    on_backlog: Callable[[], Any] | None = None,
) -> SweepResult:
    """Fire every due timer, a batch per transaction. Returns what was done. `on_backlog` is called once, when
    the first batch was full and has committed: more is due than one batch, and other sweeps may join in."""
    result = SweepResult()
    now = now or timezone.now()
    passed_over: set[int] = set()
    backlog = False
    while max_batches is None or result.batches < max_batches:
        if backlog and on_backlog is not None:
            on_backlog()
            on_backlog = None
        with transaction.atomic():
            ids = due_timer_ids(now, batch_size, passed_over=passed_over)
            if not ids:
                break
            backlog = len(ids) == batch_size
            result.batches += 1
            attempt = SweepResult()
            try:
                with transaction.atomic():
                    _run_batch(ids, attempt, passed_over, careful=False)
            except Exception:
                logger.warning("A timer of the batch raised; the batch runs again, timer by timer")
                attempt = SweepResult()
                _run_batch(ids, attempt, passed_over, careful=True)
            result.fired += attempt.fired
            result.skipped += attempt.skipped
            result.failed += attempt.failed
    return result


def revive_failed(task: Task) -> None:
    """After the cause is fixed: a failed escalation task runs again now (viewflow's revive); a timer that
    could not fire is scheduled again, for the next sweep."""
    if task.status != STATUS.ERROR:
        raise ValueError("Only a failed task can be revived")
    if task.flow_task_type == "TIMER":
        Task.objects.filter(pk=task.pk, status=STATUS.ERROR).update(
            status=STATUS.SCHEDULED, finished=None, scheduled=timezone.now()
        )
        return
    with transaction.atomic(), task.activation() as activation:
        activation.revive()


def sweep_cost_query(now: datetime) -> Any:
    """The query a sweep with nothing due runs, for EXPLAIN in tests and the bench."""
    return (
        Task.objects.filter(DUE_TIMERS, scheduled__lte=now).order_by("scheduled", "pk").values_list("pk")[:1]
    )

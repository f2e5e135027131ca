"""Recomputation of pending deadlines after a change of the working-day calendar.

A calendar change (a `CalendarDay` override entered, changed or deleted; a `CalendarYear` marked or unmarked
official; an operator's request) is written as a `CalendarChange` row in the change's own transaction, and
recomputed after commit (`credit.recompute_tasks`; the command `recompute_deadlines`):

- **Which deadlines.** Every pending deadline whose counting window touches the changed days: due on or after
  the first changed day and counted from on or before the last (`deadline_pending_window` index). A count
  only ever looks at days in [start, due], so a deadline outside that window cannot change. This takes
  non-provisional deadlines too: an override of a day in a year chinese_calendar knows moves them as well.
  A change without days (the operator's default) takes every pending provisional deadline.
- **By the same rule.** Each is counted again by `compute_due` from its own start date, value and unit, so
  its due date and provisional flag are exactly what opening it now would give.
- **What moves.** A deadline whose due date or flag changed is updated, its waiting viewflow timer
  (`Deadline.task`, status SCHEDULED) is rescheduled to the new due moment, and a `DeadlineChange` row keeps
  the old and new values and the cause. A new due moment already past is written as it is: its timer fires
  at the next sweep, and the missed-deadline sweep closes it.
- **Batches.** Candidates are read in keyset order (due date, start date, id), 1,000 at a time by default;
  each batch's writes are one transaction, taking the timer rows' locks before the deadlines' (the order the
  timer sweep takes them), and re-checking each deadline under its lock. A failure rolls its batch back and
  leaves the change to be recomputed again; a second run changes nothing.
- **One at a time.** Two recomputations running together could each miss the other's change (one reads the
  calendar before the other's commit, the other reads the deadlines before the first one's), so they take
  turns: a PostgreSQL advisory lock, a file lock on SQLite.

Closed deadlines (met, missed, extended, cancelled) are history and are not recomputed.
"""

from __future__ import annotations

import fcntl
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.dispatch import Signal
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit import calendar
from credit.models import CalendarChange, Deadline, DeadlineChange
from credit.models.deadlines import due_moment
from credit.services.deadlines import compute_due
from credit.signals import deadlines_changed

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# pg_advisory_lock key: "deadline recompute", any constant the other users of advisory locks do not take.
_LOCK_KEY = 0x0DEAD11E
_ONE_DAY = timedelta(days=1)

# Sent inside each batch's transaction, after its rows are written: sender=CalendarChange, change, changes
# (the batch's DeadlineChange rows). Receivers that reach outside the database use transaction.on_commit.
deadlines_recomputed = Signal()


@dataclass
class RecomputeResult:
    changes: int = 0  # calendar changes recomputed
    examined: int = 0  # pending deadlines counted again
    changed: int = 0  # deadlines whose due date or provisional flag changed (one DeadlineChange each)
    moved: int = 0  # of those, deadlines whose due date changed
    timers_moved: int = 0
    batches: int = 0

    def add(self, other: RecomputeResult) -> None:
        for name in ("changes", "examined", "changed", "moved", "timers_moved", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


# -- recording a change ------------------------------------------------------------------------------------
def record_day_change(
    *, day: date, before: str | None, after: str | None, name: str = "", source: str = ""
) -> CalendarChange | None:
    """An override of `day` went from kind `before` to `after` (None: no override). None if nothing changed
    for counting (only the name or source was edited)."""
    if before == after:
        return None
    return CalendarChange.objects.create(
        kind=CalendarChange.Kind.DAY_DELETED if after is None else CalendarChange.Kind.DAY_SAVED,
        first=day,
        last=day,
        details={"date": day.isoformat(), "before": before, "after": after, "name": name, "source": source},
    )


def record_year_change(*, year: int, before: bool, after: bool, source: str = "") -> CalendarChange | None:
    """`CalendarYear(year).official` went from `before` to `after` (a missing row is not official)."""
    if before == after:
        return None
    return CalendarChange.objects.create(
        kind=CalendarChange.Kind.YEAR_CHANGED,
        first=date(year, 1, 1),
        last=date(year, 12, 31),
        details={"year": year, "before": before, "after": after, "source": source},
    )


def request_recomputation(*, year: int | None = None) -> CalendarChange:
    """An operator's run: the pending deadlines touching `year`, or every pending provisional deadline."""
    window = (date(year, 1, 1), date(year, 12, 31)) if year is not None else (None, None)
    return CalendarChange.objects.create(
        kind=CalendarChange.Kind.OPERATOR,
        first=window[0],
        last=window[1],
        details={"year": year} if year is not None else {},
    )


def pending_changes() -> models.QuerySet[CalendarChange]:
    return CalendarChange.objects.filter(recomputed_at__isnull=True).order_by("created_at", "pk")


# -- recomputing -------------------------------------------------------------------------------------------
def recompute_pending(*, wait: bool = False, batch_size: int = BATCH_SIZE) -> RecomputeResult:
    """Recompute every calendar change not yet recomputed, oldest first.

    If another recomputation holds the turn and `wait` is false, return at once: the holder looks for
    changes again after it lets go, so a change committed while it ran is not left behind."""
    result = RecomputeResult()
    while True:
        with _one_at_a_time(wait=wait) as mine:
            if not mine:
                logger.info("Another deadline recomputation is running; it takes the new changes")
                return result
            while (change := pending_changes().first()) is not None:
                result.add(recompute_change(change, batch_size=batch_size))
        if not pending_changes().exists():
            return result


def recompute_change(change: CalendarChange, *, batch_size: int = BATCH_SIZE) -> RecomputeResult:
    """Recompute the pending deadlines `change` may have moved, then mark it recomputed. Call it under the
    turn (`recompute_pending`) unless nothing else can run (tests, a shell)."""
    result = RecomputeResult(changes=1)
    after: tuple[date, date, int] | None = None
    while True:
        rows = [_Row(*row) for row in candidates(change, after)[:batch_size]]
        if not rows:
            break
        after = (rows[-1].due_date, rows[-1].start_date, rows[-1].pk)
        result.add(_recompute_batch(change, rows))
    CalendarChange.objects.filter(pk=change.pk).update(
        recomputed_at=timezone.now(),
        # Counted, not added: a run that failed half-way and its retry both wrote history for it.
        moved=DeadlineChange.objects.filter(cause=change).count(),
    )
    logger.info(
        "Calendar change %s: %d pending deadline(s) counted again, %d changed, %d timer(s) moved",
        change.pk,
        result.examined,
        result.changed,
        result.timers_moved,
    )
    return result


@dataclass(frozen=True)
class _Row:
    pk: int
    start_date: date
    value: int
    unit: str
    due_date: date
    provisional: bool
    task_id: int | None


def candidates(
    change: CalendarChange, after: tuple[date, date, int] | None = None
) -> models.QuerySet[Deadline, tuple[Any, ...]]:
    """The pending deadlines `change` may have moved, after the keyset `after`, in (due date, start date, id)
    order: the order of the `deadline_pending_window` index."""
    queryset = Deadline.objects.pending()
    window = change.window
    if window is None:
        queryset = queryset.filter(provisional=True)
    else:
        first, last = window
        queryset = queryset.filter(due_date__gte=first, start_date__lte=last)
    if after is not None:
        due, start, pk = after
        queryset = queryset.filter(due_date__gte=due).filter(
            models.Q(due_date__gt=due)
            | models.Q(due_date=due, start_date__gt=start)
            | models.Q(due_date=due, start_date=start, pk__gt=pk)
        )
    fields = ("pk", "start_date", "value", "unit", "due_date", "provisional", "task_id")
    return queryset.order_by("due_date", "start_date", "pk").values_list(*fields)


def _recompute_batch(change: CalendarChange, rows: list[_Row]) -> RecomputeResult:
    result = RecomputeResult(examined=len(rows), batches=1)
    # One read of the calendar for the batch: every count looks only at days on or after its start date.
    days = calendar.Days(min(r.start_date for r in rows), max(r.due_date for r in rows) + 31 * _ONE_DAY)
    wanted: dict[int, calendar.DueDate] = {}
    for row in rows:
        due = compute_due(start=row.start_date, value=row.value, unit=row.unit, days=days)
        if (due.date, due.provisional) != (row.due_date, row.provisional):
            wanted[row.pk] = due
    if not wanted:
        return result

    with transaction.atomic():
        # The timer rows first, then the deadlines: the order in which the timer sweep locks them.
        asked = {r.task_id for r in rows if r.pk in wanted and r.task_id and wanted[r.pk].date != r.due_date}
        scheduled = _lock_scheduled_timers(asked)
        locked = (
            Deadline.objects.filter(pk__in=wanted, status=Deadline.Status.PENDING)
            .select_for_update(of=("self",))
            .order_by("pk")
            .values_list("pk", "due_date", "provisional", "task_id")
        )
        now = timezone.now()
        values: dict[tuple[date, bool], list[int]] = defaultdict(list)
        timers: dict[datetime, list[int]] = defaultdict(list)
        history: list[DeadlineChange] = []
        for pk, old_due, old_provisional, task_id in locked:
            new = wanted[pk]
            # Re-checked under the lock: closed since the read (skipped by the filter), or already moved.
            if (new.date, new.provisional) == (old_due, old_provisional):
                continue
            if new.date != old_due and task_id is not None and task_id not in asked:
                # Linked to a new timer since the read (a task that started in between).
                asked.add(task_id)
                scheduled |= _lock_scheduled_timers({task_id})
            timer = task_id if new.date != old_due and task_id in scheduled else None
            values[(new.date, new.provisional)].append(pk)
            if timer is not None:
                timers[due_moment(new.date)].append(timer)
            history.append(
                DeadlineChange(
                    deadline_id=pk,
                    cause=change,
                    old_due=old_due,
                    new_due=new.date,
                    old_provisional=old_provisional,
                    new_provisional=new.provisional,
                    timer_task_id=timer,
                    at=now,
                )
            )
        for (due_date, provisional), pks in values.items():
            Deadline.objects.filter(pk__in=pks).update(due_date=due_date, provisional=provisional)
        if values:
            moved = [pk for pks in values.values() for pk in pks]
            deadlines_changed.send(sender=Deadline, deadline_ids=moved)
        for moment, task_ids in timers.items():
            result.timers_moved += Task.objects.filter(pk__in=task_ids, status=STATUS.SCHEDULED).update(
                scheduled=moment
            )
        DeadlineChange.objects.bulk_create(history)
        result.changed = len(history)
        result.moved = sum(1 for h in history if h.new_due != h.old_due)
        if history:
            deadlines_recomputed.send(sender=CalendarChange, change=change, changes=history)
    return result


def _lock_scheduled_timers(task_ids: set[int]) -> set[int]:
    """Lock the timer tasks among `task_ids` that are still waiting; return their ids."""
    if not task_ids:
        return set()
    return set(
        Task.objects.filter(pk__in=task_ids, status=STATUS.SCHEDULED)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@contextmanager
def _one_at_a_time(*, wait: bool) -> Iterator[bool]:
    """The turn to recompute: yields False if another recomputation has it and `wait` is false."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
                mine = True
            else:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
                row = cursor.fetchone()
                mine = bool(row and row[0])
        try:
            yield mine
        finally:
            if mine:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
        return
    if connection.vendor == "sqlite":
        # One machine: a file lock. SQLite itself runs one writer at a time, but not one recomputation.
        with open(settings.VAR_DIR / "deadline-recompute.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    yield True  # other databases are not supported (settings); nothing to take turns with

"""Legal deadlines as rows: computed from the rule set and the working-day calendar, attachable to a
viewflow task as a boundary timer, and closed as met, missed, extended or cancelled."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from credit import calendar
from credit.models import Deadline, RuleSet
from credit.models.rules import DeadlineUnit
from credit.periods import Period
from credit.signals import deadlines_changed


def compute_due(*, start: date, value: int, unit: str, days: calendar.Days | None = None) -> calendar.DueDate:
    """The due date of a deadline of `value` `unit` counted from `start`. `days` is calendar data already
    loaded (several deadlines from one start share it); without it the calendar is read for this one."""
    if unit == DeadlineUnit.WORKING_DAYS:
        if days is not None:
            return days.working_days_due(start, value)
        return calendar.working_days_due(start, value)
    # A period of months or years whose last day is a rest day ends on the next working day, as a
    # period of calendar days does.
    if unit != DeadlineUnit.CALENDAR_DAYS:
        start, value = Period(value, unit).end(start), 0
    if days is not None:
        return days.calendar_days_due(start, value)
    return calendar.calendar_days_due(start, value)


def _deadline(
    *, subject: models.Model, kind: str, start: date, ruleset: RuleSet, days: calendar.Days | None = None
) -> Deadline:
    rule = ruleset.deadline_rule(kind)
    due = compute_due(start=start, value=rule.value, unit=rule.unit, days=days)
    return Deadline(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        kind=kind,
        description=rule.description,
        ruleset=ruleset,
        basis=rule.basis,
        value=rule.value,
        unit=rule.unit,
        start_date=start,
        due_date=due.date,
        provisional=due.provisional,
    )


def open_deadline(
    *, subject: models.Model, kind: str, start: date, ruleset: RuleSet, replaces: Deadline | None = None
) -> Deadline:
    """Create the pending deadline `kind` of `subject`, counted from `start` under `ruleset`."""
    deadline = _deadline(subject=subject, kind=kind, start=start, ruleset=ruleset)
    deadline.replaces = replaces
    deadline.save(force_insert=True)
    return deadline


def open_deadlines(
    *, subject: models.Model, kinds: Sequence[str], start: date, ruleset: RuleSet
) -> list[Deadline]:
    """Create several pending deadlines of `subject`, all counted from `start` under `ruleset`: the rows
    `open_deadline` would make one by one, with one read of the calendar and one INSERT (which sends no
    model signals; nothing listens to a deadline's)."""
    rules = [ruleset.deadline_rule(kind) for kind in kinds]
    # Wide enough for every count in working or calendar days; a period of months or years runs past it and
    # the calendar reads the rest when a count gets there.
    days = calendar.days_from(
        start,
        working_days=max((r.value for r in rules if r.unit == DeadlineUnit.WORKING_DAYS), default=0),
        calendar_days=max((r.value for r in rules if r.unit == DeadlineUnit.CALENDAR_DAYS), default=0),
    )
    deadlines = [
        _deadline(subject=subject, kind=kind, start=start, ruleset=ruleset, days=days) for kind in kinds
    ]
    return Deadline.objects.bulk_create(deadlines)


def close_deadline(deadline: Deadline, *, status: str, at: datetime | None = None) -> bool:
    """Close an open deadline; False if it was already closed (idempotent under retries). A pending one
    takes `status`. One already marked missed (its step still outstanding) stays missed: it is only closed,
    by the late step or the end of the case; it can no longer be extended."""
    if status == Deadline.Status.PENDING:
        raise ValueError("close_deadline needs a final status")
    at = at or timezone.now()
    closed = bool(
        Deadline.objects.filter(pk=deadline.pk, status=Deadline.Status.PENDING).update(
            status=status, closed_at=at
        )
    )
    if not closed and status != Deadline.Status.EXTENDED:
        late = Deadline.objects.filter(pk=deadline.pk, status=Deadline.Status.MISSED, closed_at__isnull=True)
        closed = late.update(closed_at=at) == 1
    if closed:
        deadlines_changed.send(sender=Deadline, deadline_ids=[deadline.pk])
    return closed


def close_pending(subject: models.Model, *, status: str, kind: str | None = None) -> None:
    """Close every open deadline of `subject` (of `kind` only, if given): pending ones with `status`."""
    open_ = Deadline.objects.for_object(subject).open()
    for deadline in open_.filter(kind=kind) if kind is not None else open_:
        close_deadline(deadline, status=status)


def meet_deadline(*, subject: models.Model, kind: str, at: datetime | None = None) -> Deadline | None:
    """The step the deadline governs was taken: met if on time, missed if late (also when the sweep had
    already marked it missed). Returns the row."""
    at = at or timezone.now()
    deadline = Deadline.objects.for_object(subject).open().filter(kind=kind).order_by("-pk").first()
    if deadline is None:
        return None
    status = Deadline.Status.MET if at < deadline.due_at else Deadline.Status.MISSED
    close_deadline(deadline, status=status, at=at)
    deadline.refresh_from_db()
    return deadline


@transaction.atomic
def extend_deadline(deadline: Deadline, *, kind: str) -> Deadline:
    """Replace a pending deadline by its extension, counted on from the original due date."""
    if not close_deadline(deadline, status=Deadline.Status.EXTENDED):
        raise ValueError("Only a pending deadline can be extended")
    subject = deadline.subject
    assert subject is not None, "a deadline's subject is PROTECTed from deletion"
    return open_deadline(
        subject=subject,
        kind=kind,
        start=deadline.due_date,
        ruleset=deadline.ruleset,
        replaces=deadline,
    )


def mark_missed_deadlines(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Mark every pending deadline whose due moment has passed as missed. It stays open (no closed_at): the
    step is still outstanding, and the deadline shows as overdue until the step is taken (meet_deadline) or
    the case ends. A conditional update per batch: idempotent, and safe with several workers (a row already
    marked is not counted again)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    missed = 0
    while True:
        ids = list(
            Deadline.objects.pending()
            .filter(due_date__lt=today)
            .order_by("due_date", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return missed
        missed += Deadline.objects.filter(pk__in=ids, status=Deadline.Status.PENDING).update(
            status=Deadline.Status.MISSED
        )


def deadline_timer(kind: str) -> Callable[[Any], datetime]:
    """A delay for viewflow's ``.OnTimeout(...)``: the due moment of the process's pending deadline `kind`.

    The flow's process must expose the case as ``process.artifact`` (viewflow's generic relation). The
    timer task is linked to the deadline row, so a recomputation can move both. The row is read under its
    lock: a recomputation moving it at the same time either sees the link or is seen by this read.
    """

    def delay(activation: Any) -> datetime:
        subject = activation.process.artifact
        with transaction.atomic(savepoint=False):
            deadline = (
                Deadline.objects.for_object(subject)
                .pending()
                .filter(kind=kind)
                .order_by("-pk")
                .select_for_update(of=("self",))
                .first()
            )
            if deadline is None:
                raise LookupError(f"{subject!r} has no pending deadline {kind!r} to attach a timer to")
            Deadline.objects.filter(pk=deadline.pk).update(task=activation.task)
            deadlines_changed.send(sender=Deadline, deadline_ids=[deadline.pk])
        return deadline.due_at

    delay.deadline_kind = kind  # type: ignore[attr-defined]
    return delay

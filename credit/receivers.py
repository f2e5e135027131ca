"""An identity claim verified links the account to its person, in the step's transaction
(credit.services.identity_claims.on_step).

Calendar changes recompute the pending deadlines they may move: each save or delete of a `CalendarDay`,
and each change of a `CalendarYear`'s official flag, is written as a `CalendarChange` in its own transaction
and recomputed after commit by a Celery task (credit.services.recompute). The admin saves through these.

Bulk writes that send no model signals (`bulk_create`, `QuerySet.update`) are not seen: run
`manage.py recompute_deadlines` after them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from credit.models import CalendarDay, CalendarYear, IdentityClaim
from credit.recompute_tasks import recompute_calendar_changes
from credit.services import identity_claims
from credit.services.recompute import record_day_change, record_year_change
from credit.signals import case_transitioned


@receiver(case_transitioned, sender=IdentityClaim, dispatch_uid="credit.identity_claim_step")
def _identity_claim_step(
    sender: Any, instance: IdentityClaim, transition: str, actor: Any, **kwargs: Any
) -> None:
    identity_claims.on_step(instance, transition, actor)


def _recompute_after_commit() -> None:
    # robust: a broker that is down must not turn the committed change into an error page; the sweep
    # (recompute_missed_calendar_changes) recomputes it later.
    transaction.on_commit(recompute_calendar_changes.delay, robust=True)


# What counts of each, as stored before a save: the day or year, and its kind or flag.
_COUNTED = {CalendarDay: ("date", "kind"), CalendarYear: ("year", "official")}


@receiver(pre_save, sender=CalendarDay, dispatch_uid="credit.calendar_day_before")
@receiver(pre_save, sender=CalendarYear, dispatch_uid="credit.calendar_year_before")
def _remember_stored(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._stored = (
        sender.objects.filter(pk=instance.pk).values_list(*_COUNTED[sender]).first() if instance.pk else None
    )


@receiver(post_save, sender=CalendarDay, dispatch_uid="credit.calendar_day_saved")
def _calendar_day_saved(sender: Any, instance: CalendarDay, **kwargs: Any) -> None:
    stored = getattr(instance, "_stored", None)
    recorded = []
    if stored is not None and stored[0] != instance.date:
        # The override was moved to another day: its old day is back to what the rules say.
        recorded.append(record_day_change(day=stored[0], before=stored[1], after=None, name=instance.name))
        stored = None
    recorded.append(
        record_day_change(
            day=instance.date,
            before=stored[1] if stored is not None else None,
            after=instance.kind,
            name=instance.name,
            source=instance.source,
        )
    )
    if any(recorded):
        _recompute_after_commit()


@receiver(post_delete, sender=CalendarDay, dispatch_uid="credit.calendar_day_deleted")
def _calendar_day_deleted(sender: Any, instance: CalendarDay, **kwargs: Any) -> None:
    if record_day_change(
        day=instance.date, before=instance.kind, after=None, name=instance.name, source=instance.source
    ):
        _recompute_after_commit()


@receiver(post_save, sender=CalendarYear, dispatch_uid="credit.calendar_year_saved")
def _calendar_year_saved(sender: Any, instance: CalendarYear, **kwargs: Any) -> None:
    stored = getattr(instance, "_stored", None)
    recorded = []
    if stored is not None and stored[0] != instance.year:
        recorded.append(record_year_change(year=stored[0], before=stored[1], after=False))
        stored = None
    recorded.append(
        record_year_change(
            year=instance.year,
            before=bool(stored and stored[1]),
            after=instance.official,
            source=instance.source,
        )
    )
    if any(recorded):
        _recompute_after_commit()


@receiver(post_delete, sender=CalendarYear, dispatch_uid="credit.calendar_year_deleted")
def _calendar_year_deleted(sender: Any, instance: CalendarYear, **kwargs: Any) -> None:
    if record_year_change(year=instance.year, before=instance.official, after=False, source=instance.source):
        _recompute_after_commit()

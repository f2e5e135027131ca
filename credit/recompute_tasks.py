"""The recomputation of deadlines after a calendar change, as Celery tasks (credit.services.recompute).
Thin and idempotent: a redelivered message, or the sweep after a lost one, recomputes nothing twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone


@shared_task(
    ignore_result=True, acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=8
)
def recompute_calendar_changes() -> int:
    """Recompute the pending deadlines of every calendar change not yet recomputed. Sent after the commit of
    each change; a database error (a deadlock with a timer sweep on PostgreSQL) rolls back one batch and the
    task runs again."""
    from credit.services.recompute import recompute_pending

    return recompute_pending().changed


@shared_task(ignore_result=True)
def recompute_missed_calendar_changes(older_than_minutes: int = 5) -> int:
    """The database is the record of what is still to do: a change whose message was lost (broker flushed,
    worker killed) is recomputed all the same. For beat."""
    from credit.services.recompute import pending_changes

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    if not pending_changes().filter(created_at__lte=cutoff).exists():
        return 0
    return recompute_calendar_changes()  # type: ignore[no-any-return]

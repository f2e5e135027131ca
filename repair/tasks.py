from __future__ import annotations

from celery import shared_task


@shared_task(
    ignore_result=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8
)
def after_filing(case_id: int) -> bool:
    """Start the flow of a filed case and send its notices (idempotent)."""
    from .services import start_work

    return start_work(case_id)


@shared_task(ignore_result=True)
def start_missing_work(older_than_minutes: int = 2, limit: int = 500) -> int:
    """The database is the record of what is still to do: a case whose after-filing message was lost still
    gets its flow, and so its timers."""
    from credit.workflow import requeue_without_work

    from .models import OPEN_STATES, RepairCase

    open_cases = RepairCase.objects.filter(state__in=OPEN_STATES)
    return requeue_without_work(open_cases, after_filing, older_than_minutes=older_than_minutes, limit=limit)

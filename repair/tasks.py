from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone


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
    from .services import cases_without_work

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(cases_without_work().filter(received_at__lte=cutoff).values_list("pk", flat=True)[:limit])
    for case_id in ids:
        after_filing.delay(case_id)
    return len(ids)

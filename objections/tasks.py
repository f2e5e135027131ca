from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone


@shared_task(
    ignore_result=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8
)
def after_filing(objection_id: int) -> bool:
    """Start the flow of a filed objection and send its notices (idempotent)."""
    from .services import start_work

    return start_work(objection_id)


@shared_task(ignore_result=True)
def start_missing_work(older_than_minutes: int = 2, limit: int = 500) -> int:
    """An objection whose after-filing message was lost still gets its flow, and so its timers."""
    from .services import objections_without_work

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(objections_without_work().filter(received_at__lte=cutoff).values_list("pk", flat=True)[:limit])
    for objection_id in ids:
        after_filing.delay(objection_id)
    return len(ids)

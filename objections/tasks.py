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


@shared_task(
    ignore_result=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8
)
def after_reconsideration_filed(case_id: int) -> bool:
    """Start the flow of a reconsideration application (and so its deemed-acceptance timer); idempotent."""
    from .reconsideration_services import start_work

    return start_work(case_id)


@shared_task(ignore_result=True)
def start_missing_reconsideration_work(older_than_minutes: int = 2, limit: int = 500) -> int:
    from .reconsideration_services import reconsiderations_without_work

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    query = reconsiderations_without_work().filter(received_at__lte=cutoff)
    ids = list(query.values_list("pk", flat=True)[:limit])
    for case_id in ids:
        after_reconsideration_filed.delay(case_id)
    return len(ids)


@shared_task(
    ignore_result=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8
)
def after_complaint_filed(complaint_id: int) -> bool:
    """Start the complaint's flow (the head's task and its timer) and send its notices; idempotent."""
    from .complaint_services import start_work

    return start_work(complaint_id)


@shared_task(ignore_result=True)
def start_missing_complaint_work(older_than_minutes: int = 2, limit: int = 500) -> int:
    from .complaint_services import complaints_without_work

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(complaints_without_work().filter(received_at__lte=cutoff).values_list("pk", flat=True)[:limit])
    for complaint_id in ids:
        after_complaint_filed.delay(complaint_id)
    return len(ids)

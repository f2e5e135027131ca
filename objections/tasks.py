from __future__ import annotations

from celery import shared_task


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
    from credit.workflow import requeue_without_work

    from .models import OPEN_STATES, Objection

    open_cases = Objection.objects.filter(state__in=OPEN_STATES)
    return requeue_without_work(open_cases, after_filing, older_than_minutes=older_than_minutes, limit=limit)


@shared_task(
    ignore_result=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8
)
def after_reconsideration_filed(case_id: int) -> bool:
    """Start the flow of a reconsideration application (and so its deemed-acceptance timer); idempotent."""
    from .reconsideration_services import start_work

    return start_work(case_id)


@shared_task(ignore_result=True)
def start_missing_reconsideration_work(older_than_minutes: int = 2, limit: int = 500) -> int:
    from credit.workflow import requeue_without_work

    from .reconsideration import OPEN_RECONSIDERATION, Reconsideration

    open_cases = Reconsideration.objects.filter(state__in=OPEN_RECONSIDERATION)
    return requeue_without_work(
        open_cases, after_reconsideration_filed, older_than_minutes=older_than_minutes, limit=limit
    )


@shared_task(
    ignore_result=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=8
)
def after_complaint_filed(complaint_id: int) -> bool:
    """Start the complaint's flow (the head's task and its timer) and send its notices; idempotent."""
    from .complaint_services import start_work

    return start_work(complaint_id)


@shared_task(ignore_result=True)
def start_missing_complaint_work(older_than_minutes: int = 2, limit: int = 500) -> int:
    from credit.workflow import requeue_without_work

    from .complaint import Complaint, ComplaintState

    open_cases = Complaint.objects.filter(state=ComplaintState.SUBMITTED)
    return requeue_without_work(
        open_cases, after_complaint_filed, older_than_minutes=older_than_minutes, limit=limit
    )

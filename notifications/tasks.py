from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(bind=True, ignore_result=True, max_retries=6, acks_late=True)
def deliver(self, delivery_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Send one delivery; retried with back-off (10 s, 20 s … 10 min), then given up and shown to admins."""
    from . import services

    try:
        return services.deliver(delivery_id)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            services.give_up(delivery_id)
            logger.error("Delivery %s failed for good: %r", delivery_id, exc)
            return False
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@shared_task(ignore_result=True)
def send_daily_digests() -> int:
    from .services import send_daily_digests as send

    return send()


@shared_task(ignore_result=True)
def send_deadline_reminders() -> int:
    from .services import send_deadline_reminders as send

    return send()


@shared_task(ignore_result=True)
def requeue_stalled_deliveries() -> int:
    from .services import requeue_stalled

    return requeue_stalled()

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(bind=True, ignore_result=True, max_retries=8, acks_late=True)
def generate_letter(self, letter_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Render, sign and store one letter. Idempotent: a retried or redelivered message finds it issued."""
    from .services import generate, record_failure

    try:
        return generate(letter_id).created
    except Exception as exc:
        record_failure(letter_id, exc)
        logger.exception("Letter %s could not be generated (attempt %s)", letter_id, self.request.retries + 1)
        raise self.retry(exc=exc, countdown=min(600, 10 * 2**self.request.retries)) from exc


@shared_task(ignore_result=True)
def retry_pending_letters(older_than_minutes: int = 5, limit: int = 500) -> int:
    """Letters whose generation message was lost (a flushed broker, a killed worker) are sent again; the
    database, not the broker, is the record of what is still to do."""
    from .models import Letter, LetterState

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(
        Letter.objects.filter(state=LetterState.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for letter_id in ids:
        generate_letter.delay(letter_id)
    return len(ids)

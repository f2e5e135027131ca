"""Beat's nightly check of the staff queues' table of open tasks (workspace.open_tasks)."""

from __future__ import annotations

import logging

from celery import shared_task

from . import open_tasks

logger = logging.getLogger(__name__)


@shared_task
def reconcile_open_tasks() -> int:
    """Repair the table if it differs from what it copies, and say so loudly: every write to the sources is
    meant to keep it, so a difference is a bug to look for (which task ids are logged). Idempotent.
    Returns the number of task ids that differed."""
    found = open_tasks.drift()
    if not found:
        return 0
    logger.error(
        "workspace.OpenTask differed from its sources and was repaired: missing or different %s, "
        "unaccounted for %s",
        found.missing,
        found.stale,
    )
    open_tasks.sync_all()
    return len(set(found.missing) | set(found.stale))

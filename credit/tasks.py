"""Beat's periodic sweeps. Thin: each calls one service; each is idempotent, so a retry or a redelivered
message does no harm."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from celery import shared_task
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


@contextmanager
def _single_sweep_on_sqlite(name: str) -> Iterator[bool]:
    """On SQLite select_for_update is a no-op, so viewflow's per-task lock does not exclude a second sweep
    (../shared/FINDINGS.md). The embedded mode runs on one machine, so a file lock makes sweeps take turns.
    On PostgreSQL the row locks do that and sweeps may run in parallel."""
    if connection.vendor != "sqlite":
        yield True
        return
    path = settings.VAR_DIR / f"{name}.lock"
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@shared_task(ignore_result=True)
def fire_due_workflow_timers(helper: bool = False) -> int:
    """Fire the due workflow timers in bounded batches, exactly once across parallel sweeps
    (credit.timers). When more than a batch is due, beat's sweep queues TIMER_SWEEP_HELPERS helper sweeps,
    which the worker's other pool processes (or other workers) run beside it; helpers call for no more help.
    On SQLite sweeps take turns (no row locks there), so a helper finds the sweep running and stops."""
    from credit.timers import dispatch_due_timers

    def call_for_help() -> None:
        for _ in range(settings.TIMER_SWEEP_HELPERS):
            fire_due_workflow_timers.delay(helper=True)

    with _single_sweep_on_sqlite("timer-sweep") as mine:
        if not mine:
            logger.info("Another timer sweep is running; skipped")
            return 0
        result = dispatch_due_timers(
            batch_size=settings.TIMER_SWEEP_BATCH, on_backlog=None if helper else call_for_help
        )
        if result.skipped or result.failed:
            logger.info(
                "Timer sweep: %d fired, %d left for the next sweep, %d failed",
                result.fired,
                result.skipped,
                len(result.failed),
            )
        return result.fired


@shared_task(ignore_result=True)
def mark_missed_deadlines() -> int:
    from credit.services.deadlines import mark_missed_deadlines as sweep

    return sweep()


@shared_task(ignore_result=True)
def advance_record_periods() -> dict[str, int]:
    from credit.services.records import advance_record_periods as sweep

    with _single_sweep_on_sqlite("record-sweep") as mine:
        return sweep() if mine else {}

"""Keeps the queues' read model (workspace.open_tasks) in the transactions that change what it copies."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from viewflow.workflow.models import Task

from credit.signals import deadlines_changed

from . import open_tasks


@receiver(post_save, sender=Task, dispatch_uid="workspace.open_tasks.task_saved")
def _task_saved(sender: Any, instance: Task, raw: bool = False, **kwargs: Any) -> None:
    if not raw:  # a fixture's rows are loaded as they are
        open_tasks.task_saved(instance)


@receiver(deadlines_changed, dispatch_uid="workspace.open_tasks.refresh_due")
def _deadlines_changed(sender: Any, deadline_ids: list[int], **kwargs: Any) -> None:
    open_tasks.refresh_due(deadline_ids)

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from credit.signals import case_transitioned

from .models import RepairCase


@receiver(case_transitioned, sender=RepairCase, dispatch_uid="repair.on_step")
def _on_step(
    sender: Any,
    instance: RepairCase,
    transition: str,
    actor: Any,
    source: str,
    target: str,
    log: Any,
    **kwargs: Any,
) -> None:
    from .services import on_step

    on_step(instance, transition, actor, source, target, reason=log.reason)

"""Serve the 信用修复告知书 with every registered record ("两书同达")."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from credit.signals import record_registered


@receiver(record_registered, dispatch_uid="letters.repair_notice")
def _serve_repair_notice(sender: Any, record: Any, **kwargs: Any) -> None:
    from .services import issue_repair_notice

    issue_repair_notice(record)

"""System checks that hold the project to the designs that FINDINGS.md showed are needed."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register
from django.utils.module_loading import autodiscover_modules


@register()
def flows_use_select_for_update_lock(app_configs: Any, **kwargs: Any) -> list[Error]:
    """viewflow's default lock is no lock; four parallel sweeps fired 36 escalations for 30 timers."""
    from viewflow.workflow import lock
    from viewflow.workflow.base import Flow
    from viewflow.workflow.checks import _all_flow_subclasses

    autodiscover_modules("flows")
    errors = []
    for flow_class in _all_flow_subclasses(Flow):
        if flow_class.__module__.startswith("viewflow."):
            continue
        if flow_class.lock_impl is not lock.select_for_update_lock:
            errors.append(
                Error(
                    f"{flow_class.__module__}.{flow_class.__name__} must set "
                    "lock_impl = lock.select_for_update_lock",
                    hint="Without a row lock parallel timer sweeps fire the same timer more than once.",
                    id="credit.E001",
                )
            )
    return errors

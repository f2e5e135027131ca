"""A real worker on a real broker carries out the beat tasks against PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import time_machine
from django.db import transaction
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.flows import RecordMaskFlow
from credit.models import CreditRecord, Deadline, TransitionLog
from credit.models.records import RecordState
from credit.tasks import advance_record_periods, fire_due_workflow_timers, mark_missed_deadlines
from tests.factories import DepartmentFactory, PersonFactory, make_record


def _old_record() -> CreditRecord:
    # Registered in 2024 (minor under Order 58: shown until 2024-04-10); by the worker's real clock its
    # period has long ended, and only the sweep can tell.
    with time_machine.travel("2024-01-11T10:00:00+08:00", tick=False):
        return make_record(
            person=PersonFactory(),
            department=DepartmentFactory(code="market"),
            decision_date=date(2024, 1, 10),
            tiers=("minor",),
        )


def test_the_worker_runs_the_period_sweep(real_worker: Any, wait_for: Any) -> None:
    record = _old_record()
    assert record.state == RecordState.REPAIR_ELIGIBLE
    with transaction.atomic():
        transaction.on_commit(advance_record_periods.delay)
    wait_for(lambda: CreditRecord.objects.get(pk=record.pk).state == RecordState.EXPIRED)
    entry = TransitionLog.objects.filter(object_id=record.pk, transition="expire").get()
    assert entry.actor_label == "system:periods"


def test_the_worker_fires_a_due_boundary_timer_exactly_once(real_worker: Any, wait_for: Any) -> None:
    record = _old_record()
    with time_machine.travel("2024-01-11T10:00:00+08:00", tick=False):
        process = RecordMaskFlow.start.run(
            record=record, received=date(2024, 1, 11), ruling="(2024)示01破1号"
        )
    timer = Task.objects.get(process=process, flow_task_type="TIMER")
    for _ in range(3):  # redelivered or repeated sweeps do no harm
        fire_due_workflow_timers.delay()
    wait_for(lambda: Task.objects.get(pk=timer.pk).status == STATUS.DONE)
    escalations = Task.objects.filter(process=process, flow_task=RecordMaskFlow.escalate, status=STATUS.DONE)
    wait_for(escalations.exists)
    mark_missed_deadlines.delay()
    wait_for(lambda: Deadline.objects.get(kind="record.mask").status == Deadline.Status.MISSED)
    assert Task.objects.filter(process=process, flow_task=RecordMaskFlow.escalate).count() == 1
    assert Task.objects.get(process=process, flow_task=RecordMaskFlow.mask).status == STATUS.NEW

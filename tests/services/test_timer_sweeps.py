"""The legal clock on PostgreSQL with real processes: several sweeps in parallel fire each due timer exactly
once; a sweep killed mid-way leaves nothing half-done and the next one finishes the work; a flushed broker
loses nothing, because every due moment lives in the database."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from config.celery import app as celery_app
from notifications.models import Notification
from repair.flows import RepairFlow
from repair.services import file_repair, start_work
from tests.factories import DepartmentFactory, PersonFactory, UserFactory, make_record
from tests.services.conftest import ROOT, _database_url, celery_worker

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SWEEP_DONE = re.compile(r"fire_due_workflow_timers\[[^]]+\] succeeded in [\d.]+s: (\d+)")
SWEEP = (
    "import django; django.setup(); from credit.timers import dispatch_due_timers; "
    "r = dispatch_due_timers(batch_size={batch}); print(r.fired, r.skipped, len(r.failed))"
)


def due_cases(n: int) -> tuple[list[int], Any]:
    """n repair cases whose 3 WD acceptance timers are due (their `scheduled` moved into the past)."""
    market = DepartmentFactory(code="market")
    head = UserFactory(username="head", role="head", department=market)
    applicant = UserFactory(username="applicant", role="applicant")
    person = PersonFactory(user=applicant)
    ids = []
    for i in range(n):
        record = make_record(
            person=person, department=market, decision_date=date(2026, 1 + i % 7, 1 + i % 28)
        )
        case = file_repair(record=record, actor=applicant, statement="已整改", commitment_accepted=True)
        start_work(case.pk)
        ids.append(case.pk)
    timers = Task.objects.filter(process__artifact_object_id__in=ids, flow_task_type="TIMER")
    assert timers.filter(status=STATUS.SCHEDULED).count() == n
    timers.update(scheduled="2026-01-01T00:00:00+08:00")
    return ids, head


def sweep_process(tmp_path: Path, batch: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": f"filesystem://{tmp_path}",  # the deliveries queued are not sent anywhere
        "VAR_DIR": str(tmp_path),
    }
    return subprocess.Popen(
        [sys.executable, "-c", SWEEP.format(batch=batch)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def effects(ids: list[int], head: Any) -> tuple[int, int, int, int]:
    tasks = Task.objects.filter(process__artifact_object_id__in=ids)
    return (
        tasks.filter(flow_task_type="TIMER", status=STATUS.DONE).count(),
        tasks.filter(flow_task=RepairFlow.overdue).count(),
        tasks.filter(flow_task=RepairFlow.overdue, status=STATUS.DONE).count(),
        Notification.objects.filter(event="task.escalated", recipient=head).count(),
    )


def close_others() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_parallel_sweeps_fire_each_timer_exactly_once(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("parallel sweeps are a PostgreSQL matter (SQLite sweeps take turns)")
    ids, head = due_cases(60)
    for i in range(4):
        (tmp_path / str(i)).mkdir()
    sweeps = [sweep_process(tmp_path / str(i), batch=7) for i in range(4)]
    outputs = [p.communicate(timeout=120) for p in sweeps]
    assert all(p.returncode == 0 for p in sweeps), [err[-2000:] for _out, err in outputs]
    fired = [int(out.split()[0]) for out, _err in outputs]
    skipped = [int(out.split()[1]) for out, _err in outputs]
    # Each timer fired by one sweep: the counts add up, whatever the split between the four.
    assert sum(fired) + sum(skipped) >= 60 and sum(fired) <= 60, outputs
    # A sweep passes over a timer whose process another sweep holds; the next sweep fires it.
    leftover, _err = sweep_process(tmp_path, batch=50).communicate(timeout=120)
    assert sum(fired) + int(leftover.split()[0]) == 60
    assert effects(ids, head) == (60, 60, 60, 60)
    close_others()


def test_a_sweep_killed_midway_leaves_nothing_half_done(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL matter")
    ids, head = due_cases(120)
    process = sweep_process(tmp_path, batch=10)
    deadline = time.monotonic() + 60
    while effects(ids, head)[0] == 0:  # let it commit a batch or more
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=20)
    close_others()
    done, overdue, escalated, told = effects(ids, head)
    assert 0 < done < 120, "killed too late to prove anything; make the due set larger"
    # Whatever was committed is whole: each fired timer has its escalation and its notice, nothing more.
    assert done == overdue == escalated == told
    started = Task.objects.filter(
        process__artifact_object_id__in=ids, flow_task_type="TIMER", status=STATUS.STARTED
    )
    assert not started.exists()
    # The next sweep does the rest, once.
    rerun = sweep_process(tmp_path, batch=50)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err[-2000:]
    assert int(out.split()[0]) == 120 - done
    assert effects(ids, head) == (120, 120, 120, 120)
    close_others()


def test_a_flushed_broker_loses_no_timer(real_worker: Any, wait_for: Any) -> None:
    """The broker only carries "sweep now"; the due moments are rows. Flushed, the next beat tick (here
    sent by hand, as beat would) fires everything."""
    ids, head = due_cases(10)
    celery_app.control.purge()  # whatever was queued is gone
    celery_app.send_task("credit.tasks.fire_due_workflow_timers")
    wait_for(lambda: effects(ids, head) == (10, 10, 10, 10), timeout=60)


def test_one_worker_sweeps_a_backlog_with_its_pool_processes(tmp_path: Path, wait_for: Any) -> None:
    """More than a batch due: beat's sweep queues a helper sweep, which the worker's second pool process runs
    beside it. Between them every timer fires exactly once."""
    if connection.vendor != "postgresql":
        pytest.skip("parallel sweeps are a PostgreSQL matter (SQLite sweeps take turns)")
    ids, head = due_cases(60)
    with celery_worker(tmp_path, concurrency=2, TIMER_SWEEP_BATCH="5", TIMER_SWEEP_HELPERS="1"):
        celery_app.send_task("credit.tasks.fire_due_workflow_timers")
        wait_for(lambda: effects(ids, head) == (60, 60, 60, 60), timeout=90)
        log = tmp_path / "worker.log"

        def sweeps() -> list[int]:
            return [int(n) for n in SWEEP_DONE.findall(log.read_text())]

        wait_for(lambda: len(sweeps()) == 2)
        time.sleep(1)  # no third sweep follows: a helper calls for no more help
        fired = sweeps()
    assert len(fired) == 2 and sum(fired) == 60  # the sweep and its helper
    assert effects(ids, head) == (60, 60, 60, 60)

"""The legal clock at scale: 1,000,000 pending deadlines, 10,000 of them due, on PostgreSQL. Reports the
seconds of a full sweep by one worker (credit.timers.dispatch_due_timers, as beat's task runs it), the effects
per second, whether every due timer fired exactly once, and the cost of a sweep with nothing due, before and
after (when 10,000 fired timers are history). Run with `make bench` or `.venv/bin/python bench/deadlines.py`.
It reports; it asserts nothing. Figures and their meaning: docs/performance.md.

Seeding: one repair case is filed through the real service and its flow started (a process, the officer's
examine task, its acceptance timer linked to its `repair.accept` deadline). It is then copied in bulk, row for
row, with new ids: 10,000 cases (each with its own credit record, process, examine task, timer due in the past
and deadline), and 990,000 further pending deadlines and scheduled timers due in the future. A fresh
database `credit_repair_bench_clock` is created (dropped first) and left for inspection.

Targets (issue #7): the 10,000 fired exactly once within 30 s on one worker; an empty sweep at most 5 ms.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, where bench/queue.py shadows the standard library.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.seeding import copy_rows, recreate_database  # noqa: E402  (the project on the path first)

DB_NAME = "credit_repair_bench_clock"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
DUE_TARGET_SECONDS = 30.0
EMPTY_TARGET_MS = 5.0


def seed(due: int, pending: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from viewflow.workflow.models import Task

    from credit.models import Deadline
    from repair.services import file_repair, start_work
    from tests.factories import DepartmentFactory, PersonFactory, UserFactory, make_record

    began = time.perf_counter()
    market = DepartmentFactory(code="market", name="示范市市场监督管理局")
    head = UserFactory(username="bench-head", role="head", department=market)
    applicant = UserFactory(username="bench-applicant", role="applicant")
    person = PersonFactory(user=applicant)
    record = make_record(person=person, department=market, decision_date=date(2026, 5, 31))
    with transaction.atomic():
        case = file_repair(record=record, actor=applicant, statement="已整改", commitment_accepted=True)
    start_work(case.pk)
    timer = Task.objects.get(process__artifact_object_id=case.pk, flow_task_type="TIMER")
    host = timer.previous.get()
    deadline = Deadline.objects.get(object_id=case.pk, kind="repair.accept")
    assert deadline.task_id == timer.pk
    template_seconds = time.perf_counter() - began

    began = time.perf_counter()
    past = "'2026-01-05 00:00:00+08'"
    with transaction.atomic(), connection.cursor() as cursor:
        # The due cases: record, case, process, examine task, timer (after the examine task), deadline.
        copies = due - 1  # the template case is due too
        records = copy_rows(
            cursor,
            "credit_creditrecord",
            record.pk,
            copies,
            {"number": "t.number || '-' || g", "decision_number": "t.decision_number || '-' || g"},
        )
        cases = copy_rows(
            cursor,
            "repair_repaircase",
            case.pk,
            copies,
            {"number": "t.number || '-' || g", "record_id": f"{records} + g"},
        )
        process_id = timer.process_id
        processes = copy_rows(
            cursor, "viewflow_process", process_id, copies, {"artifact_object_id": f"{cases} + g"}
        )
        hosts = copy_rows(cursor, "viewflow_task", host.pk, copies, {"process_id": f"{processes} + g"})
        timers = copy_rows(
            cursor, "viewflow_task", timer.pk, copies, {"process_id": f"{processes} + g", "scheduled": past}
        )
        cursor.execute(
            "INSERT INTO viewflow_task_previous (from_task_id, to_task_id) "
            "SELECT %s + g, %s + g FROM generate_series(1, %s) g",
            [timers, hosts, copies],
        )
        copy_rows(
            cursor,
            "credit_deadline",
            deadline.pk,
            copies,
            {"object_id": f"{cases} + g", "task_id": f"{timers} + g", "due_date": "'2026-01-04'"},
        )
        # The template's own timer and deadline are due too.
        cursor.execute(f"UPDATE viewflow_task SET scheduled = {past} WHERE id = %s", [timer.pk])  # noqa: S608
        cursor.execute("UPDATE credit_deadline SET due_date = '2026-01-04' WHERE id = %s", [deadline.pk])
        # The rest of the city's clock: pending deadlines and scheduled timers due over the next two years.
        spread = (
            "(timestamp '2026-12-01' + mod(g, 700) * interval '1 day' + mod(g, 86400) * interval '1 second')"
        )
        copy_rows(
            cursor,
            "credit_deadline",
            deadline.pk,
            pending - due,
            {"object_id": "1000000000 + g", "task_id": "NULL", "due_date": f"({spread})::date"},
        )
        later = copy_rows(
            cursor, "viewflow_process", process_id, pending - due, {"artifact_object_id": "NULL"}
        )
        copy_rows(
            cursor,
            "viewflow_task",
            timer.pk,
            pending - due,
            {"process_id": f"{later} + g", "scheduled": f"{spread} AT TIME ZONE 'Asia/Shanghai'"},
        )
        cursor.execute("ANALYZE")
    copy_seconds = time.perf_counter() - began
    return {
        "head": head,
        "template_seconds": template_seconds,
        "copy_seconds": copy_seconds,
        "due_cases": [*range(cases + 1, cases + copies + 1), case.pk],
    }


def empty_sweep_ms(now: Any, repetitions: int) -> tuple[float, str]:
    """The median time of a sweep that finds nothing due, and the plan of its query."""
    from django.db import connection

    from credit.timers import dispatch_due_timers, sweep_cost_query

    times = []
    for _ in range(repetitions):
        began = time.perf_counter()
        result = dispatch_due_timers(now=now)
        times.append((time.perf_counter() - began) * 1000)
        assert result.fired == 0
    sql, params = sweep_cost_query(now).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return statistics.median(times), plan


def counts(seeded: dict[str, Any]) -> dict[str, int]:
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from credit.models import Deadline
    from notifications.models import Notification
    from repair.flows import RepairFlow

    return {
        "timers_done": Task.objects.filter(flow_task_type="TIMER", status=STATUS.DONE).count(),
        "timers_due_left": Task.objects.filter(
            flow_task_type="TIMER", status=STATUS.SCHEDULED, scheduled__lt="2026-06-01T00:00:00+08:00"
        ).count(),
        "escalations": Task.objects.filter(flow_task=RepairFlow.overdue).count(),
        "notices": Notification.objects.filter(event="task.escalated", recipient=seeded["head"]).count(),
        "pending_deadlines": Deadline.objects.filter(status="pending").count(),
    }


def worker_sweep(args: argparse.Namespace, var_dir: Path) -> tuple[float, int]:
    """One Celery worker with `args.concurrency` pool processes on a real broker: beat's task is sent once, as
    beat would; it calls helper sweeps (TIMER_SWEEP_HELPERS = concurrency - 1) when more than a batch is due.
    Returns the seconds until no due timer is left, and the fired count read back from the database."""
    import subprocess

    from celery import Celery
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    env = {
        **os.environ,
        "CELERY_BROKER_URL": args.broker,
        "TIMER_SWEEP_BATCH": str(args.batch),
        "TIMER_SWEEP_HELPERS": str(args.concurrency - 1),
    }
    # This process's Celery app queues on the filesystem broker (seeding queued its after-filing tasks there);
    # beat's tick goes to the worker's broker through an app of its own.
    # (Celery reads CELERY_BROKER_URL from the environment before any broker it is given.)
    previous_broker = os.environ["CELERY_BROKER_URL"]
    os.environ["CELERY_BROKER_URL"] = args.broker
    app = Celery("bench", broker=args.broker)
    log = open(var_dir / "worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(  # noqa: S603  (this interpreter, fixed arguments)
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO",
         f"--concurrency={args.concurrency}", "--without-gossip", "--without-mingle", "--hostname=bench@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        app.control.purge()
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None:
                raise RuntimeError(f"the worker did not start; see {var_dir / 'worker.log'}")
        due = Task.objects.filter(
            flow_task_type="TIMER", status=STATUS.SCHEDULED, scheduled__lt="2026-06-01T00:00:00+08:00"
        )
        began = time.perf_counter()
        app.send_task("credit.tasks.fire_due_workflow_timers")
        while due.exists():
            time.sleep(0.05)
        seconds = time.perf_counter() - began
        while app.control.inspect(timeout=1).active().get(f"bench@{os.uname().nodename}"):
            time.sleep(0.2)  # the sweeps are finishing (nothing left to claim)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
        os.environ["CELERY_BROKER_URL"] = previous_broker
    fired = Task.objects.filter(flow_task_type="TIMER", status=STATUS.DONE).count()
    return seconds, fired


def run(args: argparse.Namespace, mode: str, var_dir: Path) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    connections.close_all()
    recreate_database(DB_NAME)
    began = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"database {DB_NAME}: created and migrated in {time.perf_counter() - began:.1f} s", flush=True)
    seeded = seed(args.due, args.pending)
    print(
        f"seeded: the template case in {seeded['template_seconds']:.1f} s; {args.due} due cases and "
        f"{args.pending - args.due} further pending deadlines and timers copied in "
        f"{seeded['copy_seconds']:.1f} s",
        flush=True,
    )
    before = counts(seeded)
    print("before:", before, flush=True)
    early = timezone.now().replace(year=2025)  # nothing is due before the earliest seeded moment
    empty_before, _plan = empty_sweep_ms(early, args.repetitions)
    print(f"empty sweep, nothing fired yet: median {empty_before:.2f} ms", flush=True)

    from credit.timers import dispatch_due_timers

    if mode == "worker":
        seconds, fired = worker_sweep(args, var_dir)
        print(f"one worker, {args.concurrency} pool processes: {fired} fired in {seconds:.1f} s", flush=True)
    else:
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        began = time.perf_counter()
        result = dispatch_due_timers(batch_size=args.batch)
        seconds = time.perf_counter() - began
        fired = result.fired
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
                args.profile
            )
        print(
            f"one process: {result.fired} fired in {seconds:.1f} s ({result.fired / seconds:.0f} effects/s), "
            f"{result.batches} batches, {result.skipped} passed over, {len(result.failed)} failed",
            flush=True,
        )
    after = counts(seeded)
    exactly_once = (
        after["timers_done"] == fired == args.due
        and after["escalations"] == args.due
        and after["notices"] == args.due
        and after["timers_due_left"] == 0
    )
    print("after:", after, f"exactly once: {exactly_once}", flush=True)
    empty_after, plan_after = empty_sweep_ms(timezone.now(), args.repetitions)
    print(f"empty sweep, {args.due} fired timers in the table: median {empty_after:.2f} ms", flush=True)
    return {
        "mode": mode,
        "seconds": seconds,
        "fired": fired,
        "exactly_once": exactly_once,
        "empty_before": empty_before,
        "empty_after": empty_after,
        "plan": plan_after,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--due", type=int, default=10_000, help="due timers (and their deadlines)")
    parser.add_argument("--pending", type=int, default=1_000_000, help="pending deadlines in all")
    parser.add_argument("--batch", type=int, default=500, help="timers claimed per transaction")
    parser.add_argument("--repetitions", type=int, default=50, help="empty sweeps timed, each time")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions (process)")
    parser.add_argument(
        "--modes",
        default="process,worker",
        help="process (the sweep in this process), worker (a Celery worker)",
    )
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's pool processes")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14", help="the worker's broker")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="bench-clock-"))
    from cryptography.fernet import Fernet

    # Production settings (DEBUG off: cached templates, no query log), as a worker runs them.
    os.environ.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "ID_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ID_LOOKUP_KEY": secrets.token_urlsafe(32),
            "LETTERS_TRUST_ROOTS": "/dev/null",
            "VAR_DIR": str(var_dir),
            "CELERY_BROKER_URL": f"filesystem://{var_dir}",  # deliveries are queued, not sent
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    import django

    django.setup()
    rounds = [run(args, mode.strip(), var_dir) for mode in args.modes.split(",") if mode.strip()]

    print()
    print(f"{'measure':56} {'value':>10} {'target':>8}")
    for r in rounds:
        who = "one process" if r["mode"] == "process" else f"one worker, {args.concurrency} pool processes"
        print(f"{'seconds for the full sweep, ' + who:56} {r['seconds']:>10.1f} {DUE_TARGET_SECONDS:>8.0f}")
        print(f"{'effects per second, ' + who:56} {r['fired'] / r['seconds']:>10.0f}")
        print(f"{'exactly once (timers, escalations, notices), ' + r['mode']:56} {r['exactly_once']!s:>10}")
        for when in ("before", "after"):
            label = f"empty sweep {when}, ms (median), {r['mode']}"
            print(f"{label:56} {r['empty_' + when]:>10.2f} {EMPTY_TARGET_MS:>8.0f}")
    print()
    print("plan of the empty sweep's query, after the last round:")
    print(rounds[-1]["plan"])
    print(f"\nthe database {DB_NAME} is left for inspection; logs and queued deliveries are under {var_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

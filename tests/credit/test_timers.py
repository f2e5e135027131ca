"""The timer dispatcher (credit.timers): due timers fired once, in bounded batches; a failing escalation is
marked and reported once, not retried forever; the sweep's query uses the due-timer index."""

from __future__ import annotations

import importlib
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.flows import deadline_overdue
from credit.models import Deadline
from credit.timers import dispatch_due_timers, revive_failed, sweep_cost_query
from notifications.models import Notification
from repair.flows import RepairFlow
from tests.conftest import Personas
from tests.factories import UserFactory, make_record

pytestmark = pytest.mark.django_db


def filed(personas: Personas, n: int) -> list[int]:
    """n repair applications (their examine tasks carry a 3 WD acceptance timer)."""
    ids = []
    api = APIClient()
    api.force_authenticate(personas.applicant)
    for i in range(n):
        record = make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 1 + i, 1)
        )
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = api.post(
                "/api/v1/repairs/",
                {"record": record.pk, "statement": "已整改", "commitment_accepted": True},
                format="json",
            )
        ids.append(response.data["id"])
    return ids


def timers(case_ids: list[int]) -> Any:
    return Task.objects.filter(process__artifact_object_id__in=case_ids, flow_task_type="TIMER")


def escalations(case_ids: list[int]) -> int:
    return Task.objects.filter(process__artifact_object_id__in=case_ids, flow_task=RepairFlow.overdue).count()


def test_due_timers_fire_once_in_bounded_batches(personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
    cases = filed(personas, 5)
    assert timers(cases).filter(status=STATUS.SCHEDULED).count() == 5
    time_machine.move_to("2026-11-26T23:59:59+08:00", tick=False)  # the acceptance deadline's last second
    assert dispatch_due_timers(batch_size=2).fired == 0
    time_machine.move_to("2026-11-27T00:00:01+08:00", tick=False)
    result = dispatch_due_timers(batch_size=2)
    assert (result.fired, result.batches, result.failed) == (5, 3, [])
    assert escalations(cases) == 5
    assert timers(cases).filter(status=STATUS.DONE).count() == 5
    assert Notification.objects.filter(event="task.escalated", recipient=personas.head).count() == 5
    links = set(Notification.objects.filter(event="task.escalated").values_list("link", flat=True))
    assert links == {f"/staff/cases/repair/{case}/" for case in cases}  # the head opens the case file
    # Once: the next sweep finds nothing, and the officer's tasks are still theirs.
    assert dispatch_due_timers(batch_size=2).fired == 0
    assert escalations(cases) == 5
    assert (
        Task.objects.filter(process__artifact_object_id__in=cases, flow_task=RepairFlow.examine)
        .filter(status=STATUS.NEW)
        .count()
        == 5
    )


def test_a_timer_whose_host_task_finished_does_not_escalate(personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
    (case,) = filed(personas, 1)
    api = APIClient()
    api.force_authenticate(personas.officer)
    assert api.post(f"/api/v1/repairs/{case}/transitions/accept/", {}, format="json").status_code == 200
    time_machine.move_to("2026-11-27T00:00:01+08:00", tick=False)
    assert dispatch_due_timers().fired == 0  # the acceptance timer was cancelled with its task
    assert escalations([case]) == 0


def test_a_failing_escalation_is_marked_reported_once_and_revivable(
    personas: Personas, time_machine, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    admin = UserFactory(username="sysadmin", is_staff=True)
    (case,) = filed(personas, 1)
    time_machine.move_to("2026-11-27T00:00:01+08:00", tick=False)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("mail relay down")

    monkeypatch.setattr(deadline_overdue, "send", broken)  # the escalation path fails
    result = dispatch_due_timers()
    assert (result.fired, len(result.failed)) == (1, 1)
    timer = Task.objects.get(pk=result.failed[0])
    failed = Task.objects.get(pk=timer.data["_escalation_failed"]["task"])
    assert failed.flow_task == RepairFlow.overdue and failed.status == STATUS.ERROR
    assert "mail relay down" in timer.data["_escalation_failed"]["error"]
    told = set(
        Notification.objects.filter(event="timer.failed").values_list("recipient__username", flat=True)
    )
    assert told == {"head", "sysadmin", "admin"}  # the department's head and the administrators
    # Not retried on every sweep, and not reported again.
    assert dispatch_due_timers().fired == 0 and not dispatch_due_timers().failed
    assert Notification.objects.filter(event="timer.failed", recipient=admin).count() == 1
    assert not Notification.objects.filter(event="task.escalated").exists()

    monkeypatch.undo()
    revive_failed(failed)  # the relay is back: the escalation runs again
    assert Notification.objects.filter(event="task.escalated", recipient=personas.head).count() == 1
    with pytest.raises(ValueError):
        revive_failed(Task.objects.get(pk=failed.pk))  # revived already: only a failed task
    assert escalations([case]) == 2  # the failed one and the one that ran


def test_the_empty_sweep_is_one_indexed_query(personas: Personas, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    filed(personas, 3)  # scheduled, not due
    with django_assert_num_queries(3):  # SAVEPOINT, the claim, RELEASE
        assert dispatch_due_timers().fired == 0
    if connection.vendor == "postgresql":  # SQLite cannot match a partial index to bound parameters
        sql, params = sweep_cost_query(Deadline.objects.first().due_at).query.sql_with_params()  # type: ignore[union-attr]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is tiny; ask whether it can
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
        assert "viewflow_task_due_timers" in plan, plan


def test_the_ends_of_earlier_escalations_are_removed_by_migration(personas: Personas) -> None:
    """Migration credit 0012: the `escalated` End tasks left by earlier escalations name a node that no longer
    exists; they go, with their links, and nothing else does."""
    migration = importlib.import_module("credit.migrations.0012_escalation_paths_end_at_the_escalation")
    [case] = filed(personas, 1)
    tasks = Task.objects.filter(process__artifact_object_id=case)
    kept = set(tasks.values_list("pk", flat=True))
    examine = tasks.get(flow_task=RepairFlow.examine)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO viewflow_task (flow_task, flow_task_type, status, created, token, process_id, data) "
            "VALUES (%s, 'END', 'DONE', %s, 'start', %s, '{}')",
            ["repair/flows.RepairFlow.escalated", timezone.now(), examine.process_id],
        )
        cursor.execute("SELECT max(id) FROM viewflow_task")
        end_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO viewflow_task_previous (from_task_id, to_task_id) VALUES (%s, %s)",
            [end_id, examine.pk],
        )
        migration.remove_escalated_ends(None, SimpleNamespace(connection=connection))
        cursor.execute("SELECT count(*) FROM viewflow_task_previous WHERE from_task_id = %s", [end_id])
        assert cursor.fetchone()[0] == 0
    assert set(tasks.values_list("pk", flat=True)) == kept


def test_a_sweep_calls_for_help_once_when_more_than_a_batch_is_due(personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
    cases = filed(personas, 5)
    time_machine.move_to("2026-11-27T00:00:01+08:00", tick=False)
    calls: list[int] = []

    def help_wanted() -> None:  # by then the first batch has committed: its timers are no longer due
        calls.append(timers(cases).filter(status=STATUS.SCHEDULED).count())

    result = dispatch_due_timers(batch_size=2, on_backlog=help_wanted)
    assert (result.fired, calls) == (5, [3])
    more = filed(personas, 1)  # on Friday 27 November: due by Wednesday 2 December
    time_machine.move_to("2026-12-03T00:00:01+08:00", tick=False)
    assert dispatch_due_timers(batch_size=2, on_backlog=help_wanted).fired == 1
    assert calls == [3] and escalations(more) == 1  # one batch was enough: no call


def test_beats_sweep_queues_a_helper_which_asks_for_no_more(
    personas: Personas, time_machine, settings
) -> None:  # type: ignore[no-untyped-def]
    from unittest import mock

    from credit import tasks

    settings.TIMER_SWEEP_BATCH, settings.TIMER_SWEEP_HELPERS = 2, 3
    cases = filed(personas, 5)
    time_machine.move_to("2026-11-27T00:00:01+08:00", tick=False)
    with mock.patch.object(tasks.fire_due_workflow_timers, "delay") as delay:
        assert tasks.fire_due_workflow_timers() == 5
    assert delay.call_args_list == [mock.call(helper=True)] * 3
    assert escalations(cases) == 5
    with mock.patch.object(tasks.fire_due_workflow_timers, "delay") as delay:
        tasks.fire_due_workflow_timers(helper=True)
    delay.assert_not_called()


BATCH_READS = ("repair_repaircase", "credit_deadline", "credit_membership", "notifications_preference")


def test_a_batch_reads_its_cases_deadlines_and_heads_once(personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
    """What an escalation reads (its case, its deadline, the department's head, the head's preferences) is
    read for the whole batch, so those reads do not grow with the number of timers fired."""
    from django.test.utils import CaptureQueriesContext

    def sweep() -> tuple[int, dict[str, int]]:
        with CaptureQueriesContext(connection) as queries:
            fired = dispatch_due_timers(batch_size=50).fired
        reads: dict[str, int] = {}
        for query in queries:
            sql = query["sql"]
            for table in (
                "repair_repaircase",
                "credit_deadline",
                "credit_membership",
                "notifications_preference",
            ):
                if sql.startswith("SELECT") and f'FROM "{table}"' in sql:
                    reads[table] = reads.get(table, 0) + 1
        return fired, reads

    filed(personas, 2)
    time_machine.move_to("2026-11-27T00:00:01+08:00", tick=False)
    few, reads_few = sweep()
    filed(personas, 6)  # on Friday 27 November: due by Wednesday 2 December
    time_machine.move_to("2026-12-03T00:00:01+08:00", tick=False)
    many, reads_many = sweep()
    assert (few, many) == (2, 6)
    assert reads_many == reads_few and set(reads_few) == set(BATCH_READS)

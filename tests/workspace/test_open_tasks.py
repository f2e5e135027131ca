"""The queues' table of open tasks (workspace.open_tasks): each open human task has its row, written in the
transaction of every change to what it copies (the task, the deadline of its timer), and nothing else;
drift is found and repaired with an operator's command."""

from __future__ import annotations

from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from viewflow.workflow.status import STATUS

from credit.models import CalendarDay, Deadline
from credit.services.deadlines import mark_missed_deadlines
from credit.services.transitions import perform_transition
from tests.conftest import Personas
from tests.workspace.test_queues import objection, repair, take, task_of
from workspace import open_tasks, queue_services
from workspace.models import OpenTask
from workspace.tasks import reconcile_open_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def row_of(case: Any) -> OpenTask:
    return OpenTask.objects.get(task=task_of(case, STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED))


def due_of(case: Any, kind: str) -> date:
    return Deadline.objects.open().get(object_id=case.pk, kind=kind).due_date


def test_a_task_has_its_row_from_its_creation_to_its_step(personas: Personas) -> None:
    case = repair(personas)
    row = row_of(case)
    assert (row.status, row.owner_id, row.department_id, row.person_id) == (
        STATUS.NEW,
        None,
        personas.market.pk,
        personas.applicant_person.pk,
    )
    assert row.due_date == due_of(case, "repair.accept") and row.case_id == case.pk
    examine = row.task_id
    queue_services.claim(task_id=examine, actor=personas.officer)
    row.refresh_from_db()
    assert (row.status, row.owner_id) == (STATUS.ASSIGNED, personas.officer.pk)
    take(case, "accept", personas.officer)
    assert not OpenTask.objects.filter(task_id=examine).exists()
    decide = row_of(case)
    assert decide.task_id != examine and decide.due_date == due_of(case, "repair.decide")


def test_a_task_without_a_clock_has_no_due_date(personas: Personas) -> None:
    case = take(objection(personas), "forward", personas.intake)  # acceptance has no boundary timer
    assert row_of(case).due_date is None


def test_an_extension_moves_the_due_date_of_the_task(personas: Personas) -> None:
    case = take(repair(personas), "accept", personas.officer)
    before = row_of(case).due_date
    perform_transition(case, "extend", actor=personas.head, reason="案情复杂，需现场核查")
    after = row_of(case).due_date
    assert after == due_of(case, "repair.extend") and after > before  # type: ignore[operator]


def test_a_calendar_change_moves_the_due_date_of_the_task(
    personas: Personas, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    case = repair(personas)
    before = row_of(case).due_date
    assert before == date(2026, 11, 26)
    with django_capture_on_commit_callbacks(execute=True):  # the recomputation follows the commit
        CalendarDay.objects.create(
            date=date(2026, 11, 24), kind=CalendarDay.Kind.HOLIDAY, name="台风停工", source="测试"
        )
    assert row_of(case).due_date == due_of(case, "repair.accept") == date(2026, 11, 27)


def test_a_missed_deadline_keeps_its_due_date(personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
    case = repair(personas)
    due = row_of(case).due_date
    time_machine.move_to("2026-12-01T09:00:00+08:00", tick=False)
    mark_missed_deadlines()
    assert Deadline.objects.get(object_id=case.pk, kind="repair.accept").status == "missed"
    assert row_of(case).due_date == due


def test_a_failed_step_leaves_the_row_as_it_was(personas: Personas) -> None:
    case = repair(personas)
    before = list(OpenTask.objects.values_list())
    with pytest.raises(RuntimeError), transaction.atomic():
        take(case, "accept", personas.officer)
        raise RuntimeError("the rest of the request failed")
    assert list(OpenTask.objects.values_list()) == before


def test_drift_is_found_and_repaired(personas: Personas) -> None:
    kept, changed, lost = repair(personas), repair(personas), repair(personas)
    assert not open_tasks.drift()
    changed_row, lost_row = row_of(changed), row_of(lost)
    OpenTask.objects.filter(pk=changed_row.pk).update(due_date=date(2030, 1, 1), owner=personas.officer)
    OpenTask.objects.filter(pk=lost_row.pk).delete()
    found = open_tasks.drift()
    assert found.missing == sorted([changed_row.pk, lost_row.pk]) and found.stale == [changed_row.pk]
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("open_tasks", "--check", stdout=out)
    assert "2 open task(s)" in out.getvalue()
    call_command("open_tasks", "--sync", stdout=out)
    assert not open_tasks.drift()
    assert row_of(changed).due_date == due_of(changed, "repair.accept") and row_of(changed).owner_id is None
    assert row_of(kept).due_date == due_of(kept, "repair.accept")
    call_command("open_tasks", "--check", stdout=out)  # nothing to report now


def test_rows_of_tasks_that_are_no_longer_open_are_dropped_by_the_sync(personas: Personas) -> None:
    case = repair(personas)
    examine = row_of(case)
    take(case, "accept", personas.officer)
    OpenTask.objects.create(
        task_id=examine.task_id,
        flow_task=examine.flow_task,
        status=STATUS.NEW,
        created=examine.created,
        case_type_id=examine.case_type_id,
        case_id=examine.case_id,
        department_id=examine.department_id,
        person_id=examine.person_id,
    )
    assert open_tasks.drift().stale == [examine.task_id]
    open_tasks.sync_all()
    assert not OpenTask.objects.filter(task_id=examine.task_id).exists() and not open_tasks.drift()


def test_the_nightly_check_repairs_and_reports(personas: Personas, caplog) -> None:  # type: ignore[no-untyped-def]
    case = repair(personas)
    assert reconcile_open_tasks.delay().get() == 0
    OpenTask.objects.filter(task_id=row_of(case).task_id).update(status=STATUS.STARTED)
    assert reconcile_open_tasks.delay().get() == 1
    assert "differed from its sources" in caplog.text and not open_tasks.drift()

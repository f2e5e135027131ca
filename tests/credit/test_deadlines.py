"""Deadlines from rules and the calendar, closed as met or missed at the edge of 24:00, and driving a
viewflow boundary timer."""

from __future__ import annotations

import gc
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from viewflow.workflow import flow
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS
from viewflow.workflow.timers import fire_due_timers

from credit.checks import flows_use_select_for_update_lock
from credit.flows import RecordMaskFlow, deadline_overdue
from credit.models import Deadline, RuleSet, TransitionLog
from credit.reports import overdue_now
from credit.services.deadlines import (
    close_deadline,
    close_pending,
    extend_deadline,
    mark_missed_deadlines,
    meet_deadline,
    open_deadline,
)
from credit.services.transitions import Forbidden
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def subject(personas: Personas):  # type: ignore[no-untyped-def]
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def order36() -> RuleSet:
    return RuleSet.objects.get(code="ndrc-order-36")


def test_a_deadline_in_working_days_skips_national_day(subject) -> None:  # type: ignore[no-untyped-def]
    # Accepted Wed 2026-09-30: 7 WD skip 1–7 October and count Saturday 10 October (调休).
    deadline = open_deadline(
        subject=subject, kind="objection.verify", start=date(2026, 9, 30), ruleset=order36()
    )
    assert deadline.due_date == date(2026, 10, 15)
    assert (deadline.value, deadline.unit, deadline.provisional) == (7, "wd", False)
    assert "第十八条" in deadline.basis


def test_a_deadline_across_spring_festival(subject) -> None:  # type: ignore[no-untyped-def]
    deadline = open_deadline(
        subject=subject, kind="repair.accept", start=date(2026, 2, 12), ruleset=order36()
    )
    # Fri 13, Sat 14 (调休 working day), then the holiday to the 23rd; Tue 24 is the third working day.
    assert deadline.due_date == date(2026, 2, 24)


def test_a_deadline_running_into_a_year_without_data_is_provisional(subject) -> None:  # type: ignore[no-untyped-def]
    deadline = open_deadline(
        subject=subject, kind="repair.supplement", start=date(2026, 12, 24), ruleset=order36()
    )
    assert deadline.provisional
    assert deadline.due_date == date(2027, 1, 8)  # 1 January is statutory; weekends skipped


def test_calendar_days_ending_on_a_rest_day_move_to_the_next_working_day(subject) -> None:  # type: ignore[no-untyped-def]
    # 60 days from 2026-08-02 is Thursday 1 October, inside the National Day holiday.
    deadline = open_deadline(
        subject=subject, kind="reconsideration.apply", start=date(2026, 8, 2), ruleset=order36()
    )
    assert deadline.due_date == date(2026, 10, 8)


def test_a_deadline_ends_at_midnight_shanghai_time(subject) -> None:  # type: ignore[no-untyped-def]
    deadline = open_deadline(
        subject=subject, kind="repair.accept", start=date(2026, 11, 23), ruleset=order36()
    )
    assert deadline.due_date == date(2026, 11, 26)
    assert deadline.due_at == at("2026-11-27T00:00:00")


@pytest.mark.parametrize(
    ("moment", "expected"),
    [("2026-11-26T23:59:59", "met"), ("2026-11-27T00:00:00", "missed"), ("2026-11-27T09:00:00", "missed")],
)
def test_meeting_a_deadline_at_its_edge(subject, moment: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    open_deadline(subject=subject, kind="repair.accept", start=date(2026, 11, 23), ruleset=order36())
    assert meet_deadline(subject=subject, kind="repair.accept", at=at(moment)).status == expected  # type: ignore[union-attr]


def test_the_sweep_marks_missed_only_after_the_due_day(subject, time_machine) -> None:  # type: ignore[no-untyped-def]
    deadline = open_deadline(
        subject=subject, kind="repair.accept", start=date(2026, 11, 23), ruleset=order36()
    )
    time_machine.move_to(at("2026-11-26T23:59:59"), tick=False)
    assert mark_missed_deadlines() == 0
    time_machine.move_to(at("2026-11-27T00:00:01"), tick=False)
    assert mark_missed_deadlines() == 1
    assert mark_missed_deadlines() == 0  # idempotent
    deadline.refresh_from_db()
    assert deadline.status == Deadline.Status.MISSED


def test_a_missed_deadline_stays_overdue_until_its_step_is_taken(subject, time_machine) -> None:  # type: ignore[no-untyped-def]
    deadline = open_deadline(
        subject=subject, kind="repair.accept", start=date(2026, 11, 23), ruleset=order36()
    )
    time_machine.move_to(at("2026-11-27T00:00:01"), tick=False)
    mark_missed_deadlines()
    # Marked missed, and still the work that is late now: in the overdue list, open, not closed.
    assert list(Deadline.objects.overdue()) == [deadline]
    assert [row.id for row in overdue_now().rows] == [deadline.pk]
    deadline.refresh_from_db()
    assert (deadline.status, deadline.closed_at) == (Deadline.Status.MISSED, None)
    with pytest.raises(ValueError, match="Only a pending deadline"):
        extend_deadline(deadline, kind="repair.extend")
    # The late step closes it, still missed, at the moment it was taken.
    time_machine.move_to(at("2026-11-30T10:00:00"), tick=False)
    taken = meet_deadline(subject=subject, kind="repair.accept")
    assert taken is not None and taken.pk == deadline.pk
    assert (taken.status, taken.closed_at) == (Deadline.Status.MISSED, at("2026-11-30T10:00:00"))
    assert not Deadline.objects.overdue().exists()
    assert meet_deadline(subject=subject, kind="repair.accept") is None  # closed once


def test_the_end_of_a_case_closes_its_missed_deadlines_as_missed(subject, time_machine) -> None:  # type: ignore[no-untyped-def]
    deadline = open_deadline(
        subject=subject, kind="repair.accept", start=date(2026, 11, 23), ruleset=order36()
    )
    time_machine.move_to(at("2026-11-27T00:00:01"), tick=False)
    mark_missed_deadlines()
    close_pending(subject, status=Deadline.Status.CANCELLED)
    deadline.refresh_from_db()
    assert deadline.status == Deadline.Status.MISSED and deadline.closed_at is not None
    assert not Deadline.objects.overdue().exists()


def test_closing_twice_reports_the_second_as_a_no_op(subject) -> None:  # type: ignore[no-untyped-def]
    deadline = open_deadline(
        subject=subject, kind="repair.accept", start=date(2026, 11, 23), ruleset=order36()
    )
    assert close_deadline(deadline, status=Deadline.Status.MET)
    assert not close_deadline(deadline, status=Deadline.Status.MISSED)
    deadline.refresh_from_db()
    assert deadline.status == Deadline.Status.MET


def test_an_extension_replaces_the_deadline_and_counts_on(subject) -> None:  # type: ignore[no-untyped-def]
    first = open_deadline(subject=subject, kind="repair.decide", start=date(2026, 11, 23), ruleset=order36())
    extended = extend_deadline(first, kind="repair.extend")
    first.refresh_from_db()
    assert first.status == Deadline.Status.EXTENDED
    assert extended.replaces == first
    assert extended.start_date == first.due_date == date(2026, 12, 2)
    assert extended.due_date == date(2026, 12, 16)
    with pytest.raises(ValueError):
        extend_deadline(first, kind="repair.extend")


def test_the_pending_index_is_partial() -> None:
    index = next(i for i in Deadline._meta.indexes if i.name == "deadline_pending_due")
    assert index.condition is not None


class TestBoundaryTimer:
    def test_a_deadline_schedules_the_timer_and_the_sweep_escalates_once(
        self,
        personas: Personas,
        subject,
        time_machine,  # type: ignore[no-untyped-def]
    ) -> None:
        overdue = []
        deadline_overdue.connect(lambda **kw: overdue.append(kw), weak=False, dispatch_uid="t-overdue")
        process = RecordMaskFlow.start.run(
            record=subject, received=date(2026, 11, 23), ruling="(2026)示01破1号"
        )
        deadline = Deadline.objects.get(kind="record.mask")
        assert deadline.due_date == date(2026, 12, 7)  # 10 WD
        timer = Task.objects.get(process=process, flow_task_type="TIMER")
        assert timer.status == STATUS.SCHEDULED
        assert timer.scheduled == deadline.due_at
        assert deadline.task == timer

        time_machine.move_to(at("2026-12-07T23:59:00"), tick=False)
        assert fire_due_timers() == 0
        time_machine.move_to(at("2026-12-08T00:00:01"), tick=False)
        assert fire_due_timers() == 1
        assert fire_due_timers() == 0
        deadline_overdue.disconnect(dispatch_uid="t-overdue")
        assert [kw["deadline"] for kw in overdue] == [deadline]
        # Non-interrupting: the officer's task is still open and completes through the transition service.
        task = Task.objects.get(process=process, flow_task=RecordMaskFlow.mask)
        assert task.status == STATUS.NEW
        RecordMaskFlow.mask.run(task, officer=personas.officer)
        subject.refresh_from_db()
        assert subject.state == "temp_masked"
        deadline.refresh_from_db()
        assert deadline.status == Deadline.Status.MISSED

    def test_completing_the_task_in_time_cancels_the_timer(self, personas: Personas, subject) -> None:  # type: ignore[no-untyped-def]
        process = RecordMaskFlow.start.run(
            record=subject, received=date(2026, 11, 23), ruling="(2026)示01破1号"
        )
        task = Task.objects.get(process=process, flow_task=RecordMaskFlow.mask)
        RecordMaskFlow.mask.run(task, officer=personas.officer)
        assert Task.objects.get(process=process, flow_task_type="TIMER").status == STATUS.CANCELED
        assert Deadline.objects.get(kind="record.mask").status == Deadline.Status.MET
        entry = TransitionLog.objects.get(transition="temp_mask")
        assert (entry.actor, entry.reason) == (personas.officer, "(2026)示01破1号")

    def test_a_refused_step_leaves_the_task_open(self, personas: Personas, subject) -> None:  # type: ignore[no-untyped-def]
        process = RecordMaskFlow.start.run(
            record=subject, received=date(2026, 11, 23), ruling="(2026)示01破1号"
        )
        task = Task.objects.get(process=process, flow_task=RecordMaskFlow.mask)
        with pytest.raises(Forbidden):
            RecordMaskFlow.mask.run(task, officer=personas.other_officer)
        task.refresh_from_db()
        assert task.status == STATUS.NEW
        subject.refresh_from_db()
        assert subject.state == "repair_eligible"


def test_the_system_check_requires_the_row_lock() -> None:
    assert flows_use_select_for_update_lock(None) == []

    class UnlockedFlow(flow.Flow):
        start = flow.StartHandle().Next(flow.End())

    errors = flows_use_select_for_update_lock(None)
    assert [e.id for e in errors] == ["credit.E001"]
    assert "UnlockedFlow" in errors[0].msg
    del UnlockedFlow
    gc.collect()
    assert flows_use_select_for_update_lock(None) == []

"""Calendar changes recompute the pending deadlines they touch: the Deadline rows and viewflow's timer rows
move together, with history; nothing else moves; a second run changes nothing; a failure leaves a batch as
it was.

2027 is a provisional year here: chinese_calendar 1.11.0 has data up to 2026, so days of 2027 are decided by
the statutory rule (Spring Festival = 除夕 Fri 02-05 to 初三 Mon 02-08, no 调休) until overrides are entered.
The "official" 2027 arrangement below is made up for the tests (the State Council's is not published):
rest from Fri 02-05 to Sat 02-13, working Sunday 01-31 and Saturday 02-20."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.flows import RecordMaskFlow, deadline_overdue
from credit.models import CalendarChange, CalendarDay, CalendarYear, Deadline, DeadlineChange, RuleSet
from credit.models.audit import AppendOnlyError
from credit.recompute_tasks import recompute_missed_calendar_changes
from credit.services.deadlines import close_deadline, open_deadline
from credit.services.recompute import (
    _LOCK_KEY,
    _one_at_a_time,
    candidates,
    deadlines_recomputed,
    recompute_change,
    recompute_pending,
    request_recomputation,
)
from credit.timers import dispatch_due_timers
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
D = date.fromisoformat
HOLIDAY, WORKDAY = CalendarDay.Kind.HOLIDAY, CalendarDay.Kind.WORKDAY
SPRING_FESTIVAL_2027 = [
    *[((D("2027-02-05") + timedelta(days=i)).isoformat(), HOLIDAY) for i in range(9)],
    ("2027-01-31", WORKDAY),
    ("2027-02-20", WORKDAY),
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def order36() -> RuleSet:
    return RuleSet.objects.get(code="ndrc-order-36")


@pytest.fixture
def subject(personas: Personas):  # type: ignore[no-untyped-def]
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


@pytest.fixture
def enter(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Enter overrides in one transaction, as the admin's save does, and run what follows its commit (the
    recomputation task, eager in this tier)."""

    def enter(days: list[tuple[str, str]], name: str = "春节") -> None:
        with django_capture_on_commit_callbacks(execute=True):
            for day, kind in days:
                CalendarDay.objects.create(date=D(day), kind=kind, name=name, source="国办发明电〔2026〕测试")

    return enter


@pytest.fixture
def committed(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    return lambda: django_capture_on_commit_callbacks(execute=True)


def mask_flow(subject, received: date):  # type: ignore[no-untyped-def]
    """A RecordMaskFlow whose record.mask deadline (10 WD) drives a boundary timer; (deadline, timer)."""
    process = RecordMaskFlow.start.run(record=subject, received=received, ruling="(2027)示01破1号")
    deadline = Deadline.objects.get(object_id=subject.pk, kind="record.mask", status="pending")
    timer = Task.objects.get(process=process, flow_task_type="TIMER")
    assert deadline.task == timer and timer.scheduled == deadline.due_at
    return deadline, timer


def reloaded(*rows):  # type: ignore[no-untyped-def]
    for row in rows:
        row.refresh_from_db()


def test_2027_is_provisional_here() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D("2027-06-01"))


class TestOfficialSchedule:
    def test_entering_the_schedule_moves_the_deadline_and_its_timer_with_history(
        self, subject, enter, committed, time_machine
    ) -> None:  # type: ignore[no-untyped-def]
        time_machine.move_to(at("2027-01-28T10:00:00"), tick=False)
        deadline, timer = mask_flow(subject, D("2027-01-28"))
        # By the rule: Fri 29, Mon 1 .. Thu 4, (Fri 5 除夕, Mon 8 初三 off), Tue 9 .. Fri 12, Mon 15.
        assert (deadline.due_date, deadline.provisional) == (D("2027-02-15"), True)
        # Not touched by the change: one before it, one after it, and a closed one inside it.
        before = open_deadline(
            subject=subject, kind="repair.accept", start=D("2027-01-04"), ruleset=order36()
        )
        later = open_deadline(subject=subject, kind="repair.accept", start=D("2027-03-01"), ruleset=order36())
        closed = open_deadline(
            subject=subject, kind="objection.verify", start=D("2027-01-28"), ruleset=order36()
        )
        close_deadline(closed, status=Deadline.Status.MET)
        # Calendar days: 60 days from 2026-12-08 end on Sat 2027-02-06, moved past the rule's holiday.
        reconsider = open_deadline(
            subject=subject, kind="reconsideration.apply", start=D("2026-12-08"), ruleset=order36()
        )
        assert (reconsider.due_date, reconsider.provisional) == (D("2027-02-09"), True)
        untouched = {d.pk: (d.due_date, d.provisional) for d in (before, later, closed)}

        enter(SPRING_FESTIVAL_2027)

        reloaded(deadline, timer, reconsider)
        # Fri 29, Sun 31 (调休), Mon 1 .. Thu 4, then off to Sat 13 (and Sun 14), Mon 15 .. Thu 18.
        assert (deadline.due_date, deadline.provisional) == (D("2027-02-18"), True)  # 2027 not yet official
        assert timer.status == STATUS.SCHEDULED and timer.scheduled == at("2027-02-19T00:00:00")
        assert (reconsider.due_date, reconsider.provisional) == (D("2027-02-15"), True)
        change = DeadlineChange.objects.get(deadline=deadline)
        assert (change.old_due, change.new_due) == (D("2027-02-15"), D("2027-02-18"))
        assert (change.old_provisional, change.new_provisional, change.timer_task_id) == (
            True,
            True,
            timer.pk,
        )
        assert change.cause.kind == CalendarChange.Kind.DAY_SAVED and change.at == at("2027-01-28T10:00:00")
        assert "春节" in change.reason and "2027-" in change.reason
        assert DeadlineChange.objects.get(deadline=reconsider).timer_task_id is None  # no timer attached
        assert DeadlineChange.objects.count() == 2  # nothing else moved
        assert {d.pk: (d.due_date, d.provisional) for d in Deadline.objects.filter(pk__in=untouched)} == (
            untouched
        )
        assert not CalendarChange.objects.filter(recomputed_at__isnull=True).exists()
        assert CalendarChange.objects.count() == len(SPRING_FESTIVAL_2027)

        # A second run changes nothing, whoever asks for it.
        assert recompute_change(request_recomputation(year=2027)).changed == 0
        assert recompute_pending().changed == 0
        assert DeadlineChange.objects.count() == 2

        # Marking the year official makes the deadlines touching it final, without moving their dates.
        with committed():
            CalendarYear.objects.create(year=2027, official=True, source="国办发明电〔2026〕测试")
        reloaded(deadline, timer, reconsider, later)
        assert (deadline.due_date, deadline.provisional) == (D("2027-02-18"), False)
        assert (reconsider.due_date, reconsider.provisional) == (D("2027-02-15"), False)
        assert (later.due_date, later.provisional) == (untouched[later.pk][0], False)
        flag = DeadlineChange.objects.filter(deadline=deadline).last()
        assert flag is not None and flag.cause.kind == CalendarChange.Kind.YEAR_CHANGED
        assert (flag.old_due, flag.new_due, flag.new_provisional, flag.timer_task_id) == (
            D("2027-02-18"),
            D("2027-02-18"),
            False,
            None,  # the date did not move, nor did the timer
        )
        assert timer.scheduled == at("2027-02-19T00:00:00")

        # The timer fires at the new moment, not the old one.
        overdue: list[object] = []
        deadline_overdue.connect(lambda **kw: overdue.append(kw["deadline"]), weak=False, dispatch_uid="t-re")
        try:
            time_machine.move_to(at("2027-02-16T00:00:01"), tick=False)
            assert dispatch_due_timers().fired == 0
            time_machine.move_to(at("2027-02-18T23:59:59"), tick=False)
            assert dispatch_due_timers().fired == 0
            time_machine.move_to(at("2027-02-19T00:00:01"), tick=False)
            assert dispatch_due_timers().fired == 1
            assert dispatch_due_timers().fired == 0
        finally:
            deadline_overdue.disconnect(dispatch_uid="t-re")
        assert overdue == [deadline]

    def test_deleting_the_overrides_moves_it_back(self, subject, enter, committed, time_machine) -> None:  # type: ignore[no-untyped-def]
        time_machine.move_to(at("2027-01-28T10:00:00"), tick=False)
        deadline, timer = mask_flow(subject, D("2027-01-28"))
        enter(SPRING_FESTIVAL_2027)
        reloaded(deadline, timer)
        assert deadline.due_date == D("2027-02-18")

        with committed():
            CalendarDay.objects.get(date=D("2027-01-31")).delete()
        reloaded(deadline, timer)
        assert deadline.due_date == D("2027-02-19")  # one working day fewer before the holiday
        assert timer.scheduled == at("2027-02-20T00:00:00")

        with committed():
            CalendarDay.objects.filter(date__year=2027).delete()  # the admin's bulk delete: one signal a row
        reloaded(deadline, timer)
        assert (deadline.due_date, deadline.provisional) == (D("2027-02-15"), True)
        assert timer.scheduled == deadline.due_at == at("2027-02-16T00:00:00")
        history = list(DeadlineChange.objects.filter(deadline=deadline).values_list("old_due", "new_due"))
        assert history == [
            (D("2027-02-15"), D("2027-02-18")),
            (D("2027-02-18"), D("2027-02-19")),
            (D("2027-02-19"), D("2027-02-15")),
        ]
        assert DeadlineChange.objects.last().cause.kind == CalendarChange.Kind.DAY_DELETED  # type: ignore[union-attr]


def test_an_override_in_a_year_with_data_moves_a_final_deadline(subject, enter) -> None:  # type: ignore[no-untyped-def]
    deadline = open_deadline(subject=subject, kind="repair.accept", start=D("2026-11-23"), ruleset=order36())
    after = open_deadline(subject=subject, kind="repair.accept", start=D("2026-11-25"), ruleset=order36())
    assert (deadline.due_date, deadline.provisional) == (D("2026-11-26"), False)
    assert after.due_date == D("2026-11-30")
    enter([("2026-11-24", HOLIDAY)], name="台风停工")
    reloaded(deadline, after)
    assert (deadline.due_date, deadline.provisional) == (D("2026-11-27"), False)
    assert after.due_date == D("2026-11-30")  # counted from the 25th: the 24th is not in its window
    assert list(DeadlineChange.objects.values_list("deadline", flat=True)) == [deadline.pk]


def test_a_due_moment_moved_into_the_past_fires_at_the_next_sweep(subject, enter) -> None:  # type: ignore[no-untyped-def]
    # Received Thu 2026-11-12: 13, 16..20, 23..26 → due Thu 26. Now is Mon 23 10:00.
    deadline, timer = mask_flow(subject, D("2026-11-12"))
    assert deadline.due_date == D("2026-11-26")
    assert dispatch_due_timers().fired == 0
    # Four weekend days declared working days (retroactively): the tenth working day is Sun 22, gone by.
    enter(
        [("2026-11-14", WORKDAY), ("2026-11-15", WORKDAY), ("2026-11-21", WORKDAY), ("2026-11-22", WORKDAY)]
    )
    reloaded(deadline, timer)
    assert deadline.due_date == D("2026-11-22") and deadline.status == Deadline.Status.PENDING
    assert timer.scheduled == at("2026-11-23T00:00:00")
    assert dispatch_due_timers().fired == 1


def test_a_failed_batch_is_left_as_it_was_and_done_by_the_next_run(subject, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = open_deadline(subject=subject, kind="repair.accept", start=D("2026-11-23"), ruleset=order36())
    second = open_deadline(subject=subject, kind="repair.accept", start=D("2026-11-24"), ruleset=order36())
    # Not through the admin: the message after commit is never sent (as if the broker lost it).
    CalendarDay.objects.create(date=D("2026-11-25"), kind=HOLIDAY)
    assert [(d.due_date) for d in (first, second)] == [D("2026-11-26"), D("2026-11-27")]

    real = DeadlineChange.objects.bulk_create
    calls = []

    def fail_second(rows, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(rows)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(rows, *args, **kwargs)

    monkeypatch.setattr(DeadlineChange.objects, "bulk_create", fail_second)
    with pytest.raises(RuntimeError):
        recompute_pending(batch_size=1)
    reloaded(first, second)
    assert first.due_date == D("2026-11-27")  # its batch committed
    assert second.due_date == D("2026-11-27") and not second.provisional  # as it was: no half-written batch
    assert list(DeadlineChange.objects.values_list("deadline", flat=True)) == [first.pk]
    assert CalendarChange.objects.get().recomputed_at is None  # still to do

    monkeypatch.undo()
    assert recompute_pending(batch_size=1).changed == 1
    reloaded(second)
    assert second.due_date == D("2026-11-30")
    assert DeadlineChange.objects.count() == 2
    assert CalendarChange.objects.get().moved == 2


def test_a_lost_message_is_recomputed_by_the_sweep(subject, time_machine) -> None:  # type: ignore[no-untyped-def]
    deadline = open_deadline(subject=subject, kind="repair.accept", start=D("2026-11-23"), ruleset=order36())
    CalendarDay.objects.create(date=D("2026-11-24"), kind=HOLIDAY)  # its on-commit message never runs
    assert recompute_missed_calendar_changes() == 0  # not yet: the message may still be on its way
    deadline.refresh_from_db()
    assert deadline.due_date == D("2026-11-26")
    time_machine.move_to(at("2026-11-23T10:06:00"), tick=False)
    assert recompute_missed_calendar_changes() == 1
    deadline.refresh_from_db()
    assert deadline.due_date == D("2026-11-27")
    assert recompute_missed_calendar_changes() == 0


def test_batches_cover_every_deadline_in_the_window_with_constant_queries(subject) -> None:  # type: ignore[no-untyped-def]
    def run(n: int, *, week: int, batch_size: int) -> tuple[int, int]:
        # Each run in its own weeks, so that the earlier runs' deadlines are outside its window.
        start = D("2026-11-30") + timedelta(weeks=3 * week)  # a Monday; 7 WD end on Wednesday next week
        made = [
            open_deadline(subject=subject, kind="objection.verify", start=start, ruleset=order36()).pk
            for _ in range(n)
        ]
        CalendarDay.objects.create(date=start + timedelta(days=2), kind=HOLIDAY)  # no message: run below
        before = dict(Deadline.objects.values_list("pk", "due_date"))
        with CaptureQueriesContext(connection) as queries:
            result = recompute_pending(batch_size=batch_size)
        after = dict(Deadline.objects.values_list("pk", "due_date"))
        assert result.changed == result.moved == n
        assert {pk for pk in after if after[pk] != before[pk]} == set(made)
        assert all(after[pk] == before[pk] + timedelta(days=1) for pk in made)
        return len(queries), result.batches

    small, one = run(3, week=0, batch_size=1000)
    large, also_one = run(40, week=1, batch_size=1000)
    # One batch that moves them all, and one that meets them again at their new date, unchanged.
    assert (one, also_one) == (2, 2)
    assert small == large  # a read, a calendar read, locks, an UPDATE per new due date, an INSERT; a read
    _, batches = run(7, week=2, batch_size=2)
    assert batches >= 4  # keyset batches: every deadline was reached (and moved ones seen again, unchanged)


def test_the_signal_carries_each_batch(subject, enter) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int]] = []
    deadlines_recomputed.connect(
        lambda change, changes, **kw: seen.append((change.pk, len(changes))), weak=False, dispatch_uid="t-sig"
    )
    try:
        open_deadline(subject=subject, kind="repair.accept", start=D("2026-11-23"), ruleset=order36())
        enter([("2026-11-24", HOLIDAY)])
    finally:
        deadlines_recomputed.disconnect(dispatch_uid="t-sig")
    assert seen == [(CalendarChange.objects.get().pk, 1)]


class TestWhatCounts:
    def test_editing_an_override(self, subject, committed) -> None:  # type: ignore[no-untyped-def]
        deadline = open_deadline(
            subject=subject, kind="repair.accept", start=D("2026-11-23"), ruleset=order36()
        )
        with committed():
            day = CalendarDay.objects.create(date=D("2026-11-24"), kind=HOLIDAY, name="停工")
        with committed():
            day.name = "台风停工"
            day.save()
        assert CalendarChange.objects.count() == 1  # the name does not count
        deadline.refresh_from_db()
        assert deadline.due_date == D("2026-11-27")
        with committed():
            day.date = D("2026-12-01")  # moved to another day: both days count
            day.save()
        assert list(CalendarChange.objects.values_list("first", "details__before", "details__after")) == [
            (D("2026-11-24"), None, "holiday"),
            (D("2026-11-24"), "holiday", None),
            (D("2026-12-01"), None, "holiday"),
        ]
        deadline.refresh_from_db()
        assert deadline.due_date == D("2026-11-26")

    def test_a_year_counts_when_its_flag_changes(self, subject, committed) -> None:  # type: ignore[no-untyped-def]
        deadline = open_deadline(
            subject=subject, kind="repair.accept", start=D("2031-04-30"), ruleset=order36()
        )
        # Labour Day by the rule: Thu 1 and Fri 2 off, then the weekend; Mon 5, Tue 6, Wed 7.
        assert (deadline.due_date, deadline.provisional) == (D("2031-05-07"), True)
        with committed():
            year = CalendarYear.objects.create(year=2031, official=False)
        assert not CalendarChange.objects.exists()
        with committed():
            year.official = True
            year.save()
        deadline.refresh_from_db()
        # Official, with nothing entered: Labour Day is whatever the overrides say, so 05-01 is worked.
        assert (deadline.due_date, deadline.provisional) == (D("2031-05-05"), False)
        with committed():
            year.delete()
        deadline.refresh_from_db()
        assert (deadline.due_date, deadline.provisional) == (D("2031-05-07"), True)
        assert list(CalendarChange.objects.values_list("kind", "first", "last")) == [
            ("year_changed", D("2031-01-01"), D("2031-12-31")),
            ("year_changed", D("2031-01-01"), D("2031-12-31")),
        ]


class TestCommand:
    def test_every_provisional_deadline_by_default_and_a_year_on_request(self, subject) -> None:  # type: ignore[no-untyped-def]
        provisional = open_deadline(
            subject=subject, kind="repair.accept", start=D("2026-12-30"), ruleset=order36()
        )
        final = open_deadline(subject=subject, kind="repair.accept", start=D("2026-11-23"), ruleset=order36())
        assert provisional.provisional and not final.provisional
        # Entered behind the model's back (no signal): only an operator's run sees them.
        CalendarDay.objects.bulk_create(
            [CalendarDay(date=D("2027-01-04"), kind=HOLIDAY), CalendarDay(date=D("2026-11-24"), kind=HOLIDAY)]
        )
        out = StringIO()
        with translation.override("en"):
            call_command("recompute_deadlines", stdout=out)
        assert "1 changed" in out.getvalue()
        reloaded(provisional, final)
        assert provisional.due_date == D("2027-01-06") and final.due_date == D("2026-11-26")
        out = StringIO()
        with translation.override("en"):
            call_command("recompute_deadlines", "--year", "2026", stdout=out)
        assert "1 changed" in out.getvalue()
        final.refresh_from_db()
        assert final.due_date == D("2026-11-27")
        out = StringIO()
        with translation.override("en"):
            call_command("recompute_deadlines", "--year", "2026", stdout=out)
        assert "0 changed" in out.getvalue()
        assert CalendarChange.objects.filter(kind="operator").count() == 3

    def test_bad_arguments(self) -> None:
        with pytest.raises(CommandError):
            call_command("recompute_deadlines", "--batch-size", "0")
        with pytest.raises(CommandError):
            call_command("recompute_deadlines", "--year", "20270")


def test_history_is_append_only(subject, enter) -> None:  # type: ignore[no-untyped-def]
    open_deadline(subject=subject, kind="repair.accept", start=D("2026-11-23"), ruleset=order36())
    enter([("2026-11-24", HOLIDAY)])
    change = DeadlineChange.objects.get()
    with pytest.raises(AppendOnlyError):
        change.save()
    with pytest.raises(AppendOnlyError):
        DeadlineChange.objects.all().delete()


def test_the_window_query_uses_its_index() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite cannot match a partial index to bound parameters")
    change = CalendarChange(kind="day_saved", first=D("2027-02-05"), last=D("2027-02-05"))
    for after in (None, (D("2027-02-05"), D("2027-01-01"), 1)):
        sql, params = candidates(change, after)[:1000].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is tiny; ask whether it can
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
        assert "deadline_pending_window" in plan, plan


@contextmanager
def turn_held_elsewhere() -> Iterator[None]:
    """Another recomputation's turn: on PostgreSQL the advisory lock held by another session (as another
    worker's would be), on SQLite the file lock on another open file."""
    if connection.vendor != "postgresql":
        with _one_at_a_time(wait=True) as mine:
            assert mine
            yield
        return
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
        yield
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
    finally:
        other.close()


def test_recomputations_take_turns(subject) -> None:  # type: ignore[no-untyped-def]
    """While another recomputation has the turn, a task returns at once and leaves the change to it."""
    deadline = open_deadline(subject=subject, kind="repair.accept", start=D("2026-11-23"), ruleset=order36())
    CalendarDay.objects.create(date=D("2026-11-24"), kind=HOLIDAY)
    with turn_held_elsewhere():
        assert recompute_pending().changes == 0
        deadline.refresh_from_db()
        assert deadline.due_date == D("2026-11-26")
        assert CalendarChange.objects.get().recomputed_at is None
    assert recompute_pending().changes == 1
    deadline.refresh_from_db()
    assert deadline.due_date == D("2026-11-27")

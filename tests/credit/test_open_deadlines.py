"""Several deadlines counted from one day (a filing's) from one read of the calendar and one INSERT: the same
rows `open_deadline` makes one by one, and an override entered in the admin counts at the next one."""

from __future__ import annotations

from datetime import date

import pytest
from pytest_django import DjangoAssertNumQueries

from credit.models import CalendarDay, CreditRecord, Deadline, RuleSet
from credit.services.deadlines import open_deadline, open_deadlines
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = pytest.mark.django_db
FIELDS = ("kind", "description", "basis", "value", "unit", "start_date", "due_date", "provisional", "status")


@pytest.fixture
def subject(personas: Personas) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def order36() -> RuleSet:
    return RuleSet.objects.prefetch_related("deadline_rules").get(code="ndrc-order-36", version=1)


def rows(deadlines: list[Deadline]) -> list[tuple[object, ...]]:
    return [
        tuple(getattr(d, f) for f in FIELDS)
        for d in Deadline.objects.filter(pk__in=[d.pk for d in deadlines])
    ]


@pytest.mark.parametrize(
    "start",
    [
        date(2026, 9, 30),  # National Day and the Saturday worked after it
        date(2026, 2, 13),  # the Spring Festival
        date(2026, 12, 24),  # into 2027, beyond chinese_calendar: provisional
        date(2026, 11, 23),
    ],
)
def test_together_they_are_the_rows_open_deadline_makes(subject: CreditRecord, start: date) -> None:
    ruleset = order36()
    kinds = [rule.kind for rule in ruleset.deadline_rules.all()]  # working days, calendar days, years
    assert {rule.unit for rule in ruleset.deadline_rules.all()} >= {"wd", "cd", "years"}
    one_by_one = [open_deadline(subject=subject, kind=k, start=start, ruleset=ruleset) for k in kinds]
    together = open_deadlines(subject=subject, kinds=kinds, start=start, ruleset=ruleset)
    assert all(d.pk for d in together)
    assert sorted(rows(together)) == sorted(rows(one_by_one))


def test_a_filings_deadlines_read_the_calendar_once(
    subject: CreditRecord, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    ruleset = order36()
    with django_assert_num_queries(2):  # the overrides of the window; one INSERT
        accept, total = open_deadlines(
            subject=subject,
            kinds=["repair.accept", "repair.total"],
            start=date(2026, 11, 23),
            ruleset=ruleset,
        )
    assert (accept.due_date, total.due_date) == (date(2026, 11, 26), date(2026, 12, 7))


def test_an_override_entered_counts_at_the_next_deadlines(subject: CreditRecord) -> None:
    ruleset = order36()
    kinds = ["repair.accept", "repair.total"]
    start = date(2026, 11, 23)
    before = open_deadlines(subject=subject, kinds=kinds, start=start, ruleset=ruleset)
    CalendarDay.objects.create(date=date(2026, 11, 25), kind=CalendarDay.Kind.HOLIDAY, name="临时调整")
    after = open_deadlines(subject=subject, kinds=kinds, start=start, ruleset=ruleset)
    assert [d.due_date for d in before] == [date(2026, 11, 26), date(2026, 12, 7)]
    assert [d.due_date for d in after] == [date(2026, 11, 27), date(2026, 12, 8)]
    CalendarDay.objects.filter(date=date(2026, 11, 25)).update(kind=CalendarDay.Kind.WORKDAY)  # an edit
    CalendarDay.objects.create(date=date(2026, 11, 28), kind=CalendarDay.Kind.WORKDAY, name="调休上班")
    edited = open_deadlines(subject=subject, kinds=kinds, start=start, ruleset=ruleset)
    assert [d.due_date for d in edited] == [date(2026, 11, 26), date(2026, 12, 4)]

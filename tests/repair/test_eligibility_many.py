"""Eligibility of many records at once (a page of the portal): the same answers as one by one, in one
statement whatever the number of records."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from credit.models import CreditRecord
from credit.selectors import records_for
from repair.eligibility import Code, check, check_many
from repair.models import RepairState
from tests.conftest import Personas
from tests.factories import make_record
from tests.repair.test_eligibility import open_case

pytestmark = pytest.mark.django_db


def records(personas: Personas, count: int) -> list[CreditRecord]:
    made = [
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, day)
        )
        for day in range(1, count + 1)
    ]
    return list(records_for(personas.applicant).filter(pk__in=[r.pk for r in made]))


def test_the_answers_are_those_of_check_one_by_one(personas: Personas) -> None:
    general, blocked, closed = records(personas, 3)
    too_early = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 10, 1)
    )
    open_case(blocked, personas.applicant)
    open_case(closed, personas.applicant, state=RepairState.WITHDRAWN)
    answers = check_many([general, blocked, closed, too_early], today=date(2026, 11, 23))
    for record in (general, blocked, closed, too_early):
        assert answers[record.pk] == check(record, today=date(2026, 11, 23)), record
    assert answers[general.pk].eligible and answers[closed.pk].eligible
    assert [r.code for r in answers[blocked.pk].reasons] == [Code.OPEN_REPAIR]
    assert [r.code for r in answers[too_early.pk].reasons] == [Code.MINIMUM_NOT_REACHED]


@pytest.mark.parametrize("count", [1, 10])
def test_one_statement_for_one_record_or_a_page(
    personas: Personas, django_assert_max_num_queries: Any, count: int
) -> None:
    page = records(personas, count)
    for record in page[::2]:
        open_case(record, personas.applicant)
    with django_assert_max_num_queries(1):
        answers = check_many(page)
    assert len(answers) == count
    assert [answers[r.pk].eligible for r in page] == [i % 2 == 1 for i in range(count)]


def test_nothing_is_asked_for_no_records(django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(0):
        assert check_many([]) == {}


def test_a_known_open_repair_asks_nothing(personas: Personas, django_assert_max_num_queries: Any) -> None:
    (record,) = records(personas, 1)
    with django_assert_max_num_queries(0):
        assert [r.code for r in check(record, open_repair=True).reasons] == [Code.OPEN_REPAIR]
        assert check(record, open_repair=False).eligible
    with pytest.raises(ValueError):
        check(record, open_repair=False, exclude_case=open_case(record, personas.applicant))

"""Reference numbers under real concurrency on PostgreSQL: no duplicates and no gaps."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, transaction

from credit.models import CreditRecord
from letters.models import Letter, LetterKind
from letters.services import allocate_sequence
from tests.factories import DepartmentFactory, PersonFactory, make_record

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_parallel_registrations_get_consecutive_unique_numbers() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter")
    department = DepartmentFactory(code="market", letter_prefix="示市监")
    persons = [PersonFactory() for _ in range(12)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(persons))

    def register(index: int) -> None:
        try:
            barrier.wait()
            make_record(person=persons[index], department=department, decision_date=date(2026, 5, index + 1))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(persons))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert CreditRecord.objects.count() == 12
    numbers = sorted(Letter.objects.filter(kind=LetterKind.REPAIR_NOTICE).values_list("sequence", flat=True))
    assert numbers == list(range(1, 13))


def test_a_number_is_refused_outside_a_transaction() -> None:
    department = DepartmentFactory(code="market")
    assert not transaction.get_connection().in_atomic_block
    with pytest.raises(RuntimeError):
        allocate_sequence(department, 2026)

"""Two filings of one record at the same moment: one case. Both may pass the eligibility check before either
commits; the partial unique constraint then refuses the second, which filing turns into "open_repair" without
a savepoint around its INSERT (raising ends its transaction, so nothing runs on the aborted one)."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from credit.models import CreditRecord, Deadline
from repair.models import Commitment, RepairCase
from repair.services import file_repair
from tests.factories import DepartmentFactory, PersonFactory, UserFactory, make_record

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_filing_that_loses_the_race_is_refused_as_open_repair() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises the two transactions: the second sees the first's case")
    market = DepartmentFactory(code="market")
    applicant = UserFactory(username="applicant", role="applicant")
    person = PersonFactory(user=applicant)
    record = make_record(person=person, department=market, decision_date=date(2026, 5, 31))
    first_inserted = threading.Event()
    outcomes: dict[str, str] = {}

    def first() -> None:
        # Files inside a longer transaction that commits only once the second filing has had time to pass
        # its eligibility check (the case is not committed yet) and to wait on the constraint.
        try:
            with transaction.atomic():
                mine = CreditRecord.objects.select_related("department").get(pk=record.pk)
                file_repair(record=mine, actor=applicant, statement="已整改", commitment_accepted=True)
                first_inserted.set()
                time.sleep(1.0)
            outcomes["first"] = "filed"
        finally:
            connection.close()

    def second() -> None:
        try:
            first_inserted.wait(10)
            mine = CreditRecord.objects.select_related("department").get(pk=record.pk)
            try:
                file_repair(record=mine, actor=applicant, statement="已整改", commitment_accepted=True)
                outcomes["second"] = "filed"
            except ValidationError as exc:
                outcomes["second"] = str(exc.code)
            # The refused filing's transaction was rolled back: the connection is usable at once.
            outcomes["after"] = str(RepairCase.objects.filter(record=record).count())
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == {"first": "filed", "second": "open_repair", "after": "1"}
    case = RepairCase.objects.get(record=record)
    assert Commitment.objects.filter(case__record=record).count() == 1
    assert Deadline.objects.for_object(case).count() == 2

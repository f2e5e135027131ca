"""Two legal reviewers approve one decision at the same moment: one step, one letter, one outbox event."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from credit.models import DownstreamEvent
from credit.services.transitions import TransitionError
from letters.models import Letter, LetterKind
from repair.models import RepairCase
from repair.services import file_repair, step
from tests.factories import DepartmentFactory, PersonFactory, UserFactory, make_record

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_simultaneous_approvals_take_one_step() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter")
    market = DepartmentFactory(code="market", letter_prefix="示市监")
    applicant = UserFactory(username="applicant", role="applicant")
    person = PersonFactory(user=applicant)
    officer = UserFactory(username="officer", role="officer", department=market)
    reviewers = [UserFactory(username=f"reviewer{i}", role="reviewer", department=market) for i in range(2)]
    assert Group.objects.filter(name="reviewer").exists()
    record = make_record(person=person, department=market, decision_date=date(2026, 5, 31))
    case = file_repair(record=record, actor=applicant, statement="已整改", commitment_accepted=True)
    step(case, "accept", actor=officer)
    step(case, "draft_decision", actor=officer, payload={"outcome": "approve"})

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(reviewer: object) -> None:
        try:
            barrier.wait()
            step(RepairCase.objects.get(pk=case.pk), "approve_decision", actor=reviewer)
            outcomes.append("approved")
        except TransitionError as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(r,)) for r in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["WrongState", "approved"]
    assert RepairCase.objects.get(pk=case.pk).state == "repaired"
    assert Letter.objects.filter(kind=LetterKind.REPAIR_DECISION).count() == 1
    assert DownstreamEvent.objects.filter(record=record).count() == 1

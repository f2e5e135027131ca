"""Two legal reviewers approve one objection decision at once: one step, one letter, one correction."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from credit.models import RecordAmendment
from credit.services.transitions import TransitionError, perform_transition
from letters.models import Letter, LetterKind
from objections.models import Objection
from objections.services import file_objection
from tests.factories import DepartmentFactory, PersonFactory, UserFactory, make_record

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_simultaneous_approvals_take_one_step() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter")
    market = DepartmentFactory(code="market", letter_prefix="示市监")
    platform = DepartmentFactory(code="platform", kind="platform")
    applicant = UserFactory(username="applicant", role="applicant")
    person = PersonFactory(user=applicant)
    intake = UserFactory(username="intake", role="intake", department=platform)
    officer = UserFactory(username="officer", role="officer", department=market)
    reviewers = [UserFactory(username=f"reviewer{i}", role="reviewer", department=market) for i in range(2)]
    record = make_record(person=person, department=market, decision_date=date(2026, 5, 31))
    objection = file_objection(actor=applicant, grounds=["record_wrong"], statement="文号有误", record=record)
    perform_transition(objection, "forward", actor=intake)
    perform_transition(Objection.objects.get(pk=objection.pk), "accept", actor=officer)
    perform_transition(
        Objection.objects.get(pk=objection.pk),
        "draft_decision",
        actor=officer,
        payload={
            "outcome": "founded",
            "remedy": "correct",
            "corrections": {"decision_number": "测罚〔2026〕9号"},
        },
    )

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(reviewer: object) -> None:
        try:
            barrier.wait()
            perform_transition(Objection.objects.get(pk=objection.pk), "approve_decision", actor=reviewer)
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
    assert Objection.objects.get(pk=objection.pk).state == "decided"
    assert Letter.objects.filter(kind=LetterKind.OBJECTION_RESULT).count() == 1
    assert RecordAmendment.objects.filter(record=record).count() == 1


def test_simultaneous_reconsideration_approvals_take_one_step() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter")
    from objections.models import Reconsideration
    from objections.reconsideration_services import file_reconsideration
    from repair.services import file_repair, step

    market = DepartmentFactory(code="market", letter_prefix="示市监")
    office = DepartmentFactory(
        code="recon-office", kind="reconsideration", city=market.city, letter_prefix="示府复"
    )
    applicant = UserFactory(username="applicant", role="applicant")
    person = PersonFactory(user=applicant)
    officer = UserFactory(username="officer", role="officer", department=market)
    reviewer = UserFactory(username="reviewer", role="reviewer", department=market)
    drafter, *approvers = [
        UserFactory(username=f"recon{i}", role="reconsideration", department=office) for i in range(3)
    ]
    record = make_record(person=person, department=market, decision_date=date(2026, 5, 31))
    case = file_repair(record=record, actor=applicant, statement="已整改", commitment_accepted=True)
    step(case, "accept", actor=officer)
    step(case, "draft_decision", actor=officer, payload={"outcome": "refuse", "reasons": ["材料不全"]})
    step(case, "approve_decision", actor=reviewer)
    from repair.models import RepairCase

    refused = RepairCase.objects.get(pk=case.pk)
    recon = file_reconsideration(
        actor=applicant, request="撤销原决定", statement="材料已齐", repair_case=refused
    )
    perform_transition(recon, "accept", actor=drafter, payload={})
    perform_transition(
        Reconsideration.objects.get(pk=recon.pk),
        "draft",
        actor=drafter,
        payload={"decision": "set_aside", "reasons": ["事实不清"]},
    )

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user: object) -> None:
        try:
            barrier.wait()
            perform_transition(Reconsideration.objects.get(pk=recon.pk), "approve", actor=user)
            outcomes.append("approved")
        except TransitionError as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["WrongState", "approved"]
    assert Letter.objects.filter(kind=LetterKind.RECONSIDERATION_DECISION).count() == 1
    assert RepairCase.objects.get(pk=case.pk).reopened_count == 1

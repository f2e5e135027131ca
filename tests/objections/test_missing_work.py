"""A case whose after-filing message was lost still gets its flow from the beat sweep (objections,
reconsiderations, complaints), once."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import TestCase
from viewflow.workflow.models import Process

from credit.models import CreditRecord, Department
from objections import tasks
from objections.complaint_services import complaints_without_work, file_complaint
from objections.reconsideration_services import file_reconsideration, reconsiderations_without_work
from objections.services import file_objection, objections_without_work
from repair.models import RepairCase
from tests.conftest import Personas
from tests.factories import make_record
from tests.repair.test_cases import file as file_repair
from tests.repair.test_cases import step as repair_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def test_lost_filings_are_picked_up_once(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    case = file_repair(personas, record)
    repair_step(personas.officer, case["id"], "accept")
    repair_step(
        personas.officer, case["id"], "draft_decision", payload={"outcome": "refuse", "reasons": ["x"]}
    )
    repair_step(personas.reviewer, case["id"], "approve_decision")
    other = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 4, 1)
    )
    # Filed outside any commit: the after-filing messages are never sent.
    objection = file_objection(
        actor=personas.applicant, grounds=["record_wrong"], statement="有误", record=other
    )
    recon = file_reconsideration(
        actor=personas.applicant,
        request="撤销",
        statement="理由",
        repair_case=RepairCase.objects.get(pk=case["id"]),
    )
    complaint = file_complaint(
        actor=personas.applicant, about="conduct", statement="态度差", department=personas.market
    )
    pending = [
        (objections_without_work, objection),
        (reconsiderations_without_work, recon),
        (complaints_without_work, complaint),
    ]
    assert all(list(selector()) == [made] for selector, made in pending)
    with TestCase.captureOnCommitCallbacks(execute=True):
        counts = [
            tasks.start_missing_work.apply(kwargs={"older_than_minutes": 0}).get(),
            tasks.start_missing_reconsideration_work.apply(kwargs={"older_than_minutes": 0}).get(),
            tasks.start_missing_complaint_work.apply(kwargs={"older_than_minutes": 0}).get(),
        ]
    assert counts == [1, 1, 1]
    assert not any(selector().exists() for selector, _made in pending)
    for _selector, made in pending:
        assert Process.objects.filter(artifact_object_id=made.pk, flow_class__isnull=False).exists()
    assert tasks.start_missing_work.apply(kwargs={"older_than_minutes": 0}).get() == 0

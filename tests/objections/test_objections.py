"""Objections end to end through the API: every path and outcome, every refusal, the clock over a holiday."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import translation
from PIL import Image
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.models import CreditRecord, Deadline, RecordAmendment, TransitionLog
from letters.models import Letter, LetterKind
from objections.flows import ObjectionFlow
from objections.models import Objection
from repair.flows import RepairFlow
from repair.models import RepairCase
from tests.conftest import Personas
from tests.factories import UserFactory, make_record

pytestmark = pytest.mark.django_db
URL = "/api/v1/objections/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def client_for(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile("receipt.png", buffer.getvalue(), content_type="image/png")


def file(user: Any, **body: Any) -> Any:
    body.setdefault("grounds", ["record_wrong"])
    body.setdefault("statement", "处罚决定书文号有误")
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client_for(user).post(URL, body, format="json")


def filed(personas: Personas, record: CreditRecord, **body: Any) -> dict[str, Any]:
    response = file(personas.applicant, record=record.pk, **body)
    assert response.status_code == 201, response.data
    return client_for(personas.applicant).get(response.data["url"]).data


def step(user: Any, objection_id: int, name: str, **body: Any) -> Any:
    return client_for(user).post(f"{URL}{objection_id}/transitions/{name}/", body, format="json")


def accepted(personas: Personas, record: CreditRecord) -> dict[str, Any]:
    objection = filed(personas, record)
    assert step(personas.intake, objection["id"], "forward").status_code == 200
    assert step(personas.officer, objection["id"], "accept").status_code == 200
    return objection


def test_founded_the_record_is_corrected_with_history_and_the_flag_removed(
    personas: Personas, record: CreditRecord
) -> None:
    objection = filed(personas, record)
    assert objection["state"] == "submitted" and objection["number"].startswith("YY2026")
    assert {d["kind"] for d in objection["deadlines"]} == {"objection.flag", "objection.forward"}

    forwarded = step(personas.intake, objection["id"], "forward")
    assert forwarded.status_code == 200 and forwarded.data["state"] == "forwarded"
    record.refresh_from_db()
    assert record.under_objection
    flag = TransitionLog.objects.get(object_id=record.pk, transition="flag_objection")
    assert flag.via_object_id == objection["id"] and flag.actor == personas.intake
    assert {d["kind"]: d["status"] for d in forwarded.data["deadlines"]} == {
        "objection.flag": "met",
        "objection.forward": "met",
    }
    assert step(personas.officer, objection["id"], "accept").data["state"] == "accepted"
    drafted = step(
        personas.officer,
        objection["id"],
        "draft_decision",
        payload={
            "outcome": "founded",
            "remedy": "correct",
            "corrections": {"decision_number": "测罚〔2026〕99号"},
            "findings": "经核对原始处罚决定书，文号录入有误。",
        },
    )
    assert drafted.status_code == 200, drafted.data
    approved = step(personas.reviewer, objection["id"], "approve_decision")
    assert approved.status_code == 200 and approved.data["state"] == "decided"

    record.refresh_from_db()
    assert record.decision_number == "测罚〔2026〕99号" and not record.under_objection
    amendment = RecordAmendment.objects.get(record=record)
    assert amendment.field == "decision_number" and amendment.actor == personas.reviewer
    amend = TransitionLog.objects.get(object_id=record.pk, transition="amend")
    assert amend.via_object_id == objection["id"]
    letter = Letter.objects.get(object_id=objection["id"], kind=LetterKind.OBJECTION_RESULT)
    assert letter.decision == "founded"
    assert letter.context["details"]["corrections"][0]["new_value"] == "测罚〔2026〕99号"
    assert letter.context["details"]["grounds"] == ["信息有误"]
    assert {d["kind"]: d["status"] for d in approved.data["deadlines"]}["objection.verify"] == "met"
    assert not Task.objects.filter(
        process__artifact_object_id=objection["id"],
        process__flow_class=ObjectionFlow,
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
    ).exists()


def test_founded_the_record_is_deleted(personas: Personas, record: CreditRecord) -> None:
    objection = accepted(personas, record)
    step(
        personas.officer,
        objection["id"],
        "draft_decision",
        payload={"outcome": "founded", "remedy": "delete"},
    )
    assert step(personas.reviewer, objection["id"], "approve_decision").status_code == 200
    record.refresh_from_db()
    assert record.state == "deleted" and not record.under_objection


def test_not_founded_keeps_the_record_and_removes_the_flag(personas: Personas, record: CreditRecord) -> None:
    objection = accepted(personas, record)
    no_reasons = step(personas.officer, objection["id"], "draft_decision", payload={"outcome": "not_founded"})
    assert (no_reasons.status_code, no_reasons.data["code"]) == (400, "BadPayload")
    step(
        personas.officer,
        objection["id"],
        "draft_decision",
        payload={"outcome": "not_founded", "reasons": ["经核对，信息与处罚决定书一致"]},
    )
    step(personas.reviewer, objection["id"], "approve_decision")
    record.refresh_from_db()
    assert record.state == "repair_eligible" and not record.under_objection
    assert not RecordAmendment.objects.exists()


def test_unresolved_keeps_the_flag_beside_the_record(personas: Personas, record: CreditRecord) -> None:
    objection = accepted(personas, record)
    step(
        personas.officer,
        objection["id"],
        "draft_decision",
        payload={"outcome": "unresolved", "reasons": ["原始卷宗缺失，无法核实"]},
    )
    step(personas.reviewer, objection["id"], "approve_decision")
    record.refresh_from_db()
    assert record.under_objection
    assert (
        Letter.objects.get(object_id=objection["id"], kind=LetterKind.OBJECTION_RESULT).decision
        == "unresolved"
    )


def test_the_reviewer_returns_the_draft_with_comments(personas: Personas, record: CreditRecord) -> None:
    objection = accepted(personas, record)
    step(
        personas.officer,
        objection["id"],
        "draft_decision",
        payload={"outcome": "founded", "remedy": "delete"},
    )
    assert (
        step(personas.reviewer, objection["id"], "return_decision").status_code == 400
    )  # a reason is needed
    returned = step(personas.reviewer, objection["id"], "return_decision", reason="应更正而非删除")
    assert returned.data["state"] == "accepted"
    assert returned.data["timeline"][-1]["reason"] == "应更正而非删除"
    record.refresh_from_db()
    assert record.state == "repair_eligible" and record.under_objection


def test_not_accepted_after_legal_review_with_a_letter(personas: Personas, record: CreditRecord) -> None:
    objection = filed(personas, record)
    step(personas.intake, objection["id"], "forward")
    proposed = step(
        personas.officer, objection["id"], "propose_non_acceptance", payload={"reasons": ["超出异议范围"]}
    )
    assert proposed.data["state"] == "non_acceptance_review"
    # The officer who proposed it cannot approve it, and neither can a reviewer who took part.
    assert step(personas.officer, objection["id"], "approve_non_acceptance").status_code == 403
    assert step(personas.reviewer, objection["id"], "approve_non_acceptance").data["state"] == "not_accepted"
    record.refresh_from_db()
    assert not record.under_objection
    letter = Letter.objects.get(object_id=objection["id"], kind=LetterKind.NON_ACCEPTANCE)
    assert letter.context["decision"]["reasons"] == ["超出异议范围"]


def test_an_objection_to_a_repair_refusal_reopens_the_repair(
    personas: Personas, record: CreditRecord
) -> None:
    from tests.repair.test_cases import file as file_repair
    from tests.repair.test_cases import step as repair_step

    case = file_repair(personas, record)
    repair_step(personas.officer, case["id"], "accept")
    repair_step(
        personas.officer,
        case["id"],
        "draft_decision",
        payload={"outcome": "refuse", "reasons": ["未提供缴款凭证"]},
    )
    repair_step(personas.reviewer, case["id"], "approve_decision")
    assert RepairCase.objects.get(pk=case["id"]).state == "refused"

    wrong_grounds = file(personas.applicant, repair_case=case["id"], grounds=["record_wrong"])
    assert wrong_grounds.status_code == 400
    response = file(
        personas.applicant, repair_case=case["id"], grounds=["decision_wrong"], statement="凭证已提交"
    )
    assert response.status_code == 201, response.data
    objection_id = response.data["id"]
    objection = Objection.objects.get(pk=objection_id)
    assert objection.department == personas.market and objection.repair_case_id == case["id"]
    assert not Deadline.objects.filter(object_id=objection_id, kind="objection.flag").exists()
    step(personas.intake, objection_id, "forward")
    record.refresh_from_db()
    assert not record.under_objection  # a decision objected to is not a record's flag
    # A second reviewer: the first one approved the refusal, which is not a bar, but keep them apart anyway.
    second = UserFactory(username="reviewer2", role="reviewer", department=personas.market)
    step(personas.officer, objection_id, "accept")
    step(personas.officer, objection_id, "draft_decision", payload={"outcome": "founded"})
    assert step(second, objection_id, "approve_decision").status_code == 200

    repaired = RepairCase.objects.get(pk=case["id"])
    assert repaired.state == "accepted" and repaired.reopened_count == 1 and repaired.draft_outcome == ""
    reopen = TransitionLog.objects.get(object_id=case["id"], transition="reopen")
    assert reopen.via_object_id == objection_id
    assert Deadline.objects.filter(object_id=case["id"], kind="repair.decide", status="pending").exists()
    assert Task.objects.get(
        process__artifact_object_id=case["id"], flow_task=RepairFlow.decide, status=STATUS.NEW
    )
    letter = Letter.objects.get(object_id=objection_id, kind=LetterKind.OBJECTION_RESULT)
    assert letter.context["details"]["reopened"] is True
    # The reopened case's new work runs its course: the new decision task ends when the officer drafts.
    redrafted = repair_step(
        personas.officer, case["id"], "draft_decision", payload={"outcome": "refuse", "reasons": ["仍未缴清"]}
    )
    assert redrafted.status_code == 200, redrafted.data
    tasks = Task.objects.filter(process__artifact_object_id=case["id"], process__flow_class=RepairFlow)
    assert tasks.filter(flow_task=RepairFlow.decide, status=STATUS.DONE).count() == 2
    assert tasks.filter(flow_task=RepairFlow.legal_review, status=STATUS.NEW).count() == 1


def test_withdrawal_before_the_decision_clears_the_flag(personas: Personas, record: CreditRecord) -> None:
    objection = accepted(personas, record)
    assert step(personas.applicant, objection["id"], "withdraw").data["state"] == "withdrawn"
    record.refresh_from_db()
    assert not record.under_objection
    clear = TransitionLog.objects.get(object_id=record.pk, transition="clear_objection")
    assert clear.actor_label == "system:objection" and clear.via_object_id == objection["id"]
    assert not Deadline.objects.filter(object_id=objection["id"], status="pending").exists()
    # After the decision there is nothing to withdraw.
    other = accepted(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 4, 30)
        ),
    )
    step(personas.officer, other["id"], "draft_decision", payload={"outcome": "founded", "remedy": "delete"})
    step(personas.reviewer, other["id"], "approve_decision")
    assert step(personas.applicant, other["id"], "withdraw").status_code == 409


def test_a_second_open_objection_names_the_first(personas: Personas, record: CreditRecord) -> None:
    first = filed(personas, record)
    with translation.override("en"):
        second = file(personas.applicant, record=record.pk)
    assert second.status_code == 400
    assert first["number"] in str(second.data) and second.data["code"] == "open_objection"
    step(personas.applicant, first["id"], "withdraw")
    assert file(personas.applicant, record=record.pk).status_code == 201


def test_refusals(personas: Personas, record: CreditRecord) -> None:
    # Another applicant's record does not exist for them.
    assert file(personas.other_applicant, record=record.pk).status_code == 404
    # Intake for a walk-in needs the signed form.
    walk_in = file(personas.intake, record=record.pk)
    assert (walk_in.status_code, walk_in.data["code"]) == (400, "signed_form_required")
    # Grounds must be given and fit the target.
    assert file(personas.applicant, record=record.pk, grounds=["decision_wrong"]).status_code == 400
    assert file(personas.applicant, record=record.pk, grounds=[]).status_code == 400
    objection = filed(personas, record)
    other = client_for(personas.other_applicant)
    assert other.get(f"{URL}{objection['id']}/").status_code == 404
    assert step(personas.other_applicant, objection["id"], "withdraw").status_code == 404
    # Only intake forwards; nobody accepts before it is forwarded.
    assert step(personas.officer, objection["id"], "forward").status_code == 403
    assert step(personas.applicant, objection["id"], "forward").status_code == 403
    assert step(personas.officer, objection["id"], "accept").status_code == 409
    step(personas.intake, objection["id"], "forward")
    # Another department's officer does not see it; the applicant cannot accept.
    assert step(personas.other_officer, objection["id"], "accept").status_code == 404
    assert step(personas.applicant, objection["id"], "accept").status_code == 403
    step(personas.officer, objection["id"], "accept")
    step(
        personas.officer,
        objection["id"],
        "draft_decision",
        payload={"outcome": "founded", "remedy": "delete"},
    )
    # The drafter never approves: a reviewer who drafted is refused by the four-eyes rule.
    drafter = UserFactory(username="drafter", role="reviewer", department=personas.market)
    Objection.objects.filter(pk=objection["id"]).update(drafted_by=drafter)
    assert step(drafter, objection["id"], "approve_decision").status_code == 403
    assert step(personas.officer, objection["id"], "approve_decision").status_code == 403
    assert step(personas.head, objection["id"], "approve_decision").status_code == 403


def test_draft_validation(personas: Personas, record: CreditRecord) -> None:
    objection = accepted(personas, record)
    for payload in (
        {"outcome": "founded"},  # a founded objection to a record says how: correct or delete
        {"outcome": "founded", "remedy": "correct"},  # …and what
        {
            "outcome": "founded",
            "remedy": "correct",
            "corrections": {"decision_number": record.decision_number},
        },
        {
            "outcome": "founded",
            "remedy": "correct",
            "corrections": {"tier": "serious"},
        },  # not a correctable field
        {"outcome": "founded", "remedy": "reopen"},  # only a repair decision is reopened
        {"outcome": "not_founded", "remedy": "delete", "reasons": ["x"]},
    ):
        response = step(personas.officer, objection["id"], "draft_decision", payload=payload)
        assert response.status_code == 400, payload
    assert Objection.objects.get(pk=objection["id"]).state == "accepted"


def test_the_head_extends_the_verification_before_it_ends(
    personas: Personas, record: CreditRecord, time_machine
) -> None:  # type: ignore[no-untyped-def]
    objection = accepted(personas, record)  # Monday 23 Nov 2026: 7 WD → Wednesday 2 Dec
    verify = Deadline.objects.get(object_id=objection["id"], kind="objection.verify")
    assert verify.due_date == date(2026, 12, 2)
    assert (
        step(
            personas.officer, objection["id"], "extend", reason="案情复杂", payload={"working_days": 5}
        ).status_code
        == 403
    )
    assert (
        step(personas.head, objection["id"], "extend", payload={"working_days": 5}).status_code == 400
    )  # reason
    too_long = step(personas.head, objection["id"], "extend", reason="案情复杂", payload={"working_days": 11})
    assert too_long.status_code == 400
    extended = step(
        personas.head, objection["id"], "extend", reason="需向原处罚机关调取卷宗", payload={"working_days": 5}
    )
    assert extended.status_code == 200 and extended.data["state"] == "accepted" and extended.data["extended"]
    new = Deadline.objects.get(object_id=objection["id"], kind="objection.extend")
    assert (new.due_date, new.replaces_id) == (date(2026, 12, 9), verify.pk)
    letter = Letter.objects.get(object_id=objection["id"], kind=LetterKind.EXTENSION)
    assert letter.context["details"]["new_due"] == "2026-12-09"
    # Only once; and never after the original deadline.
    assert (
        step(personas.head, objection["id"], "extend", reason="再次", payload={"working_days": 1}).status_code
        == 409
    )
    late = accepted(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 4, 30)
        ),
    )
    time_machine.move_to("2026-12-03T09:00:00+08:00", tick=False)
    refused = step(personas.head, late["id"], "extend", reason="案情复杂", payload={"working_days": 5})
    assert (refused.status_code, refused.data["code"]) == (400, "too_late")
    assert not Objection.objects.get(pk=late["id"]).extended


def test_the_forwarding_clock_runs_across_national_day(
    personas: Personas, record: CreditRecord, time_machine
) -> None:  # type: ignore[no-untyped-def]
    from viewflow.workflow.timers import fire_due_timers

    time_machine.move_to("2026-09-30T16:00:00+08:00", tick=False)  # Wednesday, the day before the holiday
    objection = filed(personas, record)
    forward = Deadline.objects.get(object_id=objection["id"], kind="objection.forward")
    assert forward.due_date == date(2026, 10, 8)  # 1–7 October are rest days
    time_machine.move_to("2026-10-08T23:59:59+08:00", tick=False)
    assert fire_due_timers() == 0
    time_machine.move_to("2026-10-09T00:00:01+08:00", tick=False)
    assert fire_due_timers() == 1  # intake's task escalates; it stays intake's
    register = Task.objects.get(process__artifact_object_id=objection["id"], flow_task=ObjectionFlow.register)
    assert register.status == STATUS.NEW
    late = step(personas.intake, objection["id"], "forward")
    assert {d["kind"]: d["status"] for d in late.data["deadlines"]}["objection.forward"] == "missed"


def test_evidence_is_checked_from_its_content(personas: Personas, record: CreditRecord) -> None:
    objection = filed(personas, record)
    api = client_for(personas.applicant)
    good = api.post(f"{URL}{objection['id']}/evidence/", {"file": png()}, format="multipart")
    assert good.status_code == 201 and good.data["content_type"] == "image/png"
    fake = SimpleUploadedFile("receipt.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    refused = api.post(f"{URL}{objection['id']}/evidence/", {"file": fake}, format="multipart")
    assert refused.status_code == 400
    assert (
        client_for(personas.other_applicant)
        .post(f"{URL}{objection['id']}/evidence/", {"file": png()}, format="multipart")
        .status_code
        == 404
    )
    assert Objection.objects.get(pk=objection["id"]).evidence.count() == 1


def test_the_list_costs_a_constant_number_of_queries(
    personas: Personas, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for month in range(3, 8):
        filed(
            personas,
            make_record(
                person=personas.applicant_person,
                department=personas.market,
                decision_date=date(2026, month, 1),
            ),
        )
    api = APIClient()
    api.force_login(personas.officer)
    with django_assert_max_num_queries(10):
        assert api.get(URL, {"purpose": "enquiry"}).data["count"] == 5
    api.force_login(personas.applicant)
    with django_assert_max_num_queries(10):
        assert api.get(URL).data["count"] == 5


def test_the_work_appears_in_the_right_queues(personas: Personas, record: CreditRecord) -> None:
    from django.test import Client

    objection = filed(personas, record)

    def queue(user: Any) -> set[str]:
        client = Client()
        client.force_login(user)
        response = client.get("/workflow/objection/queue/")
        assert response.status_code == 200
        return {task.flow_task.name for task in response.context["object_list"]}

    assert queue(personas.intake) == {"register"}
    assert queue(personas.officer) == set()
    step(personas.intake, objection["id"], "forward")
    assert queue(personas.officer) == {"acceptance"} and queue(personas.other_officer) == set()
    assert queue(personas.intake) == set()

"""Administrative reconsideration end to end through the API: the period to apply, deemed acceptance and
deemed withdrawal from their timers, the outcomes and their effects, the decision clock, every refusal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import TestCase
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS
from viewflow.workflow.timers import fire_due_timers

from credit.models import CreditRecord, Deadline, Department, RecordAmendment, TransitionLog
from letters.models import Letter, LetterKind, ServiceRecord
from notifications.models import Notification
from objections.flows import ObjectionFlow, ReconsiderationFlow
from objections.models import Objection, Reconsideration
from repair.flows import RepairFlow
from repair.models import RepairCase
from tests.conftest import Personas
from tests.factories import UserFactory, make_record
from tests.objections.test_objections import accepted as accepted_objection
from tests.objections.test_objections import step as objection_step
from tests.repair.test_cases import file as file_repair
from tests.repair.test_cases import step as repair_step

pytestmark = pytest.mark.django_db
URL = "/api/v1/reconsiderations/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def recon2(personas: Personas, office: Department) -> Any:
    return UserFactory(username="recon2", role="reconsideration", department=office)


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def client_for(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def refused_repair(personas: Personas, record: CreditRecord) -> dict[str, Any]:
    case = file_repair(personas, record)
    repair_step(personas.officer, case["id"], "accept")
    repair_step(
        personas.officer,
        case["id"],
        "draft_decision",
        payload={"outcome": "refuse", "reasons": ["未提供缴款凭证"]},
    )
    repair_step(personas.reviewer, case["id"], "approve_decision")
    return case


def apply(user: Any, **body: Any) -> Any:
    body.setdefault("request", "撤销不予修复决定")
    body.setdefault("statement", "已按要求提交缴款凭证，原决定认定事实错误")
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client_for(user).post(URL, body, format="json")


def step(user: Any, case_id: int, name: str, **body: Any) -> Any:
    return client_for(user).post(f"{URL}{case_id}/transitions/{name}/", body, format="json")


def applied(personas: Personas, record: CreditRecord) -> tuple[dict[str, Any], dict[str, Any]]:
    case = refused_repair(personas, record)
    response = apply(personas.applicant, repair_case=case["id"])
    assert response.status_code == 201, response.data
    return case, client_for(personas.applicant).get(response.data["url"]).data


def test_set_aside_reopens_the_repair_with_the_office_as_issuer(
    personas: Personas, record: CreditRecord, office: Department, recon2: Any
) -> None:
    repair, recon = applied(personas, record)
    assert recon["state"] == "submitted" and recon["number"].startswith("FY2026")
    assert recon["office"] == office.name and recon["knew_on"] == "2026-11-23"
    assert {d["kind"] for d in recon["deadlines"]} == {
        "reconsideration.accept",
        "reconsideration.supplement_request",
    }
    accepted = step(personas.recon, recon["id"], "accept", payload={"simplified": False})
    assert accepted.status_code == 200, accepted.data
    decide = Deadline.objects.get(object_id=recon["id"], kind="reconsideration.decide")
    assert decide.due_date == date(2027, 1, 22)  # 60 calendar days after 23 Nov 2026, a Friday
    acceptance = Letter.objects.get(object_id=recon["id"], kind=LetterKind.RECONSIDERATION_ACCEPTANCE)
    assert acceptance.department == office and acceptance.context["details"]["decide_by"] == "2027-01-22"
    assert "不予修复决定" in acceptance.context["details"]["challenged_act"]

    drafted = step(
        personas.recon,
        recon["id"],
        "draft",
        payload={
            "decision": "set_aside",
            "findings": "申请人已提交缴款凭证",
            "reasons": ["原决定认定事实不清"],
        },
    )
    assert drafted.status_code == 200, drafted.data
    # The drafter never approves.
    assert step(personas.recon, recon["id"], "approve").status_code == 403
    approved = step(recon2, recon["id"], "approve")
    assert approved.status_code == 200 and approved.data["state"] == "decided"

    reopened = RepairCase.objects.get(pk=repair["id"])
    assert reopened.state == "accepted" and reopened.reopened_count == 1
    assert TransitionLog.objects.get(object_id=repair["id"], transition="reopen").via_object_id == recon["id"]
    assert Task.objects.get(
        process__artifact_object_id=repair["id"], flow_task=RepairFlow.decide, status=STATUS.NEW
    )
    letter = Letter.objects.get(object_id=recon["id"], kind=LetterKind.RECONSIDERATION_DECISION)
    assert letter.department == office and letter.decision == "set_aside"
    assert letter.context["remedies"]["litigation_days"] == 15


def test_vary_corrects_the_record_through_its_own_step(
    personas: Personas, record: CreditRecord, office: Department, recon2: Any
) -> None:
    objection = accepted_objection(personas, record)
    objection_step(
        personas.officer,
        objection["id"],
        "draft_decision",
        payload={"outcome": "not_founded", "reasons": ["信息与决定书一致"]},
    )
    objection_step(personas.reviewer, objection["id"], "approve_decision")
    response = apply(personas.applicant, objection=objection["id"], request="变更处罚决定文号")
    assert response.status_code == 201, response.data
    recon_id = response.data["id"]
    step(personas.recon, recon_id, "accept", payload={"simplified": True})
    assert Deadline.objects.get(
        object_id=recon_id, kind="reconsideration.decide_simplified"
    ).due_date == date(2026, 12, 23)
    step(
        personas.recon,
        recon_id,
        "draft",
        payload={
            "decision": "vary",
            "corrections": {"decision_number": "测罚〔2026〕77号"},
            "reasons": ["文号有误"],
        },
    )
    assert step(recon2, recon_id, "approve").status_code == 200
    record.refresh_from_db()
    assert record.decision_number == "测罚〔2026〕77号"
    assert RecordAmendment.objects.get(record=record).actor == recon2
    assert TransitionLog.objects.get(object_id=record.pk, transition="amend").via_object_id == recon_id


def test_set_aside_reopens_an_objection_and_flags_the_record_again(
    personas: Personas, record: CreditRecord, office: Department, recon2: Any
) -> None:
    objection = accepted_objection(personas, record)
    objection_step(
        personas.officer,
        objection["id"],
        "draft_decision",
        payload={"outcome": "not_founded", "reasons": ["一致"]},
    )
    objection_step(personas.reviewer, objection["id"], "approve_decision")
    record.refresh_from_db()
    assert not record.under_objection
    recon_id = apply(personas.applicant, objection=objection["id"]).data["id"]
    step(personas.recon, recon_id, "accept")
    step(personas.recon, recon_id, "draft", payload={"decision": "confirm_invalid", "reasons": ["未经核查"]})
    step(recon2, recon_id, "approve")
    reopened = Objection.objects.get(pk=objection["id"])
    assert reopened.state == "accepted" and reopened.reopened_count == 1
    record.refresh_from_db()
    assert record.under_objection
    assert Deadline.objects.filter(
        object_id=objection["id"], kind="objection.verify", status="pending"
    ).exists()
    assert Task.objects.get(
        process__artifact_object_id=objection["id"], flow_task=ObjectionFlow.verify, status=STATUS.NEW
    )


def test_outcomes_that_change_nothing_and_an_order_to_act(
    personas: Personas, record: CreditRecord, office: Department, recon2: Any
) -> None:
    repair, recon = applied(personas, record)
    step(personas.recon, recon["id"], "accept")
    assert (
        step(personas.recon, recon["id"], "draft", payload={"decision": "uphold"}).status_code == 400
    )  # reasons
    step(
        personas.recon,
        recon["id"],
        "draft",
        payload={"decision": "order_performance", "reasons": ["应依法办理"]},
    )
    step(recon2, recon["id"], "approve")
    assert RepairCase.objects.get(pk=repair["id"]).state == "refused"
    assert Notification.objects.filter(recipient=personas.head, event="reconsideration.ordered").exists()


def test_deemed_accepted_when_the_office_does_not_decide_in_time(
    personas: Personas, record: CreditRecord, office: Department, time_machine
) -> None:  # type: ignore[no-untyped-def]
    _repair, recon = applied(personas, record)
    accept = Deadline.objects.get(object_id=recon["id"], kind="reconsideration.accept")
    assert accept.due_date == date(2026, 11, 30)  # 5 WD after Monday 23 Nov
    time_machine.move_to("2026-11-30T23:59:59+08:00", tick=False)
    assert fire_due_timers() == 0
    time_machine.move_to("2026-12-01T00:00:01+08:00", tick=False)
    assert fire_due_timers() == 1
    case = Reconsideration.objects.get(pk=recon["id"])
    assert case.state == "accepted" and case.deemed_accepted
    assert TransitionLog.objects.get(object_id=case.pk, transition="deem_accepted").actor_label.startswith(
        "system:"
    )
    letter = Letter.objects.get(object_id=case.pk, kind=LetterKind.RECONSIDERATION_ACCEPTANCE)
    assert letter.decision == "deemed_accepted" and "视为受理" in letter.context["decision"]["summary"]
    assert Task.objects.get(
        process__artifact_object_id=case.pk, flow_task=ReconsiderationFlow.decide, status=STATUS.NEW
    )
    assert Deadline.objects.get(object_id=case.pk, kind="reconsideration.decide").start_date == date(
        2026, 12, 1
    )


def test_a_supplement_supplied_in_time_and_one_that_is_not(
    personas: Personas, record: CreditRecord, office: Department, time_machine
) -> None:  # type: ignore[no-untyped-def]
    _repair, recon = applied(personas, record)
    asked = step(personas.recon, recon["id"], "request_supplement", payload={"missing": ["原决定书复印件"]})
    assert asked.status_code == 200 and asked.data["state"] == "awaiting_supplement"
    reply = Deadline.objects.get(object_id=recon["id"], kind="reconsideration.supplement_reply")
    assert reply.due_date == date(2026, 12, 7)  # 10 WD
    assert Letter.objects.get(object_id=recon["id"], kind=LetterKind.SUPPLEMENT).context["details"][
        "missing"
    ] == ["原决定书复印件"]
    time_machine.move_to("2026-12-02T10:00:00+08:00", tick=False)
    supplied = step(personas.applicant, recon["id"], "supply")
    assert supplied.status_code == 200 and supplied.data["state"] == "submitted"
    again = Deadline.objects.get(object_id=recon["id"], kind="reconsideration.accept", status="pending")
    assert again.start_date == date(2026, 12, 2)
    assert Task.objects.get(
        process__artifact_object_id=recon["id"], flow_task=ReconsiderationFlow.acceptance, status=STATUS.NEW
    )
    # Only one supplement notice.
    assert (
        step(personas.recon, recon["id"], "request_supplement", payload={"missing": ["x"]}).status_code == 409
    )

    other = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 4, 1)
    )
    time_machine.move_to("2026-11-23T10:00:00+08:00", tick=False)
    _repair2, silent = applied(personas, other)
    step(personas.recon, silent["id"], "request_supplement", payload={"missing": ["身份证明"]})
    time_machine.move_to("2026-12-08T00:00:01+08:00", tick=False)  # after 7 Dec, the 10th working day
    assert fire_due_timers() >= 1
    case = Reconsideration.objects.get(pk=silent["id"])
    assert case.state == "withdrawn"
    assert Deadline.objects.get(object_id=case.pk, kind="reconsideration.supplement_reply").status == "missed"


def test_a_supplement_is_requested_within_five_working_days_or_not_at_all(
    personas: Personas, record: CreditRecord, office: Department, time_machine
) -> None:  # type: ignore[no-untyped-def]
    _repair, recon = applied(personas, record)
    time_machine.move_to("2026-12-01T09:00:00+08:00", tick=False)  # the window ended on 30 Nov
    late = step(personas.recon, recon["id"], "request_supplement", payload={"missing": ["x"]})
    assert (late.status_code, late.data["code"]) == (400, "too_late")
    assert Reconsideration.objects.get(pk=recon["id"]).state == "submitted"


def test_the_period_to_apply(
    personas: Personas, record: CreditRecord, office: Department, time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to("2026-09-20T10:00:00+08:00", tick=False)
    case = refused_repair(personas, record)
    letter = Letter.objects.get(object_id=case["id"], kind=LetterKind.REPAIR_REFUSAL)
    ServiceRecord.objects.create(
        letter=letter, method="in_person", served_at=datetime(2026, 9, 21, 15, 0, tzinfo=SHANGHAI)
    )
    # Served on 21 Sep: the 60 calendar days end on Friday 20 Nov.
    time_machine.move_to("2026-11-20T20:00:00+08:00", tick=False)
    response = apply(personas.applicant, repair_case=case["id"])
    assert response.status_code == 201, response.data
    assert Reconsideration.objects.get(pk=response.data["id"]).knew_on == date(2026, 9, 21)
    step(personas.applicant, response.data["id"], "withdraw")
    time_machine.move_to("2026-11-21T09:00:00+08:00", tick=False)
    late = apply(personas.applicant, repair_case=case["id"])
    assert (late.status_code, late.data["code"]) == (400, "out_of_time")
    assert "2026-11-20" in late.data["detail"]
    # A letter that did not state the right to reconsideration gives a year.
    Letter.objects.filter(pk=letter.pk).update(context={**letter.context, "remedies": None})
    assert apply(personas.applicant, repair_case=case["id"]).status_code == 201


def test_the_decision_clock_ends_on_a_working_day_and_is_extended_once(
    personas: Personas, record: CreditRecord, office: Department, recon2: Any, time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to("2026-08-03T10:00:00+08:00", tick=False)
    early = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 3, 2)
    )
    _repair, recon = applied(personas, early)
    step(personas.recon, recon["id"], "accept")
    decide = Deadline.objects.get(object_id=recon["id"], kind="reconsideration.decide")
    assert decide.due_date == date(2026, 10, 8)  # 60 days end on 2 Oct, in the National Day holiday
    assert step(personas.recon, recon["id"], "extend").status_code == 400  # needs its reason
    extended = step(personas.recon, recon["id"], "extend", reason="案情复杂，经负责人批准")
    assert extended.status_code == 200 and extended.data["extended"]
    longer = Deadline.objects.get(object_id=recon["id"], kind="reconsideration.extend")
    assert longer.due_date == date(2026, 11, 9)  # 30 days after 8 Oct is Saturday 7 Nov: Monday 9 Nov
    assert Letter.objects.get(object_id=recon["id"], kind=LetterKind.EXTENSION).department == office
    assert step(personas.recon, recon["id"], "extend", reason="再次").status_code == 409


def test_refusals(personas: Personas, record: CreditRecord, office: Department) -> None:
    repair, recon = applied(personas, record)
    # A second open application for the same decision names the first.
    second = apply(personas.applicant, repair_case=repair["id"])
    assert second.status_code == 400 and recon["number"] in second.data["detail"]
    # Someone else's decision does not exist for another applicant.
    assert apply(personas.other_applicant, repair_case=repair["id"]).status_code == 404
    assert client_for(personas.other_applicant).get(f"{URL}{recon['id']}/").status_code == 404
    # The department whose act is challenged sees the case (it answers it) but cannot decide it.
    api = APIClient()
    api.force_login(personas.officer)
    assert api.get(f"{URL}{recon['id']}/", {"purpose": "enquiry"}).status_code == 200
    assert step(personas.officer, recon["id"], "accept").status_code == 403
    assert step(personas.reviewer, recon["id"], "accept").status_code == 403
    assert step(personas.applicant, recon["id"], "accept").status_code == 403
    # A reconsideration officer who belongs to that department may not decide its act.
    insider = UserFactory(username="insider", role="reconsideration", department=personas.market)
    assert step(insider, recon["id"], "accept").status_code == 403
    # An open case cannot be challenged; neither can a decision still pending.
    open_case = file_repair(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 4, 1)
        ),
    )
    assert apply(personas.applicant, repair_case=open_case["id"]).status_code == 409
    # No reconsideration office in the city: said plainly.
    Department.objects.filter(pk=office.pk).update(city="别市")
    step(personas.applicant, recon["id"], "withdraw")
    no_office = apply(personas.applicant, repair_case=repair["id"])
    assert (no_office.status_code, no_office.data["code"]) == (400, "no_office")


def test_the_not_accepted_letter_comes_from_the_office(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    _repair, recon = applied(personas, record)
    assert step(personas.recon, recon["id"], "reject", payload={"reasons": ["不属于行政复议范围"]}).data[
        "state"
    ] == ("not_accepted")
    letter = Letter.objects.get(object_id=recon["id"], kind=LetterKind.NON_ACCEPTANCE)
    assert letter.department == office and letter.context["decision"]["reasons"] == ["不属于行政复议范围"]
    assert not Deadline.objects.filter(object_id=recon["id"], status="pending").exists()


def test_the_office_works_it_on_the_workflow_pages(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    from django.test import Client

    applied(personas, record)
    client = Client()
    client.force_login(personas.recon)
    response = client.get("/workflow/reconsideration/queue/")
    assert response.status_code == 200
    assert [t.flow_task.name for t in response.context["object_list"]] == ["acceptance"]
    client.force_login(personas.officer)
    assert list(client.get("/workflow/reconsideration/queue/").context["object_list"]) == []


def test_the_list_costs_a_constant_number_of_queries(personas: Personas, office: Department) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(user: Any, params: dict[str, str], count: int) -> int:
        api = APIClient()
        api.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert api.get(URL, params).data["count"] == count
        return len(queries)

    applied(personas, record_of(personas, 1))
    one = [cost(personas.recon, {"purpose": "enquiry"}, 1), cost(personas.applicant, {}, 1)]
    for month in (2, 3, 4):
        applied(personas, record_of(personas, month))
    assert [cost(personas.recon, {"purpose": "enquiry"}, 4), cost(personas.applicant, {}, 4)] == one


def record_of(personas: Personas, month: int) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, month, 1)
    )


def test_the_office_answers_for_its_clock(
    personas: Personas, record: CreditRecord, office: Department, recon2: Any, time_machine
) -> None:  # type: ignore[no-untyped-def]
    """An unclaimed reconsideration reminds the office's officers, and an overdue one escalates to them, not
    to the department whose decision is reviewed."""
    from notifications.services import send_deadline_reminders

    _repair, recon = applied(personas, record)
    step(personas.recon, recon["id"], "accept")  # decide by 22 Jan 2027
    time_machine.move_to("2027-01-22T07:30:00+08:00", tick=False)
    send_deadline_reminders(lead_working_days=3)
    assert Notification.objects.filter(event="deadline.reminder", recipient=recon2).exists()
    assert not Notification.objects.filter(event="deadline.reminder", recipient=personas.officer).exists()
    time_machine.move_to("2027-01-23T00:00:01+08:00", tick=False)
    assert fire_due_timers() == 1
    assert Notification.objects.filter(event="task.escalated", recipient=recon2).exists()
    assert not Notification.objects.filter(event="task.escalated", recipient=personas.head).exists()

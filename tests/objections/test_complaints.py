"""Complaints: to the head of the department concerned, answered in writing within the city's period; seen by
the complainant and the auditors, never by the department's other staff."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client, TestCase
from rest_framework.test import APIClient
from viewflow.workflow.timers import fire_due_timers

from credit.models import CityOverlay, CreditRecord, Deadline
from notifications.models import Notification
from objections.models import Complaint
from tests.conftest import Personas
from tests.factories import make_record
from tests.repair.test_cases import file as file_repair

pytestmark = pytest.mark.django_db
URL = "/api/v1/complaints/"


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


def complain(user: Any, **body: Any) -> Any:
    body.setdefault("about", "handling")
    body.setdefault("statement", "受理后十多天无人联系，电话无人接听")
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client_for(user).post(URL, body, format="json")


def test_the_head_replies_in_writing_and_the_complainant_reads_it(
    personas: Personas, record: CreditRecord
) -> None:
    repair = file_repair(personas, record)
    filed = complain(personas.applicant, repair_case=repair["id"], staff_named="某经办人")
    assert filed.status_code == 201, filed.data
    complaint = Complaint.objects.get(pk=filed.data["id"])
    assert complaint.department == personas.market and complaint.number.startswith("TS2026")
    reply_by = Deadline.objects.get(object_id=complaint.pk, kind="complaint.reply")
    assert (reply_by.value, reply_by.unit, reply_by.due_date) == (30, "cd", date(2026, 12, 23))
    assert Notification.objects.filter(recipient=personas.head, event="complaint.new").exists()

    assert (
        client_for(personas.officer)
        .post(f"{URL}{complaint.pk}/transitions/answer/", {"payload": {"reply": "x"}}, format="json")
        .status_code
        == 404
    )  # the officers do not even see it
    answered = client_for(personas.head).post(
        f"{URL}{complaint.pk}/transitions/answer/",
        {"payload": {"reply": "经核查，经办人未及时联系属实，已批评教育并督促办理。"}},
        format="json",
    )
    assert answered.status_code == 200, answered.data
    assert answered.data["state"] == "replied"
    mine = client_for(personas.applicant).get(f"{URL}{complaint.pk}/").data
    assert mine["reply"].startswith("经核查") and mine["case"] == repair["number"]
    assert Deadline.objects.get(pk=reply_by.pk).status == "met"
    assert Notification.objects.filter(recipient=personas.applicant, event="complaint.replied").exists()


def test_who_sees_complaints(personas: Personas, record: CreditRecord) -> None:
    filed = complain(personas.applicant, about="conduct", department=personas.market.pk, staff_named="张某")
    assert filed.status_code == 201, filed.data
    pk = filed.data["id"]

    def sees(user: Any) -> bool:
        api = APIClient()
        api.force_login(user)
        return api.get(f"{URL}{pk}/", {"purpose": "enquiry"}).status_code == 200

    assert sees(personas.applicant) and sees(personas.head) and sees(personas.auditor)
    assert not sees(personas.officer) and not sees(personas.reviewer) and not sees(personas.other_officer)
    assert not sees(personas.other_applicant) and not sees(personas.recon)
    # The auditor reads but does not answer.
    assert (
        client_for(personas.auditor)
        .post(f"{URL}{pk}/transitions/answer/", {"payload": {"reply": "x"}}, format="json")
        .status_code
        == 403
    )


def test_refusals(personas: Personas, record: CreditRecord) -> None:
    repair = file_repair(personas, record)
    assert complain(personas.applicant).status_code == 400  # handling without a case
    assert complain(personas.applicant, about="conduct").status_code == 400  # no department
    assert complain(personas.other_applicant, repair_case=repair["id"]).status_code == 404
    assert complain(personas.officer, about="conduct", department=personas.market.pk).status_code == 400
    blank = complain(personas.applicant, repair_case=repair["id"], statement=" ")
    assert blank.status_code == 400
    pk = complain(personas.applicant, repair_case=repair["id"]).data["id"]
    empty = client_for(personas.head).post(f"{URL}{pk}/transitions/answer/", {"payload": {}}, format="json")
    assert empty.status_code == 400
    assert (
        client_for(personas.applicant).post(f"{URL}{pk}/transitions/withdraw/", {}, format="json").status_code
        == 200
    )
    assert (
        client_for(personas.head)
        .post(f"{URL}{pk}/transitions/answer/", {"payload": {"reply": "x"}}, format="json")
        .status_code
        == 409
    )


def test_the_city_sets_its_own_period(personas: Personas, record: CreditRecord) -> None:
    overlay = CityOverlay.objects.create(
        city=personas.market.city,
        version=9,
        effective_from=date(2026, 1, 1),
        complaint_reply_days=15,
        basis="示范市办法",
    )
    CityOverlay.objects.filter(pk=overlay.pk).update(published_at="2026-01-01T00:00:00+08:00")
    pk = complain(personas.applicant, about="conduct", department=personas.market.pk).data["id"]
    due = Deadline.objects.get(object_id=pk, kind="complaint.reply")
    assert (due.value, due.due_date, due.basis) == (15, date(2026, 12, 8), "示范市办法")


def test_an_unanswered_complaint_escalates_at_its_deadline(
    personas: Personas, record: CreditRecord, time_machine
) -> None:  # type: ignore[no-untyped-def]
    pk = complain(personas.applicant, about="conduct", department=personas.market.pk).data["id"]
    time_machine.move_to("2026-12-23T23:59:00+08:00", tick=False)
    assert fire_due_timers() == 0
    time_machine.move_to("2026-12-24T00:00:01+08:00", tick=False)
    assert fire_due_timers() == 1
    assert Notification.objects.filter(event="task.escalated", recipient=personas.head).exists()
    assert Complaint.objects.get(pk=pk).state == "submitted"


def test_the_head_works_it_on_the_workflow_pages(personas: Personas, record: CreditRecord) -> None:
    complain(personas.applicant, about="conduct", department=personas.market.pk)
    client = Client()
    client.force_login(personas.head)
    assert [t.flow_task.name for t in client.get("/workflow/complaint/queue/").context["object_list"]] == [
        "reply"
    ]
    client.force_login(personas.officer)
    assert list(client.get("/workflow/complaint/tasks/").context["object_list"]) == []


def test_the_list_costs_a_constant_number_of_queries(personas: Personas) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(user: Any, params: dict[str, str], count: int) -> int:
        api = APIClient()
        api.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert api.get(URL, params).data["count"] == count
        return len(queries)

    complain(personas.applicant, about="conduct", department=personas.market.pk)
    one = [cost(personas.head, {"purpose": "enquiry"}, 1), cost(personas.applicant, {}, 1)]
    for _ in range(3):
        complain(personas.applicant, about="conduct", department=personas.market.pk)
    assert [cost(personas.head, {"purpose": "enquiry"}, 4), cost(personas.applicant, {}, 4)] == one

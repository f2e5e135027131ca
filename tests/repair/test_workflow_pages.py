"""viewflow's staff pages for the repair flow (/workflow/repair/): queue, inbox, archive, task forms,
scoped to the user's departments, with the legal steps' own permissions deciding who may claim and work
a task."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.models import AccessLog, CreditRecord, Deadline
from repair.flows import RepairFlow
from repair.models import RepairCase
from tests.conftest import Personas
from tests.factories import UserFactory, make_record
from tests.repair.test_cases import file, step

pytestmark = pytest.mark.django_db
BASE = "/workflow/repair"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def task_at(case_id: int, node: Any, *statuses: str) -> Task:
    return Task.objects.get(
        process__artifact_object_id=case_id, flow_task=node, status__in=statuses or [STATUS.NEW]
    )


def url(task: Task, action: str) -> str:
    return f"{BASE}/{task.process_id}/{task.flow_task.name}/{task.pk}/{action}/"


def listed(user: Any, page: str) -> set[int]:
    response = browser(user).get(f"{BASE}/{page}/")
    assert response.status_code == 200
    return {task.pk for task in response.context["object_list"]}


def test_the_officer_claims_the_task_and_accepts_on_its_page(
    personas: Personas, record: CreditRecord
) -> None:
    case = file(personas, record)
    examine = task_at(case["id"], RepairFlow.examine)
    assert listed(personas.officer, "queue") == {examine.pk}

    officer = browser(personas.officer)
    assert officer.post(url(examine, "assign")).status_code == 302
    assert listed(personas.officer, "inbox") == {examine.pk} and listed(personas.officer, "queue") == set()

    page = officer.get(url(examine, "execute"))
    assert page.status_code == 200
    assert case["number"] in page.content.decode()
    assert [name for name, _label in page.context["form"].fields["step"].choices] == [
        "accept",
        "request_supplement",
        "propose_non_acceptance",
    ]
    logged = AccessLog.objects.get(user=personas.officer)  # the officer saw the person's case
    assert (logged.person_id, logged.purpose, logged.case_object_id) == (record.person_id, "case", case["id"])

    response = officer.post(url(examine, "execute"), {"step": "accept"})
    assert response.status_code == 302
    assert RepairCase.objects.get(pk=case["id"]).state == "accepted"
    examine.refresh_from_db()
    assert (examine.status, examine.owner) == (STATUS.DONE, personas.officer)
    decide = task_at(case["id"], RepairFlow.decide)
    assert decide.owner is None and decide.owner_permission == "repair.handle_repair"
    assert listed(personas.officer, "archive") == {examine.pk}


def test_a_step_refused_by_the_law_shows_why_and_changes_nothing(
    personas: Personas, record: CreditRecord
) -> None:
    case = file(personas, record)
    examine = task_at(case["id"], RepairFlow.examine)
    officer = browser(personas.officer)
    officer.post(url(examine, "assign"))
    with translation.override("en"):
        response = officer.post(url(examine, "execute"), {"step": "request_supplement", "missing": ""})
    assert response.status_code == 422
    assert response.context["form"].errors
    assert RepairCase.objects.get(pk=case["id"]).state == "submitted"
    assert task_at(case["id"], RepairFlow.examine, STATUS.ASSIGNED).owner == personas.officer

    response = officer.post(
        url(examine, "execute"), {"step": "request_supplement", "missing": "缴款凭证\n整改报告\n"}
    )
    assert response.status_code == 302
    assert RepairCase.objects.get(pk=case["id"]).supplement_missing == ["缴款凭证", "整改报告"]


def test_other_departments_and_other_roles_neither_see_nor_take_the_task(
    personas: Personas, record: CreditRecord
) -> None:
    case = file(personas, record)
    examine = task_at(case["id"], RepairFlow.examine)
    # An officer of another department: not in their queue, and the task's pages refuse them.
    assert listed(personas.other_officer, "queue") == set()
    other = browser(personas.other_officer)
    assert other.post(url(examine, "assign")).status_code == 403
    assert other.get(url(examine, "detail")).status_code == 403
    assert other.get(f"{BASE}/{examine.process_id}/").status_code == 403
    assert listed(personas.other_officer, "tasks") == set()
    # The reviewer and the head of the same department have no examine work to claim.
    assert listed(personas.reviewer, "queue") == set()
    assert browser(personas.reviewer).post(url(examine, "assign")).status_code == 403
    # Applicants and administrators without a staff role do not get the pages at all.
    for user in (personas.applicant, personas.admin):
        assert browser(user).get(f"{BASE}/queue/").status_code == 403
    assert Client().get(f"{BASE}/queue/").status_code == 302  # to the login page
    examine.refresh_from_db()
    assert examine.status == STATUS.NEW and examine.owner is None


def test_only_the_owner_works_a_claimed_task(personas: Personas, record: CreditRecord) -> None:
    case = file(personas, record)
    examine = task_at(case["id"], RepairFlow.examine)
    colleague = UserFactory(username="colleague", role="officer", department=personas.market)
    browser(personas.officer).post(url(examine, "assign"))
    assert browser(colleague).get(url(examine, "execute")).status_code == 403
    assert browser(colleague).post(url(examine, "execute"), {"step": "accept"}).status_code == 403
    assert browser(colleague).post(url(examine, "unassign")).status_code == 403
    assert RepairCase.objects.get(pk=case["id"]).state == "submitted"


def test_the_drafter_never_gets_the_legal_review(personas: Personas, record: CreditRecord) -> None:
    case = file(personas, record)
    step(personas.officer, case["id"], "accept")
    step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"})
    review = task_at(case["id"], RepairFlow.legal_review)
    assert review.owner_permission == "repair.review_repair"
    # A reviewer who verified something in the case (here: also drafted) may not claim it.
    drafter_reviewer = UserFactory(username="dr", role="reviewer", department=personas.market)
    RepairCase.objects.filter(pk=case["id"]).update(drafted_by=drafter_reviewer)
    assert browser(drafter_reviewer).post(url(review, "assign")).status_code == 403

    reviewer = browser(personas.reviewer)
    assert reviewer.post(url(review, "assign")).status_code == 302
    assert reviewer.post(url(review, "execute"), {"step": "approve_decision"}).status_code == 302
    assert RepairCase.objects.get(pk=case["id"]).state == "repaired"
    review.refresh_from_db()
    assert (review.status, review.owner) == (STATUS.DONE, personas.reviewer)
    assert not Task.objects.filter(
        process_id=review.process_id, status__in=[STATUS.NEW, STATUS.ASSIGNED]
    ).exists()


def test_a_returned_draft_comes_back_to_the_officers_queue(personas: Personas, record: CreditRecord) -> None:
    case = file(personas, record)
    step(personas.officer, case["id"], "accept")
    step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"})
    assert step(personas.reviewer, case["id"], "return_decision", reason="材料不全").status_code == 200
    decide = Task.objects.filter(process__artifact_object_id=case["id"], flow_task=RepairFlow.decide)
    assert [t.status for t in decide.order_by("pk")] == [STATUS.DONE, STATUS.NEW]
    assert task_at(case["id"], RepairFlow.legal_review, STATUS.DONE).owner == personas.reviewer


def test_steps_through_the_api_end_the_task_and_name_who_took_them(
    personas: Personas, record: CreditRecord
) -> None:
    case = file(personas, record)
    assert step(personas.officer, case["id"], "accept").status_code == 200
    examine = task_at(case["id"], RepairFlow.examine, STATUS.DONE)
    assert examine.owner == personas.officer
    # The applicant withdraws while the officer has the decision task: it ends, still the officer's.
    decide = task_at(case["id"], RepairFlow.decide)
    browser(personas.officer).post(url(decide, "assign"))
    assert step(personas.applicant, case["id"], "withdraw").data["state"] == "withdrawn"
    decide.refresh_from_db()
    assert (decide.status, decide.owner) == (STATUS.DONE, personas.officer)


def test_the_decision_clock_follows_the_case_into_legal_review(
    personas: Personas, record: CreditRecord
) -> None:
    case = file(personas, record)
    step(personas.officer, case["id"], "accept")
    decide_by = Deadline.objects.get(object_id=case["id"], kind="repair.decide")
    step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"})
    decide_by.refresh_from_db()
    review = task_at(case["id"], RepairFlow.legal_review)
    scheduled = Task.objects.get(pk=decide_by.task_id)
    assert scheduled.status == STATUS.SCHEDULED and scheduled.scheduled == decide_by.due_at
    assert scheduled.previous.get() == review  # the legal review's own boundary timer


def test_no_manage_actions_on_legal_work(personas: Personas, record: CreditRecord) -> None:
    case = file(personas, record)
    examine = task_at(case["id"], RepairFlow.examine)
    for user in (personas.officer, personas.head):
        client = browser(user)
        assert client.post(url(examine, "cancel")).status_code == 403
        assert (
            client.post(f"{BASE}/{examine.process_id}/cancel/", {"_cancel_process": "1"}).status_code == 403
        )
    examine.refresh_from_db()
    assert examine.status == STATUS.NEW


def test_the_auditor_reads_every_department_but_works_nothing(
    personas: Personas, record: CreditRecord
) -> None:
    case = file(personas, record)
    examine = task_at(case["id"], RepairFlow.examine)
    auditor = browser(personas.auditor)
    assert examine.pk in listed(personas.auditor, "tasks")
    assert auditor.get(url(examine, "detail")).status_code == 200
    assert auditor.post(url(examine, "assign")).status_code == 403
    assert listed(personas.auditor, "queue") == set()


def test_every_task_list_shows_the_deadline_in_working_days_and_marks_the_overdue(
    personas: Personas, record: CreditRecord, time_machine
) -> None:  # type: ignore[no-untyped-def]
    case = file(personas, record)  # Monday 23 November 2026: examine within 3 working days, by Thursday 26
    examine = task_at(case["id"], RepairFlow.examine)

    def due_column(page: str, user: Any = personas.officer) -> str:
        html = browser(user).get(f"{BASE}/{page}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        start = html.index('<span class="sla')
        return html[start : html.index("</span>", start) + 7]

    assert due_column("queue") == '<span class="sla sla-due">due in 3 working days</span>'
    time_machine.move_to("2026-11-26T09:00:00+08:00", tick=False)
    assert due_column("queue") == '<span class="sla sla-today">due today</span>'
    browser(personas.officer).post(url(examine, "assign"))
    time_machine.move_to("2026-11-30T09:00:00+08:00", tick=False)  # Friday 27 passed, then the weekend
    assert due_column("inbox") == '<span class="sla sla-overdue">overdue by 2 working days</span>'
    assert "sla-overdue" in browser(personas.auditor).get(f"{BASE}/tasks/").content.decode()


def test_the_queue_page_costs_the_same_for_many_tasks(
    personas: Personas, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    def queue_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = browser(personas.officer)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{BASE}/queue/").status_code == 200
        return len(queries)

    for month in (4, 5):
        file(
            personas,
            make_record(
                person=personas.applicant_person,
                department=personas.market,
                decision_date=date(2026, month, 1),
            ),
        )
    few = queue_queries()
    for month in (6, 7, 8):
        file(
            personas,
            make_record(
                person=personas.applicant_person,
                department=personas.market,
                decision_date=date(2026, month, 1),
            ),
        )
    assert queue_queries() == few


def test_the_pages_speak_chinese_by_default(personas: Personas, record: CreditRecord) -> None:
    file(personas, record)
    content = browser(personas.officer).get(f"{BASE}/queue/").content.decode()
    assert "审查申请" in content  # "Examine the application"


def test_pages_that_are_not_logged_do_not_show_the_person(personas: Personas, record: CreditRecord) -> None:
    case = file(personas, record)
    examine = task_at(case["id"], RepairFlow.examine)
    officer = browser(personas.officer)
    queue = officer.get(f"{BASE}/queue/").content.decode()
    assert case["number"] in queue  # each row names the case and its state
    for page in (f"{BASE}/{examine.process_id}/", url(examine, "detail"), url(examine, "assign")):
        content = officer.get(page).content.decode()
        assert case["number"] in content, page
        assert personas.applicant_person.name not in content, page
        assert personas.applicant_person.id_masked not in content, page
    assert not AccessLog.objects.exists()
    officer.post(url(examine, "assign"))
    assert personas.applicant_person.name in officer.get(url(examine, "execute")).content.decode()
    assert AccessLog.objects.count() == 1

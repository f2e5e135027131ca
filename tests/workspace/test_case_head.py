"""The head's screens: extensions to decide, interview waivers, and tasks escalated to the head with their
reassignment. Each is limited to the head's departments (the office's, for reconsiderations)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.models import CityOverlay, CreditRecord, Deadline, TransitionLog
from credit.models.people import Role
from credit.timers import dispatch_due_timers
from letters.models import Letter, LetterKind
from objections.models import Objection
from repair.flows import RepairFlow
from repair.models import RepairCase
from tests.conftest import Personas
from tests.factories import UserFactory, make_record
from tests.objections.test_objections import filed as file_objection
from tests.objections.test_objections import step as objection_step
from tests.repair.test_cases import file as file_repair
from tests.repair.test_cases import step as repair_step
from tests.workspace.test_case_file import browser, case_url, page

pytestmark = pytest.mark.django_db
EXTENSIONS, WAIVERS, ESCALATIONS = (
    "/staff/head/extensions/",
    "/staff/head/waivers/",
    "/staff/head/escalations/",
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def record_of(personas: Personas, day: int = 31, department: Any = None) -> CreditRecord:
    return make_record(
        person=personas.applicant_person,
        department=department or personas.market,
        decision_date=date(2026, 5, day),
    )


def accepted_repair(personas: Personas, day: int = 31) -> dict[str, Any]:
    case = file_repair(personas, record_of(personas, day))
    assert repair_step(personas.officer, case["id"], "accept").status_code == 200
    return case


# -- extensions ---------------------------------------------------------------------------------------------
def test_the_head_sees_the_cases_to_extend_and_extends_one(personas: Personas) -> None:
    repair = accepted_repair(personas)
    objection = file_objection(personas, record_of(personas, 30))
    objection_step(personas.intake, objection["id"], "forward")
    objection_step(personas.officer, objection["id"], "accept")
    file_repair(personas, record_of(personas, 29))  # not accepted yet: nothing to extend

    status, html = page(personas.head, EXTENSIONS)
    assert status == 200 and repair["number"] in html and "due in 7 working days" in html
    assert f"/staff/cases/repair/{repair['id']}/steps/extend/" in html
    status, html = page(personas.head, EXTENSIONS + "?kind=objection")
    assert status == 200 and objection["number"] in html

    url = case_url("repair", repair["id"], "steps/extend/")
    assert browser(personas.head).post(url, {"step": "extend", "reason": ""}).status_code == 422
    response = browser(personas.head).post(url, {"step": "extend", "reason": "案情复杂，需现场核查"})
    assert response.status_code == 302
    assert RepairCase.objects.get(pk=repair["id"]).extended
    assert Deadline.objects.filter(object_id=repair["id"], kind="repair.extend", status="pending").exists()
    assert Letter.objects.filter(object_id=repair["id"], kind=LetterKind.EXTENSION).exists()
    assert repair["number"] not in page(personas.head, EXTENSIONS)[1]  # extended once, not twice

    url = case_url("objection", objection["id"], "steps/extend/")
    assert 'name="working_days"' in page(personas.head, url)[1]
    response = browser(personas.head).post(
        url, {"step": "extend", "reason": "需调取原始档案", "working_days": "5"}
    )
    assert response.status_code == 302 and Objection.objects.get(pk=objection["id"]).extended


def test_extensions_are_the_heads_and_their_departments_only(personas: Personas) -> None:
    repair = accepted_repair(personas)
    other_head = UserFactory(username="other_head", role=Role.HEAD, department=personas.environment)
    status, html = page(other_head, EXTENSIONS)
    assert status == 200 and repair["number"] not in html
    assert (
        browser(other_head)
        .post(case_url("repair", repair["id"], "steps/extend/"), {"step": "extend", "reason": "x"})
        .status_code
        == 404
    )
    for user in (personas.officer, personas.reviewer, personas.intake, personas.auditor, personas.applicant):
        assert browser(user).get(EXTENSIONS).status_code == 403
    assert browser().get(EXTENSIONS).status_code == 302
    assert browser(personas.head).get(EXTENSIONS + "?kind=complaint").status_code == 404
    # The officer may not extend, even from the step page.
    assert (
        browser(personas.officer)
        .post(case_url("repair", repair["id"], "steps/extend/"), {"step": "extend", "reason": "x"})
        .status_code
        == 403
    )
    assert not RepairCase.objects.get(pk=repair["id"]).extended


def test_an_extension_comes_too_late_after_the_deadline(personas: Personas, time_machine: Any) -> None:
    repair = accepted_repair(personas)  # decision due 2026-12-02 (7 WD)
    time_machine.move_to("2026-12-03T09:00:00+08:00", tick=False)
    assert repair["number"] not in page(personas.head, EXTENSIONS)[1]


# -- waivers ------------------------------------------------------------------------------------------------
@pytest.fixture
def overlay(personas: Personas) -> CityOverlay:
    overlay = CityOverlay.objects.create(
        city=personas.market.city, effective_from=date(2026, 1, 1), interview_required=True
    )
    CityOverlay.objects.filter(pk=overlay.pk).update(published_at="2026-01-01T00:00:00+08:00")
    return overlay


def test_the_head_waives_an_interview_the_city_requires(personas: Personas, overlay: CityOverlay) -> None:
    repair = accepted_repair(personas)
    status, html = page(personas.head, WAIVERS)
    assert status == 200 and repair["number"] in html
    # The case file offers the waiver to the head only.
    assert "/waive-interview/" in page(personas.head, case_url("repair", repair["id"]))[1]
    assert "/waive-interview/" not in page(personas.officer, case_url("repair", repair["id"]))[1]

    url = case_url("repair", repair["id"], "waive-interview/")
    assert browser(personas.head).post(url, {"reason": ""}).status_code == 422
    assert browser(personas.officer).post(url, {"reason": "x"}).status_code == 403
    assert browser(personas.head).post(url, {"reason": "当事人住院，无法到场"}).status_code == 302
    case = RepairCase.objects.get(pk=repair["id"])
    assert (
        case.interview_waived_by == personas.head and case.interview_waiver_reason == "当事人住院，无法到场"
    )
    assert repair["number"] not in page(personas.head, WAIVERS)[1]
    assert TransitionLog.objects.filter(object_id=repair["id"], transition="waive_interview").exists()
    # Only repairs have a waiver.
    assert (
        browser(personas.head).get(case_url("objection", repair["id"], "waive-interview/")).status_code == 404
    )


def test_waivers_are_refused_to_other_roles(personas: Personas, overlay: CityOverlay) -> None:
    repair = accepted_repair(personas)
    for user in (personas.officer, personas.reviewer, personas.intake, personas.applicant):
        assert browser(user).get(WAIVERS).status_code == 403
    other_head = UserFactory(username="other_head", role=Role.HEAD, department=personas.environment)
    assert repair["number"] not in page(other_head, WAIVERS)[1]
    assert browser(other_head).get(case_url("repair", repair["id"], "waive-interview/")).status_code == 404


# -- escalations --------------------------------------------------------------------------------------------
def overdue_repair(personas: Personas, time_machine: Any, day: int = 31) -> dict[str, Any]:
    """A repair whose 3-WD acceptance clock (due Thursday 2026-11-26) ran out; the sweep escalated it."""
    case = file_repair(personas, record_of(personas, day))
    time_machine.move_to("2026-11-27T09:00:00+08:00", tick=False)
    dispatch_due_timers()
    return case


def test_the_head_sees_an_escalated_task_and_reassigns_it(personas: Personas, time_machine: Any) -> None:
    case = overdue_repair(personas, time_machine)
    colleague = UserFactory(username="colleague", role=Role.OFFICER, department=personas.market)
    file_repair(personas, record_of(personas, 30))  # filed today: not overdue

    status, html = page(personas.head, ESCALATIONS)
    examine = Task.objects.get(process__artifact_object_id=case["id"], flow_task=RepairFlow.examine)
    assert status == 200 and case["number"] in html and "overdue by 1 working day" in html
    assert html.count("Reassign</a>") == 1  # the other repair is on time

    url = f"{ESCALATIONS}{examine.pk}/"
    status, html = page(personas.head, url)
    assert status == 200 and "colleague" in html and "officer" in html
    assert "other_officer" not in html and "reviewer" not in html  # may not work it
    assert browser(personas.head).post(url, {"to": str(personas.other_officer.pk)}).status_code == 422
    response = browser(personas.head).post(url, {"to": str(colleague.pk), "reason": "原经办人休假"})
    assert response.status_code == 302
    examine.refresh_from_db()
    assert (examine.owner, examine.status) == (colleague, STATUS.ASSIGNED)
    moved = TransitionLog.objects.get(object_id=case["id"], transition="reassign")
    assert moved.actor == personas.head and "colleague" in moved.reason and "原经办人休假" in moved.reason
    # The colleague works it from the case file; the task ends with the step.
    assert (
        browser(colleague)
        .post(case_url("repair", case["id"], "steps/accept/"), {"step": "accept"})
        .status_code
        == 302
    )
    examine.refresh_from_db()
    assert examine.status == STATUS.DONE
    assert case["number"] not in page(personas.head, ESCALATIONS)[1]
    assert browser(personas.head).get(url).status_code == 404  # no longer an open escalation


def test_escalations_reach_only_their_head(personas: Personas, time_machine: Any) -> None:
    case = overdue_repair(personas, time_machine)
    examine = Task.objects.get(process__artifact_object_id=case["id"], flow_task=RepairFlow.examine)
    other_head = UserFactory(username="other_head", role=Role.HEAD, department=personas.environment)
    assert case["number"] not in page(other_head, ESCALATIONS)[1]
    assert browser(other_head).get(f"{ESCALATIONS}{examine.pk}/").status_code == 404
    assert (
        browser(other_head).post(f"{ESCALATIONS}{examine.pk}/", {"to": str(personas.officer.pk)}).status_code
        == 404
    )
    for user in (personas.officer, personas.reviewer, personas.intake, personas.auditor, personas.applicant):
        assert browser(user).get(ESCALATIONS).status_code == 403
        assert browser(user).post(f"{ESCALATIONS}{examine.pk}/", {"to": str(user.pk)}).status_code == 403
    assert browser().get(ESCALATIONS).status_code == 302
    examine.refresh_from_db()
    assert examine.owner is None


def test_the_head_lists_cost_the_same_for_one_row_as_for_several(
    personas: Personas, time_machine: Any
) -> None:
    def cost(url: str) -> int:
        client = browser(personas.head)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    accepted_repair(personas, 31)
    one_row = cost(EXTENSIONS)
    for day in (30, 29, 28):
        accepted_repair(personas, day)
    assert cost(EXTENSIONS) == one_row

    overdue_repair(personas, time_machine, 27)
    one = cost(ESCALATIONS)
    for day in (26, 25):
        file_repair(personas, record_of(personas, day))
    time_machine.move_to("2026-12-03T09:00:00+08:00", tick=False)
    dispatch_due_timers()
    assert cost(ESCALATIONS) == one
    # Three examine tasks, and the four accepted repairs' decisions (due 2026-12-02).
    assert page(personas.head, ESCALATIONS)[1].count("Reassign</a>") == 7


def test_the_extension_list_pages_without_counting(personas: Personas, monkeypatch: Any) -> None:
    import workspace.case_selectors as selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    numbers = [accepted_repair(personas, day)["number"] for day in (31, 30, 29)]
    first = browser(personas.head).get(EXTENSIONS)
    assert [case.number for case, _clock in first.context["rows"]] == numbers[:2]
    after = first.context["next"]
    second = browser(personas.head).get(f"{EXTENSIONS}?kind=repair&after={after}")
    assert [case.number for case, _clock in second.context["rows"]] == numbers[2:]
    assert second.context["next"] is None

"""The legal reviewer's approval screen: the draft, its reasons, a correction's before and after; approve or
return with reasons; four-eyes on the server."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from credit.models import AccessLog, CreditRecord, Department, RecordAmendment
from credit.models.people import Role
from objections.models import Objection, Reconsideration
from repair.models import RepairCase
from tests.conftest import Personas
from tests.factories import UserFactory, make_record
from tests.objections.test_objections import filed as file_objection
from tests.objections.test_objections import step as objection_step
from tests.objections.test_reconsideration import applied
from tests.objections.test_reconsideration import step as reconsideration_step
from tests.repair.test_cases import file as file_repair
from tests.repair.test_cases import step as repair_step
from tests.workspace.test_case_file import browser, case_url, page

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


@pytest.fixture
def drafter(personas: Personas) -> Any:
    """A member of the market regulator who is both a case officer and a legal reviewer."""
    user = UserFactory(username="both", role=Role.OFFICER, department=personas.market)
    user.groups.add(Group.objects.get(name=Role.REVIEWER))
    return user


def correction_drafted(personas: Personas, record: CreditRecord, drafter: Any) -> dict[str, Any]:
    objection = file_objection(personas, record)
    objection_step(personas.intake, objection["id"], "forward")
    objection_step(personas.officer, objection["id"], "accept")
    response = objection_step(
        drafter,
        objection["id"],
        "draft_decision",
        payload={
            "outcome": "founded",
            "remedy": "correct",
            "corrections": {"decision_number": "测罚〔2026〕99号", "domain": "tax"},
            "findings": "经核对原始处罚决定书，文号录入有误。",
            "reasons": ["原始文书文号为99号"],
        },
    )
    assert response.status_code == 200, response.data
    return objection


def test_the_reviewer_sees_the_correction_before_and_after_and_approves(
    personas: Personas, record: CreditRecord, drafter: Any
) -> None:
    objection = correction_drafted(personas, record, drafter)
    url = case_url("objection", objection["id"], "approval/")
    status, html = page(personas.reviewer, url)
    assert status == 200
    assert "Founded" in html and "Correct the record" in html and "经核对原始处罚决定书" in html
    assert "原始文书文号为99号" in html and "both" in html  # the reasons and who drafted
    # The diff: each corrected field, as it is and as it would be.
    assert f"<del>{record.decision_number}</del>" in html and "<ins>测罚〔2026〕99号</ins>" in html
    with translation.override("en"):
        diff = browser(personas.reviewer).get(url).context["diff"]
    assert [(c.field, c.after) for c in diff] == [
        ("domain", "Tax payment (税收缴纳)"),  # the label, not the code
        ("decision_number", "测罚〔2026〕99号"),
    ]
    assert 'name="decision"' in html
    logged = AccessLog.objects.filter(user=personas.reviewer).first()
    assert logged is not None and logged.case_object_id == objection["id"]

    # The case file sends the reviewer here rather than offering the review steps itself.
    status, html = page(personas.reviewer, case_url("objection", objection["id"]))
    assert (
        f'href="/staff/cases/objection/{objection["id"]}/approval/"' in html
        and "/steps/approve_decision/" not in html
    )
    assert (
        browser(personas.reviewer)
        .get(case_url("objection", objection["id"], "steps/approve_decision/"))["Location"]
        .endswith("/approval/")
    )

    response = browser(personas.reviewer).post(url, {"decision": "approve"})
    assert response.status_code == 302 and response["Location"] == case_url("objection", objection["id"])
    assert Objection.objects.get(pk=objection["id"]).state == "decided"
    record.refresh_from_db()
    assert record.decision_number == "测罚〔2026〕99号" and record.domain == "tax"
    assert RecordAmendment.objects.filter(record=record).count() == 2
    html = page(personas.reviewer, case_url("objection", objection["id"]))[1]
    assert "Corrections so far" in html and "Decision document number" in html
    # Nothing left to review: the screen sends back to the case file.
    assert browser(personas.reviewer).get(url).status_code == 302


def test_the_drafter_gets_no_button_and_a_post_is_refused(
    personas: Personas, record: CreditRecord, drafter: Any
) -> None:
    objection = correction_drafted(personas, record, drafter)
    url = case_url("objection", objection["id"], "approval/")
    status, html = page(drafter, url)
    assert status == 200 and "four-eyes" in html and 'name="decision"' not in html
    response = browser(drafter).post(url, {"decision": "approve"})
    assert response.status_code == 403
    response = browser(drafter).post(url, {"decision": "return", "reason": "自己退回"})
    assert response.status_code == 403
    assert Objection.objects.get(pk=objection["id"]).state == "decision_review"
    # The officer who accepted the objection is involved too; the officer role cannot review anyway.
    assert browser(personas.officer).post(url, {"decision": "approve"}).status_code == 403
    # Another department, the applicant, a signed-out visitor.
    assert browser(personas.other_officer).post(url, {"decision": "approve"}).status_code == 404
    assert browser(personas.applicant).get(url).status_code == 403
    assert browser().get(url).status_code == 302
    assert Objection.objects.get(pk=objection["id"]).state == "decision_review"


def test_returning_needs_reasons_and_sends_the_draft_back(
    personas: Personas, record: CreditRecord, drafter: Any
) -> None:
    objection = correction_drafted(personas, record, drafter)
    url = case_url("objection", objection["id"], "approval/")
    with translation.override("en"):
        response = browser(personas.reviewer).post(url, {"decision": "return", "reason": " "})
    assert response.status_code == 422 and response.context["form"].errors["reason"]
    assert Objection.objects.get(pk=objection["id"]).state == "decision_review"
    response = browser(personas.reviewer).post(url, {"decision": "return", "reason": "请补充核查记录"})
    assert response.status_code == 302
    returned = Objection.objects.get(pk=objection["id"])
    assert returned.state == "accepted" and returned.draft_outcome == ""


def test_a_repair_decision_and_a_proposed_non_acceptance_are_reviewed_the_same_way(
    personas: Personas, record: CreditRecord
) -> None:
    case = file_repair(personas, record)
    repair_step(personas.officer, case["id"], "propose_non_acceptance", payload={"reasons": ["材料不齐"]})
    url = case_url("repair", case["id"], "approval/")
    status, html = page(personas.reviewer, url)
    assert status == 200 and "proposed non-acceptance" in html and "材料不齐" in html
    # The officer who proposed it reviews nothing.
    status, html = page(personas.officer, url)
    assert status == 200 and 'name="decision"' not in html
    response = browser(personas.reviewer).post(url, {"decision": "return", "reason": "应当先通知补正"})
    assert response.status_code == 302 and RepairCase.objects.get(pk=case["id"]).state == "submitted"

    repair_step(personas.officer, case["id"], "accept")
    repair_step(
        personas.officer,
        case["id"],
        "draft_decision",
        payload={"outcome": "refuse", "reasons": ["罚款未缴清"]},
    )
    status, html = page(personas.reviewer, url)
    assert status == 200 and "Refuse" in html and "罚款未缴清" in html
    assert browser(personas.reviewer).post(url, {"decision": "approve"}).status_code == 302
    assert RepairCase.objects.get(pk=case["id"]).state == "refused"


def test_a_reconsideration_is_approved_by_another_officer_of_the_office(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    recon2 = UserFactory(username="recon2", role=Role.RECONSIDERATION, department=office)
    _repair, reconsideration = applied(personas, record)
    reconsideration_step(personas.recon, reconsideration["id"], "accept", payload={"simplified": False})
    reconsideration_step(
        personas.recon,
        reconsideration["id"],
        "draft",
        payload={"decision": "uphold", "reasons": ["原决定正确"]},
    )
    url = case_url("reconsideration", reconsideration["id"], "approval/")
    status, html = page(personas.recon, url)
    assert status == 200 and "four-eyes" in html and 'name="decision"' not in html
    assert browser(personas.recon).post(url, {"decision": "approve"}).status_code == 403
    status, html = page(recon2, url)
    assert status == 200 and "Uphold the act" in html and 'name="decision"' in html
    assert browser(recon2).post(url, {"decision": "approve"}).status_code == 302
    assert Reconsideration.objects.get(pk=reconsideration["id"]).state == "decided"


def test_complaints_have_no_approval_screen(personas: Personas) -> None:
    from tests.objections.test_complaints import complain

    complaint = complain(personas.applicant, about="conduct", department=personas.market.pk).data
    assert browser(personas.head).get(case_url("complaint", complaint["id"], "approval/")).status_code == 404


def test_a_reconsideration_varying_the_record_shows_its_correction(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    recon2 = UserFactory(username="recon2", role=Role.RECONSIDERATION, department=office)
    _repair, reconsideration = applied(personas, record)
    reconsideration_step(personas.recon, reconsideration["id"], "accept", payload={"simplified": True})
    # Drafted on the case file's step page: the corrections as their own fields.
    url = case_url("reconsideration", reconsideration["id"], "steps/draft/")
    response = browser(personas.recon).post(
        url,
        {
            "step": "draft",
            "decision": "vary",
            "corrections__decision_date": "2026-05-01",
            "reasons": "原决定日期录入错误",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    status, html = page(recon2, case_url("reconsideration", reconsideration["id"], "approval/"))
    assert status == 200 and "<del>2026-05-31</del>" in html and "<ins>2026-05-01</ins>" in html

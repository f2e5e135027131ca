"""/my/cases/<kind>/<pk>/: the case's state, timeline, countdowns of every pending deadline (the applicant's
and the authority's), its letters, and the actions open to the applicant now; and those actions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, TestCase

from credit.models import CreditRecord, Deadline, Department
from credit.services.transitions import System, TransitionError
from letters.models import Letter, LetterKind, ServiceConsent
from letters.services import give_consent
from objections.models import Complaint, Reconsideration
from repair.models import Evidence, RepairCase
from tests.conftest import Personas
from tests.factories import UserFactory, make_record
from tests.portal.conftest import (
    act,
    browser,
    complaint_filed,
    not_a_document,
    objection_filed,
    png,
    reconsideration_filed,
    repair_filed,
    repair_refused,
    stored_files,
)

pytestmark = pytest.mark.django_db


def english(user: Any) -> Client:
    client = browser(user)
    client.cookies["django_language"] = "en"
    return client


def page(kind: str, case: Any, action: str = "") -> str:
    return f"/my/cases/{kind}/{case.pk}/{action + '/' if action else ''}"


def rows(*files: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "evidence-TOTAL_FORMS": "3",
        "evidence-INITIAL_FORMS": "0",
        "evidence-MIN_NUM_FORMS": "0",
        "evidence-MAX_NUM_FORMS": "10",
    }
    for index, row in enumerate(files):
        data.update({f"evidence-{index}-{name}": value for name, value in row.items()})
    return data


def test_the_case_page_shows_state_countdowns_and_timeline(personas: Personas, record: CreditRecord) -> None:
    case = repair_filed(personas, record)
    act(case, "accept", personas.officer)
    response = english(personas.applicant).get(page("repair", case))
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html and "Accepted, being verified" in html
    pending = {row.deadline.kind: row.clock.countdown.label for row in response.context["pending"]}
    assert pending == {"repair.decide": "due in 7 working days", "repair.total": "due in 10 working days"}
    assert [row.deadline.kind for row in response.context["closed"]] == ["repair.accept"]
    timeline = [(row.label, row.actor) for row in response.context["timeline"]]
    assert timeline == [("Filed", "you"), ("Accept", "staff")]
    assert personas.officer.username not in html  # staff are never named to the applicant
    assert "(the authority" in html


def test_who_holds_the_task_is_staff_business(personas: Personas, record: CreditRecord) -> None:
    """Claims and hand-overs between staff (and their notes to each other) are in the case's log for the staff
    and the auditors, not in the applicant's timeline, on the page or on the API."""
    from rest_framework.test import APIClient
    from viewflow.workflow.models import Task

    from credit.models import TransitionLog
    from repair.flows import RepairFlow
    from repair.services import start_work
    from workspace import queue_services

    case = repair_filed(personas, record)
    start_work(case.pk)  # the flow starts after the filing commits
    examine = Task.objects.get(process__artifact_object_id=case.pk, flow_task=RepairFlow.examine)
    queue_services.claim(task_id=examine.pk, actor=personas.officer)
    colleague = UserFactory(username="officer_b", role="officer", department=personas.market)
    note = "请李科长复核材料"
    queue_services.give(task_ids=[examine.pk], to=colleague, actor=personas.officer, reason=note)
    logged = TransitionLog.objects.filter(object_id=case.pk).values_list("transition", flat=True)
    assert {"claim", "reassign"} <= set(logged)
    response = english(personas.applicant).get(page("repair", case))
    assert [row.label for row in response.context["timeline"]] == ["Filed"]
    html = response.content.decode()
    assert note not in html and "officer_b" not in html
    api = APIClient()
    api.force_authenticate(personas.applicant)
    answer = api.get(f"/api/v1/repairs/{case.pk}/")
    assert answer.status_code == 200, answer.data
    entries = answer.data["timeline"]
    assert [entry["transition"] for entry in entries] == ["file"]
    api.force_authenticate(personas.officer)  # staff state why they open the case
    answer = api.get(
        f"/api/v1/repairs/{case.pk}/", {"purpose": "case", "case": f"repair.repaircase:{case.pk}"}
    )
    assert answer.status_code == 200, (answer.status_code, answer.data)
    entries = answer.data["timeline"]
    assert [entry["transition"] for entry in entries] == ["file", "claim", "reassign"]


def test_the_applicants_own_deadline_is_marked_as_theirs(personas: Personas, record: CreditRecord) -> None:
    case = repair_filed(personas, record)
    act(case, "request_supplement", personas.officer, payload={"missing": ["缴款凭证", "整改报告"]})
    response = english(personas.applicant).get(page("repair", case))
    pending = {row.deadline.kind: row for row in response.context["pending"]}
    assert (
        set(pending) == {"repair.supplement", "repair.total"} and not pending["repair.total"].applicants_own
    )
    row = pending["repair.supplement"]
    assert row.applicants_own
    assert row.clock.countdown.label == "due in 10 working days" and row.clock.due_date == date(2026, 12, 7)
    html = response.content.decode()
    assert "yours to meet" in html and "缴款凭证" in html and "整改报告" in html
    assert page("repair", case, "evidence") in html and "Answer the notice to supplement" in html


@pytest.mark.parametrize("kind", ["repair", "objection", "reconsideration", "complaint"])
def test_another_applicants_case_is_not_found(
    personas: Personas, record: CreditRecord, office: Department, kind: str
) -> None:
    refused = repair_refused(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 3, 1)
        ),
    )
    cases = {
        "repair": refused,
        "objection": objection_filed(personas, record),
        "reconsideration": reconsideration_filed(personas, refused),
        "complaint": complaint_filed(personas, refused),
    }
    case = cases[kind]
    assert browser(personas.applicant).get(page(kind, case)).status_code == 200
    other = browser(personas.other_applicant)
    for action in ("", "evidence", "withdraw", "reconsideration", "complaint", "supply"):
        assert other.get(page(kind, case, action)).status_code == 404, action
        assert other.post(page(kind, case, action), {"confirm": "on"}).status_code in (404, 405), action
    assert browser(personas.applicant).get(f"/my/cases/nonsense/{case.pk}/").status_code == 404


def test_letters_of_the_case_are_listed_and_download(
    personas: Personas, record: CreditRecord, signing: Any
) -> None:
    case = repair_filed(personas, record)
    with TestCase.captureOnCommitCallbacks(execute=True):
        act(case, "accept", personas.officer)
    letter = Letter.objects.get(object_id=case.pk, kind=LetterKind.ACCEPTANCE)
    assert letter.file
    client = english(personas.applicant)
    response = client.get(page("repair", case))
    assert response.context["letters"] == [letter]
    assert f"/api/v1/letters/{letter.pk}/pdf/" in response.content.decode()
    pdf = client.get(f"/api/v1/letters/{letter.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert browser(personas.other_applicant).get(f"/api/v1/letters/{letter.pk}/pdf/").status_code == 404
    home = client.get("/my/")
    assert letter in list(home.context["letters"]) and "Signed letter (PDF)" in home.content.decode()


# -- answering a notice to supplement, adding evidence -----------------------------------------------------
def test_a_supplement_is_answered_with_files_in_one_step(personas: Personas, record: CreditRecord) -> None:
    case = repair_filed(personas, record)
    act(case, "request_supplement", personas.officer, payload={"missing": ["缴款凭证"]})
    client = english(personas.applicant)
    form = client.get(page("repair", case, "evidence"))
    assert form.status_code == 200 and form.context["supplement"] and "缴款凭证" in form.content.decode()
    response = client.post(
        page("repair", case, "evidence"), {**rows({"file": png(), "kind": "performance"}), "note": "已补交"}
    )
    assert response["Location"] == page("repair", case)
    case.refresh_from_db()
    assert case.state == "submitted" and case.evidence.get().kind == "performance"
    supplement = Deadline.objects.for_object(case).get(kind="repair.supplement")
    assert supplement.status == "met"
    assert "Your supplement was sent" in client.get(response["Location"]).content.decode()


def test_a_bad_supplement_file_changes_nothing(personas: Personas, record: CreditRecord, media: Path) -> None:
    case = repair_filed(personas, record)
    act(case, "request_supplement", personas.officer, payload={"missing": ["缴款凭证"]})
    client = english(personas.applicant)
    response = client.post(
        page("repair", case, "evidence"),
        {
            **rows({"file": png(), "kind": "performance"}, {"file": not_a_document(), "kind": "other"}),
            "note": "说明",
        },
    )
    assert response.status_code == 422 and "This type of file is not accepted." in response.content.decode()
    assert "说明" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "awaiting_supplement" and not Evidence.objects.exists() and stored_files(media) == []
    empty = client.post(page("repair", case, "evidence"), rows())
    assert empty.status_code == 422 and "Choose the files of the missing materials" in empty.content.decode()


def test_evidence_is_added_while_the_case_is_examined(personas: Personas, record: CreditRecord) -> None:
    repair = repair_filed(personas, record)
    objection = objection_filed(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 4, 1)
        ),
    )
    client = english(personas.applicant)
    assert client.post(page("repair", repair, "evidence"), rows()).status_code == 422  # no file chosen
    assert (
        client.post(
            page("repair", repair, "evidence"), rows({"file": png(), "kind": "volunteer", "hours": "8"})
        ).status_code
        == 302
    )
    assert repair.evidence.get().hours == 8
    assert (
        client.post(
            page("objection", objection, "evidence"), rows({"file": png(), "description": "判决"})
        ).status_code
        == 302
    )
    assert objection.evidence.get().description == "判决"
    act(repair, "withdraw", personas.applicant)
    closed = client.get(page("repair", repair, "evidence"))
    assert closed["Location"] == page("repair", repair)
    assert "can no longer be added" in client.get(closed["Location"]).content.decode()


# -- withdrawing -------------------------------------------------------------------------------------------
def test_a_withdrawal_is_confirmed_first(personas: Personas, record: CreditRecord) -> None:
    objection = objection_filed(personas, record)
    client = english(personas.applicant)
    assert "Withdraw" in client.get(page("objection", objection)).content.decode()
    unconfirmed = client.post(page("objection", objection, "withdraw"), {"reason": "已与部门沟通"})
    assert unconfirmed.status_code == 422 and "已与部门沟通" in unconfirmed.content.decode()
    objection.refresh_from_db()
    assert objection.state == "submitted"
    done = client.post(page("objection", objection, "withdraw"), {"confirm": "on", "reason": "已与部门沟通"})
    assert done["Location"] == page("objection", objection)
    objection.refresh_from_db()
    assert objection.state == "withdrawn"
    # Withdrawn: no longer offered, and refused if asked for.
    assert (
        page("objection", objection, "withdraw")
        not in client.get(page("objection", objection)).content.decode()
    )
    assert client.post(page("objection", objection, "withdraw"), {"confirm": "on"})["Location"] == page(
        "objection", objection
    )


def test_a_complaint_is_withdrawn_by_its_complainant(personas: Personas, record: CreditRecord) -> None:
    complaint = complaint_filed(personas, repair_filed(personas, record))
    client = browser(personas.applicant)
    assert client.post(page("complaint", complaint, "withdraw"), {"confirm": "on"}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.state == "withdrawn"


# -- reconsideration and complaints ------------------------------------------------------------------------
def test_reconsideration_of_a_refusal_is_offered_and_filed(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    refused = repair_refused(personas, record)
    client = english(personas.applicant)
    response = client.get(page("repair", refused))
    assert (
        response.context["window"] is not None and response.context["window"].last_day is None
    )  # not served
    html = response.content.decode()
    assert (
        page("repair", refused, "reconsideration") in html
        and f"/my/file/objection/?repair_case={refused.pk}" in html
    )
    blank = client.post(page("repair", refused, "reconsideration"), {"request": "", "statement": "事实不清"})
    assert blank.status_code == 422 and "事实不清" in blank.content.decode()
    assert not Reconsideration.objects.exists()
    filed = client.post(
        page("repair", refused, "reconsideration"),
        {"request": "撤销不予修复决定", "statement": "已缴清罚款", "knew_on": "2026-11-23"},
    )
    recon = Reconsideration.objects.get()
    assert filed["Location"] == page("reconsideration", recon)
    assert (recon.repair_case, recon.office, recon.knew_on) == (refused, office, date(2026, 11, 23))
    after = client.get(page("repair", refused))
    assert after.context["window"].open_number == recon.number
    assert page("repair", refused, "reconsideration") not in after.content.decode()
    recon_page = client.get(page("reconsideration", recon))
    assert {row.deadline.kind for row in recon_page.context["pending"]} == {
        "reconsideration.accept",
        "reconsideration.supplement_request",
    }


def test_the_period_to_apply_counts_from_service(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    from django.utils import timezone

    from letters.models import ServiceRecord
    from letters.services import consent_in_force

    refused = repair_refused(personas, record)
    give_consent(person=personas.applicant_person, actor=personas.applicant)
    letter = Letter.objects.get(object_id=refused.pk, kind=LetterKind.REPAIR_REFUSAL)
    Letter.objects.filter(pk=letter.pk).update(state="issued", issued_at=timezone.now())
    ServiceRecord.objects.create(
        letter=letter,
        method="electronic",
        served_at=timezone.now(),
        consent=consent_in_force(personas.applicant_person),
    )
    response = english(personas.applicant).get(page("repair", refused))
    window = response.context["window"]
    assert window.last_day == date(2027, 1, 22)  # 60 calendar days after 23 Nov 2026
    assert window.clock.applicants_own and window.clock.countdown.state == "due"
    assert "Apply for administrative reconsideration" in response.content.decode()
    form = english(personas.applicant).get(page("repair", refused, "reconsideration"))
    assert "knew_on" not in form.context["form"].fields and "served on 2026-11-23" in form.content.decode()


def test_an_open_case_cannot_be_challenged_yet(personas: Personas, record: CreditRecord) -> None:
    case = repair_filed(personas, record)
    client = browser(personas.applicant)
    assert client.get(page("repair", case, "reconsideration"))["Location"] == page("repair", case)
    complaint = complaint_filed(personas, case)
    assert client.get(page("complaint", complaint, "reconsideration")).status_code == 404


def test_a_complaint_about_a_case_and_one_about_conduct(personas: Personas, record: CreditRecord) -> None:
    case = repair_filed(personas, record)
    client = english(personas.applicant)
    missing = client.post(page("repair", case, "complaint"), {"about": "handling", "statement": ""})
    assert missing.status_code == 422 and not Complaint.objects.exists()
    filed = client.post(
        page("repair", case, "complaint"),
        {"about": "handling", "statement": "三个工作日未受理", "staff_named": ""},
    )
    complaint = Complaint.objects.get()
    assert filed["Location"] == page("complaint", complaint)
    assert (complaint.case, complaint.department) == (case, personas.market)
    general = client.get("/my/complaints/new/")
    assert [c[0] for c in general.context["form"].fields["about"].choices] == ["conduct"]
    no_department = client.post("/my/complaints/new/", {"about": "conduct", "statement": "态度恶劣"})
    assert no_department.status_code == 422
    client.post(
        "/my/complaints/new/",
        {
            "about": "conduct",
            "statement": "窗口人员态度恶劣",
            "department": personas.environment.pk,
            "staff_named": "工号12",
        },
    )
    conduct = Complaint.objects.exclude(pk=complaint.pk).get()
    assert (conduct.department, conduct.person, conduct.staff_named) == (
        personas.environment,
        personas.applicant_person,
        "工号12",
    )
    reply = english(personas.applicant).get(page("complaint", conduct))
    assert reply.status_code == 200 and "窗口人员态度恶劣" in reply.content.decode()


# -- consent to electronic service -------------------------------------------------------------------------
def test_consent_to_electronic_service_is_given_and_withdrawn(personas: Personas) -> None:
    client = english(personas.applicant)
    assert "Not consented" in client.get("/my/consent/").content.decode()
    given = client.post("/my/consent/", {"person": personas.applicant_person.pk, "action": "give"})
    assert given["Location"] == "/my/consent/"
    consent = ServiceConsent.objects.get(person=personas.applicant_person, withdrawn_at__isnull=True)
    assert consent.recorded_by == personas.applicant and consent.channel == "portal"
    assert "Withdraw my consent" in client.get("/my/consent/").content.decode()
    client.post("/my/consent/", {"person": personas.applicant_person.pk, "action": "withdraw"})
    assert not ServiceConsent.objects.filter(withdrawn_at__isnull=True).exists()
    # Nobody consents for a person they do not act for.
    assert (
        client.post("/my/consent/", {"person": personas.other_person.pk, "action": "give"}).status_code == 404
    )
    assert (
        client.post("/my/consent/", {"person": personas.applicant_person.pk, "action": "x"}).status_code
        == 404
    )
    assert not ServiceConsent.objects.filter(person=personas.other_person).exists()


def test_an_open_repair_decision_is_not_offered_for_objection(
    personas: Personas, record: CreditRecord
) -> None:
    case = repair_filed(personas, record)
    html = browser(personas.applicant).get(page("repair", case)).content.decode()
    assert "/my/file/objection/?repair_case=" not in html
    assert RepairCase.objects.count() == 1


def test_a_reconsiderations_supplement_is_answered_with_files_in_one_step(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    recon = reconsideration_filed(personas, repair_refused(personas, record))
    client = english(personas.applicant)
    assert client.get(page("reconsideration", recon, "supply"))["Location"] == page("reconsideration", recon)
    act(recon, "request_supplement", personas.recon, payload={"missing": ["原决定书复印件"]})
    html = client.get(page("reconsideration", recon)).content.decode()
    assert page("reconsideration", recon, "supply") in html and "原决定书复印件" in html
    form = client.get(page("reconsideration", recon, "supply"))
    assert form.status_code == 200 and form.context["supplement"]
    html = form.content.decode()
    assert "原决定书复印件" in html and 'enctype="multipart/form-data"' in html
    assert "deemed withdrawn" in html and "Note to the reconsideration office" in html
    response = client.post(
        page("reconsideration", recon, "supply"),
        {**rows({"file": png("决定书.png"), "description": "原决定书复印件"}), "note": "另已邮寄原件"},
    )
    assert response["Location"] == page("reconsideration", recon)
    recon.refresh_from_db()
    assert recon.state == "submitted"
    assert Deadline.objects.for_object(recon).get(kind="reconsideration.supplement_reply").status == "met"
    (evidence,) = recon.evidence.all()
    assert evidence.supplement and evidence.description == "原决定书复印件"
    assert "reconsideration office examines" in client.get(response["Location"]).content.decode()
    timeline = [
        (row.label, row.reason) for row in client.get(page("reconsideration", recon)).context["timeline"]
    ]
    assert ("Evidence added", "决定书.png") in timeline
    assert ("Supply the missing materials", "另已邮寄原件") in timeline


def test_papers_handed_in_are_confirmed_by_a_note(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    recon = reconsideration_filed(personas, repair_refused(personas, record))
    act(recon, "request_supplement", personas.recon, payload={"missing": ["原决定书复印件"]})
    client = english(personas.applicant)
    empty = client.post(page("reconsideration", recon, "supply"), rows())
    assert empty.status_code == 422 and "Choose the files of the missing materials" in empty.content.decode()
    response = client.post(page("reconsideration", recon, "supply"), {**rows(), "note": "已邮寄复印件"})
    assert response["Location"] == page("reconsideration", recon)
    recon.refresh_from_db()
    assert recon.state == "submitted" and not recon.evidence.exists()


def test_a_bad_file_in_a_reconsiderations_supplement_changes_nothing(
    personas: Personas, record: CreditRecord, office: Department, media: Path
) -> None:
    recon = reconsideration_filed(personas, repair_refused(personas, record))
    act(recon, "request_supplement", personas.recon, payload={"missing": ["原决定书复印件"]})
    response = english(personas.applicant).post(
        page("reconsideration", recon, "supply"),
        {**rows({"file": png()}, {"file": not_a_document()}), "note": "说明"},
    )
    assert response.status_code == 422 and "This type of file is not accepted." in response.content.decode()
    recon.refresh_from_db()
    assert recon.state == "awaiting_supplement" and not recon.evidence.exists()
    assert stored_files(media) == []
    assert Deadline.objects.for_object(recon).get(kind="reconsideration.supplement_reply").status == "pending"


def test_a_supplement_after_the_application_was_deemed_withdrawn_stores_nothing(
    personas: Personas, record: CreditRecord, office: Department, media: Path
) -> None:
    # The page was loaded in time, sent after the clock ran out and the timer deemed it withdrawn.
    recon = reconsideration_filed(personas, repair_refused(personas, record))
    act(recon, "request_supplement", personas.recon, payload={"missing": ["原决定书复印件"]})
    client = english(personas.applicant)
    assert client.get(page("reconsideration", recon, "supply")).status_code == 200
    act(recon, "deem_withdrawn", System("system:test"))
    response = client.post(page("reconsideration", recon, "supply"), rows({"file": png()}))
    assert response["Location"] == page("reconsideration", recon)
    assert not recon.evidence.exists() and stored_files(media) == []


def test_a_refused_supply_step_takes_the_stored_files_back(
    personas: Personas,
    record: CreditRecord,
    office: Department,
    media: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The files are stored before the step is taken, in its transaction; if the step is refused, the rows
    # roll back and the files are deleted: the office never sees half an answer.
    recon = reconsideration_filed(personas, repair_refused(personas, record))
    act(recon, "request_supplement", personas.recon, payload={"missing": ["原决定书复印件"]})

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise TransitionError("refused for the test")

    monkeypatch.setattr("portal.actions.perform_transition", refused)
    response = english(personas.applicant).post(
        page("reconsideration", recon, "supply"), rows({"file": png()}, {"file": png("second.png")})
    )
    assert response.status_code == 422 and "refused for the test" in response.content.decode()
    recon.refresh_from_db()
    assert recon.state == "awaiting_supplement" and not recon.evidence.exists()
    assert stored_files(media) == []


def test_evidence_is_added_to_a_reconsideration_under_review(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    recon = reconsideration_filed(personas, repair_refused(personas, record))
    client = english(personas.applicant)
    assert (
        page("reconsideration", recon, "evidence")
        in client.get(page("reconsideration", recon)).content.decode()
    )
    response = client.post(
        page("reconsideration", recon, "evidence"), rows({"file": png(), "description": "判决"})
    )
    assert response.status_code == 302
    (evidence,) = recon.evidence.all()
    assert not evidence.supplement and evidence.description == "判决"
    act(recon, "withdraw", personas.applicant)
    assert client.get(page("reconsideration", recon, "evidence"))["Location"] == page(
        "reconsideration", recon
    )
    assert (
        browser(personas.other_applicant).get(page("reconsideration", recon, "evidence")).status_code == 404
    )

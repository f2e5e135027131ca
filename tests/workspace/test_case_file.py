"""The staff case file at /staff/cases/<kind>/<pk>/: what it shows, to whom, the steps it offers and takes,
internal notes, the evidence viewer, the data-access log, and its cost in queries."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.models import AccessLog, CreditRecord, Department
from objections.models import Complaint, Objection
from objections.reconsideration import Reconsideration
from objections.reconsideration_services import add_evidence as add_reconsideration_evidence
from repair.flows import RepairFlow
from repair.models import CaseNote, RepairCase
from tests.conftest import Personas
from tests.factories import make_record
from tests.objections.test_complaints import complain
from tests.objections.test_objections import filed as file_objection
from tests.objections.test_objections import step as objection_step
from tests.objections.test_reconsideration import applied
from tests.repair.test_cases import client_for
from tests.repair.test_cases import file as file_repair
from tests.repair.test_cases import step as repair_step
from workspace.models import InternalNote

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    # General, decided 2026-05-31: repair may be applied for from 2026-09-01 (today is 2026-11-23).
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def browser(user: Any = None) -> Client:
    """A signed-in browser that asks for English pages (the default language is Chinese)."""
    client = Client(headers={"Accept-Language": "en"})
    if user is not None:
        client.force_login(user)
    return client


def case_url(kind: str, pk: int, tail: str = "") -> str:
    return f"/staff/cases/{kind}/{pk}/{tail}"


def page(user: Any, url: str) -> tuple[int, str]:
    with translation.override("en"):
        response = browser(user).get(url)
    return response.status_code, response.content.decode() if response.status_code == 200 else ""


def png(name: str = "receipt.png") -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf(name: str = "proof.pdf") -> SimpleUploadedFile:
    from pyhanko.pdf_utils.writer import PdfFileWriter

    writer = PdfFileWriter()
    from pyhanko.pdf_utils import generic

    writer.insert_page(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Page"),
                generic.NameObject("/MediaBox"): generic.ArrayObject(
                    [
                        generic.NumberObject(0),
                        generic.NumberObject(0),
                        generic.NumberObject(100),
                        generic.NumberObject(100),
                    ]
                ),
            }
        )
    )
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def repair_with_evidence(personas: Personas, record: CreditRecord, pieces: int = 1) -> dict[str, Any]:
    case = file_repair(personas, record)
    for n in range(pieces):
        response = client_for(personas.applicant).post(
            f"/api/v1/repairs/{case['id']}/evidence/",
            {"file": png(f"receipt{n}.png"), "kind": "performance"},
            format="multipart",
        )
        assert response.status_code == 201, response.data
    return case


# -- what the case file shows --------------------------------------------------------------------------------
def test_the_officer_opens_a_repair_case_file(personas: Personas, record: CreditRecord) -> None:
    case = repair_with_evidence(personas, record)
    status, html = page(personas.officer, case_url("repair", case["id"]))
    assert status == 200
    # The case, the applicant (masked), the record and its deadlines with their countdowns.
    assert case["number"] in html and str(record.number) in html and record.decision_number in html
    assert personas.applicant_person.name in html and personas.applicant_person.id_masked in html
    assert "due in 3 working days" in html  # repair.accept: 3 WD from Monday 2026-11-23
    # The timeline, and an image of the evidence served through the permission-checked view.
    assert "Filed" in html and "Evidence added" in html
    evidence_id = RepairCase.objects.get(pk=case["id"]).evidence.get().pk
    assert f'src="/staff/cases/repair/{case["id"]}/evidence/{evidence_id}/"' in html
    assert "/media/" not in html
    # Buttons for exactly the steps the officer may take now, each to its form.
    for step in ("accept", "request_supplement", "propose_non_acceptance"):
        assert f'href="/staff/cases/repair/{case["id"]}/steps/{step}/"' in html
    assert "/steps/approve_decision/" not in html and "/steps/withdraw/" not in html
    # The flow's chart in viewflow's pages.
    process = Task.objects.filter(process__artifact_object_id=case["id"]).first().process  # type: ignore[union-attr]
    assert f'href="/workflow/repair/{process.pk}/chart/"' in html
    assert browser(personas.officer).get(f"/workflow/repair/{process.pk}/chart/").status_code == 200
    # Opening it is in the data-access log, with the case as its purpose.
    logged = AccessLog.objects.get(user=personas.officer)
    assert (logged.person_id, logged.action, logged.purpose) == (record.person_id, "view", "case")
    assert (logged.case_object_id, logged.path) == (case["id"], case_url("repair", case["id"]))


def test_each_case_type_has_its_file(personas: Personas, record: CreditRecord, office: Department) -> None:
    objection = file_objection(personas, record)
    status, html = page(personas.intake, case_url("objection", objection["id"]))
    assert status == 200 and objection["number"] in html and "The record is wrong" in html
    assert '/steps/forward/"' in html  # intake flags the record and forwards

    repair, reconsideration = applied(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 30)
        ),
    )
    handed_in = add_reconsideration_evidence(
        reconsideration=Reconsideration.objects.get(pk=reconsideration["id"]),
        upload=pdf("grounds.pdf"),
        actor=personas.applicant,
    )
    status, html = page(personas.recon, case_url("reconsideration", reconsideration["id"]))
    assert status == 200 and reconsideration["number"] in html and repair["number"] in html
    assert "/steps/accept/" in html and "/steps/request_supplement/" in html
    evidence = case_url("reconsideration", reconsideration["id"], f"evidence/{handed_in.pk}/")
    assert f'href="{evidence}">grounds.pdf (PDF)' in html
    assert browser(personas.recon).get(evidence).status_code == 200
    # The department whose decision is challenged sees the case; it has nothing to do in it.
    status, html = page(personas.officer, case_url("reconsideration", reconsideration["id"]))
    assert status == 200 and "/steps/" not in html

    complaint = complain(personas.applicant, about="conduct", department=personas.market.pk).data
    status, html = page(personas.head, case_url("complaint", complaint["id"]))
    assert status == 200 and complaint["number"] in html and "/steps/answer/" in html
    assert "The credit record" not in html  # a complaint is about conduct, not about a record


def test_the_complaint_file_links_the_case_complained_about(personas: Personas, record: CreditRecord) -> None:
    repair = file_repair(personas, record)
    complaint = complain(personas.applicant, repair_case=repair["id"]).data
    status, html = page(personas.head, case_url("complaint", complaint["id"]))
    assert status == 200 and f'href="/staff/cases/repair/{repair["id"]}/"' in html


# -- who may open it -----------------------------------------------------------------------------------------
def test_the_case_file_is_refused_without_telling_that_the_case_exists(
    personas: Personas, record: CreditRecord
) -> None:
    repair = file_repair(personas, record)
    objection = file_objection(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 30)
        ),
    )
    complaint = complain(personas.applicant, about="conduct", department=personas.market.pk).data
    for kind, pk in (("repair", repair["id"]), ("objection", objection["id"])):
        # Another department: 404, as for a case that does not exist.
        assert browser(personas.other_officer).get(case_url(kind, pk)).status_code == 404
        assert browser(personas.officer).get(case_url(kind, 999_999)).status_code == 404
        # Not staff: 403 (the applicant's own case included); signed out: the login page.
        assert browser(personas.applicant).get(case_url(kind, pk)).status_code == 403
        assert browser(personas.admin).get(case_url(kind, pk)).status_code == 403
        response = browser().get(case_url(kind, pk))
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    # A complaint is seen by the head, not by the department's other staff (it may be about them).
    assert browser(personas.officer).get(case_url("complaint", complaint["id"])).status_code == 404
    assert browser(personas.reviewer).get(case_url("complaint", complaint["id"])).status_code == 404
    assert browser(personas.auditor).get(case_url("complaint", complaint["id"])).status_code == 200
    # Only the four case types have a file.
    assert browser(personas.officer).get(f"/staff/cases/letter/{repair['id']}/").status_code == 404
    assert not AccessLog.objects.exclude(user=personas.auditor).exists()


# -- steps ---------------------------------------------------------------------------------------------------
def test_a_step_taken_on_its_page_moves_the_case_and_ends_the_task(
    personas: Personas, record: CreditRecord
) -> None:
    case = file_repair(personas, record)
    url = case_url("repair", case["id"], "steps/accept/")
    status, html = page(personas.officer, url)
    assert status == 200 and "Accept" in html
    response = browser(personas.officer).post(url, {"step": "accept"})
    assert response.status_code == 302 and response["Location"] == case_url("repair", case["id"])
    assert RepairCase.objects.get(pk=case["id"]).state == "accepted"
    # The step ended the viewflow task, with the officer as the one who did it; the next task waits.
    examine = Task.objects.get(process__artifact_object_id=case["id"], flow_task=RepairFlow.examine)
    assert (examine.status, examine.owner) == (STATUS.DONE, personas.officer)
    assert (
        Task.objects.get(process__artifact_object_id=case["id"], flow_task=RepairFlow.decide).status
        == STATUS.NEW
    )


def test_a_step_form_comes_from_the_payload_and_a_refusal_changes_nothing(
    personas: Personas, record: CreditRecord
) -> None:
    case = file_repair(personas, record)
    url = case_url("repair", case["id"], "steps/request_supplement/")
    status, html = page(personas.officer, url)
    assert status == 200 and 'name="missing"' in html
    with translation.override("en"):
        response = browser(personas.officer).post(url, {"step": "request_supplement", "missing": ""})
    assert response.status_code == 422 and response.context["form"].errors
    assert RepairCase.objects.get(pk=case["id"]).state == "submitted"
    response = browser(personas.officer).post(
        url, {"step": "request_supplement", "missing": "缴款凭证\n整改报告\n"}
    )
    assert response.status_code == 302
    assert RepairCase.objects.get(pk=case["id"]).supplement_missing == ["缴款凭证", "整改报告"]


def test_steps_the_user_may_not_take_are_refused(personas: Personas, record: CreditRecord) -> None:
    case = file_repair(personas, record)
    accept = case_url("repair", case["id"], "steps/accept/")
    # The reviewer of the same department sees the case but may not accept it: no form, and a POST refused.
    assert browser(personas.reviewer).get(accept).status_code == 403
    assert browser(personas.reviewer).post(accept, {"step": "accept"}).status_code == 403
    # Another department's officer: the case is not found.
    assert browser(personas.other_officer).post(accept, {"step": "accept"}).status_code == 404
    # The applicant and a signed-out visitor never reach the step.
    assert browser(personas.applicant).post(accept, {"step": "accept"}).status_code == 403
    assert browser().post(accept, {"step": "accept"}).status_code == 302
    # A step that does not exist, and a step taken only by the system or as another case's outcome.
    assert browser(personas.officer).get(case_url("repair", case["id"], "steps/nothing/")).status_code == 404
    assert (
        browser(personas.officer)
        .post(case_url("repair", case["id"], "steps/lapse/"), {"step": "lapse"})
        .status_code
        == 403
    )
    assert RepairCase.objects.get(pk=case["id"]).state == "submitted"
    # A step of the wrong state is refused with the state's conflict.
    response = browser(personas.officer).post(
        case_url("repair", case["id"], "steps/draft_decision/"),
        {"step": "draft_decision", "outcome": "approve"},
    )
    assert response.status_code == 409


def test_an_objection_draft_asks_each_correction_as_its_own_field(
    personas: Personas, record: CreditRecord
) -> None:
    objection = file_objection(personas, record)
    objection_step(personas.intake, objection["id"], "forward")
    objection_step(personas.officer, objection["id"], "accept")
    url = case_url("objection", objection["id"], "steps/draft_decision/")
    status, html = page(personas.officer, url)
    assert (
        status == 200 and 'name="corrections__decision_number"' in html and 'name="corrections"' not in html
    )
    response = browser(personas.officer).post(
        url,
        {
            "step": "draft_decision",
            "outcome": "founded",
            "remedy": "correct",
            "corrections__decision_number": "测罚〔2026〕99号",
            "findings": "经核对原始处罚决定书，文号录入有误。",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    drafted = Objection.objects.get(pk=objection["id"])
    assert drafted.state == "decision_review"
    assert drafted.draft_corrections == {"decision_number": "测罚〔2026〕99号"}
    # A correction that changes nothing is refused by the service, shown on the form.
    objection_step(personas.reviewer, objection["id"], "return_decision", reason="再核")
    with translation.override("en"):
        response = browser(personas.officer).post(
            url,
            {
                "step": "draft_decision",
                "outcome": "founded",
                "remedy": "correct",
                "corrections__decision_number": record.decision_number,
            },
        )
    assert response.status_code == 422 and "changes nothing" in response.content.decode()


# -- internal notes ------------------------------------------------------------------------------------------
def test_internal_notes_are_staff_only_and_append_only(personas: Personas, record: CreditRecord) -> None:
    objection = file_objection(personas, record)
    url = case_url("objection", objection["id"])
    response = browser(personas.intake).post(url, {"text": "申请人来电，称将补充材料"})
    assert response.status_code == 302 and response["Location"].endswith("#notes")
    note = InternalNote.objects.get()
    assert (note.author, note.case_object_id) == (personas.intake, objection["id"])
    html = page(personas.intake, url)[1]
    assert "申请人来电" in html and "intake" in html
    # Never shown to the applicant: not in their API.
    detail = client_for(personas.applicant).get(f"/api/v1/objections/{objection['id']}/")
    assert detail.status_code == 200 and "申请人来电" not in str(detail.data)
    # Empty: the page again, with the error; auditors read and change nothing.
    assert browser(personas.intake).post(url, {"text": "  "}).status_code == 400
    assert browser(personas.auditor).post(url, {"text": "审计意见"}).status_code == 403
    assert browser(personas.other_officer).post(url, {"text": "x"}).status_code == 404
    assert browser(personas.applicant).post(url, {"text": "x"}).status_code == 403
    assert InternalNote.objects.count() == 1
    with pytest.raises(Exception, match="append-only"):
        note.text = "改"
        note.save()


def test_a_repair_case_keeps_its_notes_where_the_repair_api_reads_them(
    personas: Personas, record: CreditRecord
) -> None:
    case = file_repair(personas, record)
    url = case_url("repair", case["id"])
    browser(personas.officer).post(url, {"text": "内部：需核实缴款"})
    browser(personas.officer).post(url, {"text": "请补充缴款凭证原件", "for_applicant": "on"})
    assert list(CaseNote.objects.values_list("for_applicant", flat=True).order_by("pk")) == [False, True]
    notes = client_for(personas.applicant).get(f"/api/v1/repairs/{case['id']}/").data["notes"]
    assert [n["text"] for n in notes] == ["请补充缴款凭证原件"]
    # The reconsideration office sees the case (city-wide) but writes no repair notes.
    assert 'name="text"' not in page(personas.recon, url)[1]
    assert browser(personas.recon).post(url, {"text": "x"}).status_code == 403
    assert CaseNote.objects.count() == 2


# -- the evidence viewer -------------------------------------------------------------------------------------
def test_evidence_is_served_only_through_the_case(personas: Personas, record: CreditRecord) -> None:
    case = repair_with_evidence(personas, record)
    proof = client_for(personas.applicant).post(
        f"/api/v1/repairs/{case['id']}/evidence/", {"file": pdf(), "kind": "performance"}, format="multipart"
    )
    assert proof.status_code == 201, proof.data
    image, document = RepairCase.objects.get(pk=case["id"]).evidence.order_by("pk")
    html = page(personas.officer, case_url("repair", case["id"]))[1]
    assert f'href="/staff/cases/repair/{case["id"]}/evidence/{document.pk}/">proof.pdf (PDF)' in html
    before = AccessLog.objects.count()

    response = browser(personas.officer).get(case_url("repair", case["id"], f"evidence/{image.pk}/"))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert (
        "sandbox" in response["Content-Security-Policy"] and response["Cache-Control"] == "private, no-store"
    )
    response = browser(personas.officer).get(case_url("repair", case["id"], f"evidence/{document.pk}/"))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    assert list(AccessLog.objects.order_by("pk").values_list("action", flat=True)[before:]) == [
        "view",
        "export",
    ]

    # Evidence of another case, another department, the applicant, and a signed-out visitor.
    other = file_repair(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 30)
        ),
    )
    assert (
        browser(personas.officer).get(case_url("repair", other["id"], f"evidence/{image.pk}/")).status_code
        == 404
    )
    assert (
        browser(personas.other_officer)
        .get(case_url("repair", case["id"], f"evidence/{image.pk}/"))
        .status_code
        == 404
    )
    assert (
        browser(personas.applicant).get(case_url("repair", case["id"], f"evidence/{image.pk}/")).status_code
        == 403
    )
    assert browser().get(case_url("repair", case["id"], f"evidence/{image.pk}/")).status_code == 302
    assert (
        browser(personas.officer).get(case_url("complaint", case["id"], f"evidence/{image.pk}/")).status_code
        == 404
    )
    # No signed form on an online filing.
    assert browser(personas.officer).get(case_url("repair", case["id"], "signed-form/")).status_code == 404


# -- cost ----------------------------------------------------------------------------------------------------
def _cost(user: Any, url: str) -> int:
    client = browser(user)
    client.get(url)  # warm the per-process caches (content types, rule sets)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_case_file_costs_the_same_number_of_queries_however_much_it_holds(
    personas: Personas, record: CreditRecord
) -> None:
    small = repair_with_evidence(personas, record, pieces=1)
    big = repair_with_evidence(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 30)
        ),
        pieces=4,
    )
    for case, notes in ((small, 1), (big, 4)):
        for n in range(notes):
            browser(personas.officer).post(case_url("repair", case["id"]), {"text": f"note {n}"})
        repair_step(personas.officer, case["id"], "accept")
    assert _cost(personas.officer, case_url("repair", small["id"])) == _cost(
        personas.officer, case_url("repair", big["id"])
    )

    first = file_objection(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 29)
        ),
    )
    second = file_objection(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 28)
        ),
    )
    for n in range(3):
        browser(personas.intake).post(case_url("objection", second["id"]), {"text": f"note {n}"})
        client_for(personas.applicant).post(
            f"/api/v1/objections/{second['id']}/evidence/", {"file": png()}, format="multipart"
        )
    assert _cost(personas.intake, case_url("objection", first["id"])) == _cost(
        personas.intake, case_url("objection", second["id"])
    )
    assert Complaint.objects.count() == 0


# -- letters -------------------------------------------------------------------------------------------------
def test_the_case_letters_download_through_the_letters_api_with_the_case_as_purpose(
    personas: Personas, record: CreditRecord, signing: Any
) -> None:
    from letters.models import Letter, LetterKind
    from letters.services import generate

    case = file_repair(personas, record)
    repair_step(personas.officer, case["id"], "accept")
    letter = Letter.objects.get(object_id=case["id"], kind=LetterKind.ACCEPTANCE)
    assert "being prepared" in page(personas.officer, case_url("repair", case["id"]))[1]
    generate(letter.pk)
    html = page(personas.officer, case_url("repair", case["id"]))[1]
    link = f"/api/v1/letters/{letter.pk}/pdf/?purpose=case&amp;case=repair.repaircase:{case['id']}"
    assert link in html
    response = browser(personas.officer).get(link.replace("&amp;", "&"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    exported = AccessLog.objects.filter(user=personas.officer, action="export").get()
    assert (exported.purpose, exported.case_object_id) == ("case", case["id"])


# -- the officer's work beside the legal steps ---------------------------------------------------------------
def test_the_officer_verifies_evidence_and_holds_the_interview_from_the_case_file(
    personas: Personas, record: CreditRecord
) -> None:
    from credit.models import CityOverlay

    overlay = CityOverlay.objects.create(
        city=personas.market.city, effective_from=date(2026, 1, 1), interview_required=True
    )
    CityOverlay.objects.filter(pk=overlay.pk).update(published_at="2026-01-01T00:00:00+08:00")
    case = repair_with_evidence(personas, record)
    piece = RepairCase.objects.get(pk=case["id"]).evidence.get()
    verify = case_url("repair", case["id"], f"evidence/{piece.pk}/verify/")
    assert verify in page(personas.officer, case_url("repair", case["id"]))[1]
    # Rejecting needs a reason the applicant will read; other departments and roles are refused.
    assert browser(personas.officer).post(verify, {"decision": "reject", "reason": ""}).status_code == 422
    assert browser(personas.other_officer).post(verify, {"decision": "accept"}).status_code == 404
    assert browser(personas.reviewer).post(verify, {"decision": "accept"}).status_code == 403
    assert browser(personas.officer).post(verify, {"decision": "accept"}).status_code == 302
    piece.refresh_from_db()
    assert (piece.status, piece.verified_by) == ("accepted", personas.officer)
    assert verify not in page(personas.officer, case_url("repair", case["id"]))[1]  # verified once

    repair_step(personas.officer, case["id"], "accept")
    html = page(personas.officer, case_url("repair", case["id"]))[1]
    assert "the integrity interview the city requires has not been held" in html
    schedule = case_url("repair", case["id"], "interviews/new/")
    assert schedule in html
    assert browser(personas.officer).post(schedule, {"scheduled_at": "2026-11-25T10:00"}).status_code == 422
    past = browser(personas.officer).post(schedule, {"scheduled_at": "2026-11-20T10:00", "place": "三楼"})
    assert past.status_code == 422  # the service refuses a time in the past
    response = browser(personas.officer).post(
        schedule, {"scheduled_at": "2026-11-25T10:00", "place": "市场监管局三楼约谈室"}
    )
    assert response.status_code == 302
    interview = RepairCase.objects.get(pk=case["id"]).interviews.get()
    outcome = case_url("repair", case["id"], f"interviews/{interview.pk}/outcome/")
    assert outcome in page(personas.officer, case_url("repair", case["id"]))[1]
    assert browser(personas.officer).post(outcome, {"outcome": "held", "minutes": ""}).status_code == 422
    assert (
        browser(personas.officer)
        .post(outcome, {"outcome": "held", "minutes": "当事人陈述整改情况"})
        .status_code
        == 302
    )
    interview.refresh_from_db()
    assert interview.status == "held"
    # Nothing stands before the decision now: the officer drafts it on its page.
    draft = case_url("repair", case["id"], "steps/draft_decision/")
    assert draft in page(personas.officer, case_url("repair", case["id"]))[1]
    assert (
        browser(personas.officer).post(draft, {"step": "draft_decision", "outcome": "approve"}).status_code
        == 302
    )
    assert RepairCase.objects.get(pk=case["id"]).state == "decision_review"
    assert (
        browser(personas.officer).get(case_url("objection", case["id"], "interviews/new/")).status_code == 404
    )

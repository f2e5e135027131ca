"""The repair case end to end through the API: every path, every refusal."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from PIL import Image
from rest_framework.test import APIClient
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS
from viewflow.workflow.timers import fire_due_timers

from credit.models import CityOverlay, CreditRecord, Deadline, DownstreamEvent, TransitionLog
from letters.models import Letter, LetterKind
from repair.flows import RepairFlow
from repair.models import Commitment, RepairCase
from tests.conftest import Personas
from tests.factories import UserFactory, make_record

pytestmark = pytest.mark.django_db
URL = "/api/v1/repairs/"


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile("certificate.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    # General, decided 2026-05-31: repair may be applied for from 2026-09-01 (today is 2026-11-23).
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def client_for(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def file(personas: Personas, record: CreditRecord) -> dict[str, Any]:
    """File as the applicant, run what follows the commit (the flow starts, notices go), return the case."""
    api = client_for(personas.applicant)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post(
            URL,
            {"record": record.pk, "statement": "已缴清罚款并整改到位", "commitment_accepted": True},
            format="json",
        )
    assert response.status_code == 201, response.data
    assert (
        set(response.data) == {"id", "number", "state", "url"}
        and response["Location"] == response.data["url"]
    )
    return api.get(response.data["url"]).data


def step(user: Any, case_id: int, name: str, **body: Any) -> Any:
    return client_for(user).post(f"{URL}{case_id}/transitions/{name}/", body, format="json")


def test_the_whole_way_to_a_repaired_record(personas: Personas, record: CreditRecord) -> None:
    case = file(personas, record)
    assert case["state"] == "submitted" and case["number"].startswith("XF2026")
    assert {d["kind"] for d in case["deadlines"]} == {"repair.accept", "repair.total"}
    commitment = Commitment.objects.get(case_id=case["id"])
    assert commitment.signed_by == personas.applicant and len(commitment.text_sha256) == 64
    assert step(personas.officer, case["id"], "accept").data["state"] == "accepted"
    evidence = client_for(personas.applicant).post(
        f"{URL}{case['id']}/evidence/", {"file": png(), "kind": "performance"}, format="multipart"
    )
    assert evidence.status_code == 201, evidence.data
    verified = client_for(personas.officer).post(
        f"{URL}{case['id']}/evidence/{evidence.data['id']}/verify/", {"accept": True}, format="json"
    )
    assert verified.data["status"] == "accepted"
    drafted = step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"})
    assert drafted.data["state"] == "decision_review"
    approved = step(personas.reviewer, case["id"], "approve_decision")
    assert approved.status_code == 200 and approved.data["state"] == "repaired"
    record.refresh_from_db()
    assert record.state == "repaired"
    assert DownstreamEvent.objects.get(record=record).kind == "record.repaired"
    kinds = set(Letter.objects.filter(object_id=case["id"]).values_list("kind", flat=True))
    assert {LetterKind.ACCEPTANCE, LetterKind.REPAIR_DECISION} <= kinds
    deadlines = {d["kind"]: d["status"] for d in approved.data["deadlines"]}
    assert deadlines == {"repair.accept": "met", "repair.decide": "met", "repair.total": "met"}
    repaired = TransitionLog.objects.get(transition="repair", object_id=record.pk)
    assert repaired.actor == personas.reviewer and repaired.via_object_id == case["id"]
    assert Task.objects.filter(process__artifact_object_id=case["id"], status=STATUS.NEW).count() == 0


def test_a_refusal_states_its_reasons(personas: Personas, record: CreditRecord) -> None:
    case = file(personas, record)
    step(personas.officer, case["id"], "accept")
    assert (
        step(personas.officer, case["id"], "draft_decision", payload={"outcome": "refuse"}).status_code == 400
    )
    step(
        personas.officer,
        case["id"],
        "draft_decision",
        payload={"outcome": "refuse", "reasons": ["罚款未缴清"]},
    )
    assert step(personas.reviewer, case["id"], "approve_decision").data["state"] == "refused"
    record.refresh_from_db()
    assert record.state == "repair_eligible"
    refusal = Letter.objects.get(object_id=case["id"], kind=LetterKind.REPAIR_REFUSAL)
    assert refusal.context["decision"]["reasons"] == ["罚款未缴清"] and refusal.context["remedies"]


class TestFourEyes:
    def test_the_drafter_cannot_approve_even_holding_both_roles(
        self, personas: Personas, record: CreditRecord
    ) -> None:
        both = UserFactory(username="both", role="officer", department=personas.market)
        both.groups.add(*personas.reviewer.groups.all())
        case = file(personas, record)
        step(both, case["id"], "accept")
        step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"})
        assert step(both, case["id"], "approve_decision").status_code == 403  # accepted it
        fresh = UserFactory(username="fresh_reviewer", role="reviewer", department=personas.market)
        assert step(fresh, case["id"], "approve_decision").status_code == 200

    def test_a_reviewer_who_verified_evidence_cannot_approve(
        self, personas: Personas, record: CreditRecord
    ) -> None:
        reviewer_officer = UserFactory(username="ro", role="reviewer", department=personas.market)
        reviewer_officer.groups.add(*personas.officer.groups.all())
        case = file(personas, record)
        step(personas.officer, case["id"], "accept")
        evidence = client_for(personas.applicant).post(
            f"{URL}{case['id']}/evidence/", {"file": png(), "kind": "performance"}, format="multipart"
        )
        client_for(reviewer_officer).post(
            f"{URL}{case['id']}/evidence/{evidence.data['id']}/verify/", {"accept": True}, format="json"
        )
        step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"})
        assert step(reviewer_officer, case["id"], "approve_decision").status_code == 403
        assert step(personas.reviewer, case["id"], "approve_decision").status_code == 200


class TestSupplementAndLapse:
    def test_one_notice_then_supply_then_accept(self, personas: Personas, record: CreditRecord) -> None:
        case = file(personas, record)
        asked = step(
            personas.officer, case["id"], "request_supplement", payload={"missing": ["缴款凭证", "整改报告"]}
        )
        assert asked.data["state"] == "awaiting_supplement"
        notice = Letter.objects.get(object_id=case["id"], kind=LetterKind.SUPPLEMENT)
        assert notice.context["details"]["missing"] == ["缴款凭证", "整改报告"]
        assert step(personas.applicant, case["id"], "supply").data["state"] == "submitted"
        again = step(personas.officer, case["id"], "request_supplement", payload={"missing": ["又一份"]})
        assert again.status_code == 409  # ONE notice listing everything
        assert step(personas.officer, case["id"], "accept").data["state"] == "accepted"

    def test_a_supplement_not_supplied_in_time_lapses(
        self, personas: Personas, record: CreditRecord, time_machine
    ) -> None:  # type: ignore[no-untyped-def]
        case = file(personas, record)
        step(personas.officer, case["id"], "request_supplement", payload={"missing": ["缴款凭证"]})
        due = Deadline.objects.get(object_id=case["id"], kind="repair.supplement")
        assert due.due_date == date(2026, 12, 7)  # 10 WD from Monday 2026-11-23
        time_machine.move_to("2026-12-07T23:59:00+08:00", tick=False)
        fire_due_timers()
        assert RepairCase.objects.get(pk=case["id"]).state == "awaiting_supplement"
        time_machine.move_to("2026-12-08T00:00:01+08:00", tick=False)
        fire_due_timers()
        assert RepairCase.objects.get(pk=case["id"]).state == "lapsed"
        due.refresh_from_db()
        assert due.status == "missed"
        assert step(personas.applicant, case["id"], "supply").status_code == 409


class TestNonAcceptance:
    def test_non_acceptance_goes_through_legal_review(self, personas: Personas, record: CreditRecord) -> None:
        case = file(personas, record)
        proposed = step(
            personas.officer, case["id"], "propose_non_acceptance", payload={"reasons": ["非本机关认定"]}
        )
        assert proposed.data["state"] == "non_acceptance_review"
        assert step(personas.officer, case["id"], "approve_non_acceptance").status_code == 403
        returned = step(personas.reviewer, case["id"], "return_non_acceptance", reason="理由不充分")
        assert returned.data["state"] == "submitted"
        step(personas.other_officer, case["id"], "accept")  # another department's officer: not found for them
        step(personas.officer, case["id"], "propose_non_acceptance", payload={"reasons": ["非本机关认定"]})
        assert step(personas.reviewer, case["id"], "approve_non_acceptance").data["state"] == "not_accepted"
        assert Letter.objects.filter(object_id=case["id"], kind=LetterKind.NON_ACCEPTANCE).exists()


class TestExtensionAndInterview:
    @pytest.fixture
    def overlay(self, personas: Personas) -> CityOverlay:
        overlay = CityOverlay.objects.create(
            city=personas.market.city, effective_from=date(2026, 1, 1), interview_required=True
        )
        CityOverlay.objects.filter(pk=overlay.pk).update(published_at="2026-01-01T00:00:00+08:00")
        return overlay

    def test_the_head_extends_once_and_the_timer_moves(
        self, personas: Personas, record: CreditRecord
    ) -> None:
        case = file(personas, record)
        step(personas.officer, case["id"], "accept")
        assert step(personas.officer, case["id"], "extend", reason="案情复杂").status_code == 403
        extended = step(personas.head, case["id"], "extend", reason="案情复杂，需现场核查")
        assert extended.status_code == 200
        deadlines = {d["kind"]: d for d in extended.data["deadlines"]}
        assert deadlines["repair.decide"]["status"] == "extended"
        assert deadlines["repair.extend"]["due_date"] == "2026-12-16"
        timer = Task.objects.get(
            process__artifact_object_id=case["id"], flow_task_type="TIMER", status=STATUS.SCHEDULED
        )
        assert timer.scheduled == Deadline.objects.get(object_id=case["id"], kind="repair.extend").due_at
        assert Letter.objects.filter(object_id=case["id"], kind=LetterKind.EXTENSION).exists()
        assert step(personas.head, case["id"], "extend", reason="再延").status_code == 409

    def test_a_missed_interview_blocks_until_one_is_held(
        self, personas: Personas, record: CreditRecord, overlay: CityOverlay
    ) -> None:
        case = file(personas, record)
        step(personas.officer, case["id"], "accept")
        officer = client_for(personas.officer)
        first = officer.post(
            f"{URL}{case['id']}/interviews/",
            {"scheduled_at": "2026-11-25T10:00:00+08:00", "place": "市场监管局三楼约谈室"},
            format="json",
        )
        assert first.status_code == 201
        officer.post(
            f"{URL}{case['id']}/interviews/{first.data['id']}/outcome/", {"held": False}, format="json"
        )
        blocked = step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"})
        assert blocked.status_code == 409
        assert client_for(personas.applicant).get(f"{URL}{case['id']}/").data["blockers"] == [
            "interview_not_held"
        ]
        second = officer.post(
            f"{URL}{case['id']}/interviews/",
            {"scheduled_at": "2026-11-27T10:00:00+08:00", "online_link": "https://meet.example.cn/x"},
            format="json",
        )
        officer.post(
            f"{URL}{case['id']}/interviews/{second.data['id']}/outcome/",
            {"held": True, "minutes": "当事人陈述整改情况"},
            format="json",
        )
        assert (
            step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"}).status_code
            == 200
        )
        assert Letter.objects.filter(object_id=case["id"], kind=LetterKind.INTERVIEW).count() == 2

    def test_the_head_may_waive_the_interview(
        self, personas: Personas, record: CreditRecord, overlay: CityOverlay
    ) -> None:
        case = file(personas, record)
        step(personas.officer, case["id"], "accept")
        assert (
            client_for(personas.officer)
            .post(f"{URL}{case['id']}/waive-interview/", {"reason": "x"}, format="json")
            .status_code
            == 403
        )
        client_for(personas.head).post(
            f"{URL}{case['id']}/waive-interview/", {"reason": "当事人住院"}, format="json"
        )
        assert (
            step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"}).status_code
            == 200
        )


class TestDenials:
    def test_nobody_files_for_someone_else_but_intake_with_the_signed_form(
        self, personas: Personas, record: CreditRecord
    ) -> None:
        body = {"record": record.pk, "statement": "x", "commitment_accepted": True}
        assert client_for(personas.other_applicant).post(URL, body, format="json").status_code == 404
        assert (
            client_for(personas.intake).post(URL, body, format="json").data["code"] == "signed_form_required"
        )
        walk_in = client_for(personas.intake).post(URL, {**body, "signed_form": png()}, format="multipart")
        assert walk_in.status_code == 201
        assert (
            client_for(personas.intake).get(walk_in["Location"], {"purpose": "enquiry"}).data["channel"]
            == "walk_in"
        )

    def test_no_commitment_no_application_and_one_open_repair_per_record(
        self, personas: Personas, record: CreditRecord
    ) -> None:
        api = client_for(personas.applicant)
        body = {"record": record.pk, "statement": "已整改", "commitment_accepted": False}
        assert api.post(URL, body, format="json").data["code"] == "commitment_required"
        file(personas, record)
        again = api.post(URL, {**body, "commitment_accepted": True}, format="json")
        assert (again.status_code, again.data["code"]) == (400, "not_eligible")
        reasons = api.get(f"{URL}eligibility/", {"record": record.pk}).data["reasons"]
        assert [r["code"] for r in reasons] == ["open_repair"]

    def test_an_ineligible_record_is_refused_with_every_reason(self, personas: Personas) -> None:
        young = make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 11, 2)
        )
        api = client_for(personas.applicant)
        answer = api.get(f"{URL}eligibility/", {"record": young.pk}).data
        assert answer["eligible"] is False and answer["first_date"] == "2027-02-03"
        refused = api.post(
            URL, {"record": young.pk, "statement": "x", "commitment_accepted": True}, format="json"
        )
        assert refused.status_code == 400

    def test_cases_are_scoped(self, personas: Personas, record: CreditRecord) -> None:
        case = file(personas, record)
        assert client_for(personas.other_applicant).get(f"{URL}{case['id']}/").status_code == 404
        assert client_for(personas.other_officer).get(
            f"{URL}{case['id']}/", {"purpose": "case"}
        ).status_code in (400, 404)
        assert client_for(personas.other_officer).get(URL, {"purpose": "enquiry"}).data["results"] == []
        assert step(personas.other_officer, case["id"], "accept").status_code == 404
        assert step(personas.applicant, case["id"], "accept").status_code == 403
        assert step(personas.officer, case["id"], "approve_decision").status_code == 403  # not a reviewer
        assert step(personas.reviewer, case["id"], "approve_decision").status_code == 409  # not drafted yet

    def test_internal_notes_are_staff_only(self, personas: Personas, record: CreditRecord) -> None:
        case = file(personas, record)
        officer = client_for(personas.officer)
        officer.post(f"{URL}{case['id']}/notes/", {"text": "内部：核实缴款记录"}, format="json")
        officer.post(
            f"{URL}{case['id']}/notes/", {"text": "请补充缴款凭证原件", "for_applicant": True}, format="json"
        )
        seen = client_for(personas.applicant).get(f"{URL}{case['id']}/").data["notes"]
        assert [n["text"] for n in seen] == ["请补充缴款凭证原件"]
        assert (
            client_for(personas.applicant)
            .post(f"{URL}{case['id']}/notes/", {"text": "x"}, format="json")
            .status_code
            == 403
        )

    def test_the_applicant_may_withdraw_before_the_decision(
        self, personas: Personas, record: CreditRecord
    ) -> None:
        case = file(personas, record)
        step(personas.officer, case["id"], "accept")
        assert step(personas.applicant, case["id"], "withdraw").data["state"] == "withdrawn"
        assert Task.objects.filter(process__artifact_object_id=case["id"], status=STATUS.NEW).count() == 0


def test_the_list_costs_a_constant_number_of_queries(
    personas: Personas, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    api = APIClient()
    api.force_login(personas.officer)
    for month in range(4, 8):
        record = make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, month, 1)
        )
        file(personas, record)
    with django_assert_max_num_queries(12):
        assert api.get(URL, {"purpose": "enquiry"}).data["count"] == 4


def test_the_flow_has_a_task_for_the_officer(personas: Personas, record: CreditRecord) -> None:
    case = file(personas, record)
    task = Task.objects.get(process__artifact_object_id=case["id"], flow_task=RepairFlow.examine)
    assert task.status == STATUS.NEW


class TestRevocation:
    def _repaired(self, personas: Personas, record: CreditRecord) -> dict[str, Any]:
        case = file(personas, record)
        step(personas.officer, case["id"], "accept")
        step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"})
        step(personas.reviewer, case["id"], "approve_decision")
        return case

    def test_a_revoked_repair_brings_the_record_back_blocked_and_adds_a_three_year_record(
        self, personas: Personas, record: CreditRecord
    ) -> None:
        case = self._repaired(personas, record)
        opened = client_for(personas.officer).post(
            f"{URL}{case['id']}/revocations/",
            {"ground": "false_materials", "facts": "缴款凭证系伪造"},
            format="json",
        )
        assert opened.status_code == 201
        revocation = opened.data["id"]
        assert (
            client_for(personas.officer)
            .post(f"/api/v1/revocations/{revocation}/transitions/approve/", {}, format="json")
            .status_code
            == 403
        )
        approved = client_for(personas.reviewer).post(
            f"/api/v1/revocations/{revocation}/transitions/approve/", {}, format="json"
        )
        assert approved.status_code == 200 and approved.data["state"] == "approved"
        record.refresh_from_db()
        assert record.state == "repair_eligible" or record.state == "active"
        assert record.repair_blocked_until == date(2029, 11, 23)
        assert RepairCase.objects.get(pk=case["id"]).state == "revoked"
        new = CreditRecord.objects.get(number=approved.data["new_record"])
        assert (new.display_until, new.repairable) == (date(2029, 11, 23), False)
        assert Commitment.objects.get(case_id=case["id"]).breached_at is not None
        assert DownstreamEvent.objects.filter(record=record, kind="record.repair_revoked").exists()
        assert Letter.objects.filter(kind=LetterKind.REPAIR_REVOCATION).exists()
        eligibility = client_for(personas.applicant).get(f"{URL}eligibility/", {"record": record.pk}).data
        assert "blocked_after_revocation" in [r["code"] for r in eligibility["reasons"]]

    def test_only_a_granted_repair_is_revoked(self, personas: Personas, record: CreditRecord) -> None:
        case = file(personas, record)
        response = client_for(personas.officer).post(
            f"{URL}{case['id']}/revocations/", {"ground": "breach", "facts": "x"}, format="json"
        )
        assert response.status_code == 409


class TestLocalModules:
    @pytest.fixture
    def hours_overlay(self, personas: Personas) -> CityOverlay:
        overlay = CityOverlay.objects.create(
            city=personas.market.city, effective_from=date(2026, 1, 1), volunteer_hours_threshold=20
        )
        CityOverlay.objects.filter(pk=overlay.pk).update(published_at="2026-01-01T00:00:00+08:00")
        return overlay

    def _hours(self, personas: Personas, case_id: int, hours: str) -> None:
        added = client_for(personas.applicant).post(
            f"{URL}{case_id}/evidence/",
            {"file": png(), "kind": "volunteer", "hours": hours},
            format="multipart",
        )
        assert added.status_code == 201, added.data
        client_for(personas.officer).post(
            f"{URL}{case_id}/evidence/{added.data['id']}/verify/", {"accept": True}, format="json"
        )

    def test_volunteer_hours_below_the_threshold_block_an_approval(
        self, personas: Personas, record: CreditRecord, hours_overlay: CityOverlay
    ) -> None:
        case = file(personas, record)
        step(personas.officer, case["id"], "accept")
        self._hours(personas, case["id"], "12.5")
        refused = step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"})
        assert refused.status_code == 400
        detail = client_for(personas.applicant).get(f"{URL}{case['id']}/").data
        assert detail["volunteer_hours"] == {"accepted": "12.5", "required": "20.0"}
        self._hours(personas, case["id"], "8")
        assert (
            step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"}).status_code
            == 200
        )

    def test_rejected_evidence_tells_the_applicant_why(
        self, personas: Personas, record: CreditRecord
    ) -> None:
        case = file(personas, record)
        added = client_for(personas.applicant).post(
            f"{URL}{case['id']}/evidence/",
            {"file": png(), "kind": "charity", "amount": "500"},
            format="multipart",
        )
        officer = client_for(personas.officer)
        no_reason = officer.post(
            f"{URL}{case['id']}/evidence/{added.data['id']}/verify/", {"accept": False}, format="json"
        )
        assert no_reason.status_code == 400
        officer.post(
            f"{URL}{case['id']}/evidence/{added.data['id']}/verify/",
            {"accept": False, "reason": "捐赠票据抬头与申请人不符"},
            format="json",
        )
        seen = client_for(personas.applicant).get(f"{URL}{case['id']}/").data["evidence"][0]
        assert (seen["status"], seen["rejection_reason"]) == ("rejected", "捐赠票据抬头与申请人不符")

    def test_a_volunteer_certificate_needs_its_hours_and_a_wrong_file_is_refused(
        self, personas: Personas, record: CreditRecord
    ) -> None:
        case = file(personas, record)
        api = client_for(personas.applicant)
        assert (
            api.post(
                f"{URL}{case['id']}/evidence/", {"file": png(), "kind": "volunteer"}, format="multipart"
            ).data["code"]
            == "hours_required"
        )
        exe = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00" + b"\x00" * 100, content_type="application/pdf")
        refused = api.post(
            f"{URL}{case['id']}/evidence/", {"file": exe, "kind": "performance"}, format="multipart"
        )
        assert (refused.status_code, refused.data["code"]) == (400, "type")


def test_the_acceptance_clock_runs_across_national_day(
    personas: Personas, record: CreditRecord, time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to("2026-09-29T10:00:00+08:00", tick=False)  # Tuesday, before the holiday
    case = file(personas, record)
    accept = Deadline.objects.get(object_id=case["id"], kind="repair.accept")
    assert accept.due_date == date(2026, 10, 9)  # 30 Sep, then 8 and 9 Oct: 1–7 Oct are rest days
    time_machine.move_to("2026-10-09T23:59:59+08:00", tick=False)
    fire_due_timers()
    assert not Deadline.objects.filter(object_id=case["id"], status="missed").exists()
    time_machine.move_to("2026-10-10T00:00:01+08:00", tick=False)
    assert fire_due_timers() == 1  # the acceptance task escalates; the task itself stays with the officer
    assert (
        Task.objects.get(process__artifact_object_id=case["id"], flow_task=RepairFlow.examine).status
        == STATUS.NEW
    )


def test_a_case_whose_flow_never_started_is_picked_up(personas: Personas, record: CreditRecord) -> None:
    from repair.services import cases_without_work, file_repair
    from repair.tasks import start_missing_work

    case = file_repair(record=record, actor=personas.applicant, statement="已整改", commitment_accepted=True)
    # The after-commit message is lost: the test transaction never commits, so it was never sent.
    assert list(cases_without_work()) == [case]
    assert start_missing_work.apply(kwargs={"older_than_minutes": 0}).get() == 1  # eager: started now
    assert not cases_without_work().exists()
    assert (
        Task.objects.get(process__artifact_object_id=case.pk, flow_task=RepairFlow.examine).status
        == STATUS.NEW
    )
    assert start_missing_work.apply(kwargs={"older_than_minutes": 0}).get() == 0

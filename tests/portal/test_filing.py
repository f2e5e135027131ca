"""Filing a repair or an objection in guided steps: what is entered survives a refresh; the last step files
the application and its evidence together, and a refusal (of a file, or a failure on the way) files
nothing, stores no file, and shows the step again with what was typed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.storage import FileSystemStorage
from django.test import Client

from credit.models import CreditRecord, Deadline, RuleSet, TransitionLog
from objections.models import Objection, ObjectionEvidence
from repair.models import Commitment, Evidence, RepairCase
from tests.conftest import Personas
from tests.factories import make_record
from tests.portal.conftest import (
    act,
    browser,
    not_a_document,
    objection_filed,
    png,
    repair_refused,
    stored_files,
)

pytestmark = pytest.mark.django_db
REPAIR = "/my/file/repair/"
OBJECTION = "/my/file/objection/"


def english(user: Any) -> Client:
    client = browser(user)
    client.cookies["django_language"] = "en"
    return client


def rows(*files: dict[str, Any]) -> dict[str, Any]:
    """The evidence formset's POST data: the given rows, then empty ones up to the page's three."""
    data: dict[str, Any] = {
        "evidence-TOTAL_FORMS": str(max(3, len(files))),
        "evidence-INITIAL_FORMS": "0",
        "evidence-MIN_NUM_FORMS": "0",
        "evidence-MAX_NUM_FORMS": "10",
    }
    for index, row in enumerate(files):
        data.update({f"evidence-{index}-{name}": value for name, value in row.items()})
    return data


def to_last_repair_step(client: Client, record: CreditRecord, **statement: Any) -> None:
    assert client.get(f"{REPAIR}?record={record.pk}")["Location"] == f"{REPAIR}record/"
    assert client.post(f"{REPAIR}record/", {"choice": record.pk})["Location"] == f"{REPAIR}statement/"
    statement.setdefault("statement", "已于2026年6月缴清罚款，并完成整改")
    assert client.post(f"{REPAIR}statement/", statement)["Location"] == f"{REPAIR}commitment/"
    assert client.post(f"{REPAIR}commitment/", {"sign": "on"})["Location"] == f"{REPAIR}evidence/"


def nothing_filed(media: Path) -> None:
    assert not RepairCase.objects.exists() and not Objection.objects.exists()
    assert not Evidence.objects.exists() and not ObjectionEvidence.objects.exists()
    assert not Commitment.objects.exists()
    assert not TransitionLog.objects.filter(transition="file").exists()
    assert not Deadline.objects.filter(kind__startswith="repair.").exists()
    assert stored_files(media) == []


# -- repair ------------------------------------------------------------------------------------------------
def test_a_repair_filed_step_by_step_with_its_evidence_and_commitment(
    personas: Personas, record: CreditRecord
) -> None:
    client = english(personas.applicant)
    to_last_repair_step(client, record)
    page = client.get(f"{REPAIR}evidence/")
    html = page.content.decode()
    assert page.status_code == 200 and "已于2026年6月缴清罚款" in html and str(record.number) in html
    assert 'aria-current="step"' in html and "Step 4 of 4" in html
    response = client.post(
        f"{REPAIR}evidence/",
        rows(
            {"file": png(), "kind": "performance", "description": "缴款凭证"},
            {"file": png("cert.png"), "kind": "volunteer", "hours": "12"},
        ),
    )
    case = RepairCase.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/my/cases/repair/{case.pk}/"
    assert (case.record, case.state, case.filed_by) == (record, "submitted", personas.applicant)
    assert list(case.evidence.values_list("kind", "description")) == [
        ("performance", "缴款凭证"),
        ("volunteer", ""),
    ]
    commitment = Commitment.objects.get(case=case)
    in_force = RuleSet.objects.in_force(date(2026, 11, 23))
    assert commitment.text == in_force.commitment_text and commitment.signed_by == personas.applicant
    assert "portal:wizard:repair" not in client.session
    landing = client.get(response["Location"])
    assert f"Your repair application {case.number} was filed." in landing.content.decode()


def test_what_was_entered_survives_a_refresh_and_going_back(personas: Personas, record: CreditRecord) -> None:
    client = browser(personas.applicant)
    to_last_repair_step(client, record, statement="第一稿：已缴清罚款")
    again = client.get(f"{REPAIR}statement/")  # back, or a refresh
    assert "第一稿：已缴清罚款" in again.content.decode()
    assert "checked" in client.get(f"{REPAIR}commitment/").content.decode()
    assert client.get(f"{REPAIR}record/").context["selected"] == str(record.pk)
    # A second browser tab of the same session continues where the first stopped.
    assert client.get(f"{REPAIR}evidence/").status_code == 200


def test_steps_cannot_be_skipped(personas: Personas, record: CreditRecord, media: Path) -> None:
    client = browser(personas.applicant)
    assert client.get(f"{REPAIR}evidence/")["Location"] == f"{REPAIR}record/"
    assert client.post(f"{REPAIR}evidence/", rows({"file": png(), "kind": "performance"}))["Location"] == (
        f"{REPAIR}record/"
    )
    client.post(f"{REPAIR}record/", {"choice": record.pk})
    assert client.get(f"{REPAIR}commitment/")["Location"] == f"{REPAIR}statement/"
    assert client.get(f"{REPAIR}nonsense/").status_code == 404
    nothing_filed(media)


def test_only_records_that_may_be_repaired_can_be_chosen(personas: Personas, record: CreditRecord) -> None:
    too_early = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 10, 1)
    )
    theirs = make_record(
        person=personas.other_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    client = english(personas.applicant)
    page = client.get(f"{REPAIR}record/")
    html = page.content.decode()
    assert [c["record"] for c in page.context["candidates"] if c["selectable"]] == [record]
    assert "First possible date: 2027-01-02" in html and str(theirs.number) not in html
    for refused in (too_early, theirs):
        response = client.post(f"{REPAIR}record/", {"choice": refused.pk})
        assert response.status_code == 422 and "Choose one of the items listed." in response.content.decode()
    # A link naming another person's record starts nothing.
    client.get(f"{REPAIR}?record={theirs.pk}")
    assert client.get(f"{REPAIR}statement/")["Location"] == f"{REPAIR}record/"


def test_a_minor_record_needs_the_date_the_duty_was_fulfilled(personas: Personas) -> None:
    minor = make_record(
        person=personas.applicant_person,
        department=personas.market,
        decision_date=date(2026, 10, 1),
        tiers=("minor",),
    )
    client = english(personas.applicant)
    client.get(f"{REPAIR}?record={minor.pk}")
    client.post(f"{REPAIR}record/", {"choice": minor.pk})
    missing = client.post(f"{REPAIR}statement/", {"statement": "已缴清罚款"})
    assert missing.status_code == 422 and 'id="id_duty_fulfilled_on"' in missing.content.decode()
    future = client.post(
        f"{REPAIR}statement/", {"statement": "已缴清罚款", "duty_fulfilled_on": "2026-12-01"}
    )
    assert future.status_code == 422 and "give a past date" in future.content.decode()
    client.post(f"{REPAIR}statement/", {"statement": "已缴清罚款", "duty_fulfilled_on": "2026-11-02"})
    client.post(f"{REPAIR}commitment/", {"sign": "on"})
    assert client.post(f"{REPAIR}evidence/", rows({"file": png(), "kind": "performance"})).status_code == 302
    assert RepairCase.objects.get().duty_fulfilled_on == date(2026, 11, 2)


def test_the_commitment_must_be_signed(personas: Personas, record: CreditRecord) -> None:
    client = english(personas.applicant)
    client.get(f"{REPAIR}?record={record.pk}")
    client.post(f"{REPAIR}record/", {"choice": record.pk})
    client.post(f"{REPAIR}statement/", {"statement": "已整改"})
    page = client.get(f"{REPAIR}commitment/")
    assert RuleSet.objects.in_force(date(2026, 11, 23)).commitment_text in page.content.decode()
    refused = client.post(f"{REPAIR}commitment/", {})
    assert refused.status_code == 422 and "needs the signed credit commitment" in refused.content.decode()
    assert client.get(f"{REPAIR}evidence/")["Location"] == f"{REPAIR}commitment/"


@pytest.mark.parametrize(
    ("upload", "limit", "reason"),
    [
        (not_a_document, None, "This type of file is not accepted."),
        (png, 50, "the limit is 0 MB"),
    ],
)
def test_a_bad_upload_is_refused_with_its_reason_and_nothing_is_filed(
    personas: Personas,
    record: CreditRecord,
    media: Path,
    settings: Any,
    upload: Any,
    limit: int | None,
    reason: str,
) -> None:
    if limit is not None:
        settings.REPAIR_MAX_UPLOAD_BYTES = limit
    client = english(personas.applicant)
    to_last_repair_step(client, record)
    response = client.post(
        f"{REPAIR}evidence/",
        rows(
            {"file": png("good.png"), "kind": "performance"},
            {"file": upload(), "kind": "other", "description": "法院判决书"},
        ),
    )
    html = response.content.decode()
    assert response.status_code == 422 and reason in html and 'id="error-summary"' in html
    assert "Nothing was filed." in html
    assert "法院判决书" in html and "已于2026年6月缴清罚款" in html  # what was typed, and the earlier steps
    nothing_filed(media)
    assert client.session["portal:wizard:repair"]["statement"] == "已于2026年6月缴清罚款，并完成整改"


def test_evidence_needs_its_kind_and_a_certificate_its_hours(
    personas: Personas, record: CreditRecord, media: Path
) -> None:
    client = english(personas.applicant)
    to_last_repair_step(client, record)
    page = client.get(f"{REPAIR}evidence/")
    kinds = dict(page.context["formset"].forms[0].fields["kind"].choices)
    assert "charity" not in kinds and "volunteer" in kinds  # donations only where the city accepts them
    response = client.post(f"{REPAIR}evidence/", rows({"file": png()}, {"file": png(), "kind": "volunteer"}))
    html = response.content.decode()
    assert response.status_code == 422
    assert "Say what the file is." in html and "needs its certified hours" in html
    nothing_filed(media)


def test_a_failure_half_way_through_files_nothing_and_removes_stored_files(
    personas: Personas, record: CreditRecord, media: Path
) -> None:
    real = FileSystemStorage._save  # type: ignore[attr-defined]
    saved: list[str] = []

    def disk_full_on_the_second(storage: Any, name: str, content: Any, *args: Any, **kwargs: Any) -> Any:
        if saved:
            raise OSError(28, "No space left on device")
        saved.append(name)
        return real(storage, name, content, *args, **kwargs)

    client = english(personas.applicant)
    to_last_repair_step(client, record)
    with mock.patch.object(FileSystemStorage, "_save", autospec=True, side_effect=disk_full_on_the_second):
        response = client.post(
            f"{REPAIR}evidence/",
            rows({"file": png(), "kind": "performance"}, {"file": png("b.png"), "kind": "other"}),
        )
    assert len(saved) == 1  # the first file was written before the failure ...
    assert response.status_code == 503 and "nothing was filed" in response.content.decode()
    nothing_filed(media)  # ... and removed with everything else


def test_the_upload_script_is_told_where_to_go(personas: Personas, record: CreditRecord) -> None:
    client = browser(personas.applicant)
    to_last_repair_step(client, record)
    refused = client.post(
        f"{REPAIR}evidence/",
        rows({"file": not_a_document(), "kind": "other"}),
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert refused.status_code == 422 and 'id="portal-page"' in refused.content.decode()
    filed = client.post(
        f"{REPAIR}evidence/",
        rows({"file": png(), "kind": "performance"}),
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    case = RepairCase.objects.get()
    assert filed.status_code == 200 and json.loads(filed.content) == {
        "location": f"/my/cases/repair/{case.pk}/"
    }


def test_the_page_offers_the_progress_bar_and_a_plain_form_without_script(
    personas: Personas, record: CreditRecord
) -> None:
    client = browser(personas.applicant)
    to_last_repair_step(client, record)
    html = client.get(f"{REPAIR}evidence/").content.decode()
    assert 'enctype="multipart/form-data"' in html and "data-upload" in html
    assert '<progress id="upload-progress-bar"' in html and 'aria-live="polite"' in html
    assert 'data-max-bytes="10485760"' in html


# -- objection ---------------------------------------------------------------------------------------------
def test_an_objection_to_a_record_step_by_step(personas: Personas, record: CreditRecord) -> None:
    client = english(personas.applicant)
    assert client.get(f"{OBJECTION}?record={record.pk}")["Location"] == f"{OBJECTION}target/"
    assert client.get(f"{OBJECTION}target/").context["selected"] == f"record-{record.pk}"
    assert (
        client.post(f"{OBJECTION}target/", {"choice": f"record-{record.pk}"})["Location"]
        == f"{OBJECTION}grounds/"
    )
    none = client.post(f"{OBJECTION}grounds/", {})
    assert none.status_code == 422 and "Choose at least one ground." in none.content.decode()
    wrong = client.post(f"{OBJECTION}grounds/", {"grounds": ["decision_wrong"]})
    assert wrong.status_code == 422
    client.post(f"{OBJECTION}grounds/", {"grounds": ["record_wrong", "period_wrong"]})
    blank = client.post(f"{OBJECTION}statement/", {"statement": "   "})
    assert blank.status_code == 422
    client.post(f"{OBJECTION}statement/", {"statement": "处罚决定已被法院撤销"})
    response = client.post(
        f"{OBJECTION}evidence/", rows({"file": png("judgment.png"), "description": "判决书"})
    )
    objection = Objection.objects.get()
    assert response["Location"] == f"/my/cases/objection/{objection.pk}/"
    assert objection.grounds == ["record_wrong", "period_wrong"] and objection.record == record
    assert list(objection.evidence.values_list("description", flat=True)) == ["判决书"]


def test_an_objection_to_a_repair_decision(personas: Personas, record: CreditRecord) -> None:
    refused = repair_refused(personas, record)
    client = browser(personas.applicant)
    client.get(f"{OBJECTION}?repair_case={refused.pk}")
    client.post(f"{OBJECTION}target/", {"choice": f"repair-{refused.pk}"})
    grounds = client.get(f"{OBJECTION}grounds/")
    assert [value for value, _label in grounds.context["form"].fields["grounds"].choices] == [
        "decision_wrong"
    ]
    client.post(f"{OBJECTION}grounds/", {"grounds": ["decision_wrong"]})
    client.post(f"{OBJECTION}statement/", {"statement": "已提交缴款凭证"})
    assert client.post(f"{OBJECTION}evidence/", rows()).status_code == 302
    assert Objection.objects.get().repair_case == refused


def test_a_target_with_an_open_objection_cannot_be_chosen(personas: Personas, record: CreditRecord) -> None:
    existing = objection_filed(personas, record)
    client = english(personas.applicant)
    html = client.get(f"{OBJECTION}target/").content.decode()
    assert f"An objection is already open: {existing.number}." in html
    assert client.post(f"{OBJECTION}target/", {"choice": f"record-{record.pk}"}).status_code == 422
    act(existing, "withdraw", personas.applicant)
    assert client.post(f"{OBJECTION}target/", {"choice": f"record-{record.pk}"}).status_code == 302


def test_another_persons_record_is_not_a_target(personas: Personas) -> None:
    theirs = make_record(
        person=personas.other_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    client = browser(personas.applicant)
    assert client.post(f"{OBJECTION}target/", {"choice": f"record-{theirs.pk}"}).status_code == 422
    client.get(f"{OBJECTION}?record={theirs.pk}")
    assert client.get(f"{OBJECTION}grounds/")["Location"] == f"{OBJECTION}target/"


def test_a_bad_objection_upload_files_nothing(personas: Personas, record: CreditRecord, media: Path) -> None:
    client = english(personas.applicant)
    client.post(f"{OBJECTION}target/", {"choice": f"record-{record.pk}"})
    client.post(f"{OBJECTION}grounds/", {"grounds": ["not_mine"]})
    client.post(f"{OBJECTION}statement/", {"statement": "该记录不是我的"})
    response = client.post(
        f"{OBJECTION}evidence/", rows({"file": png()}, {"file": not_a_document(), "description": "身份证明"})
    )
    assert response.status_code == 422 and "This type of file is not accepted." in response.content.decode()
    assert "身份证明" in response.content.decode()
    nothing_filed(media)
    record.refresh_from_db()
    assert not record.under_objection

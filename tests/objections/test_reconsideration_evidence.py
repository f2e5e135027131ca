"""Evidence of an administrative reconsideration: checked files from the applicant (or intake), while the
application is examined and in answer to the notice to supplement; a refusal writes nothing."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from credit.models import CreditRecord, Department, TransitionLog
from credit.services.transitions import Forbidden, WrongState, perform_transition
from objections.reconsideration import Reconsideration, ReconsiderationEvidence
from objections.reconsideration_services import add_evidence, file_reconsideration
from repair.models import RepairCase
from repair.services import file_repair
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


def stored(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def png(name: str = "决定书.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def recon(personas: Personas, office: Department) -> Reconsideration:
    record: CreditRecord = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    case = file_repair(record=record, actor=personas.applicant, statement="已整改", commitment_accepted=True)
    perform_transition(case, "accept", actor=personas.officer)
    perform_transition(
        case, "draft_decision", actor=personas.officer, payload={"outcome": "refuse", "reasons": ["未缴款"]}
    )
    refused = cast(RepairCase, perform_transition(case, "approve_decision", actor=personas.reviewer))
    return file_reconsideration(
        actor=personas.applicant, request="撤销不予修复决定", statement="认定事实错误", repair_case=refused
    )


def test_the_applicant_adds_a_checked_file(personas: Personas, recon: Reconsideration, media: Path) -> None:
    evidence = add_evidence(
        reconsideration=recon, upload=png(), actor=personas.applicant, description="原决定书"
    )
    assert evidence.reconsideration == recon and evidence.uploaded_by == personas.applicant
    assert evidence.original_name == "决定书.png" and evidence.content_type == "image/png"
    assert evidence.description == "原决定书" and not evidence.supplement
    assert str(evidence.file.name).startswith(f"reconsiderations/evidence/2026/{recon.number}-")
    assert len(stored(media)) == 1 and evidence.size == stored(media)[0].stat().st_size
    log = TransitionLog.objects.get(object_id=recon.pk, transition="add_evidence")
    assert (log.from_state, log.to_state, log.reason) == ("submitted", "submitted", "决定书.png")
    assert list(recon.evidence.all()) == [evidence]


def test_files_given_with_the_supplement_are_marked_so(
    personas: Personas, recon: Reconsideration, media: Path
) -> None:
    perform_transition(recon, "request_supplement", actor=personas.recon, payload={"missing": ["决定书"]})
    assert add_evidence(reconsideration=recon, upload=png(), actor=personas.applicant).supplement


def test_intake_adds_evidence_for_a_walk_in_applicant(
    personas: Personas, recon: Reconsideration, media: Path
) -> None:
    evidence = add_evidence(reconsideration=recon, upload=png(), actor=personas.intake)
    assert evidence.uploaded_by == personas.intake


@pytest.mark.parametrize("who", ["other_applicant", "officer", "recon", "auditor"])
def test_nobody_else_adds_evidence(personas: Personas, recon: Reconsideration, media: Path, who: str) -> None:
    with pytest.raises(Forbidden):
        add_evidence(reconsideration=recon, upload=png(), actor=getattr(personas, who))
    assert not ReconsiderationEvidence.objects.exists() and stored(media) == []


def test_a_refused_file_writes_nothing(personas: Personas, recon: Reconsideration, media: Path) -> None:
    fake = SimpleUploadedFile("决定书.pdf", b"not a pdf at all", content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        add_evidence(reconsideration=recon, upload=fake, actor=personas.applicant)
    assert refused.value.code == "type"
    assert not ReconsiderationEvidence.objects.exists() and stored(media) == []
    assert not TransitionLog.objects.filter(transition="add_evidence").exists()


def test_a_failure_after_the_file_was_stored_removes_it(
    personas: Personas, recon: Reconsideration, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The audit row cannot be written (the database went away): the file must not outlive its row.
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("the database is gone")

    monkeypatch.setattr("objections.reconsideration_services.write_log", broken)
    with pytest.raises(OSError):
        add_evidence(reconsideration=recon, upload=png(), actor=personas.applicant)
    assert not ReconsiderationEvidence.objects.exists() and stored(media) == []


def test_no_evidence_once_the_decision_is_drafted_or_the_case_closed(
    personas: Personas, recon: Reconsideration, media: Path
) -> None:
    perform_transition(recon, "accept", actor=personas.recon, payload={})
    add_evidence(reconsideration=recon, upload=png(), actor=personas.applicant)  # under review: yes
    perform_transition(
        recon, "draft", actor=personas.recon, payload={"decision": "uphold", "reasons": ["事实清楚"]}
    )
    with pytest.raises(WrongState):
        add_evidence(reconsideration=recon, upload=png(), actor=personas.applicant)
    assert recon.evidence.count() == 1 and len(stored(media)) == 1


def test_the_state_is_read_from_the_database_not_the_callers_copy(
    personas: Personas, recon: Reconsideration, media: Path
) -> None:
    stale = Reconsideration.objects.get(pk=recon.pk)
    perform_transition(recon, "withdraw", actor=personas.applicant)
    assert stale.state == "submitted"
    with pytest.raises(WrongState):
        add_evidence(reconsideration=stale, upload=png(), actor=personas.applicant)
    assert stored(media) == []

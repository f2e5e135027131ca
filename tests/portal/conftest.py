"""Fixtures of the applicant portal's tests: a browser per persona, a record that may be repaired today
(2026-11-23), small valid and invalid uploads, and media files under a temporary directory."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from credit.models import CreditRecord
from tests.conftest import Personas
from tests.factories import make_record


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    # General, decided 2026-05-31: repair may be applied for from 2026-09-01 (today is 2026-11-23).
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def png(name: str = "receipt.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def not_a_document(name: str = "receipt.pdf") -> SimpleUploadedFile:
    """A text file named like a PDF: refused by its content, whatever its name says."""
    return SimpleUploadedFile(name, b"this is not a pdf", content_type="application/pdf")


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# -- cases, made through the services and legal steps the API uses -----------------------------------------
def act(case: Any, name: str, user: Any, **kwargs: Any) -> Any:
    from credit.services.transitions import perform_transition

    return perform_transition(case, name, actor=user, **kwargs)


def repair_filed(personas: Personas, record: CreditRecord) -> Any:
    from repair.services import file_repair

    return file_repair(
        record=record, actor=personas.applicant, statement="已缴清罚款并整改到位", commitment_accepted=True
    )


def repair_refused(personas: Personas, record: CreditRecord) -> Any:
    case = repair_filed(personas, record)
    act(case, "accept", personas.officer)
    act(
        case, "draft_decision", personas.officer, payload={"outcome": "refuse", "reasons": ["未提供缴款凭证"]}
    )
    return act(case, "approve_decision", personas.reviewer)


def objection_filed(personas: Personas, record: CreditRecord) -> Any:
    from objections.services import file_objection

    return file_objection(
        actor=personas.applicant, grounds=["record_wrong"], statement="处罚决定已撤销", record=record
    )


def complaint_filed(personas: Personas, case: Any) -> Any:
    from objections.complaint_services import file_complaint

    return file_complaint(actor=personas.applicant, about="handling", statement="受理超期未答复", case=case)


def reconsideration_filed(personas: Personas, refused: Any) -> Any:
    from objections.reconsideration_services import file_reconsideration

    return file_reconsideration(
        actor=personas.applicant, request="撤销不予修复决定", statement="认定事实错误", repair_case=refused
    )

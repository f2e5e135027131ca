"""The pages speak the language the visitor chose (English here; Simplified Chinese is the default). A text
translated when a module is imported, rather than for each request, would stay in the default language
whatever the visitor chose: this test lists each one it meets and fails."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from letters.models import Letter
from tests.conftest import Personas
from tests.e2e.browser import Browsers, Shots, server_side
from tests.e2e.steps import png
from tests.factories import make_record

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def repair(personas: Personas, signing: Any) -> Any:
    """A repair application with one piece of evidence (the record's notice is a signed letter)."""
    from repair.services import add_evidence, file_repair

    with server_side():
        record = make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )
        case = file_repair(
            record=record, actor=personas.applicant, statement="已缴清罚款", commitment_accepted=True
        )
        image = png("缴款凭证.png")
        add_evidence(
            case=case,
            upload=SimpleUploadedFile(image["name"], image["buffer"], content_type=image["mimeType"]),
            kind="performance",
            actor=personas.applicant,
        )
    return case


def test_the_pages_are_in_the_language_chosen(
    browsers: Browsers, shots: Shots, personas: Personas, repair: Any
) -> None:
    problems = []
    letter = Letter.objects.filter(person=personas.applicant_person).first()
    assert letter is not None and letter.verification_code
    piece = repair.evidence.get()

    page = browsers.visitor()
    page.goto(f"/verify/{letter.verification_code}/")
    verdict = page.locator(".verdict-authentic")
    expect(verdict).to_be_visible()
    shots.take(page, "verify page in english")
    if verdict.inner_text() != "Authentic":
        problems.append(
            f"/verify/ shows the verdict {verdict.inner_text()!r}: letters/services.py Verdict's labels use "
            "gettext, not gettext_lazy"
        )

    officer = browsers.as_user(personas.officer)
    officer.goto(f"/staff/cases/repair/{repair.pk}/")
    timeline = officer.locator("section[aria-labelledby=timeline-title]")
    expect(timeline).to_be_visible()
    shots.take(officer, "case file timeline in english", focus=timeline)
    if "Evidence added" not in timeline.inner_text():
        problems.append(
            "the case file's timeline names steps that are not transitions ('Filed', 'Evidence added', …) in "
            "the default language: workspace/case_views.py OTHER_STEPS is built with gettext at import"
        )
    officer.goto(f"/staff/cases/repair/{repair.pk}/evidence/{piece.pk}/verify/")
    title = officer.locator("#action-title")
    expect(title).to_be_visible()
    shots.take(officer, "verify evidence page in english")
    if title.inner_text() != "Verify the evidence":
        problems.append(
            f"the verify-evidence page is titled {title.inner_text()!r}: workspace/case_views.py "
            "RepairActionView subclasses set title, submit and done with gettext at import"
        )
    assert problems == []

"""A decided letter becomes a signed, archived, verifiable PDF: once, whatever the retries."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from celery.exceptions import Retry
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from credit.models import AccessLog, CreditRecord
from credit.services.transitions import Forbidden, perform_transition
from letters import tasks
from letters.models import Letter, LetterKind, LetterState, ServiceMethod
from letters.services import correct_letter, generate, give_consent, verify_code, verify_file
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signing")]


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    give_consent(person=personas.applicant_person, actor=personas.applicant)
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


@pytest.fixture
def letter(record: CreditRecord) -> Letter:
    pending = Letter.objects.for_object(record).get(kind=LetterKind.REPAIR_NOTICE)
    return generate(pending.pk).letter


def pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("needs poppler-utils: apt-get install poppler-utils")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_letter_is_signed_archived_and_served(personas: Personas, letter: Letter) -> None:
    assert letter.state == LetterState.ISSUED and letter.issued_at is not None
    data = Path(letter.file.path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == letter.sha256
    assert "市场监督管理局" in letter.signer_subject
    text = pdftotext(Path(letter.file.path))
    assert "信用修复告知书" in text and letter.reference_number in text and "张伟" in text
    service = letter.services.get()
    assert (service.method, service.served_at) == (ServiceMethod.ELECTRONIC, letter.issued_at)


def test_the_signature_is_valid_for_pdfsig(letter: Letter) -> None:
    if shutil.which("pdfsig") is None:
        pytest.skip("needs poppler-utils")
    out = subprocess.run(["pdfsig", letter.file.path], capture_output=True, text=True, check=False).stdout
    assert "Signature Validation: Signature is Valid." in out


def test_generating_again_changes_nothing(letter: Letter) -> None:
    again = generate(letter.pk)
    assert not again.created and again.letter.sha256 == letter.sha256
    assert tasks.generate_letter.apply(args=[letter.pk]).get() is False  # a redelivered task
    assert len(list(Path(letter.file.path).parent.iterdir())) == 1


def test_a_task_that_loses_the_race_removes_its_file(
    record: CreditRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers render the same letter at once; the second to take the row lock finds it issued."""
    from letters import services

    pending = Letter.objects.for_object(record).get(kind=LetterKind.REPAIR_NOTICE)
    real_write = services._write_atomically
    first: list[Letter] = []

    def write_then_lose(path: Path, data: bytes) -> None:
        real_write(path, data)
        if not first:  # while this task holds its rendered file, another issues the letter
            monkeypatch.setattr(services, "_write_atomically", real_write)
            first.append(generate(pending.pk).letter)

    monkeypatch.setattr(services, "_write_atomically", write_then_lose)
    loser = generate(pending.pk)
    assert not loser.created
    issued = Letter.objects.get(pk=pending.pk)
    files = list(Path(issued.file.path).parent.iterdir())
    assert files == [Path(issued.file.path)]
    assert issued.services.count() == 1


def test_a_failed_generation_is_recorded_and_retried(
    record: CreditRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    from letters import services

    pending = Letter.objects.for_object(record).get(kind=LetterKind.REPAIR_NOTICE)

    def broken(*args: object, **kwargs: object) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(services, "_write_atomically", broken)
    with pytest.raises(Retry):  # scheduled again with a back-off
        tasks.generate_letter.apply(args=[pending.pk], throw=True).get()
    pending.refresh_from_db()
    assert (
        pending.state == LetterState.PENDING and pending.attempts >= 1 and "disk full" in pending.last_error
    )


def test_lost_messages_are_sent_again(record: CreditRecord, time_machine) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to("2026-11-23T10:06:00+08:00", tick=False)
    assert tasks.retry_pending_letters.apply().get() == 1  # eager: generated now
    assert Letter.objects.get(kind=LetterKind.REPAIR_NOTICE).state == LetterState.ISSUED
    assert tasks.retry_pending_letters.apply().get() == 0


class TestVerification:
    def test_the_code_verifies_and_says_nothing_personal(self, personas: Personas, letter: Letter) -> None:
        result = verify_code(letter.verification_code.lower()).as_dict()
        assert result == {
            "verdict": "authentic",
            "kind": "repair_notice",
            "department": "市场监督管理局",
            "reference_number": letter.reference_number,
            "issued_on": "2026-11-23",
            "sha256": letter.sha256,
        }
        text = str(result)
        for personal in (
            personas.applicant_person.name,
            personas.applicant_person.id_masked,
            letter.case_number,
        ):
            assert personal not in text

    def test_the_public_page_and_api(self, personas: Personas, letter: Letter, client) -> None:  # type: ignore[no-untyped-def]
        page = client.get(f"/verify/{letter.verification_code}/").content.decode()
        assert letter.sha256 in page and personas.applicant_person.name not in page
        assert (
            APIClient().get(f"/api/v1/letters/verify/{letter.verification_code}/").data["verdict"]
            == "authentic"
        )

    def test_one_changed_byte_is_detected(self, letter: Letter, tmp_path: Path) -> None:
        data = bytearray(Path(letter.file.path).read_bytes())
        assert verify_file(bytes(data)).verdict == "authentic"
        position = data.index(b"/Contents") - 200  # inside the signed byte range
        data[position] = (data[position] + 1) % 256
        assert verify_file(bytes(data)).verdict == "unknown"
        tampered = tmp_path / "tampered.pdf"
        tampered.write_bytes(bytes(data))
        with pytest.raises(CommandError) as exc:
            call_command("verify_letter", str(tampered), stdout=StringIO())
        assert exc.value.returncode == 1

    def test_the_command_accepts_the_archived_file(self, letter: Letter) -> None:
        out = StringIO()
        call_command("verify_letter", letter.file.path, stdout=out)
        assert "authentic" in out.getvalue()

    def test_an_unknown_but_validly_signed_file_is_refused(self, letter: Letter, tmp_path: Path) -> None:
        from letters.rendering import SEAL_BOX, render_pdf
        from letters.signing import sign_pdf

        # Signed with the department's real key, but never issued: not in the archive.
        forged = {**letter.context, "person": {**letter.context["person"], "name": "李四"}}
        other = sign_pdf(
            render_pdf(forged, kind=letter.kind),
            identity=letter.department.signing,
            box=SEAL_BOX,
            reason="test",
            location="test",
        ).data
        (tmp_path / "other.pdf").write_bytes(other)
        with pytest.raises(CommandError) as exc:
            call_command("verify_letter", str(tmp_path / "other.pdf"), stdout=StringIO())
        assert exc.value.returncode == 2

    def test_the_upload_form_checks_the_file(self, letter: Letter, client) -> None:  # type: ignore[no-untyped-def]
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(
            "l.pdf", Path(letter.file.path).read_bytes(), content_type="application/pdf"
        )
        page = client.post("/verify/", {"file": upload}).content.decode()
        assert letter.sha256 in page
        bad = client.post("/verify/", {"file": SimpleUploadedFile("x.txt", b"hello")}).content.decode()
        assert "PDF" in bad and letter.sha256 not in bad


class TestCorrectionAndRevocation:
    def test_a_correction_supersedes_the_old_letter(self, personas: Personas, letter: Letter) -> None:
        corrected = correct_letter(
            letter,
            actor=personas.reviewer,
            reason="处罚金额笔误",
            changes={"details": {"objection_channel": "示范市信用网"}},
        )
        assert corrected.revision == 2 and corrected.reference_number != letter.reference_number
        generate(corrected.pk)
        assert verify_code(letter.verification_code).verdict == "superseded"
        assert verify_code(corrected.verification_code).verdict == "authentic"
        with pytest.raises(Forbidden):
            correct_letter(
                Letter.objects.get(pk=corrected.pk), actor=personas.officer, reason="x", changes={}
            )

    def test_a_revoked_letter_says_so(self, personas: Personas, letter: Letter) -> None:
        with pytest.raises(Forbidden):
            perform_transition(letter, "revoke", actor=personas.officer, reason="x")
        perform_transition(letter, "revoke", actor=personas.reviewer, reason="决定已撤销")
        assert verify_code(letter.verification_code).verdict == "revoked"
        with pytest.raises(CommandError) as exc:
            call_command("verify_letter", letter.file.path, stdout=StringIO())
        assert exc.value.returncode == 3


class TestDownloads:
    def test_the_applicant_downloads_the_signed_letter_and_the_courtesy_translation(
        self, personas: Personas, letter: Letter
    ) -> None:
        api = APIClient()
        api.force_authenticate(personas.applicant)
        signed = api.get(f"/api/v1/letters/{letter.pk}/pdf/")
        assert signed.status_code == 200
        assert hashlib.sha256(b"".join(signed.streaming_content)).hexdigest() == letter.sha256
        english = api.get(f"/api/v1/letters/{letter.pk}/english/")
        assert english.status_code == 200 and english.content.startswith(b"%PDF")
        assert not AccessLog.objects.exists()

    def test_a_staff_download_is_logged(self, personas: Personas, letter: Letter) -> None:
        api = APIClient()
        api.force_authenticate(personas.officer)
        assert api.get(f"/api/v1/letters/{letter.pk}/pdf/").status_code == 400  # no purpose
        assert api.get(f"/api/v1/letters/{letter.pk}/pdf/", {"purpose": "enquiry"}).status_code == 200
        assert AccessLog.objects.get().action == "export"


def test_the_applicants_home_page_lists_their_letters(personas: Personas, letter: Letter, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(personas.applicant)
    page = client.get("/", follow=True).content.decode()
    assert letter.reference_number in page and f"/api/v1/letters/{letter.pk}/pdf/" in page
    client.force_login(personas.other_applicant)
    assert letter.reference_number not in client.get("/", follow=True).content.decode()


def test_the_courtesy_translation_is_rate_limited(personas: Personas, letter: Letter, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    from letters.api import RenderThrottle

    cache.clear()
    monkeypatch.setattr(RenderThrottle, "rate", "2/min")
    api = APIClient()
    api.force_authenticate(personas.applicant)
    codes = [api.get(f"/api/v1/letters/{letter.pk}/english/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert api.get(f"/api/v1/letters/{letter.pk}/pdf/").status_code == 200  # the archived file is not limited


def test_pdf_uploads_to_the_public_page_are_limited_per_address(letter: Letter, client) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache
    from django.core.files.uploadedfile import SimpleUploadedFile

    from letters.views import UPLOADS_PER_MINUTE

    cache.clear()
    data = Path(letter.file.path).read_bytes()
    codes = [
        client.post("/verify/", {"file": SimpleUploadedFile("l.pdf", data)}).status_code
        for _ in range(UPLOADS_PER_MINUTE + 1)
    ]
    assert codes[:-1] == [200] * UPLOADS_PER_MINUTE and codes[-1] == 429
    assert client.get(f"/verify/{letter.verification_code}/").status_code == 200  # codes are not limited here

"""After a registration commits, a real worker renders, signs and archives its 信用修复告知书."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from credit.models import Department
from letters.models import Letter, LetterKind, LetterState
from letters.pki import DEV_PASSPHRASE, DEV_PASSPHRASE_ENV, create_dev_pki
from letters.signing import validate_signed_pdf
from tests.factories import DepartmentFactory, PersonFactory, dev_signing_identity, make_record


@pytest.fixture
def market(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Department:
    # Set before the worker starts: it inherits this environment.
    monkeypatch.setenv(DEV_PASSPHRASE_ENV, DEV_PASSPHRASE.decode())
    return Department(code="market", name="市场监督管理局", city="测试市", kind=Department.Kind.DECIDING)


def test_the_worker_issues_the_notice_once_the_registration_commits(
    market: Department, real_worker: Any, wait_for: Any, tmp_path: Path
) -> None:
    pki = create_dev_pki(
        tmp_path / "pki", [market], passphrase=DEV_PASSPHRASE, not_before=datetime(2026, 1, 1, tzinfo=UTC)
    )
    department = DepartmentFactory(code="market", name=market.name, letter_prefix="测市监")
    dev_signing_identity(department, pki.departments["market"])
    with time_machine.travel("2026-11-23T10:00:00+08:00", tick=False):
        record = make_record(person=PersonFactory(), department=department, decision_date=date(2026, 5, 31))
    letter = Letter.objects.for_object(record).get(kind=LetterKind.REPAIR_NOTICE)
    issued = wait_for(
        lambda: Letter.objects.filter(pk=letter.pk, state=LetterState.ISSUED).first(), timeout=60
    )
    # The worker's MEDIA_ROOT is under the VAR_DIR it was given (the test's tmp_path).
    data = (tmp_path / "media" / issued.file.name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == issued.sha256
    report = validate_signed_pdf(data, trust_roots=[pki.ca_cert])
    assert report.ok, report

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from credit.models import Department
from letters.pki import DEV_PASSPHRASE, DEV_PASSPHRASE_ENV, DevPki, create_dev_pki
from tests.factories import dev_signing_identity

# The personas' deciding departments, as stand-ins: the PKI is built once per session, outside any test's
# database (RSA key generation is slow).
STAND_INS = [
    Department(code="market", name="市场监督管理局", city="测试市", kind=Department.Kind.DECIDING),
    Department(code="environment", name="生态环境局", city="测试市", kind=Department.Kind.DECIDING),
]


@pytest.fixture(scope="session")
def letters_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return create_dev_pki(
        tmp_path_factory.mktemp("letters-pki"),
        STAND_INS,
        passphrase=DEV_PASSPHRASE,
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def signing(
    personas, letters_pki: DevPki, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    """Signing identities for the personas' departments, the dev CA trusted, letters stored under tmp."""
    monkeypatch.setenv(DEV_PASSPHRASE_ENV, DEV_PASSPHRASE.decode())
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LETTERS_TRUST_ROOTS = [str(letters_pki.ca_cert)]
    for department in (personas.market, personas.environment):
        dev_signing_identity(department, letters_pki.departments[department.code])
    return letters_pki

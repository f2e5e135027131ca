"""Simplified Chinese is the default language and complete; English is complete too (the source language)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.test import Client

from credit.models import User
from tests.conftest import Personas

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCES = [
    "config",
    "credit",
    "objections",
    "repair",
    "letters",
    "notifications",
    "portal",
    "workspace",
    "templates",
    "manage.py",
]


def committed_catalogue() -> dict[str, str]:
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): m.string for m in catalog if m.id and not m.fuzzy}  # type: ignore[misc]


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext to extract messages")
def test_the_catalogue_has_every_message_of_the_source_and_no_stale_ones(tmp_path: Path) -> None:
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy(source, tmp_path / name)
    (tmp_path / "locale").mkdir()
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    with (tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").open("rb") as handle:
        extracted = {str(m.id) for m in read_po(handle) if m.id}
    committed = set(committed_catalogue())
    assert sorted(extracted - committed) == [], "new UI text: run `make messages` and translate it"
    assert sorted(committed - extracted) == [], "stale entries: run `make messages`"


@pytest.mark.django_db
def test_the_pages_are_in_chinese_by_default(personas: Personas) -> None:
    client = Client()
    login = client.get("/login/").content.decode()
    assert 'lang="zh-hans"' in login
    client.force_login(User.objects.get(pk=personas.applicant.pk))
    home = client.get("/", follow=True).content.decode()
    catalogue = committed_catalogue()
    for english in ("Credit objections and repair", "Notifications", "Log out"):
        assert english not in home
        assert catalogue[english] in home


@pytest.mark.django_db
def test_the_pages_are_in_english_on_request(personas: Personas) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(User.objects.get(pk=personas.applicant.pk))
    home = client.get("/", follow=True).content.decode()
    assert "Credit objections and repair" in home and 'lang="en"' in home


@pytest.mark.django_db
def test_the_language_switch_is_remembered(personas: Personas) -> None:
    client = Client()
    client.force_login(User.objects.get(pk=personas.applicant.pk))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Credit objections and repair" in client.get("/", follow=True).content.decode()


@pytest.mark.django_db
def test_api_errors_speak_the_callers_language(personas: Personas) -> None:
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(personas.officer)
    chinese = api.get("/api/v1/records/").data["detail"]
    english = api.get("/api/v1/records/", HTTP_ACCEPT_LANGUAGE="en").data["detail"]
    assert english.startswith("Staff must state why")
    assert chinese != english

"""/my/signup/: a visitor makes an applicant account with the identity they claim, is signed in and lands on
the page that says the account waits for the real-name check. A bad form keeps what was typed (never the
passwords or the file) and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from credit.models import ClaimStatus, IdentityClaim, User
from portal.account import SIGNUPS_PER_ADDRESS_PER_HOUR
from tests.conftest import Personas
from tests.factories import resident_id
from tests.portal.conftest import not_a_document, png, stored_files

pytestmark = pytest.mark.django_db
SIGNUP = "/my/signup/"
PASSWORD = "Kx7-long-enough-2026"


def english() -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    return client


def form(**change: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": "wangfang",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "phone": "13800138000",
        "name": "王芳",
        "id_type": "resident_id",
        "id_number": resident_id(31),
        "consent": "on",
    }
    data.update(change)
    return {key: value for key, value in data.items() if value is not None}


def test_the_login_page_leads_to_sign_up() -> None:
    login = Client().get("/login/").content.decode()
    assert f'href="{SIGNUP}"' in login and "注册" in login
    page = Client().get(SIGNUP)
    assert page.status_code == 200 and '<html lang="zh-hans">' in page.content.decode()


def test_signing_up_signs_in_and_says_what_to_bring(personas: Personas, media: Path) -> None:
    client = english()
    response = client.post(SIGNUP, form(document=png("身份证.png")), follow=True)
    assert response.redirect_chain == [("/my/identity/", 302)]
    user = User.objects.get(username="wangfang")
    assert response.context["user"] == user and user.has_role("applicant")
    assert user.preferred_language == "en"  # told in the language the account was made in
    claim = IdentityClaim.objects.get(user=user)
    assert claim.status == ClaimStatus.PENDING and claim.document and len(stored_files(media)) == 1
    html = response.content.decode()
    assert f"Your identity claim {claim.number} waits for the real-name check." in html
    assert "Your account waits for the real-name check" in html
    assert "What to bring to the intake window" in html and "wangfang" in html
    assert claim.id_masked in html and resident_id(31) not in html
    home = client.get("/my/").content.decode()
    assert f"Your identity claim {claim.number} waits for the real-name check." in home


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id_number": resident_id(31)[:-2]}, "An ID number has 18 characters; this one has 16."),
        ({"password1": "12345678", "password2": "12345678"}, "This password is too common."),
        ({"password2": "something-else-2026"}, "The two password fields didn’t match."),
        ({"phone": "12345"}, "Enter a mainland mobile phone number of 11 digits"),
        ({"consent": None}, "The real-name check needs your consent."),
        ({"name": "  "}, "This field is required."),
        ({"document": not_a_document("身份证.pdf")}, "This type of file is not accepted."),
    ],
)
def test_a_bad_form_keeps_what_was_typed_but_the_passwords_and_the_file(
    personas: Personas, media: Path, change: dict[str, Any], message: str
) -> None:
    response = english().post(SIGNUP, form(**change))
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html and 'id="error-summary"' in html
    assert 'value="wangfang"' in html and f'value="{change.get("phone", "13800138000")}"' in html
    assert f'value="{change.get("id_number", resident_id(31))}"' in html
    assert PASSWORD not in html
    assert not User.objects.filter(username="wangfang").exists() and not IdentityClaim.objects.exists()
    assert stored_files(media) == []


def test_a_file_too_big_is_refused_saying_why(personas: Personas, settings: Any, media: Path) -> None:
    settings.REPAIR_MAX_UPLOAD_BYTES = 1024 * 1024
    big = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024))
    response = english().post(SIGNUP, form(document=big))
    assert response.status_code == 422
    assert "The file is 3.1 MB; the limit is 1 MB." in response.content.decode()
    assert not User.objects.filter(username="wangfang").exists() and stored_files(media) == []


def test_a_username_taken_in_another_case_is_refused(personas: Personas) -> None:
    response = english().post(SIGNUP, form(username="APPLICANT"))
    assert (
        response.status_code == 422
        and "A user with that username already exists." in response.content.decode()
    )


def test_signed_in_users_do_not_sign_up_again(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.applicant)
    assert client.get(SIGNUP)["Location"] == "/"
    client.post(SIGNUP, form())
    assert not User.objects.filter(username="wangfang").exists()


def test_one_address_makes_a_few_accounts_an_hour(personas: Personas) -> None:
    for n in range(SIGNUPS_PER_ADDRESS_PER_HOUR):
        made = english().post(SIGNUP, form(username=f"user{n}", id_number=resident_id(40 + n)))
        assert made.status_code == 302
    refused = english().post(SIGNUP, form(username="one-more", id_number=resident_id(60)))
    assert refused.status_code == 429 and "Too many accounts" in refused.content.decode()
    assert not User.objects.filter(username="one-more").exists()

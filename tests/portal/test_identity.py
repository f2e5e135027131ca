"""/my/identity/: where the account's real-name check stands (waiting, rejected with the reason, verified),
a new claim after a rejection, and only the account's own claims; for applicants only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from credit.models import ClaimStatus, IdentityClaim, User
from credit.services.identity_claims import ClaimInput, decide_claim, sign_up
from tests.conftest import Personas
from tests.factories import resident_id
from tests.portal.conftest import png, stored_files

pytestmark = pytest.mark.django_db
PAGE = "/my/identity/"


def account(username: str = "wangfang", seq: int = 31) -> tuple[User, IdentityClaim]:
    return sign_up(
        username=username,
        password="Kx7-long-enough-2026",
        phone="13800138000",
        claim=ClaimInput(name="王芳", id_type="resident_id", id_number=resident_id(seq)),
        consent=True,
    )


def english(user: Any) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(user)
    return client


def claim_form(**change: Any) -> dict[str, Any]:
    data = {"name": "王芳", "id_type": "resident_id", "id_number": resident_id(32), "consent": "on"}
    data.update(change)
    return data


def test_a_rejected_claim_says_why_and_a_new_one_can_be_made(personas: Personas, media: Path) -> None:
    user, claim = account()
    decide_claim(claim=claim, verify=False, actor=personas.intake, reason="身份证号码与照片不符")
    client = english(user)
    page = client.get(PAGE).content.decode()
    assert f"Your claim {claim.number} was rejected" in page and "身份证号码与照片不符" in page
    assert "Make a new claim" in page
    home = client.get("/my/").content.decode()
    assert f"Your identity claim {claim.number} was rejected" in home
    done = client.post(PAGE, claim_form(document=png("id.png")), follow=True)
    again = IdentityClaim.objects.get(user=user, status=ClaimStatus.PENDING)
    assert done.redirect_chain == [(PAGE, 302)] and again.document and len(stored_files(media)) == 1
    assert "Your account waits for the real-name check" in done.content.decode()


def test_no_second_claim_while_one_waits(personas: Personas) -> None:
    user, claim = account()
    client = english(user)
    assert "Make a new claim" not in client.get(PAGE).content.decode()
    refused = client.post(PAGE, claim_form(), follow=True)
    assert "no new claim" in refused.content.decode()
    assert list(IdentityClaim.objects.filter(user=user)) == [claim]


def test_a_bad_claim_keeps_what_was_typed(personas: Personas) -> None:
    user, claim = account()
    decide_claim(claim=claim, verify=False, actor=personas.intake, reason="照片不清晰")
    response = english(user).post(PAGE, claim_form(id_number="3702021990030700"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "An ID number has 18 characters; this one has 16." in html and 'value="王芳"' in html
    assert IdentityClaim.objects.filter(user=user).count() == 1


def test_a_verified_account_is_told_so_and_claims_nothing_more(personas: Personas) -> None:
    client = english(personas.applicant)
    page = client.get(PAGE).content.decode()
    assert "Your account is verified" in page and personas.applicant_person.id_masked in page
    assert "Claim your identity" not in page
    client.post(PAGE, claim_form())
    assert not IdentityClaim.objects.exists()


def test_an_account_sees_its_own_claims_only(personas: Personas) -> None:
    _mine, my_claim = account("mine", 31)
    theirs, their_claim = account("theirs", 33)
    page = english(theirs).get(PAGE).content.decode()
    assert their_claim.number in page and my_claim.number not in page


def test_only_applicants_get_in() -> None:
    assert Client().get(PAGE)["Location"] == f"/login/?next={PAGE}"


@pytest.mark.parametrize("role", ["officer", "reviewer", "intake", "auditor"])
def test_staff_are_sent_to_their_workspace(personas: Personas, role: str) -> None:
    staff = english(getattr(personas, role))
    assert staff.get(PAGE)["Location"] == "/staff/"
    assert staff.post(PAGE, claim_form())["Location"] == "/staff/"
    assert not IdentityClaim.objects.exists()


def test_an_account_without_the_applicants_role_is_refused(personas: Personas) -> None:
    admin = english(personas.admin)
    assert admin.get(PAGE).status_code == 403
    assert admin.post(PAGE, claim_form()).status_code == 403
    assert not IdentityClaim.objects.exists()

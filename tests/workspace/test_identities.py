"""Intake's real-name checks (/staff/identities/): the waiting accounts, oldest first, in a fixed number of
reads; one claim with its scan and the person held with exactly the claimed number; verifying (which links
the account, or registers the person when none is held) and rejecting with a reason; the link at the window;
who gets in; and the data-access log."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from credit.models import AccessLog, ClaimStatus, IdentityClaim, Person, TransitionLog, User
from credit.services.identity_claims import ClaimInput, sign_up
from tests.conftest import Personas
from tests.factories import PersonFactory, UserFactory, resident_id
from tests.workspace.test_extra_pages import _media, browser, get, logged, post  # noqa: F401  (_media: autouse)

pytestmark = pytest.mark.django_db
LIST = "/staff/identities/"
WINDOW = "/staff/identities/window/"


def scan() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(buffer, "PNG")
    return SimpleUploadedFile("身份证.png", buffer.getvalue(), content_type="image/png")


def account(username: str = "wangfang", seq: int = 31, name: str = "王芳", **claim: Any) -> IdentityClaim:
    _user, made = sign_up(
        username=username,
        password="Kx7-long-enough-2026",
        phone="13800138000",
        claim=ClaimInput(name=name, id_type="resident_id", id_number=resident_id(seq), **claim),
        consent=True,
    )
    return made


@pytest.fixture
def held() -> Person:
    return PersonFactory(name="王芳", id_number=resident_id(31))


def url(claim: IdentityClaim) -> str:
    return f"/staff/identities/{claim.pk}/"


class TestTheList:
    def test_waiting_accounts_oldest_first_with_the_person_held(
        self, personas: Personas, held: Person, time_machine: Any
    ) -> None:
        first = account()
        time_machine.shift(60)
        second = account("other", 35, name="赵六")
        listing = get(personas.intake, LIST)
        html = listing.content.decode()
        assert listing.status_code == 200 and html.index(first.number) < html.index(second.number)
        assert "none held" in html and first.id_masked in html and resident_id(31) not in html
        assert logged(personas.intake, LIST) == [(held.pk, "list", "identity_check")]

    def test_the_list_costs_the_same_for_one_and_for_many(
        self, personas: Personas, django_assert_num_queries: Any
    ) -> None:
        client = browser(personas.intake)
        client.get(LIST)  # the session's and the roles' first reads, once
        PersonFactory(name="王芳", id_number=resident_id(31))
        account()
        with CaptureQueriesContext(connection) as one:
            assert client.get(LIST).status_code == 200
        for n in range(40):
            PersonFactory(name=f"申请人{n}", id_number=resident_id(100 + n))
            account(f"user{n}", 100 + n, name=f"申请人{n}")
        for page in (LIST, LIST + "?page=2"):
            with django_assert_num_queries(len(one)):
                assert client.get(page).status_code == 200

    def test_decided_claims_leave_the_list(self, personas: Personas, held: Person) -> None:
        claim = account()
        post(personas.intake, url(claim), {"decision": "reject", "reason": "照片不清晰"})
        assert claim.number not in get(personas.intake, LIST).content.decode()


class TestOneClaim:
    def test_intake_sees_the_claim_the_scan_and_the_person_held(
        self, personas: Personas, held: Person
    ) -> None:
        claim = account(document=scan())
        page = get(personas.intake, url(claim))
        html = page.content.decode()
        assert page.status_code == 200 and "Record the decision" in html
        assert "The person held with this ID number" in html and held.id_masked in html
        assert "/media/" not in html
        document = get(personas.intake, url(claim) + "document/")
        assert document.status_code == 200 and document["Content-Type"] == "image/png"
        assert (
            document["Cache-Control"] == "private, no-store"
            and "sandbox" in document["Content-Security-Policy"]
        )
        assert logged(personas.intake, url(claim)) == [(held.pk, "view", "identity_check")]
        assert logged(personas.intake, url(claim) + "document/") == [(held.pk, "view", "identity_check")]

    def test_verifying_links_the_account(self, personas: Personas, held: Person) -> None:
        claim = account()
        done = post(personas.intake, url(claim), {"decision": "verify"})
        assert done.redirect_chain[-1][0] == LIST
        assert "The claim was verified: the account is linked to the person." in done.content.decode()
        held.refresh_from_db()
        claim.refresh_from_db()
        assert held.user == claim.user and claim.status == ClaimStatus.VERIFIED and claim.person == held
        assert TransitionLog.objects.filter(transition="verify", object_id=claim.pk).exists()
        assert "Record the decision" not in get(personas.intake, url(claim)).content.decode()

    def test_without_a_person_held_the_page_says_so_and_verifying_registers_one(
        self, personas: Personas
    ) -> None:
        claim = account()
        html = get(personas.intake, url(claim)).content.decode()
        assert "No person is held with exactly this ID number" in html
        assert not AccessLog.objects.exists()  # nobody's records were shown
        post(personas.intake, url(claim), {"decision": "verify"})
        assert Person.objects.get(user=claim.user).name == "王芳"

    def test_a_link_that_cannot_be_made_is_said_and_refused(self, personas: Personas) -> None:
        PersonFactory(name="王芳", id_number=resident_id(31), user=UserFactory(username="someone"))
        claim = account()
        html = get(personas.intake, url(claim)).content.decode()
        assert "This person is already linked to another account." in html
        refused = post(personas.intake, url(claim), {"decision": "verify"})
        assert refused.status_code == 409
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.PENDING and claim.person is None

    def test_rejecting_needs_a_reason(self, personas: Personas, held: Person) -> None:
        claim = account()
        refused = post(personas.intake, url(claim), {"decision": "reject", "reason": " "})
        assert refused.status_code == 422
        post(personas.intake, url(claim), {"decision": "reject", "reason": "证件号码与照片不符"})
        claim.refresh_from_db()
        assert (claim.status, claim.reason) == (ClaimStatus.REJECTED, "证件号码与照片不符")

    def test_a_decided_claim_is_not_decided_again(self, personas: Personas, held: Person) -> None:
        claim = account()
        post(personas.intake, url(claim), {"decision": "reject", "reason": "x"})
        assert post(personas.intake, url(claim), {"decision": "verify"}).status_code == 409

    def test_unknown_and_without_scan_are_404(self, personas: Personas) -> None:
        assert get(personas.intake, "/staff/identities/999999/").status_code == 404
        assert get(personas.intake, url(account()) + "document/").status_code == 404


class TestAtTheWindow:
    def test_intake_links_an_account_by_the_document_shown(self, personas: Personas, held: Person) -> None:
        user = UserFactory(username="walkin", role="applicant")
        shown = {"username": "walkin", "name": "王芳", "id_type": "resident_id", "id_number": resident_id(31)}
        done = post(personas.intake, WINDOW, shown)
        claim = IdentityClaim.objects.get(user=user)
        assert done.redirect_chain[-1][0] == url(claim)
        assert f"The account walkin is linked to 王芳 ({held.id_masked})." in done.content.decode()
        held.refresh_from_db()
        assert held.user == user and claim.channel == "window"

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"username": "nobody"}, "There is no account with this username."),
            ({"name": "王小芳"}, "The name differs from the one held for this ID number."),
            ({"id_number": resident_id(31)[:-3]}, "An ID number has 18 characters; this one has 15."),
            ({"username": "officer"}, "This is not an applicant&#x27;s account."),
        ],
    )
    def test_what_the_window_refuses(
        self, personas: Personas, held: Person, change: dict[str, str], message: str
    ) -> None:
        UserFactory(username="walkin", role="applicant")
        shown = {"username": "walkin", "name": "王芳", "id_type": "resident_id", "id_number": resident_id(31)}
        refused = post(personas.intake, WINDOW, {**shown, **change})
        assert refused.status_code == 422 and message in refused.content.decode()
        held.refresh_from_db()
        assert held.user is None and not IdentityClaim.objects.exists()
        assert resident_id(31) not in str(list(AccessLog.objects.values_list("path", flat=True)))


class TestWhoGetsIn:
    @pytest.mark.parametrize("who", ["officer", "reviewer", "head", "auditor", "recon", "applicant", "admin"])
    def test_only_intake(self, personas: Personas, held: Person, who: str) -> None:
        claim = account(document=scan())
        user = getattr(personas, who)
        for path in (LIST, url(claim), url(claim) + "document/", WINDOW):
            assert get(user, path).status_code == 403
        assert browser(user).post(url(claim), {"decision": "verify"}).status_code == 403
        shown = {
            "username": "wangfang",
            "name": "王芳",
            "id_type": "resident_id",
            "id_number": resident_id(31),
        }
        assert browser(user).post(WINDOW, shown).status_code == 403
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.PENDING and not AccessLog.objects.filter(user=user).exists()

    def test_the_applicant_who_claims_sees_nothing_of_it_here(self, personas: Personas) -> None:
        claim = account()
        assert get(User.objects.get(pk=claim.user_id), url(claim)).status_code == 403

    def test_signed_out_goes_to_the_login_page(self, personas: Personas) -> None:
        claim = account()
        for path in (LIST, url(claim), WINDOW):
            response = browser().get(path)
            assert response.status_code == 302 and "login" in response["Location"]
        assert "login" in browser().post(url(claim), {"decision": "verify"})["Location"]
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.PENDING

    def test_intake_finds_the_page_in_its_navigation(self, personas: Personas) -> None:
        assert f'href="{LIST}"' in get(personas.intake, "/staff/authorisations/").content.decode()
        assert f'href="{LIST}"' not in get(personas.officer, "/staff/queue/").content.decode()

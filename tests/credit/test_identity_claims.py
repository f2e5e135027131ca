"""Identity claims: signing up with the identity one claims, intake's decision (verifying links the account to
the person in the same transaction, or registers the person when none is held), the link at the window, and
what is refused (and leaves everything as it was)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from PIL import Image

from credit import identity
from credit.models import ClaimStatus, IdentityClaim, Person, TransitionLog, User
from credit.services.identity_claims import (
    ClaimInput,
    decide_claim,
    link_at_window,
    normalize_mobile,
    sign_up,
    submit_claim,
)
from credit.services.transitions import BadPayload, Forbidden, WrongState, perform_transition
from notifications.models import Channel, Delivery, Notification, Preference
from tests.conftest import Personas
from tests.factories import PersonFactory, UserFactory, resident_id

pytestmark = pytest.mark.django_db
PASSWORD = "Kx7-long-enough-2026"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def stored(tmp_path: Path) -> list[Path]:
    root = tmp_path / "media"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def scan(name: str = "id-card.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def mistyped(number: str) -> str:
    """The number with a wrong check character: a typing error."""
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def claimed(name: str = "王芳", number: str | None = None, **kwargs: Any) -> ClaimInput:
    return ClaimInput(name=name, id_type="resident_id", id_number=number or resident_id(31), **kwargs)


def new_account(username: str = "wangfang", **kwargs: Any) -> tuple[User, IdentityClaim]:
    values: dict[str, Any] = {
        "username": username,
        "password": PASSWORD,
        "phone": "138 0013 8000",
        "claim": claimed(),
        "consent": True,
    }
    values.update(kwargs)
    return sign_up(**values)


class TestSignUp:
    def test_it_makes_an_applicant_account_and_a_waiting_claim(self, personas: Personas) -> None:
        user, claim = new_account(claim=claimed(number=resident_id(31)[:6] + " " + resident_id(31)[6:]))
        user.refresh_from_db()
        assert user.check_password(PASSWORD) and user.phone == "13800138000"
        assert user.has_role("applicant") and not user.is_staff_member
        assert not Person.objects.filter(user=user).exists()  # nothing is shown before intake checks
        assert claim.status == ClaimStatus.PENDING and claim.channel == "online"
        assert claim.id_number == resident_id(31) and claim.id_hash == identity.lookup_hash(resident_id(31))
        assert claim.id_masked == identity.mask(resident_id(31))
        assert resident_id(31) not in claim.id_encrypted  # encrypted at rest
        assert claim.consent_at == timezone.now()
        step = TransitionLog.objects.get(transition="submit", object_id=claim.pk)
        assert (step.to_state, step.actor) == ("pending", user)

    def test_the_scan_is_checked_and_stored_privately(self, personas: Personas, tmp_path: Path) -> None:
        _user, claim = new_account(claim=claimed(document=scan()))
        assert claim.document.name.startswith("identity/2026/" + claim.number)
        assert claim.document_type == "image/png" and len(stored(tmp_path)) == 1

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"claim": claimed(number=mistyped(resident_id(31)))}, "id_number"),
            ({"claim": claimed(name="  ")}, "name"),
            ({"claim": claimed(document=SimpleUploadedFile("id.pdf", b"not a pdf"))}, "document"),
            ({"password": "12345678"}, "password1"),
            ({"username": "bad name!"}, "username"),
            ({"phone": "12345"}, "phone"),
            ({"consent": False}, "consent"),
        ],
    )
    def test_a_refusal_writes_nothing(
        self, personas: Personas, tmp_path: Path, change: dict[str, Any], field: str
    ) -> None:
        users = User.objects.count()
        with pytest.raises(ValidationError) as refused:
            new_account(**change)
        assert field in refused.value.message_dict
        assert User.objects.count() == users and not IdentityClaim.objects.exists()
        assert stored(tmp_path) == []

    def test_a_username_is_taken_whatever_its_case(self, personas: Personas) -> None:
        new_account(username="WangFang")
        with pytest.raises(ValidationError) as refused:
            new_account(username="wangfang")
        assert "username" in refused.value.message_dict

    def test_mobile_numbers_are_read_as_people_write_them(self) -> None:
        for written in ("13800138000", "+86 138-0013-8000", "0086 13800138000", "8613800138000"):
            assert normalize_mobile(written) == "13800138000"
        for wrong in ("1380013800", "23800138000", "138001380001"):
            with pytest.raises(ValidationError):
                normalize_mobile(wrong)


class TestOneClaimWaits:
    def test_the_database_holds_one_waiting_claim_per_account(self, personas: Personas) -> None:
        user, _claim = new_account()
        second = IdentityClaim(user=user, name="王芳", consent_at=timezone.now())
        second.set_id_number("resident_id", resident_id(32))
        with pytest.raises(IntegrityError), transaction.atomic():
            second.save()

    def test_a_new_claim_waits_for_the_last_to_be_decided(self, personas: Personas, tmp_path: Path) -> None:
        user, claim = new_account()
        with pytest.raises(WrongState):
            submit_claim(user=user, claim=claimed(number=resident_id(32), document=scan()), consent=True)
        assert IdentityClaim.objects.count() == 1 and len(stored(tmp_path)) == 0
        decide_claim(claim=claim, verify=False, actor=personas.intake, reason="证件号码与身份证不符")
        again = submit_claim(user=user, claim=claimed(number=resident_id(32)), consent=True)
        assert again.status == ClaimStatus.PENDING and again.pk != claim.pk

    def test_a_linked_account_or_staff_claims_nothing(self, personas: Personas) -> None:
        with pytest.raises(WrongState):
            submit_claim(user=personas.applicant, claim=claimed(), consent=True)
        with pytest.raises(Forbidden):
            submit_claim(user=personas.officer, claim=claimed(), consent=True)


class TestIntakeDecides:
    def test_verifying_links_the_account_to_the_person_held(self, personas: Personas) -> None:
        held = PersonFactory(name="王芳", id_number=resident_id(31))
        user, claim = new_account()
        decided = decide_claim(claim=claim, verify=True, actor=personas.intake)
        held.refresh_from_db()
        assert decided.status == ClaimStatus.VERIFIED and decided.person == held
        assert decided.decided_by == personas.intake and decided.decided_at == timezone.now()
        assert held.user == user and held.verified_by == personas.intake
        steps = set(TransitionLog.objects.values_list("transition", "to_state"))
        assert {("verify", "verified"), ("verify_identity", "verified")} <= steps

    def test_without_a_person_held_verifying_registers_the_person(self, personas: Personas) -> None:
        user, claim = new_account(claim=claimed(name="王 芳"))
        decided = decide_claim(claim=claim, verify=True, actor=personas.intake)
        person = Person.objects.get(user=user)
        assert decided.person == person and person.name == "王 芳"
        assert person.id_number == resident_id(31) and person.verification == Person.Verification.INTAKE
        assert TransitionLog.objects.filter(transition="register_person", object_id=person.pk).exists()

    @pytest.mark.parametrize("blocker", ["other_account", "other_name"])
    def test_a_refused_link_leaves_claim_and_person_as_they_were(
        self, personas: Personas, blocker: str
    ) -> None:
        held = PersonFactory(
            name="王芳" if blocker == "other_account" else "王小芳",
            id_number=resident_id(31),
            user=UserFactory(username="someone") if blocker == "other_account" else None,
        )
        _user, claim = new_account()
        steps = TransitionLog.objects.count()
        with pytest.raises(WrongState):
            decide_claim(claim=claim, verify=True, actor=personas.intake)
        claim.refresh_from_db()
        held.refresh_from_db()
        assert claim.status == ClaimStatus.PENDING and claim.person is None and claim.decided_by is None
        assert held.user_id == (None if blocker == "other_name" else held.user_id)
        assert TransitionLog.objects.count() == steps

    def test_rejecting_needs_a_reason_that_is_kept(self, personas: Personas) -> None:
        _user, claim = new_account()
        with pytest.raises(BadPayload):
            decide_claim(claim=claim, verify=False, actor=personas.intake, reason=" ")
        decided = decide_claim(claim=claim, verify=False, actor=personas.intake, reason="照片不清晰")
        assert (decided.status, decided.reason, decided.person) == (ClaimStatus.REJECTED, "照片不清晰", None)

    @pytest.mark.parametrize("who", ["officer", "reviewer", "auditor", "applicant", "admin"])
    def test_only_intake_decides(self, personas: Personas, who: str) -> None:
        _user, claim = new_account()
        for step in ("verify", "reject"):
            with pytest.raises(Forbidden):
                perform_transition(claim, step, actor=getattr(personas, who), reason="x")
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.PENDING

    def test_a_decided_claim_is_not_decided_again(self, personas: Personas) -> None:
        _user, claim = new_account()
        decide_claim(claim=claim, verify=False, actor=personas.intake, reason="证件不符")
        with pytest.raises(WrongState):
            decide_claim(claim=claim, verify=True, actor=personas.intake)


class TestNotifications:
    def test_the_account_is_told_either_way_and_the_sms_says_nothing_personal(
        self, personas: Personas, django_capture_on_commit_callbacks: Any
    ) -> None:
        user, claim = new_account()
        Preference.objects.create(user=user, sms=True)
        with django_capture_on_commit_callbacks(execute=True):
            decide_claim(claim=claim, verify=False, actor=personas.intake, reason="照片不清晰，请重新上传")
        rejected = Notification.objects.get(recipient=user)
        assert rejected.event == "identity.rejected" and "照片不清晰，请重新上传" in rejected.body
        assert rejected.link == "/my/identity/" and rejected.case_number == claim.number
        sms = Delivery.objects.get(notification=rejected, channel=Channel.SMS).payload["text"]
        assert claim.number in sms and "王芳" not in sms and "照片" not in sms
        again = submit_claim(user=user, claim=claimed(), consent=True)
        decide_claim(claim=again, verify=True, actor=personas.intake)
        verified = Notification.objects.get(recipient=user, event="identity.verified")
        assert "已通过" in verified.subject


class TestAtTheWindow:
    @pytest.fixture(autouse=True)
    def _english(self) -> Iterator[None]:
        with translation.override("en"):
            yield

    def test_intake_links_an_account_by_the_document_shown(self, personas: Personas) -> None:
        held = PersonFactory(name="王芳", id_number=resident_id(31))
        user = UserFactory(username="walkin", role="applicant")
        claim = link_at_window(
            user=user, name="王芳", id_type="resident_id", id_number=resident_id(31), actor=personas.intake
        )
        held.refresh_from_db()
        assert held.user == user and claim.channel == "window" and claim.status == ClaimStatus.VERIFIED
        submitted = TransitionLog.objects.get(transition="submit", object_id=claim.pk)
        assert submitted.actor == personas.intake

    def test_the_waiting_claim_for_that_number_is_the_one_verified(self, personas: Personas) -> None:
        user, claim = new_account()
        linked = link_at_window(
            user=user, name="王芳", id_type="resident_id", id_number=resident_id(31), actor=personas.intake
        )
        assert linked.pk == claim.pk and IdentityClaim.objects.count() == 1

    def test_what_the_window_refuses(self, personas: Personas) -> None:
        PersonFactory(name="王芳", id_number=resident_id(31))
        user, _claim = new_account(claim=claimed(number=resident_id(33)))
        shown = {"name": "王芳", "id_type": "resident_id", "id_number": resident_id(31)}
        with pytest.raises(WrongState, match="another ID number"):
            link_at_window(user=user, actor=personas.intake, **shown)
        other = UserFactory(username="other", role="applicant")
        with pytest.raises(ValidationError, match="differs"):
            link_at_window(user=other, actor=personas.intake, **{**shown, "name": "王小芳"})
        with pytest.raises(ValidationError):
            link_at_window(user=personas.officer, actor=personas.intake, **shown)
        with pytest.raises(WrongState):
            link_at_window(user=personas.applicant, actor=personas.intake, **shown)
        with pytest.raises(Forbidden):
            link_at_window(user=other, actor=personas.officer, **shown)
        assert not Person.objects.filter(user__in=[user, other]).exists()

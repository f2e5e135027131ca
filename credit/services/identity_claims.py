"""Identity claims (实名核验申请): signing up in the portal with the identity one claims, a new claim after a
rejection, intake's decision and its consequence (the account linked to the person, in the step's
transaction), and the link intake makes at the window after seeing the identity document.

A claim's number is matched to a person by its keyed hash only: exactly, never by part. When no person is
held with that number, verifying the claim registers the person (name and number as claimed and checked) so
that the records registered later for that number reach this account (docs/decisions.md, 29)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credit.identity import same_name
from credit.models import ClaimStatus, IdentityClaim, Person, User
from credit.roles import Role, may
from credit.selectors import is_staff_member
from credit.services.people import verify_applicant
from credit.services.transitions import Forbidden, WrongState, perform_transition, write_log
from credit.uploads import clean_upload, files_removed_on_failure

VERIFY_PERM = "credit.verify_identity"
# A mainland mobile number: 11 digits from 13x to 19x. "+86", "0086" or "86" before it, spaces and dashes
# are dropped.
_MOBILE = re.compile(r"1[3-9]\d{9}")
_COUNTRY_CODE = re.compile(r"^(\+86|0086|86)(?=1\d{10}$)")


@dataclass(frozen=True)
class ClaimInput:
    """Who the account says it is: the name and the number on the identity document, and its scan."""

    name: str
    id_type: str
    id_number: str
    document: UploadedFile | None = None


def normalize_mobile(value: str) -> str:
    """The 11 digits of a mainland mobile number, or ValidationError."""
    digits = "".join(ch for ch in value.strip() if ch not in " -")
    digits = _COUNTRY_CODE.sub("", digits)
    if not _MOBILE.fullmatch(digits):
        raise ValidationError(
            _("Enter a mainland mobile phone number of 11 digits, such as 13800138000."), code="mobile"
        )
    return digits


def _claim(user: User, data: ClaimInput, *, channel: str) -> tuple[IdentityClaim, Any]:
    """The claim, checked (name, number, document) but not saved, and the checked document or None."""
    name = " ".join(data.name.split())
    if not name:
        raise ValidationError({"name": [_("Give the name as written on the identity document.")]})
    claim = IdentityClaim(
        user=user, name=name[:100], channel=channel, consent_at=timezone.now(), created_at=timezone.now()
    )
    try:
        claim.set_id_number(data.id_type, data.id_number)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from exc
    document = None
    if data.document is not None:
        try:
            document = clean_upload(data.document)
        except ValidationError as exc:
            raise ValidationError({"document": exc.messages}) from exc
    return claim, document


def _save_claim(claim: IdentityClaim, document: Any, stored: list[Any], *, actor: Any) -> IdentityClaim:
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError as exc:  # identity_claim_one_pending_per_account: a claim already waits
        raise WrongState(
            _("A claim of this account is already waiting for the real-name check."),
            state=ClaimStatus.PENDING,
        ) from exc
    if document is not None:
        claim.document.save(
            f"{claim.number}-{document.sha256[:12]}{document.extension}",
            ContentFile(document.content),
            save=False,
        )
        stored.append(claim.document)
        claim.document_type = document.content_type
        claim.save(update_fields=["document", "document_type"])
    write_log(claim, "submit", source="", target=ClaimStatus.PENDING, actor=actor)
    return claim


def sign_up(
    *,
    username: str,
    password: str,
    phone: str,
    claim: ClaimInput,
    consent: bool,
    language: str = settings.LANGUAGE_CODE,
) -> tuple[User, IdentityClaim]:
    """A new applicant account and the identity it claims, together or not at all. The account is an
    applicant's (it may act as an agent at once) and sees no person's data until intake verifies the claim;
    it is told in `language` (the one it signed up in). Raises ValidationError (by field) or WrongState."""
    if not consent:
        raise ValidationError({"consent": [_("The real-name check needs your consent.")]})
    errors: dict[str, list[str]] = {}
    try:
        phone = normalize_mobile(phone)
    except ValidationError as exc:
        errors["phone"] = list(exc.messages)
    known = dict(settings.LANGUAGES)
    user = User(
        username=username,
        phone=phone,
        preferred_language=language if language in known else settings.LANGUAGE_CODE,
    )
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "username" not in errors and User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("A user with that username already exists.")]
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password1"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    new_claim, document = _claim(user, claim, channel=IdentityClaim.Channel.ONLINE)
    user.set_password(password)
    with files_removed_on_failure() as stored, transaction.atomic():
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:  # the same username, signed up a moment ago
            raise ValidationError({"username": [_("A user with that username already exists.")]}) from exc
        user.groups.add(Group.objects.get(name=Role.APPLICANT))
        new_claim.user = user
        _save_claim(new_claim, document, stored, actor=user)
    return user, new_claim


def submit_claim(*, user: User, claim: ClaimInput, consent: bool) -> IdentityClaim:
    """A new claim of an applicant account that is not linked to a person yet (the last claim was rejected,
    or the account never made one). Raises ValidationError, Forbidden or WrongState."""
    if not consent:
        raise ValidationError({"consent": [_("The real-name check needs your consent.")]})
    if is_staff_member(user) or not user.has_role(Role.APPLICANT):
        raise Forbidden(_("Only an applicant's account claims an identity."))
    if Person.objects.filter(user=user).exists():
        raise WrongState(_("This account is already linked to a verified person."), state="verified")
    new_claim, document = _claim(user, claim, channel=IdentityClaim.Channel.ONLINE)
    with files_removed_on_failure() as stored, transaction.atomic():
        return _save_claim(new_claim, document, stored, actor=user)


def held_person(claim: IdentityClaim) -> Person | None:
    """The person held with exactly the claimed number (by its keyed hash), whatever the name."""
    return Person.objects.filter(id_hash=claim.id_hash).select_related("user").first()


def decide_claim(*, claim: IdentityClaim, verify: bool, actor: Any, reason: str = "") -> IdentityClaim:
    """Intake's decision, through the transition service (which checks the state and the role under a row
    lock and logs the step); verifying links the account in the same transaction (`on_step`)."""
    decided = perform_transition(
        claim,
        "verify" if verify else "reject",
        actor=actor,
        reason=reason,
        visible=IdentityClaim.objects.all(),
    )
    assert isinstance(decided, IdentityClaim)
    return decided


def on_step(claim: IdentityClaim, transition: str, actor: Any) -> None:
    """The consequence of a verified claim, in the step's transaction (the case_transitioned receiver): the
    account is linked to the person held with the claimed number, or to the person registered now when none
    is held. A refusal (the person is another account's, the account another person's) rolls the step back."""
    if transition != "verify":
        return
    person = held_person(claim)
    if person is None:
        person = Person(name=claim.name)
        person.set_id_number(claim.id_type, claim.id_number)
        person.save()
        write_log(
            person,
            "register_person",
            source="",
            target="unverified",
            actor=actor,
            reason=_("Registered at the real-name check of claim %(number)s.") % {"number": claim.number},
        )
    elif person.id_type != claim.id_type:
        raise WrongState(
            _("The person held with this number has another type of identity document."), state=claim.status
        )
    elif not same_name(person.name, claim.name):
        # A valid number typed wrong may be another person's: the name is the second key.
        raise WrongState(
            _("The claimed name differs from the one held for this ID number: reject the claim, saying why."),
            state=claim.status,
        )
    linked = verify_applicant(person=person, user=claim.user, actor=actor, method=Person.Verification.INTAKE)
    claim.person = linked
    claim.save(update_fields=["person"])


@transaction.atomic
def link_at_window(*, user: User, name: str, id_type: str, id_number: str, actor: Any) -> IdentityClaim:
    """Intake, having seen the identity document at the window, links the account to the person with exactly
    that number: the account's waiting claim for that number is verified, or a claim made at the window is.
    The name must be the one held for that number. Raises ValidationError, Forbidden or WrongState."""
    if not may(actor, VERIFY_PERM):
        raise Forbidden(_("Only intake staff verify identities."))
    if is_staff_member(user) or not user.is_active or user.is_staff:
        raise ValidationError({"username": [_("This is not an applicant's account.")]})
    if Person.objects.filter(user=user).exists():
        raise WrongState(_("This account is already linked to a verified person."), state="verified")
    new_claim, _document = _claim(
        user,
        ClaimInput(name=name, id_type=id_type, id_number=id_number),
        channel=IdentityClaim.Channel.WINDOW,
    )
    person = held_person(new_claim)
    if person is not None and not same_name(person.name, new_claim.name):
        raise ValidationError({"name": [_("The name differs from the one held for this ID number.")]})
    waiting = IdentityClaim.objects.filter(user=user, status=ClaimStatus.PENDING).first()
    if waiting is not None and waiting.id_hash != new_claim.id_hash:
        raise WrongState(
            _("This account's waiting claim %(number)s is for another ID number: decide that claim first.")
            % {"number": waiting.number},
            state=ClaimStatus.PENDING,
        )
    if waiting is None:
        waiting = _save_claim(new_claim, None, [], actor=actor)
    return decide_claim(claim=waiting, verify=True, actor=actor)

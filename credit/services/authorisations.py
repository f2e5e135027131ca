"""Agents' written authorisations (授权委托书) submitted from the portal: the agent names the person they act
for by name and exact ID number, the scope and validity, and uploads the signed document. The authorisation
waits for intake's verification (workspace.people_views) and counts only once verified.

The person must be held here with exactly that number and that name. A refusal says the same whether no
person has the number or the name differs, so that the form does not tell anyone who has records; and an
account whose attempts keep matching nobody is stopped for a while (docs/decisions.md, 30)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credit import identity
from credit.models import Authorisation, Person, User
from credit.roles import Role
from credit.selectors import is_staff_member
from credit.services.transitions import Forbidden, WrongState, write_log
from credit.uploads import clean_upload, files_removed_on_failure

# Attempts that matched no person, per account and hour, before the form stops answering for the hour.
MISSES_PER_HOUR = 5
MISS_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class AuthorisationInput:
    name: str
    id_type: str
    id_number: str
    scope: str
    valid_from: date
    valid_until: date | None
    document: UploadedFile


def no_match() -> ValidationError:
    return ValidationError(
        _(
            "No person whose records are held here has this name and this ID number. Check both against the "
            "person's identity document and the signed authorisation."
        ),
        code="no_match",
    )


def _misses_key(agent: User) -> str:
    return f"authorisation-misses:{agent.pk}"


def _too_many_misses(agent: User) -> bool:
    return int(cache.get(_misses_key(agent), 0)) >= MISSES_PER_HOUR


def _count_miss(agent: User) -> None:
    key = _misses_key(agent)
    cache.add(key, 0, timeout=MISS_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=MISS_WINDOW_SECONDS)


def submit_authorisation(*, agent: User, data: AuthorisationInput) -> Authorisation:
    """A pending authorisation for `agent` to act for the person named, with the signed document. Raises
    ValidationError (by field, or `no_match`), Forbidden or WrongState; on any error nothing is stored."""
    if is_staff_member(agent) or not agent.has_role(Role.APPLICANT):
        raise Forbidden(_("Only an applicant's account submits an authorisation."))
    if _too_many_misses(agent):
        raise ValidationError(
            _(
                "Several attempts in a row matched no person. For your protection and theirs the form is "
                "closed for an hour; check the name and the ID number on the person's identity document."
            ),
            code="too_many_misses",
        )
    errors: dict[str, list[str]] = {}
    scope = " ".join(data.scope.split())
    if not scope:
        errors["scope"] = [_("Say what the agent may do for the person, as the signed document says.")]
    today = timezone.localdate()
    if data.valid_until is not None and data.valid_until < data.valid_from:
        errors["valid_until"] = [_("The authorisation cannot end before it begins.")]
    elif data.valid_until is not None and data.valid_until < today:
        errors["valid_until"] = [_("This authorisation has already ended.")]
    number = ""
    try:
        number = identity.validate(data.id_type, data.id_number)
    except ValidationError as exc:
        errors["id_number"] = list(exc.messages)
    if not " ".join(data.name.split()):
        errors["name"] = [_("Give the person's name as written on their identity document.")]
    clean = None
    try:
        clean = clean_upload(data.document)
    except ValidationError as exc:
        errors["document"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    assert clean is not None
    person = Person.objects.by_id_number(number).first()
    if person is None or person.id_type != data.id_type or not identity.same_name(person.name, data.name):
        _count_miss(agent)
        raise no_match()
    if person.user_id == agent.pk:
        raise ValidationError(
            _("This is your own identity: you act for yourself without an authorisation."), code="self"
        )
    authorisation = Authorisation(
        agent=agent,
        person=person,
        scope=scope[:200],
        valid_from=data.valid_from,
        valid_until=data.valid_until,
    )
    with files_removed_on_failure() as stored, transaction.atomic():
        authorisation.document.save(
            f"{agent.pk}-{clean.sha256[:12]}{clean.extension}", ContentFile(clean.content), save=False
        )
        stored.append(authorisation.document)
        try:
            with transaction.atomic():
                authorisation.save()
        except IntegrityError as exc:  # authorisation_one_pending_per_agent_and_person
            raise WrongState(
                _("Your authorisation for this person is already waiting for verification."),
                state=Authorisation.Status.PENDING,
            ) from exc
        write_log(authorisation, "submit", source="", target=Authorisation.Status.PENDING, actor=agent)
    return authorisation

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from credit import identity
from credit.identity import IdType
from credit.periods import in_force_on
from credit.roles import CITY_WIDE_ROLES, DEPARTMENT_ROLES, STAFF_ROLES, Role, role_perm

__all__ = ["CITY_WIDE_ROLES", "DEPARTMENT_ROLES", "STAFF_ROLES", "Role"]

if TYPE_CHECKING:
    from collections.abc import Iterable


class User(AbstractUser):
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def roles(self) -> frozenset[str]:
        # Cached per instance: the scoping helpers ask several times per request.
        cached: frozenset[str] | None = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = frozenset(self.groups.values_list("name", flat=True))
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles() & set(roles))

    @property
    def is_staff_member(self) -> bool:
        """Holds a staff role (not Django's is_staff, which marks the system's administrators)."""
        return self.has_role(*STAFF_ROLES)

    @property
    def is_applicant(self) -> bool:
        return self.has_role(Role.APPLICANT)

    @property
    def is_city_wide_staff(self) -> bool:
        return self.has_role(*CITY_WIDE_ROLES)

    @property
    def is_department_staff(self) -> bool:
        return self.has_role(*DEPARTMENT_ROLES)

    def department_ids(self) -> frozenset[int]:
        cached: frozenset[int] | None = getattr(self, "_department_ids_cache", None)
        if cached is None:
            cached = frozenset(self.memberships.values_list("department_id", flat=True))
            self._department_ids_cache = cached
        return cached


class Department(models.Model):
    class Kind(models.TextChoices):
        DECIDING = "deciding", _("Deciding body (认定单位)")
        PLATFORM = "platform", _("Public credit platform (公共信用信息平台)")
        RECONSIDERATION = "reconsideration", _("Reconsideration office (行政复议机构)")
        SUPERVISION = "supervision", _("Credit supervision office (督查)")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DECIDING)
    city = models.CharField(_("city"), max_length=50)
    letter_prefix = models.CharField(
        _("letter reference prefix"),
        max_length=20,
        blank=True,
        help_text=_("The department's abbreviation in reference numbers (文号), e.g. 示市监."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="departments"
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    since = models.DateField(_("since"), default=timezone.localdate)

    class Meta:
        verbose_name = _("department membership")
        verbose_name_plural = _("department memberships")
        constraints = [models.UniqueConstraint(fields=["user", "department"], name="uniq_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department}"


class PersonQuerySet(models.QuerySet["Person"]):
    def by_id_number(self, number: str) -> PersonQuerySet:
        """Exact match only: the keyed hash of the whole normalized number. There is no partial search."""
        return self.filter(id_hash=identity.lookup_hash(number))


class HoldsIdNumber:
    """A model with an identity document's number stored as `credit.identity` says: encrypted, with its
    keyed hash (for exact lookup) and its mask (for display)."""

    id_type: Any
    id_encrypted: Any
    id_hash: Any
    id_masked: Any

    def set_id_number(self, id_type: str, number: str) -> None:
        """Validate, then store encrypted with its lookup hash and mask. Raises ValidationError."""
        value = identity.validate(id_type, number)
        self.id_type = id_type
        self.id_encrypted = identity.encrypt(value)
        self.id_hash = identity.lookup_hash(value)
        self.id_masked = identity.mask(value)

    @property
    def id_number(self) -> str:
        return str(identity.decrypt(self.id_encrypted))


class Person(HoldsIdNumber, models.Model):
    """A natural person a credit record is about (信用主体)."""

    class Verification(models.TextChoices):
        INTAKE = "intake", _("Real-name check by intake")
        LOGIN_SERVICE = "login_service", _("Verified claim from the city's login service")

    name = models.CharField(pgettext_lazy("of a person", "name"), max_length=100)
    id_type = models.CharField(_("identity document type"), max_length=30, choices=IdType.choices)
    id_encrypted = models.TextField(_("ID number (encrypted)"), editable=False)
    id_hash = models.CharField(max_length=64, unique=True, editable=False)
    id_masked = models.CharField(_("ID number"), max_length=18, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        verbose_name=_("applicant account"),
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification = models.CharField(max_length=20, choices=Verification.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        permissions = [("verify_identity", _("Verify identities and agents' authorisations"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.id_masked})"


class AuthorisationQuerySet(models.QuerySet["Authorisation"]):
    def in_force(self, on: date | None = None) -> AuthorisationQuerySet:
        today = on or timezone.localdate()
        return self.filter(
            in_force_on(today, "valid_from", "valid_until"), status=Authorisation.Status.VERIFIED
        )


class Authorisation(ConcurrentTransitionMixin, models.Model):
    """A written authorisation for an agent to act for a person; it counts once intake verifies it.
    Its status changes only through the transition service, like every legal state."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        REVOKED = "revoked", _("Revoked")

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authorisations"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="authorisations")
    document = models.FileField(_("signed authorisation"), upload_to="authorisations/%Y/")
    scope = models.CharField(_("scope"), max_length=200, blank=True)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = FSMField(max_length=10, choices=Status.choices, default=Status.PENDING, protected=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    objects = AuthorisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("authorisation")
        verbose_name_plural = _("authorisations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="authorisation_dates_ordered",
            ),
            # An agent submits one authorisation per person at a time; another once intake has decided.
            models.UniqueConstraint(
                fields=["agent", "person"],
                condition=models.Q(status="pending"),
                name="authorisation_one_pending_per_agent_and_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} → {self.person}"

    @property
    def number(self) -> str:
        return f"AUTH{self.pk:08d}"

    @transition(
        field=status,
        source=Status.PENDING,
        target=Status.VERIFIED,
        permission=role_perm("credit.verify_identity"),
        custom={"label": _("Verify")},
    )
    def verify(self, *, actor: Any = None, **ctx: Any) -> None:
        self.verified_by = actor
        self.verified_at = timezone.now()

    @transition(
        field=status,
        source=Status.PENDING,
        target=Status.REJECTED,
        permission=role_perm("credit.verify_identity"),
        custom={"label": _("Reject"), "reason_required": True},
    )
    def reject(self, **ctx: Any) -> None:
        pass

    @transition(
        field=status,
        source=Status.VERIFIED,
        target=Status.REVOKED,
        permission=role_perm("credit.verify_identity"),
        custom={"label": _("Revoke"), "reason_required": True},
    )
    def revoke(self, **ctx: Any) -> None:
        pass


def persons_acted_for(user: User) -> Iterable[int]:
    """Ids of the persons a user may act for: their own verified person and verified authorisations.
    Cached on the user object, which lives for one request or one task."""
    cached: list[int] | None = getattr(user, "_acted_for_cache", None)
    if cached is not None:
        return cached
    ids = list(Authorisation.objects.in_force().filter(agent=user).values_list("person_id", flat=True))
    own = Person.objects.filter(user=user).values_list("id", flat=True).first()
    if own is not None:
        ids.append(own)
    if getattr(user, "pk", None) is not None:
        user._acted_for_cache = ids  # type: ignore[attr-defined]
    return ids

"""Letters (文书): each decision with legal effect is served as a signed PDF that anyone can verify.

A letter row is created, with its reference number (文号), in the transaction of the decision it serves;
the PDF is rendered and signed afterwards by a Celery task, and then never changes. A correction is a new
letter that supersedes the old one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from credit.roles import department_perm, nobody


class LetterKind(models.TextChoices):
    REPAIR_NOTICE = "repair_notice", _("Credit repair notice (信用修复告知书)")
    ACCEPTANCE = "acceptance", _("Notice of acceptance (受理通知书)")
    NON_ACCEPTANCE = "non_acceptance", _("Notice of non-acceptance (不予受理通知书)")
    SUPPLEMENT = "supplement", _("Notice to supplement materials (补正材料通知书)")
    EXTENSION = "extension", _("Notice of extension (延期通知书)")
    INTERVIEW = "interview", _("Notice of integrity interview (约谈通知书)")
    REPAIR_DECISION = "repair_decision", _("Credit repair decision (信用修复决定书)")
    REPAIR_REFUSAL = "repair_refusal", _("Decision not to repair (不予修复决定书)")
    REPAIR_REVOCATION = "repair_revocation", _("Decision revoking a credit repair (撤销信用修复决定书)")
    OBJECTION_RESULT = "objection_result", _("Notice of the objection's outcome (异议处理结果告知书)")
    RECONSIDERATION_ACCEPTANCE = (
        "reconsideration_acceptance",
        _("Notice of acceptance of reconsideration (行政复议受理通知书)"),
    )
    RECONSIDERATION_DECISION = "reconsideration_decision", _("Reconsideration decision (行政复议决定书)")


class LetterState(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    ISSUED = "issued", _("Issued")
    SUPERSEDED = "superseded", _("Superseded by a corrected letter")
    REVOKED = "revoked", _("Revoked")


class SigningIdentity(models.Model):
    """A department's signing certificate and seal. Keys stay in files (or an HSM); the database holds only
    where they are, and the name of the environment variable that holds the passphrase."""

    department = models.OneToOneField("credit.Department", on_delete=models.PROTECT, related_name="signing")
    pkcs12_path = models.CharField(
        _("PKCS#12 file"), max_length=500, blank=True, help_text=_("Key, certificate and chain in one file.")
    )
    key_path = models.CharField(_("private key (PEM)"), max_length=500, blank=True)
    cert_path = models.CharField(_("certificate (PEM)"), max_length=500, blank=True)
    chain_path = models.CharField(_("certificate chain (PEM)"), max_length=500, blank=True)
    passphrase_env = models.CharField(
        _("passphrase variable"),
        max_length=100,
        blank=True,
        help_text=_("Name of the environment variable holding the key's passphrase; never the passphrase."),
    )
    seal_image_path = models.CharField(_("seal image (PNG)"), max_length=500)
    signer_text = models.CharField(_("text beside the seal"), max_length=100)
    development_only = models.BooleanField(
        _("development certificate"),
        default=False,
        help_text=_("Made by `make run`; never valid in production."),
    )

    class Meta:
        verbose_name = _("signing identity")
        verbose_name_plural = _("signing identities")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(pkcs12_path="") | (~models.Q(key_path="") & ~models.Q(cert_path="")),
                name="signing_identity_has_a_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} ({self.signer_text})"


class LetterSequence(models.Model):
    """The last reference number given per department and year. Taken under a row lock in the transaction
    that creates the letter, so numbers have no gaps and no duplicates (a rolled-back letter gives its
    number back)."""

    department = models.ForeignKey("credit.Department", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference number sequence")
        verbose_name_plural = _("reference number sequences")
        constraints = [models.UniqueConstraint(fields=["department", "year"], name="uniq_letter_sequence")]

    def __str__(self) -> str:
        return f"{self.department} {self.year}: {self.last_number}"


class LetterQuerySet(models.QuerySet["Letter"]):
    def for_object(self, obj: models.Model) -> LetterQuerySet:
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)


class Letter(ConcurrentTransitionMixin, models.Model):
    kind = models.CharField(_("kind"), max_length=40, choices=LetterKind.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    # What was decided: one letter per object, kind, decision and revision, so a retried or redelivered
    # task can never issue a second one.
    decision = models.CharField(_("decision"), max_length=60)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    person = models.ForeignKey("credit.Person", on_delete=models.PROTECT, related_name="letters")
    department = models.ForeignKey("credit.Department", on_delete=models.PROTECT, related_name="letters")
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence number"))
    reference_number = models.CharField(_("reference number (文号)"), max_length=60, unique=True)
    case_number = models.CharField(_("case or record number"), max_length=40)
    verification_code = models.CharField(_("verification code"), max_length=20, unique=True)
    # Everything the letter says, frozen when it was decided: the PDF (and the English courtesy
    # translation) is rendered from this, never from the live objects, which may change later.
    context = models.JSONField(_("content"), default=dict)
    state = FSMField(
        _("state"), max_length=20, choices=LetterState.choices, default=LetterState.PENDING, protected=True
    )
    file = models.FileField(_("signed PDF"), upload_to="letters/", blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, db_index=True)
    signer_subject = models.CharField(_("signed by"), max_length=300, blank=True)
    timestamped = models.BooleanField(_("timestamped (PAdES B-T)"), default=False)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LetterQuerySet.as_manager()

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "kind", "decision", "revision"],
                name="uniq_letter_per_decision",
            ),
            models.UniqueConstraint(
                fields=["department", "year", "sequence"], name="uniq_letter_sequence_number"
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="letter_subject"),
            models.Index(fields=["state", "created_at"], name="letter_state"),
        ]
        permissions = [
            ("revoke_letter", _("Revoke a letter")),
            ("record_service", _("Record a letter's service")),
        ]

    def __str__(self) -> str:
        return self.reference_number

    @property
    def number(self) -> str:
        return self.reference_number

    @property
    def served_at(self) -> Any:
        first = self.services.order_by("served_at").first()
        return first.served_at if first is not None else None

    @transition(
        field=state,
        source=LetterState.PENDING,
        target=LetterState.ISSUED,
        permission=nobody,
        custom={"label": _("Issued"), "system": True},
    )
    def issue(self, **ctx: Any) -> None:
        self.issued_at = timezone.now()

    @transition(
        field=state,
        source=LetterState.ISSUED,
        target=LetterState.SUPERSEDED,
        permission=nobody,
        custom={"label": _("Superseded"), "system": True},
    )
    def supersede(self, **ctx: Any) -> None:
        pass

    @transition(
        field=state,
        source=LetterState.ISSUED,
        target=LetterState.REVOKED,
        permission=department_perm("letters.revoke_letter"),
        custom={"label": _("Revoke"), "reason_required": True},
    )
    def revoke(self, **ctx: Any) -> None:
        pass


class ServiceMethod(models.TextChoices):
    ELECTRONIC = "electronic", _("Electronic (with the person's consent)")
    IN_PERSON = "in_person", _("In person")
    POST = "post", _("By post")


class ServiceConsent(models.Model):
    """A person's consent to electronic service (电子送达), given in writing or online; withdrawable."""

    person = models.ForeignKey("credit.Person", on_delete=models.PROTECT, related_name="service_consents")
    given_at = models.DateTimeField(_("given at"), default=timezone.now)
    channel = models.CharField(
        _("channel"),
        max_length=100,
        default="portal",
        help_text=_("Where letters are served: the applicant portal."),
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent to electronic service")
        verbose_name_plural = _("consents to electronic service")
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return f"{self.person} {self.given_at:%Y-%m-%d}"


class ServiceRecord(models.Model):
    """How and when a letter was served (送达). Remedy clocks start at the first service."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="services")
    method = models.CharField(_("method"), max_length=20, choices=ServiceMethod.choices)
    served_at = models.DateTimeField(_("served at"))
    receipt = models.CharField(
        _("receipt"),
        max_length=300,
        blank=True,
        help_text=_("The signed receipt, the postal tracking number, or the portal delivery."),
    )
    consent = models.ForeignKey(
        ServiceConsent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        ordering = ["served_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(method="electronic") | models.Q(consent__isnull=False),
                name="electronic_service_needs_consent",
            )
        ]
        # The reminder of the period to apply for reconsideration finds the letters served on given days
        # (objections.reminders), without reading the whole archive.
        indexes = [models.Index(fields=["served_at"], name="service_served_at")]

    def __str__(self) -> str:
        return f"{self.letter} {self.method} {self.served_at:%Y-%m-%d}"

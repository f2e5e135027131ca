"""An account's claim to be a person (实名核验申请): made at sign-up in the portal, or at the intake window,
and decided by intake. Verifying it links the account to the person (credit.services.identity_claims, in
the step's transaction); its status changes only through the transition service, like every legal state."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from credit.identity import IdType
from credit.roles import role_perm

from .people import HoldsIdNumber


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the real-name check")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class IdentityClaim(ConcurrentTransitionMixin, HoldsIdNumber, models.Model):
    """Who the holder of an account says they are: a name and an identity document's number (stored like a
    Person's: encrypted, with its keyed hash and mask), and optionally a scan of the document."""

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online, at sign-up or later in the portal")
        WINDOW = "window", _("At the intake window")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="identity_claims",
        verbose_name=_("applicant account"),
    )
    name = models.CharField(pgettext_lazy("of a person", "name"), max_length=100)
    id_type = models.CharField(_("identity document type"), max_length=30, choices=IdType.choices)
    id_encrypted = models.TextField(_("ID number (encrypted)"), editable=False)
    id_hash = models.CharField(max_length=64, editable=False)
    id_masked = models.CharField(_("ID number"), max_length=18, editable=False)
    # A scan or photo of the document, in private storage: served only to intake, through a checked view.
    document = models.FileField(_("identity document"), upload_to="identity/%Y/", blank=True)
    document_type = models.CharField(max_length=50, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    consent_at = models.DateTimeField(_("consent to the real-name check given at"))
    status = FSMField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING, protected=True)
    person = models.ForeignKey(
        "credit.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="identity_claims",
        verbose_name=_("person"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now)

    class Meta:
        verbose_name = _("identity claim")
        verbose_name_plural = _("identity claims")
        constraints = [
            # One claim waits per account: a new one only after the last is decided (sign-up cannot be
            # used to queue claims for many identities).
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status=ClaimStatus.PENDING),
                name="identity_claim_one_pending_per_account",
            )
        ]
        indexes = [
            # Intake's list: the waiting claims, oldest first, a page at a time.
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(status=ClaimStatus.PENDING),
                name="identity_claim_waiting",
            ),
            models.Index(fields=["id_hash"], name="identity_claim_id_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.user}"

    @property
    def number(self) -> str:
        return f"IDC{self.pk:08d}"

    @transition(
        field=status,
        source=ClaimStatus.PENDING,
        target=ClaimStatus.VERIFIED,
        permission=role_perm("credit.verify_identity"),
        custom={"label": _("Verify")},
    )
    def verify(self, *, actor: Any = None, **ctx: Any) -> None:
        # The account is linked to the person by the step's consequence (identity_claims.on_step), in the
        # same transaction: if the link is refused, the claim stays pending.
        self.decided_by = actor
        self.decided_at = timezone.now()
        self.reason = ""

    @transition(
        field=status,
        source=ClaimStatus.PENDING,
        target=ClaimStatus.REJECTED,
        permission=role_perm("credit.verify_identity"),
        custom={"label": _("Reject"), "reason_required": True},
    )
    def reject(self, *, actor: Any = None, reason: str = "", **ctx: Any) -> None:
        self.decided_by = actor
        self.decided_at = timezone.now()
        self.reason = reason

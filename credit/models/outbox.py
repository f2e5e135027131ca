from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DownstreamEvent(models.Model):
    """A change downstream platforms must learn of (the national site prevails): written in the transaction
    of the change itself (an outbox), delivered later by a relay (a later issue)."""

    class Kind(models.TextChoices):
        REPAIRED = "record.repaired", _("Record repaired: stop display, sharing and use")
        REPAIR_REVOKED = "record.repair_revoked", _("Repair revoked: the record is back")

    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    record = models.ForeignKey(
        "credit.CreditRecord", on_delete=models.PROTECT, related_name="downstream_events"
    )
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("downstream event")
        verbose_name_plural = _("downstream events (outbox)")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_undelivered",
                condition=models.Q(delivered_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id}"

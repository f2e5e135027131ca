"""Complaints (投诉): about how a case was handled or about a staff member's conduct. A complaint goes to the
head of the department concerned, who replies in writing within the city's period (by default the rule
set's 30 days, 征信业管理条例 Art. 26); the applicant reads the reply; auditors see every complaint. The
department's other staff do not: a complaint may be about them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from credit.roles import applicant, department_perm


class ComplaintState(models.TextChoices):
    SUBMITTED = "submitted", _("Received, waiting for the reply")
    REPLIED = "replied", _("Replied")
    WITHDRAWN = "withdrawn", _("Withdrawn")


C = ComplaintState


def _head(complaint: Any, user: Any) -> bool:
    return department_perm("objections.reply_complaint")(complaint, user)


class Complaint(ConcurrentTransitionMixin, models.Model):
    class About(models.TextChoices):
        HANDLING = "handling", _("How a case was handled")
        CONDUCT = "conduct", _("A staff member's conduct")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online, by the applicant")
        WALK_IN = "walk_in", _("At the window, entered by intake")

    number = models.CharField(_("case number"), max_length=30, unique=True, null=True, editable=False)  # noqa: DJ001
    person = models.ForeignKey("credit.Person", on_delete=models.PROTECT, related_name="complaints")
    department = models.ForeignKey(
        "credit.Department",
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("department concerned"),
    )
    about = models.CharField(_("about"), max_length=10, choices=About.choices)
    # The case complained about, if any (a repair, an objection, a reconsideration).
    case_content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case_object_id = models.PositiveBigIntegerField(null=True, blank=True)
    case = GenericForeignKey("case_content_type", "case_object_id")
    staff_named = models.CharField(_("staff member named"), max_length=100, blank=True)
    statement = models.TextField(_("complaint"))
    ruleset = models.ForeignKey(
        "credit.RuleSet", on_delete=models.PROTECT, related_name="+", verbose_name=_("rule set (procedure)")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    state = FSMField(
        _("state"), max_length=20, choices=ComplaintState.choices, default=C.SUBMITTED, protected=True
    )
    reply = models.TextField(_("written reply"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["department", "state", "received_at"], name="complaint_queue"),
            # The staff dashboard (workspace.stats): the complaints replied to, and city-wide received, in a
            # period; as repair.RepairCase's repair_decided and repair_received.
            models.Index(
                fields=["replied_at"], condition=models.Q(replied_at__isnull=False), name="complaint_replied"
            ),
            models.Index(fields=["received_at"], name="complaint_received"),
        ]
        permissions = [("reply_complaint", _("Reply to complaints about the department"))]

    def __str__(self) -> str:
        return self.number or f"complaint #{self.pk}"

    @transition(
        field=state,
        source=C.SUBMITTED,
        target=C.REPLIED,
        permission=_head,
        custom={"label": _("Reply in writing"), "payload": "objections.api.ComplaintReplySerializer"},
    )
    def answer(self, *, actor: Any = None, payload: dict[str, Any], **ctx: Any) -> None:
        self.reply = payload["reply"]
        self.replied_by = actor
        self.replied_at = self.closed_at = timezone.now()

    @transition(
        field=state,
        source=C.SUBMITTED,
        target=C.WITHDRAWN,
        permission=applicant,
        custom={"label": _("Withdraw")},
    )
    def withdraw(self, **ctx: Any) -> None:
        self.closed_at = timezone.now()

"""The staff workspace's own data: internal case notes.

A note is staff-only: it is never shown to the applicant and no API for applicants reads it. It is append-only
(a note that turns out wrong is answered by another note), with its author and time, like the audit rows."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit.models.audit import AppendOnlyModel


class InternalNote(AppendOnlyModel):
    """A staff member's note on an objection, a reconsideration or a complaint (a repair case keeps its notes
    in `repair.CaseNote`, which the repair API already serves to staff)."""

    case_content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    case_object_id = models.PositiveBigIntegerField()
    case = GenericForeignKey("case_content_type", "case_object_id")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["case_content_type", "case_object_id", "created_at"], name="internalnote_case"
            )
        ]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.case_content_type_id}:{self.case_object_id}"

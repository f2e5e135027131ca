"""Where a notification about a case sends its reader: the applicant to the case's page in the portal,
staff to the case file in the workspace. The case services name their own pages; this serves the
notifications raised elsewhere with any subject (letters, deadline reminders, escalations): a case of the
four kinds, or else (a record) the reader's home page. Imported by the notifications at start-up, so it
reads the case kinds only when first asked."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.urls import reverse


@cache
def _slugs() -> dict[type, str]:
    from .selectors import KINDS

    return {kind.model: kind.slug for kind in KINDS.values()}


def applicant_link(subject: Any) -> str:
    slug = _slugs().get(type(subject))
    if slug is None:
        return reverse("portal:home")
    return reverse("portal:case", kwargs={"kind": slug, "pk": subject.pk})


def staff_link(subject: Any) -> str:
    slug = _slugs().get(type(subject))
    if slug is None:
        return reverse("workspace:home")
    return reverse("workspace:case", kwargs={"kind": slug, "pk": subject.pk})

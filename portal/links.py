"""Where a notification about a case sends its reader: the applicant to the case's page in the portal,
staff to the case file in the workspace. The case services name their own pages; this serves the
notifications raised elsewhere with any subject (letters, deadline reminders): a case of the four kinds, or
else (a record) the reader's home page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .selectors import KINDS

_SLUGS = {kind.model: kind.slug for kind in KINDS.values()}


def applicant_link(subject: Any) -> str:
    slug = _SLUGS.get(type(subject))
    if slug is None:
        return reverse("portal:home")
    return reverse("portal:case", kwargs={"kind": slug, "pk": subject.pk})


def staff_link(subject: Any) -> str:
    slug = _SLUGS.get(type(subject))
    if slug is None:
        return reverse("workspace:home")
    return reverse("workspace:case", kwargs={"kind": slug, "pk": subject.pk})

"""Forms over the kernel's own data, shared by the portal and the workspace."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from credit import identity


class IdNumberForm(forms.Form):
    """A form with an identity document's type and number: the number is checked for its type and kept
    normalized (no spaces, a capital X)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("id_type") and data.get("id_number"):
            try:
                data["id_number"] = identity.validate(data["id_type"], data["id_number"])
            except ValidationError as exc:
                self.add_error("id_number", exc)
        return data

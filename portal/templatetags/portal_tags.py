"""Template helpers for the portal's error summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms, template

register = template.Library()


@dataclass(frozen=True)
class ErrorItem:
    anchor: str  # the field's id, for a link that moves the focus to it; "" for a form-wide error
    label: str
    message: str


def _items(form: forms.BaseForm, number: int | None) -> list[ErrorItem]:
    found = [ErrorItem("", "", str(message)) for message in form.non_field_errors()]
    for field in form:
        label = str(field.label)
        if number is not None:
            label = f"{number}. {label}"
        found.extend(ErrorItem(field.id_for_label or "", label, str(message)) for message in field.errors)
    return found


@register.simple_tag
def error_items(*sources: Any) -> list[ErrorItem]:
    """Every error of the given forms and formsets, in page order, for the summary at the top of a page."""
    found: list[ErrorItem] = []
    for source in sources:
        if isinstance(source, forms.BaseFormSet):
            if source.is_bound:
                found.extend(ErrorItem("", "", str(message)) for message in source.non_form_errors())
                for number, form in enumerate(source.forms, start=1):
                    found.extend(_items(form, number))
        elif isinstance(source, forms.BaseForm) and source.is_bound:
            found.extend(_items(source, None))
    return found


@register.simple_tag
def upload_limit_mb() -> int:
    from credit.uploads import max_bytes

    return max_bytes() // (1024 * 1024)

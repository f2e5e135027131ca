"""Forms of the staff queues: the list's filters (GET), the search by an exact ID number (POST, never in a
URL), and giving tasks to a colleague (POST)."""

from __future__ import annotations

from html import escape
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from credit import identity
from credit.identity import IdType
from credit.models.audit import AccessPurpose

from . import queues


class QueueFilterForm(forms.Form):
    """Every field is optional; choices come from the flows and the user's departments, never from the
    queue's rows."""

    kind = forms.ChoiceField(label=_("Case type"), required=False)
    step = forms.ChoiceField(label=_("Step"), required=False)
    state = forms.ChoiceField(label=_("Case state"), required=False)
    department = forms.TypedChoiceField(label=_("Department"), required=False, coerce=int, empty_value=None)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    number = forms.CharField(label=_("Case number"), required=False, max_length=30)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("due", _("Due date")), ("created", _("Oldest first")), ("-created", _("Newest first"))],
    )

    def __init__(self, *args: Any, user: Any, list_name: str, departments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["kind"].choices = everything + queues.kind_choices()  # type: ignore[attr-defined]
        self.fields["step"].choices = everything + queues.step_choices(user, list_name)  # type: ignore[attr-defined]
        self.fields["state"].choices = everything + queues.states_choices()  # type: ignore[attr-defined]
        self.fields["department"].choices = everything + [(d.pk, d.name) for d in departments]  # type: ignore[attr-defined]
        if list_name == queues.ARCHIVE:
            del self.fields["sort"]
            del self.fields["overdue"]

    def options(self, name: str) -> SafeString:
        """The field's <option>s, written here: a widget renders one template per option, which costs more
        than the rest of a queue page."""
        field = self.fields[name]
        value = self[name].value()
        current = str(value if value is not None else "")
        return mark_safe(  # noqa: S308  (values and labels escaped, as a template would)
            "".join(
                f'<option value="{escape(str(choice))}"{" selected" if str(choice) == current else ""}>'
                f"{escape(str(label))}</option>"
                for choice, label in getattr(field, "choices", [])
            )
        )

    def clean_number(self) -> str:
        return "".join(str(self.cleaned_data.get("number") or "").split()).upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, state = data.get("kind"), data.get("state")
        if kind and state and state.partition(":")[0] != kind:
            self.add_error("state", _("This state belongs to another case type."))
        step = data.get("step")
        if kind and step and not any(s.ref == step and s.kind.slug == kind for s in queues.steps()):
            self.add_error("step", _("This step belongs to another case type."))
        return data

    def filters(self, person: int | None = None) -> queues.Filters:
        data = self.cleaned_data if self.is_valid() else {}
        return queues.Filters(
            kind=data.get("kind") or "",
            step=data.get("step") or "",
            state=data.get("state") or "",
            department=data.get("department"),
            overdue=bool(data.get("overdue")),
            number=data.get("number") or "",
            person=person,
        )

    @property
    def sort_order(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else "") or "due"


def id_type_of(number: str) -> str:
    """The document type an 18-character number belongs to, from its leading code (the types share the
    check character; credit.identity validates each)."""
    value = identity.normalize(number)
    if value.startswith(("81", "82", "83")):
        return IdType.HMT_PERMIT
    if value.startswith("9"):
        return IdType.FOREIGN_PERMANENT
    return IdType.RESIDENT


class PersonSearchForm(forms.Form):
    """Find a person's tasks by their whole ID number (exact match on its keyed hash; never a part of it),
    saying why: the search is logged in the data-access log."""

    id_number = forms.CharField(
        label=_("ID number (all 18 characters)"),
        min_length=18,
        max_length=24,  # spaces or dashes typed between groups are dropped
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=[("", "—")]
        + [(value, label) for value, label in AccessPurpose.choices if value != AccessPurpose.CASE],
    )
    note = forms.CharField(label=_("Note (required for “other”)"), required=False, max_length=200)

    def clean_id_number(self) -> str:
        number = self.cleaned_data["id_number"]
        return identity.validate(id_type_of(number), number)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("purpose") == AccessPurpose.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", ValidationError(_("Explain the purpose in a note when it is “other”.")))
        return data


class AssignForm(forms.Form):
    """Give one or more tasks (the checked rows, or one row's) to a colleague. Any task id is accepted here:
    the service checks each against the user's scope and the rules, and gives all or none."""

    to = forms.IntegerField(label=_("Colleague"), min_value=1)
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = self.data.getlist("tasks") if hasattr(self.data, "getlist") else []
        if not raw:
            raise ValidationError(_("Select at least one task."))
        if len(raw) > queues.MAX_PAGE_SIZE or not all(str(value).isdigit() for value in raw):
            raise ValidationError(
                _("Select between 1 and %(n)d tasks of the list."), params={"n": queues.MAX_PAGE_SIZE}
            )
        data["tasks"] = list(dict.fromkeys(int(value) for value in raw))
        return data

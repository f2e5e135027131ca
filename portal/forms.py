"""The applicant's forms. They check what a person can get wrong in a browser (a missing field, a file that is
too big or of the wrong type) and say why; the services behind them decide everything the law decides."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from credit.models import Department, Person
from credit.uploads import clean_upload, max_bytes
from objections.models import Complaint
from repair.models import EvidenceKind

STATEMENT_MAX = 5000  # repair.api.FileSerializer's limit, the shorter of the two filings'
MAX_FILES = 10


def _textarea(rows: int = 6) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class FileInput(forms.ClearableFileInput):
    """A file input that tells the browser what the server accepts (the server still judges the content)."""

    def __init__(self) -> None:
        super().__init__(
            attrs={
                "accept": ".pdf,.jpg,.jpeg,.png,.heic,.heif,application/pdf,image/jpeg,image/png,image/heic",
                "data-max-bytes": str(max_bytes()),
            }
        )


class UploadForm(forms.Form):
    """One file with its description; the file is checked from its content (credit.uploads) before any
    case is written, so a refusal says why and nothing is stored."""

    file = forms.FileField(label=_("File"), required=False, widget=FileInput())
    description = forms.CharField(label=_("What it shows"), max_length=300, required=False)

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload:
            clean_upload(upload)  # raises ValidationError with the reason the applicant reads
        return upload


class RepairEvidenceForm(UploadForm):
    kind = forms.ChoiceField(label=_("Kind of evidence"), choices=EvidenceKind.choices, required=False)
    hours = forms.DecimalField(
        label=_("Certified volunteer hours"), max_digits=6, decimal_places=1, min_value=0, required=False
    )
    amount = forms.DecimalField(
        label=_("Amount donated (yuan)"), max_digits=12, decimal_places=2, min_value=0, required=False
    )

    def __init__(self, *args: Any, kinds: list[tuple[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kinds is not None:
            cast(forms.ChoiceField, self.fields["kind"]).choices = kinds
        self.order_fields(["file", "kind", "hours", "amount", "description"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("file"):
            return data
        kind = data.get("kind")
        if not kind:
            self.add_error("kind", _("Say what the file is."))
        elif kind == EvidenceKind.VOLUNTEER and not data.get("hours"):
            self.add_error("hours", _("A volunteer service certificate needs its certified hours."))
        elif kind == EvidenceKind.CHARITY and not data.get("amount"):
            self.add_error("amount", _("A donation receipt needs its amount."))
        return data


class BaseUploadFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def uploads(self) -> list[dict[str, Any]]:
        """The rows with a file, in order (empty rows are skipped)."""
        return [form.cleaned_data for form in self.forms if form.cleaned_data.get("file")]


def _upload_formset(form: type[forms.Form]) -> Any:
    return forms.formset_factory(
        form, formset=BaseUploadFormSet, extra=3, max_num=MAX_FILES, validate_max=True, absolute_max=MAX_FILES
    )


RepairEvidenceFormSet = _upload_formset(RepairEvidenceForm)
ObjectionEvidenceFormSet = _upload_formset(UploadForm)


# -- the wizards' steps ------------------------------------------------------------------------------------
class ChoiceStepForm(forms.Form):
    """A choice among the targets the page lists (the template renders them with their explanations)."""

    choice = forms.ChoiceField(widget=forms.RadioSelect)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], label: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["choice"]).choices = choices
        self.fields["choice"].label = label
        self.fields["choice"].error_messages["invalid_choice"] = _("Choose one of the items listed.")
        self.fields["choice"].error_messages["required"] = _("Choose one of the items listed.")


class GroundsForm(forms.Form):
    grounds = forms.MultipleChoiceField(
        label=_("Grounds of the objection"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one ground.")},
    )

    def __init__(self, *args: Any, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["grounds"]).choices = choices


class ObjectionStatementForm(forms.Form):
    statement = forms.CharField(
        label=_("What is wrong, and why"),
        max_length=10000,
        widget=_textarea(8),
        help_text=_(
            "Name the facts you dispute and what you know about them; add evidence in the next step."
        ),
    )

    def clean_statement(self) -> str:
        return _not_blank(self.cleaned_data["statement"])


class RepairStatementForm(forms.Form):
    statement = forms.CharField(
        label=_("How the conduct was corrected and the obligations performed"),
        max_length=STATEMENT_MAX,
        widget=_textarea(8),
    )
    duty_fulfilled_on = forms.DateField(
        label=_("Date the legal duty was fulfilled"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("For a minor record: the day you paid the fine or otherwise performed the duty."),
    )

    def __init__(self, *args: Any, needs_duty_date: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs_duty_date = needs_duty_date
        if needs_duty_date:
            self.fields["duty_fulfilled_on"].required = True
        else:
            del self.fields["duty_fulfilled_on"]

    def clean_statement(self) -> str:
        return _not_blank(self.cleaned_data["statement"])


class CommitmentForm(forms.Form):
    sign = forms.BooleanField(
        label=_("I have read the credit commitment above, and I sign it."),
        error_messages={"required": _("A credit repair needs the signed credit commitment.")},
    )


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValidationError(_("This field is required."), code="required")
    return value.strip()


# -- actions on a case -------------------------------------------------------------------------------------
class SupplementNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the department (optional)"), max_length=2000, required=False, widget=_textarea(3)
    )


class WithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I withdraw this application. I understand that the case ends here."),
        error_messages={"required": _("Tick the box to confirm the withdrawal.")},
    )
    reason = forms.CharField(
        label=_("Reason (optional)"), max_length=2000, required=False, widget=_textarea(3)
    )


class ReconsiderationForm(forms.Form):
    request = forms.CharField(
        label=_("What you ask the reconsideration office to do"),
        max_length=2000,
        widget=_textarea(3),
        help_text=_("For example: set aside the decision not to repair my record."),
    )
    statement = forms.CharField(label=_("Facts and reasons"), max_length=10000, widget=_textarea(8))
    knew_on = forms.DateField(
        label=_("The day you learned of the decision"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The period of 60 days counts from this day."),
    )

    def __init__(self, *args: Any, served: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if served:  # the period runs from the service, which the system knows
            del self.fields["knew_on"]

    def clean_request(self) -> str:
        return _not_blank(self.cleaned_data["request"])

    def clean_statement(self) -> str:
        return _not_blank(self.cleaned_data["statement"])


class ComplaintForm(forms.Form):
    about = forms.ChoiceField(
        label=_("The complaint is about"), choices=Complaint.About.choices, widget=forms.RadioSelect
    )
    staff_named = forms.CharField(
        label=_("Staff member (name or number, if known)"), max_length=100, required=False
    )
    statement = forms.CharField(label=_("What happened"), max_length=10000, widget=_textarea(8))
    department = forms.ModelChoiceField(
        label=_("Department concerned"), queryset=Department.objects.none(), required=False
    )
    person = forms.ModelChoiceField(
        label=_("Complaint made for"), queryset=Person.objects.none(), required=False
    )

    def __init__(self, *args: Any, with_case: bool, persons: list[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_case:  # the case names the department and the person
            del self.fields["department"]
            del self.fields["person"]
            return
        # Without a case a complaint is about a staff member's conduct in a department.
        cast(forms.ChoiceField, self.fields["about"]).choices = [
            (Complaint.About.CONDUCT, Complaint.About.CONDUCT.label)
        ]
        self.fields["about"].initial = Complaint.About.CONDUCT
        department = self.fields["department"]
        department.queryset = Department.objects.filter(kind=Department.Kind.DECIDING).order_by("name")  # type: ignore[attr-defined]
        department.required = True
        if len(persons) > 1:
            person = self.fields["person"]
            person.queryset = Person.objects.filter(pk__in=[p.pk for p in persons])  # type: ignore[attr-defined]
            person.required = True
        else:
            del self.fields["person"]

    def clean_statement(self) -> str:
        return _not_blank(self.cleaned_data["statement"])

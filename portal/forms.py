"""The applicant's forms. They check what a person can get wrong in a browser (a missing field, a file that is
too big or of the wrong type) and say why; the services behind them decide everything the law decides."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from credit.forms import IdNumberForm
from credit.identity import IdType
from credit.models import Department, Person, User
from credit.services.identity_claims import normalize_mobile
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


def _checked(upload: Any) -> Any:
    """The upload, once its content is checked (credit.uploads): a refusal says why, and nothing is stored."""
    if upload:
        clean_upload(upload)
    return upload


class UploadForm(forms.Form):
    """One file with its description; the file is checked from its content (credit.uploads) before any
    case is written, so a refusal says why and nothing is stored."""

    file = forms.FileField(label=_("File"), required=False, widget=FileInput())
    description = forms.CharField(label=_("What it shows"), max_length=300, required=False)

    def clean_file(self) -> Any:
        return _checked(self.cleaned_data.get("file"))


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


# -- the account: sign-up, the identity claimed, an agent's authorisation ----------------------------------
def _id_number_input() -> forms.TextInput:
    attrs = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
    return forms.TextInput(attrs=attrs)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClaimForm(IdNumberForm):
    """The identity an account claims: checked here for what a person can mistype (the number's length,
    check character and birth date; the document's size and type); intake checks it against the document."""

    name = forms.CharField(
        label=_("Full name"),
        max_length=100,
        help_text=_("As written on your identity document."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    id_type = forms.ChoiceField(label=_("Identity document"), choices=IdType.choices, initial=IdType.RESIDENT)
    id_number = forms.CharField(
        label=_("ID number (all 18 characters)"),
        max_length=30,
        widget=_id_number_input(),
        help_text=_("The whole number: your records are found by it exactly, never by a part of it."),
    )
    document = forms.FileField(
        label=_("Photo or scan of the identity document (optional)"),
        required=False,
        widget=FileInput(),
        help_text=_(
            "Both sides, readable. With it intake may check your claim without your coming to the window; "
            "PDF, JPEG, PNG or a HEIC/HEIF photo from a phone."
        ),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that my name, ID number and the document are used to check my identity (real-name "
            "check) and to link this account to my credit records."
        ),
        error_messages={"required": _("The real-name check needs your consent.")},
    )

    def clean_name(self) -> str:
        return _not_blank(self.cleaned_data["name"])

    def clean_document(self) -> Any:
        return _checked(self.cleaned_data.get("document"))


class SignUpForm(ClaimForm, UserCreationForm):  # type: ignore[misc]
    """A new account (username, password by Django's validators, mobile phone) and the identity it claims."""

    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("For the notifications about your account and your cases (SMS)."),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)

    field_order = [
        "username",
        "password1",
        "password2",
        "phone",
        "name",
        "id_type",
        "id_number",
        "document",
        "consent",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(autocomplete="username", autocapitalize="none")

    def clean_phone(self) -> str:
        return normalize_mobile(self.cleaned_data["phone"])


class AuthorisationForm(IdNumberForm):
    """An agent's written authorisation: whom they act for (name and exact ID number), in what and for how
    long, and the signed document."""

    name = forms.CharField(
        label=_("Name of the person you act for"),
        max_length=100,
        help_text=_("As written on their identity document."),
    )
    id_type = forms.ChoiceField(
        label=_("Their identity document"), choices=IdType.choices, initial=IdType.RESIDENT
    )
    id_number = forms.CharField(
        label=_("Their ID number (all 18 characters)"), max_length=30, widget=_id_number_input()
    )
    scope = forms.CharField(
        label=_("What you may do for them"),
        max_length=200,
        help_text=_("As the signed document says, e.g. apply for credit repair and receive the letters."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=_date_input())
    valid_until = forms.DateField(
        label=_("Valid until (optional)"),
        required=False,
        widget=_date_input(),
        help_text=_("Leave empty if the document gives no end date."),
    )
    document = forms.FileField(
        label=_("The signed authorisation (PDF, JPEG, PNG or a phone photo)"),
        widget=FileInput(),
        help_text=_("Signed by the person you act for; intake compares it with their identity document."),
    )
    declaration = forms.BooleanField(
        label=_("I declare that the person named signed this authorisation and that what I give is true."),
        error_messages={"required": _("Tick the box to make the declaration.")},
    )

    def clean_name(self) -> str:
        return _not_blank(self.cleaned_data["name"])

    def clean_scope(self) -> str:
        return _not_blank(self.cleaned_data["scope"])

    def clean_document(self) -> Any:
        return _checked(self.cleaned_data.get("document"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The authorisation cannot end before it begins."))
        return data

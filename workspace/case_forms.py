"""Forms of the case file, the approval screen, the head's screens and walk-in filing. A legal step's form is
the workflow pages' `StepForm`, for one step: its fields come from the step's payload serializer, and the
step's own serializer validates them again in `perform_transition`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from credit.api.serializers import AmendmentSerializer
from credit.forms import IdNumberForm
from credit.identity import IdType
from credit.models import CreditRecord
from credit.workflow import StepForm, _form_field, payload_serializer
from objections.models import Ground
from repair.models import EvidenceKind

from .case_services import MAX_NOTE_CHARS

CORRECTION_PREFIX = "corrections__"


def _input_for(field: serializers.Field) -> forms.Field:
    """Like the workflow pages' fields, with a date picker and a number input where the payload says so."""
    label = field.label or (field.field_name or "").replace("_", " ").capitalize()
    if isinstance(field, serializers.DateField):
        return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))
    if isinstance(field, serializers.IntegerField):
        return forms.IntegerField(
            label=label, required=False, min_value=field.min_value, max_value=field.max_value
        )
    return _form_field(field)


class CaseStepForm(StepForm):
    """One legal step on the case file. A draft's corrections (a dictionary in the payload) are asked as one
    input per correctable field of the record, each left empty to keep the field as it is."""

    def __init__(self, *args: Any, case: Any, step: str, **kwargs: Any) -> None:
        super().__init__(*args, case=case, steps=[step], **kwargs)
        step_field = self.fields["step"]
        step_field.widget = forms.HiddenInput()
        step_field.initial = step
        self.step_name = step
        self.step_label = self.step_labels.get(step, step)
        self.correction_fields: list[str] = []
        serializer = payload_serializer(type(case), step)
        if serializer is None:
            return
        for name, field in serializer().fields.items():
            if isinstance(field, serializers.DictField) and name == "corrections":
                del self.fields[name]
                for record_field, amend in AmendmentSerializer().fields.items():
                    verbose = CreditRecord._meta.get_field(record_field).verbose_name
                    form_field = _input_for(amend)
                    form_field.label = _("Corrected %(field)s") % {"field": verbose}
                    form_field.help_text = _("Leave empty to keep it as it is.")
                    self.fields[CORRECTION_PREFIX + record_field] = form_field
                    self.correction_fields.append(record_field)
            elif name in self.fields and not isinstance(
                field, serializers.ListField | serializers.ChoiceField
            ):
                self.fields[name] = _input_for(field)

    def payload(self) -> dict[str, Any] | None:
        data = super().payload()
        if self.correction_fields:
            corrections = {}
            for name in self.correction_fields:
                value = self.cleaned_data.get(CORRECTION_PREFIX + name)
                if value not in (None, ""):
                    corrections[name] = value
            data = data or {}
            if corrections:
                data["corrections"] = corrections
        return data


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("New note"), max_length=MAX_NOTE_CHARS, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, applicant_notes: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if applicant_notes:
            # Only a repair case keeps notes that may be shown to the applicant (repair.CaseNote).
            self.fields["for_applicant"] = forms.BooleanField(
                label=_("Show this note to the applicant"), required=False
            )


class DecisionWithReasonForm(forms.Form):
    """A `decision` and a `reason` that the negative decision (`needs_reason`) must give: the person it
    affects is told why. Subclasses declare both fields and the error `missing_reason`."""

    needs_reason: str
    missing_reason: Any

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == self.needs_reason and not (data.get("reason") or "").strip():
            self.add_error("reason", self.missing_reason)
        return data


class ApprovalForm(DecisionWithReasonForm):
    APPROVE, RETURN = "approve", "return"
    needs_reason, missing_reason = RETURN, _("Say why the draft is returned: the drafter needs it.")
    decision = forms.ChoiceField(
        label=_("Your decision"),
        choices=[(APPROVE, _("Approve")), (RETURN, _("Return with reasons"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reasons or comments"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required when you return the draft."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reasons"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class VerifyEvidenceForm(DecisionWithReasonForm):
    ACCEPT, REJECT = "accept", "reject"
    needs_reason, missing_reason = REJECT, _("Say why the evidence is rejected: the applicant sees it.")
    decision = forms.ChoiceField(
        label=_("The evidence is"),
        choices=[(ACCEPT, _("Accepted")), (REJECT, _("Rejected"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Why it is rejected (the applicant sees this)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class InterviewForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label=_("Time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    online_link = forms.URLField(label=_("Online link"), required=False, assume_scheme="https")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("place") or data.get("online_link")) and not self.errors:
            raise ValidationError(_("Give the place or the online link of the interview."))
        return data


class InterviewOutcomeForm(forms.Form):
    HELD, MISSED = "held", "missed"
    outcome = forms.ChoiceField(
        label=_("The interview was"),
        choices=[(HELD, _("Held")), (MISSED, _("Missed"))],
        widget=forms.RadioSelect,
    )
    minutes = forms.CharField(
        label=_("Minutes"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Required when the interview was held."),
    )


class ReassignForm(forms.Form):
    to = forms.ChoiceField(label=_("Give the task to"))
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, candidates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {str(user.pk): user for user in candidates}
        field = self.fields["to"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—")] + [
            (str(user.pk), user.get_full_name() or user.get_username()) for user in candidates
        ]

    def clean_to(self) -> Any:
        user = self.candidates.get(self.cleaned_data["to"])
        if user is None:
            raise ValidationError(_("Choose someone who may work this task."))
        return user


# -- walk-in filing ------------------------------------------------------------------------------------------
class IdentityForm(IdNumberForm):
    """The person at the counter, by the exact number of the identity document they show."""

    id_type = forms.ChoiceField(label=_("Identity document"), choices=IdType.choices, initial=IdType.RESIDENT)
    id_number = forms.CharField(
        label=_("ID number (all 18 characters)"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
    )


class _WalkInForm(forms.Form):
    signed_form = forms.FileField(
        label=_("Scanned signed form (PDF, JPEG or PNG)"),
        help_text=_("The form the person signed at the counter."),
    )
    evidence = forms.FileField(label=_("Evidence (optional)"), required=False)
    evidence_description = forms.CharField(label=_("What the evidence shows"), max_length=300, required=False)


class WalkInObjectionForm(_WalkInForm):
    target = forms.ChoiceField(label=_("Objection to"))
    grounds = forms.MultipleChoiceField(
        label=_("Grounds"), choices=Ground.choices, widget=forms.CheckboxSelectMultiple
    )
    statement = forms.CharField(
        label=_("What is wrong and why"), max_length=10000, widget=forms.Textarea(attrs={"rows": 5})
    )

    field_order = ["target", "grounds", "statement", "signed_form", "evidence", "evidence_description"]

    def __init__(self, *args: Any, records: list[Any], decisions: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = [("", "—")]
        choices += [(f"record:{r.pk}", _("Record %(number)s") % {"number": r.number}) for r in records]
        choices += [
            (f"repair:{c.pk}", _("The decision on repair %(number)s") % {"number": c.number})
            for c in decisions
        ]
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = choices


class WalkInRepairForm(_WalkInForm):
    record = forms.ChoiceField(label=_("Record to repair"))
    statement = forms.CharField(
        label=_("How the conduct was corrected and the obligations performed"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    duty_fulfilled_on = forms.DateField(
        label=_("Legal duty fulfilled on (minor records)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    commitment_accepted = forms.BooleanField(
        label=_("The person signed the credit commitment (信用承诺书)"), required=True
    )
    evidence_kind = forms.ChoiceField(
        label=_("Kind of evidence"), choices=EvidenceKind.choices, initial=EvidenceKind.PERFORMANCE
    )
    hours = forms.DecimalField(label=_("Volunteer hours"), required=False, max_digits=6, decimal_places=1)
    amount = forms.DecimalField(label=_("Donation (yuan)"), required=False, max_digits=12, decimal_places=2)

    field_order = [
        "record",
        "statement",
        "duty_fulfilled_on",
        "commitment_accepted",
        "signed_form",
        "evidence",
        "evidence_kind",
        "hours",
        "amount",
        "evidence_description",
    ]

    def __init__(self, *args: Any, records: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        record = self.fields["record"]
        assert isinstance(record, forms.ChoiceField)
        record.choices = [("", "—")] + [
            (str(r.pk), _("Record %(number)s") % {"number": r.number}) for r in records
        ]

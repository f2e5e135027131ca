"""Recording the service (送达) of a case's letter, from the staff case file's letters:
/staff/cases/<kind>/<pk>/letters/<letter_pk>/service/.

The case is looked up in the user's scope (404 outside it) and the letter must be that case's. Staff who
record service (letters.record_service: intake and the department's officers) get the form; others 403.
`letters.services.record_service` checks the department, the letter's state, the date and the receipt (or
the consent, for electronic service) again; a refusal is shown and nothing is written. Opening the page is
written to the data-access log with the case as its purpose."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from credit.roles import may
from credit.services.transitions import TransitionError
from letters.models import Letter, ServiceMethod
from letters.services import record_service

from .case_views import CaseMixin, refusal_status

RECORD_PERM = "letters.record_service"


class ServiceForm(forms.Form):
    method = forms.ChoiceField(
        label=gettext_lazy("How it was served"), choices=ServiceMethod.choices, widget=forms.RadioSelect
    )
    served_at = forms.DateTimeField(
        label=gettext_lazy("Served at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    receipt = forms.CharField(
        label=gettext_lazy("Receipt"),
        required=False,
        max_length=300,
        help_text=gettext_lazy(
            "In person: who signed for it. By post: the postal tracking number. Electronic: leave empty."
        ),
    )


class LetterServiceView(CaseMixin, View):
    template_name = "workspace/extra/service.html"

    def allowed(self, request: HttpRequest) -> None:
        if not may(self.user, RECORD_PERM):
            raise PermissionDenied

    def get_letter(self, case: Any) -> Letter:
        letter = (
            Letter.objects.filter(
                pk=self.kwargs["letter_pk"], content_type=self.kind.content_type(), object_id=case.pk
            )
            .select_related("department")
            .first()
        )
        if letter is None:
            raise Http404
        return letter

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = self.get_case()
        letter = self.get_letter(case)
        self.log_view(case)
        return render(request, self.template_name, self.context(case, letter, ServiceForm()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = self.get_case()
        letter = self.get_letter(case)
        form = ServiceForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                record_service(
                    letter=letter,
                    method=form.cleaned_data["method"],
                    served_at=form.cleaned_data["served_at"],
                    receipt=form.cleaned_data.get("receipt") or "",
                    actor=self.user,
                )
            except TransitionError as exc:
                messages.error(request, exc.message)
                status = refusal_status(exc)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("The service of the letter was recorded."))
                return HttpResponseRedirect(self.case_url(case) + "#letters-title")
        self.log_view(case)
        return render(request, self.template_name, self.context(case, letter, form), status=status)

    def context(self, case: Any, letter: Letter, form: ServiceForm) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "case": case,
            "letter": letter,
            "services": list(letter.services.select_related("recorded_by")),
            "form": form,
        }

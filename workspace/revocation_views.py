"""Revoking a granted repair (撤销信用修复, Order 36 Art. 25) from the staff case file:
/staff/cases/repair/<pk>/revocations/ lists the case's revocations and lets the department's case officer
propose one; /staff/cases/repair/<pk>/revocations/<revocation_pk>/ is where another legal reviewer of the
department approves or rejects it.

The case is looked up in the user's scope (404 outside it). Only staff who handle or review repairs get in
(others 403). `repair.services.open_revocation` and `perform_transition` check the department, the state and
four-eyes again; a refusal is shown as a message and nothing is written. Each page is written to the
data-access log with the case as its purpose."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from credit.roles import department_perm, may
from credit.selectors import scoped
from credit.services.transitions import TransitionError, allowed_transitions, perform_transition
from repair.models import RepairRevocation, RevocationState
from repair.services import open_revocation

from .case_forms import DecisionWithReasonForm
from .case_views import CaseMixin, refusal_status

HANDLE, REVIEW = "repair.handle_repair", "repair.review_repair"


class ProposeForm(forms.Form):
    ground = forms.ChoiceField(
        label=gettext_lazy("Ground"), choices=RepairRevocation.Ground.choices, widget=forms.RadioSelect
    )
    facts = forms.CharField(
        label=gettext_lazy("Facts and evidence"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("What was found, and where the evidence is."),
    )


class DecideForm(DecisionWithReasonForm):
    needs_reason, missing_reason = "reject", gettext_lazy("Give the reason for the rejection.")
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("approve", gettext_lazy("Approve the revocation")),
            ("reject", gettext_lazy("Reject the revocation")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required when you reject the revocation."),
    )


class RevocationMixin(CaseMixin):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if kwargs.get("kind") != "repair":
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def allowed(self, request: HttpRequest) -> None:
        if not (may(self.user, HANDLE) or may(self.user, REVIEW)):
            raise PermissionDenied

    def revocations_url(self, case: Any) -> str:
        return reverse("workspace:revocations", kwargs={"kind": "repair", "pk": case.pk})


class RevocationsView(RevocationMixin, View):
    template_name = "workspace/extra/revocations.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = self.get_case()
        self.log_view(case)
        return render(request, self.template_name, self.context(case, ProposeForm()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = self.get_case()
        form = ProposeForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                open_revocation(
                    case=case,
                    ground=form.cleaned_data["ground"],
                    facts=form.cleaned_data["facts"],
                    actor=self.user,
                )
            except TransitionError as exc:
                messages.error(request, exc.message)
                status = refusal_status(exc)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("The revocation was proposed; the legal reviewer decides."))
                return HttpResponseRedirect(self.revocations_url(case))
        self.log_view(case)
        return render(request, self.template_name, self.context(case, form), status=status)

    def may_propose(self, case: Any, revocations: list[Any]) -> bool:
        return (
            case.state == "repaired"
            and department_perm(HANDLE)(case, self.user)
            and not any(r.state == RevocationState.PROPOSED for r in revocations)
        )

    def context(self, case: Any, form: ProposeForm) -> dict[str, Any]:
        revocations = list(
            case.revocations.select_related("opened_by", "decided_by", "new_record").order_by(
                "-opened_at", "-id"
            )
        )
        return {
            "kind": self.kind,
            "case": case,
            "revocations": revocations,
            "form": form if self.may_propose(case, revocations) else None,
        }


class RevocationDecisionView(RevocationMixin, View):
    template_name = "workspace/extra/revocation.html"

    def get_revocation(self, case: Any) -> RepairRevocation:
        found = (
            scoped(self.user, RepairRevocation.objects.all())
            .select_related("opened_by", "decided_by", "new_record")
            .filter(pk=self.kwargs["revocation_pk"], case=case)
            .first()
        )
        if found is None:
            raise Http404
        return found

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = self.get_case()
        revocation = self.get_revocation(case)
        self.log_view(case)
        return render(request, self.template_name, self.context(case, revocation, DecideForm()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = self.get_case()
        revocation = self.get_revocation(case)
        form = DecideForm(request.POST)
        status = 422
        if form.is_valid():
            decision = form.cleaned_data["decision"]
            try:
                perform_transition(
                    revocation,
                    decision,
                    actor=self.user,
                    reason=form.cleaned_data.get("reason", ""),
                    visible=scoped(self.user, RepairRevocation.objects.all()),
                )
            except TransitionError as exc:
                messages.error(request, exc.message)
                status = refusal_status(exc)
            else:
                if decision == "approve":
                    messages.success(request, _("The revocation was approved: the repair is revoked."))
                else:
                    messages.success(request, _("The revocation was rejected."))
                return HttpResponseRedirect(self.revocations_url(case))
        revocation.refresh_from_db()
        self.log_view(case)
        return render(request, self.template_name, self.context(case, revocation, form), status=status)

    def context(self, case: Any, revocation: RepairRevocation, form: DecideForm) -> dict[str, Any]:
        allowed = set(allowed_transitions(revocation, self.user))
        return {
            "kind": self.kind,
            "case": case,
            "revocation": revocation,
            "form": form if {"approve", "reject"} & allowed else None,
        }

"""Intake's verification of agents' authorisations (/staff/authorisations/): the authorisations waiting for
verification, city-wide, and one authorisation's page, where intake verifies or rejects it.

Only staff who verify identities (credit.verify_identity: intake) get in; others get 403, a signed-out visitor
the login page. The step goes through `perform_transition`, which checks the state and the permission again
under a row lock and logs it; a refusal is shown as a message and changes nothing. Every page that shows a
person's name is written to the data-access log with the purpose "identity check"."""

from __future__ import annotations

import mimetypes
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from credit.models import AccessLog, Authorisation
from credit.models.audit import AccessPurpose
from credit.roles import may
from credit.services.access import Purpose, log_access
from credit.services.transitions import TransitionError, allowed_transitions, perform_transition
from portal.responses import private_file

from .case_forms import DecisionWithReasonForm
from .case_views import StaffMixin, refusal_status

PAGE_SIZE = 25
VERIFY_PERM = "credit.verify_identity"


class DecisionForm(DecisionWithReasonForm):
    needs_reason, missing_reason = "reject", gettext_lazy("Give the reason for the rejection.")
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("verify", gettext_lazy("Verify")), ("reject", gettext_lazy("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required when you reject: the applicant is told why."),
    )


class IntakeMixin(StaffMixin):
    def allowed(self, request: HttpRequest) -> None:
        if not may(self.user, VERIFY_PERM):
            raise PermissionDenied

    def log(self, person_ids: list[int], action: str) -> None:
        log_access(
            user=self.user,
            person_ids=person_ids,
            action=action,
            purpose=Purpose(AccessPurpose.IDENTITY_CHECK),
            path=self.request.path,
        )

    def get_authorisation(self, pk: int) -> Authorisation:
        found = Authorisation.objects.select_related("agent", "person", "verified_by").filter(pk=pk).first()
        if found is None:
            raise Http404
        return found


class AuthorisationListView(IntakeMixin, View):
    """Authorisations waiting for verification, oldest first, a page at a time."""

    def get(self, request: HttpRequest) -> HttpResponse:
        pending = (
            Authorisation.objects.filter(status=Authorisation.Status.PENDING)
            .select_related("agent", "person")
            .order_by("valid_from", "id")
        )
        page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        self.log([row.person_id for row in rows], AccessLog.Action.LIST)
        return render(request, "workspace/extra/authorisations.html", {"page": page, "rows": rows})


class AuthorisationView(IntakeMixin, View):
    """One authorisation: who acts for whom, in what scope and for how long, the signed document; verify or
    reject it while it waits."""

    template_name = "workspace/extra/authorisation.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        authorisation = self.get_authorisation(pk)
        self.log([authorisation.person_id], AccessLog.Action.VIEW)
        return render(request, self.template_name, self.context(authorisation, DecisionForm()))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        authorisation = self.get_authorisation(pk)
        form = DecisionForm(request.POST)
        status = 422
        if form.is_valid():
            decision = form.cleaned_data["decision"]
            try:
                perform_transition(
                    authorisation,
                    decision,
                    actor=self.user,
                    reason=form.cleaned_data.get("reason", ""),
                    visible=Authorisation.objects.all(),
                )
            except TransitionError as exc:
                messages.error(request, exc.message)
                status = refusal_status(exc)
            else:
                if decision == "verify":
                    messages.success(request, _("The authorisation was verified."))
                else:
                    messages.success(request, _("The authorisation was rejected."))
                return HttpResponseRedirect(reverse("workspace:authorisations"))
        authorisation.refresh_from_db()
        self.log([authorisation.person_id], AccessLog.Action.VIEW)
        return render(request, self.template_name, self.context(authorisation, form), status=status)

    def context(self, authorisation: Authorisation, form: DecisionForm) -> dict[str, Any]:
        allowed = allowed_transitions(authorisation, self.user)
        return {
            "authorisation": authorisation,
            "form": form if {"verify", "reject"} & set(allowed) else None,
        }


class AuthorisationDocumentView(IntakeMixin, View):
    """The signed authorisation, as uploaded."""

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        authorisation = self.get_authorisation(pk)
        if not authorisation.document:
            raise Http404
        self.log([authorisation.person_id], AccessLog.Action.VIEW)
        name = (authorisation.document.name or "").rsplit("/", 1)[-1]
        try:
            handle = authorisation.document.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        # Served like every stored file of a person: not cached, not sniffed, never run as a page.
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return private_file(handle, content_type=content_type, name=name)

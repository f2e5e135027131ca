"""Intake's real-name checks (/staff/identities/): the accounts waiting to be linked to a person, oldest
first; one identity claim's page, with the scan of the document and the person held with exactly the claimed
number, where intake verifies or rejects the claim; and the link made at the window, by the account's
username and the exact number of the identity document the person shows.

The same rule as the authorisations' pages (people_views): only staff who verify identities get in, others
403, a signed-out visitor the login page. Every page that shows a person held here is written to the
data-access log with the purpose "identity check". Decisions go through `perform_transition`
(credit.services.identity_claims), which checks the state and the role again under a row lock and logs the
step; verifying links the account to the person in the same transaction, so a refusal of either leaves both
as they were."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters

from credit.identity import same_name
from credit.models import AccessLog, ClaimStatus, IdentityClaim, Person, User
from credit.services import identity_claims
from credit.services.transitions import TransitionError, allowed_transitions
from portal.responses import private_file

from .case_forms import IdentityForm
from .case_views import add_refusal, refusal_status
from .people_views import PAGE_SIZE, DecisionForm, IntakeMixin


class WindowLinkForm(IdentityForm):
    """At the window: the account's username and the identity document the person shows."""

    username = forms.CharField(label=gettext_lazy("Username of the account"), max_length=150)
    name = forms.CharField(
        label=gettext_lazy("Name on the identity document"), max_length=100, widget=forms.TextInput()
    )

    field_order = ["username", "name", "id_type", "id_number"]

    def clean_username(self) -> User:
        found = User.objects.filter(username=self.cleaned_data["username"].strip()).first()
        if found is None:
            raise ValidationError(_("There is no account with this username."))
        return found


class IdentityClaimListView(IntakeMixin, View):
    """Accounts waiting for the real-name check, oldest first, a page at a time, each with whether a person
    is held with exactly the claimed number: a fixed number of reads whatever the page holds."""

    def get(self, request: HttpRequest) -> HttpResponse:
        waiting = (
            IdentityClaim.objects.filter(status=ClaimStatus.PENDING)
            .select_related("user")
            .order_by("created_at", "id")
        )
        page = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("page"))
        claims = list(page.object_list)
        held = {p.id_hash: p for p in Person.objects.filter(id_hash__in={c.id_hash for c in claims})}
        self.log([person.pk for person in held.values()], AccessLog.Action.LIST)
        rows = [(claim, held.get(claim.id_hash)) for claim in claims]
        return render(request, "workspace/extra/identities.html", {"page": page, "rows": rows})


class ClaimMixin(IntakeMixin):
    def get_claim(self, pk: int) -> IdentityClaim:
        found = IdentityClaim.objects.select_related("user", "decided_by", "person").filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def person_of(self, claim: IdentityClaim) -> Person | None:
        """The person the claim was linked to, or (while it waits) the one held with its exact number."""
        return claim.person if claim.person_id else identity_claims.held_person(claim)


class IdentityClaimView(ClaimMixin, View):
    """One claim: the account, the identity claimed, the scan, and the person held with that number (or the
    note that none is: verifying then registers the person as claimed); verify or reject it while it waits."""

    template_name = "workspace/extra/identity.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        claim = self.get_claim(pk)
        return self.show(claim, DecisionForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        claim = self.get_claim(pk)
        form = DecisionForm(request.POST)
        status = 422
        if form.is_valid():
            verify = form.cleaned_data["decision"] == "verify"
            try:
                identity_claims.decide_claim(
                    claim=claim, verify=verify, actor=self.user, reason=form.cleaned_data.get("reason", "")
                )
            except TransitionError as exc:
                messages.error(request, exc.message)
                status = refusal_status(exc)
            else:
                if verify:
                    messages.success(
                        request, _("The claim was verified: the account is linked to the person.")
                    )
                else:
                    messages.success(request, _("The claim was rejected; the applicant is told why."))
                return HttpResponseRedirect(reverse("workspace:identities"))
        return self.show(self.get_claim(pk), form, status=status)

    def show(self, claim: IdentityClaim, form: DecisionForm, *, status: int = 200) -> HttpResponse:
        person = self.person_of(claim)
        if person is not None:
            self.log([person.pk], AccessLog.Action.VIEW)
        waiting = claim.status == ClaimStatus.PENDING
        # What would make the link impossible, said before intake decides (the service refuses it anyway).
        blocker = ""
        if waiting and person is not None:
            if person.user_id is not None and person.user_id != claim.user_id:
                blocker = _("This person is already linked to another account.")
            elif not same_name(person.name, claim.name):
                blocker = _("The claimed name differs from the one held for this ID number.")
        if waiting and not blocker and Person.objects.filter(user=claim.user_id).exists():
            blocker = _("This account is already linked to another person.")
        allowed = set(allowed_transitions(claim, self.user))
        if blocker and form.is_bound is False:
            form = DecisionForm(initial={"decision": "reject"})
        context = {
            "claim": claim,
            "person": person,
            "blocker": blocker,
            "form": form if waiting and {"verify", "reject"} & allowed else None,
        }
        return render(self.request, self.template_name, context, status=status)


class IdentityDocumentView(ClaimMixin, View):
    """The scan of the identity document, as the applicant uploaded it (checked on upload), from private
    storage: never from a public media address, never cached on the way."""

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        claim = self.get_claim(pk)
        if not claim.document:
            raise Http404
        person = self.person_of(claim)
        if person is not None:
            self.log([person.pk], AccessLog.Action.VIEW)
        try:
            handle = claim.document.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        name = (claim.document.name or "").rsplit("/", 1)[-1]
        return private_file(handle, content_type=claim.document_type or "application/octet-stream", name=name)


@method_decorator(sensitive_post_parameters("id_number"), name="dispatch")
class WindowLinkView(IntakeMixin, View):
    """The person is at the window with their identity document: intake types the account's username, the
    name and the whole number from the document, and the account is linked (its waiting claim for that
    number verified, or a claim made at the window). The number is posted, never put in an address."""

    template_name = "workspace/extra/identity_window.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": WindowLinkForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = WindowLinkForm(request.POST)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            held = Person.objects.by_id_number(data["id_number"]).first()
            try:
                claim = identity_claims.link_at_window(
                    user=data["username"],
                    name=data["name"],
                    id_type=data["id_type"],
                    id_number=data["id_number"],
                    actor=self.user,
                )
            except TransitionError as exc:
                add_refusal(form, exc)
                status = refusal_status(exc)
            except ValidationError as exc:
                _fields_or_form(form, exc)
            else:  # the claim's page, where this leads, logs the view of the person
                messages.success(
                    request,
                    _("The account %(username)s is linked to %(name)s (%(masked)s).")
                    % {
                        "username": claim.user.get_username(),
                        "name": claim.person.name if claim.person else claim.name,
                        "masked": claim.id_masked,
                    },
                )
                return HttpResponseRedirect(reverse("workspace:identity", kwargs={"pk": claim.pk}))
            if held is not None:  # the refusal may say something of the person held with that number
                self.log([held.pk], AccessLog.Action.VIEW)
        return render(request, self.template_name, {"form": form}, status=status)


def _fields_or_form(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)

"""The account's own pages: sign-up with the identity one claims (/my/signup/), the real-name check
(/my/identity/: where the claim stands, what to bring to the window, a new claim after a rejection), and an
agent's written authorisations (/my/authorisations/). Each writes through a credit service in one
transaction: a refusal shows the page again with what was typed (never the passwords or the file), and
nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from credit.models import ClaimStatus
from credit.roles import Role
from credit.services import authorisations as authorisation_services
from credit.services import identity_claims
from credit.services.transitions import TransitionError

from . import forms, selectors
from .access import applicant_view, current_user
from .responses import FORM_ERRORS, STORAGE_FAILED_STATUS, done, posted, reasons, storage_failed, uploaded

# Accounts made from one address in an hour before sign-up answers "too many" for the hour: enough for a
# family or an office behind one address, too few to fill intake's list. Behind a proxy, REMOTE_ADDR is the
# proxy's unless it sets it (docs/deploy.md).
SIGNUPS_PER_ADDRESS_PER_HOUR = 10
TOO_MANY = 429
T = TypeVar("T")


def applicants_only(view: Any) -> Any:
    """After `applicant_view` (signed in, not staff): an account without the applicant's role (an
    administrator) has no identity to claim and acts for nobody: 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not current_user(request).has_role(Role.APPLICANT):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _signups_key(request: HttpRequest) -> str:
    return f"signups:{request.META.get('REMOTE_ADDR', '')}"


def _put_errors(form: Any, exc: ValidationError | TransitionError) -> list[str]:
    """A service's refusal on the form's fields where it names them; the rest for the error summary."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        rest: list[str] = []
        for field, errors in exc.error_dict.items():
            if field in form.fields:
                form.add_error(field, errors)
            else:
                rest.extend(message for error in errors for message in error.messages)
        return rest
    return reasons(exc)


def _written(
    request: HttpRequest, template: str, context: dict[str, Any], form: Any, write: Callable[[], T]
) -> T | HttpResponse:
    """What `write` wrote, or the page again with the refusal (or the storage's failure)."""
    try:
        return write()
    except (ValidationError, TransitionError) as exc:
        context["errors"] = _put_errors(form, exc)
        return render(request, template, context, status=FORM_ERRORS)
    except OSError:  # the storage failed: the transaction rolled back, the stored file was removed
        context["errors"] = [storage_failed()]
        return render(request, template, context, status=STORAGE_FAILED_STATUS)


# -- sign-up -----------------------------------------------------------------------------------------------
@sensitive_post_parameters("password1", "password2", "id_number")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("home"))
    form = forms.SignUpForm(posted(request), uploaded(request))
    context: dict[str, Any] = {"form": form, "errors": []}
    if request.method != "POST":
        return render(request, "portal/signup.html", context)
    if int(cache.get(_signups_key(request), 0)) >= SIGNUPS_PER_ADDRESS_PER_HOUR:
        context["errors"] = [
            _("Too many accounts were made from this network in the last hour. Please try again later.")
        ]
        return render(request, "portal/signup.html", context, status=TOO_MANY)
    if form.is_valid():
        data = form.cleaned_data
        made = _written(
            request,
            "portal/signup.html",
            context,
            form,
            lambda: identity_claims.sign_up(
                username=data["username"],
                password=data["password1"],
                phone=data["phone"],
                claim=_claim_input(data),
                consent=data["consent"],
                language=translation.get_language() or settings.LANGUAGE_CODE,
            ),
        )
        if isinstance(made, HttpResponse):
            return made
        user, claim = made
        cache.add(_signups_key(request), 0, timeout=3600)
        cache.incr(_signups_key(request))
        login(request, user)
        messages.success(
            request,
            _("Your account is made. Your identity claim %(number)s waits for the real-name check.")
            % {"number": claim.number},
        )
        return done(request, reverse("portal:identity"))
    return render(request, "portal/signup.html", context, status=FORM_ERRORS)


def _claim_input(data: dict[str, Any]) -> identity_claims.ClaimInput:
    return identity_claims.ClaimInput(
        name=data["name"], id_type=data["id_type"], id_number=data["id_number"], document=data.get("document")
    )


# -- the real-name check -----------------------------------------------------------------------------------
@applicant_view
@applicants_only
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def identity_page(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    person = selectors.own_person(user)
    claims = selectors.claims_of(user)
    pending = next((claim for claim in claims if claim.status == ClaimStatus.PENDING), None)
    may_claim = person is None and pending is None
    form = forms.ClaimForm(posted(request), uploaded(request)) if may_claim else None
    context: dict[str, Any] = {
        "person": person,
        "claims": claims,
        "pending": pending,
        "last": claims[0] if claims else None,
        "form": form,
        "errors": [],
        "nav": "identity",
    }
    if request.method != "POST":
        return render(request, "portal/identity.html", context)
    if form is None:
        messages.error(request, _("Your account has a claim waiting, or is linked already: no new claim."))
        return HttpResponseRedirect(reverse("portal:identity"))
    if form.is_valid():
        claim = _written(
            request,
            "portal/identity.html",
            context,
            form,
            lambda: identity_claims.submit_claim(
                user=user, claim=_claim_input(form.cleaned_data), consent=form.cleaned_data["consent"]
            ),
        )
        if isinstance(claim, HttpResponse):
            return claim
        messages.success(
            request,
            _("Your identity claim %(number)s waits for the real-name check.") % {"number": claim.number},
        )
        return done(request, reverse("portal:identity"))
    return render(request, "portal/identity.html", context, status=FORM_ERRORS)


# -- an agent's authorisations -----------------------------------------------------------------------------
@applicant_view
@applicants_only
@require_http_methods(["GET"])
def authorisations(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    context = {
        "as_agent": selectors.authorisations_of(user),
        "for_me": selectors.agents_for(selectors.own_person(user)),
        "today": timezone.localdate(),
        "nav": "authorisations",
    }
    return render(request, "portal/authorisations.html", context)


@applicant_view
@applicants_only
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def authorisation_new(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = forms.AuthorisationForm(
        posted(request), uploaded(request), initial={"valid_from": timezone.localdate()}
    )
    context: dict[str, Any] = {"form": form, "errors": [], "nav": "authorisations"}
    if request.method != "POST":
        return render(request, "portal/authorisation_new.html", context)
    if form.is_valid():
        data = form.cleaned_data
        asked = authorisation_services.AuthorisationInput(
            name=data["name"],
            id_type=data["id_type"],
            id_number=data["id_number"],
            scope=data["scope"],
            valid_from=data["valid_from"],
            valid_until=data.get("valid_until"),
            document=data["document"],
        )
        authorisation = _written(
            request,
            "portal/authorisation_new.html",
            context,
            form,
            lambda: authorisation_services.submit_authorisation(agent=user, data=asked),
        )
        if isinstance(authorisation, HttpResponse):
            return authorisation
        messages.success(
            request,
            _("Your authorisation %(number)s was sent: intake verifies it before you can act.")
            % {"number": authorisation.number},
        )
        return done(request, reverse("portal:authorisations"))
    return render(request, "portal/authorisation_new.html", context, status=FORM_ERRORS)

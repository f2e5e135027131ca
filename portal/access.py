"""Who gets into the portal: applicants (and agents) only. A signed-out visitor is sent to the login page;
a member of staff to the staff workspace, since the portal's pages show a person their own cases and staff
open cases there, with the access log."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase

from credit.models.people import User
from credit.selectors import is_staff_member

STAFF_HOME = "/staff/"

View = Callable[..., HttpResponseBase]


def applicant_view(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if is_staff_member(request.user):
            return HttpResponseRedirect(STAFF_HOME)
        return view(request, *args, **kwargs)

    return wrapper


def current_user(request: HttpRequest) -> User:
    """The signed-in user (applicant_view has checked)."""
    return cast(User, request.user)

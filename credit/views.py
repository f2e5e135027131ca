from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from credit.models.people import Role, User
from credit.selectors import is_staff_member


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where a signed-in user starts: the applicant's portal, or the staff workspace. Someone with neither
    role (an administrator) gets this page, with the links that apply."""
    user = cast(User, request.user)  # login_required
    if is_staff_member(user):
        return redirect("workspace:home")
    if user.has_role(Role.APPLICANT):
        return redirect("portal:home")
    roles = [Role(r).label for r in sorted(user.roles()) if r in Role.values]
    return render(request, "credit/home.html", {"roles": roles})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

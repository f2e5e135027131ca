from __future__ import annotations

from typing import cast

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from credit.models.people import Role, User
from credit.selectors import is_staff_member, records_for, scoped


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # login_required
    roles = [Role(r).label for r in sorted(user.roles()) if r in Role.values]
    context = {"roles": roles, "is_staff_member": is_staff_member(user)}
    if not is_staff_member(user):
        # An applicant's own records need no purpose and are not access-logged; staff open records
        # through the API or the workspace with a stated purpose.
        context["records"] = records_for(user).order_by("-decision_date")[:50]
        if apps.is_installed("letters"):
            from letters.models import Letter

            context["letters"] = scoped(user, Letter.objects.select_related("department")).order_by(
                "-created_at"
            )[:50]
    return render(request, "credit/home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from credit.models import User
from credit.selectors import is_staff_member

from .models import Notification, Preference
from .services import mark_read


class PreferenceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Preference
        fields = ["email", "sms", "daily_digest"]

    def __init__(self, *args: object, staff: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not staff:  # the digest is for staff's due work; applicants hear about their cases at once
            del self.fields["daily_digest"]


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    preference, _ = Preference.objects.get_or_create(user=user)
    form = PreferenceForm(request.POST or None, instance=preference, staff=is_staff_member(user))
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("inbox")
    page = Paginator(Notification.objects.filter(recipient=user), 30).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page, "form": form})


@login_required
@require_POST
def read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    mark_read(request.user, [notification.pk])
    target = notification.link or "/inbox/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/inbox/"
    return redirect(target)


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    mark_read(request.user)
    return redirect("inbox")

from __future__ import annotations

from django.http import HttpRequest

from .models import Notification


def unread(request: HttpRequest) -> dict[str, int]:
    """The unread count in every page's header: one COUNT on a partial index of unread rows."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).count()}

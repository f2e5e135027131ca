"""The notifications part of the demo: applicant1 also wants SMS (printed in the worker's log)."""

from __future__ import annotations

from credit.models import User

from .models import Preference


def seed_demo_notifications() -> int:
    user = User.objects.filter(username="applicant1").first()
    if user is None:
        return 0
    _, created = Preference.objects.get_or_create(user=user, defaults={"email": True, "sms": True})
    return int(created)

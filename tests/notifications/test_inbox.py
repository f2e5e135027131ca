"""The inbox: an unread count in every page's header, mark read, link to the case; nobody sees another's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from notifications.models import Notification, Preference
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(personas: Personas) -> list[Notification]:
    return [
        Notification.objects.create(
            recipient=personas.applicant,
            event="letter.issued",
            key=f"letter:{i}",
            subject=f"文书 {i}",
            body="正文",
            link="/",
            case_number=f"CR{i}",
        )
        for i in range(3)
    ] + [
        Notification.objects.create(
            recipient=personas.other_applicant,
            event="letter.issued",
            key="letter:9",
            subject="别人的",
            body="x",
            link="/",
        )
    ]


def test_the_header_shows_the_unread_count_with_one_query(
    personas: Personas, items: list[Notification]
) -> None:
    client = Client()
    client.force_login(personas.applicant)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/verify/").content.decode()
    assert 'class="badge"' in page and ">3</span>" in page
    assert sum("notifications_notification" in q["sql"] for q in ctx.captured_queries) == 1


def test_reading_marks_it_and_goes_to_the_case(personas: Personas, items: list[Notification]) -> None:
    client = Client()
    client.force_login(personas.applicant)
    response = client.post(f"/inbox/{items[0].pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert Notification.objects.filter(recipient=personas.applicant, read_at__isnull=True).count() == 2
    assert client.post(f"/inbox/{items[3].pk}/read/").status_code == 404  # someone else's
    client.post("/inbox/read-all/")
    assert not Notification.objects.filter(recipient=personas.applicant, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=items[3].pk).read_at is None


def test_the_inbox_page_lists_mine_only_and_saves_preferences(
    personas: Personas, items: list[Notification]
) -> None:
    client = Client()
    client.force_login(personas.applicant)
    page = client.get("/inbox/").content.decode()
    assert "文书 0" in page and "别人的" not in page
    assert "daily_digest" not in page  # the digest is a staff choice
    client.post("/inbox/", {"email": "on", "sms": "on"})
    assert Preference.objects.filter(user=personas.applicant, email=True, sms=True).exists()
    client.force_login(personas.officer)
    assert "daily_digest" in client.get("/inbox/").content.decode()


def test_the_api(personas: Personas, items: list[Notification]) -> None:
    api = APIClient()
    api.force_authenticate(personas.applicant)
    assert api.get("/api/v1/notifications/").data["count"] == 3
    assert api.get(f"/api/v1/notifications/{items[3].pk}/").status_code == 404
    assert api.post(f"/api/v1/notifications/{items[0].pk}/read/").data == {"read": 1}
    assert api.get("/api/v1/notifications/", {"unread": "1"}).data["count"] == 2
    assert api.post("/api/v1/notifications/read-all/").data == {"read": 2}
    assert api.put(
        "/api/v1/notifications/preferences/",
        {"email": False, "sms": True, "daily_digest": False},
        format="json",
    ).data == {"email": False, "sms": True, "daily_digest": False}


def test_anonymous_visitors_have_no_inbox() -> None:
    assert Client().get("/inbox/").status_code == 302
    assert APIClient().get("/api/v1/notifications/").status_code == 403

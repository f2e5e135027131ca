"""The transition log and the access log are append-only everywhere."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.admin.sites import site
from django.test import Client

from credit.models import AccessLog, TransitionLog
from credit.models.audit import AppendOnlyError
from credit.services.access import Purpose, log_access
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(personas: Personas) -> TransitionLog:
    make_record(person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31))
    return TransitionLog.objects.get()


def test_a_log_row_cannot_be_changed_or_deleted(entry: TransitionLog) -> None:
    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        TransitionLog.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        TransitionLog.objects.all().delete()
    assert TransitionLog.objects.get().reason == ""


def test_access_rows_cannot_be_changed(personas: Personas) -> None:
    log_access(
        user=personas.officer,
        person_ids=[personas.applicant_person.pk],
        action="view",
        purpose=Purpose("enquiry"),
    )
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.update(purpose="other")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.get().delete()


@pytest.mark.parametrize("model", [TransitionLog, AccessLog])
def test_the_admin_offers_no_add_change_or_delete(model: type, personas: Personas, rf) -> None:  # type: ignore[no-untyped-def]
    request = rf.get("/")
    request.user = personas.admin
    admin = site._registry[model]
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)


def test_persons_and_records_are_not_in_the_admin() -> None:
    from credit.models import CreditRecord, Person

    assert Person not in site._registry and CreditRecord not in site._registry


def test_the_admin_log_pages_render_for_an_administrator(personas: Personas, entry: TransitionLog) -> None:
    client = Client()
    client.force_login(personas.admin)
    assert client.get("/admin/credit/transitionlog/").status_code == 200
    response = client.get(f"/admin/credit/transitionlog/{entry.pk}/change/")
    assert response.status_code == 200
    assert b'name="_save"' not in response.content

"""A notification about a case links to that case: the applicant's to their page in the portal, the staff's to
the case file in the workspace; each recipient can open it, and nobody else can."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from credit.models import CreditRecord, Department
from credit.selectors import is_staff_member
from notifications.models import Notification
from objections import complaint_services, reconsideration_services
from objections import services as objection_services
from repair import services as repair_services
from tests.conftest import Personas
from tests.factories import UserFactory, make_record
from tests.portal.conftest import (
    act,
    complaint_filed,
    objection_filed,
    reconsideration_filed,
    repair_filed,
    repair_refused,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def links(event: str) -> dict[str, str]:
    """Who was told of `event`, and the link they were given."""
    return {
        n.recipient.username: n.link
        for n in Notification.objects.filter(event=event).select_related("recipient")
    }


def opens(user: Any, link: str) -> int:
    client = Client()
    client.force_login(user)
    return client.get(link).status_code


def portal(kind: str, case: Any) -> str:
    return f"/my/cases/{kind}/{case.pk}/"


def workspace(kind: str, case: Any) -> str:
    return f"/staff/cases/{kind}/{case.pk}/"


def test_a_repair_links_the_applicant_to_the_portal_and_the_queue_to_the_case_file(
    personas: Personas, record: CreditRecord
) -> None:
    case = repair_filed(personas, record)
    repair_services.start_work(case.pk)
    assert links("repair.filed") == {"applicant": portal("repair", case)}
    assert links("repair.new_application") == {"officer": workspace("repair", case)}
    act(case, "accept", personas.officer)
    assert links("repair.accepted") == {"applicant": portal("repair", case)}
    assert opens(personas.applicant, portal("repair", case)) == 200
    assert opens(personas.officer, workspace("repair", case)) == 200
    # Nobody else opens them: another applicant, another department's officer.
    assert opens(personas.other_applicant, portal("repair", case)) == 404
    assert opens(personas.other_officer, workspace("repair", case)) == 404


def test_an_objection_links_intake_to_the_case_file(personas: Personas, record: CreditRecord) -> None:
    objection = objection_filed(personas, record)
    objection_services.start_work(objection.pk)
    assert links("objection.filed") == {"applicant": portal("objection", objection)}
    assert links("objection.new") == {"intake": workspace("objection", objection)}
    assert opens(personas.intake, workspace("objection", objection)) == 200
    act(objection, "forward", personas.intake)
    assert links("objection.forwarded") == {"applicant": portal("objection", objection)}
    assert opens(personas.applicant, portal("objection", objection)) == 200


def test_a_complaint_links_the_head_to_the_case_file(personas: Personas, record: CreditRecord) -> None:
    complaint = complaint_filed(personas, repair_filed(personas, record))
    complaint_services.start_work(complaint.pk)
    assert links("complaint.filed") == {"applicant": portal("complaint", complaint)}
    assert links("complaint.new") == {"head": workspace("complaint", complaint)}
    assert opens(personas.head, workspace("complaint", complaint)) == 200
    act(complaint, "answer", personas.head, payload={"reply": "已责成经办人限期办理"})
    assert links("complaint.replied") == {"applicant": portal("complaint", complaint)}
    assert opens(personas.applicant, portal("complaint", complaint)) == 200
    assert opens(personas.other_applicant, portal("complaint", complaint)) == 404


def test_a_reconsideration_links_the_applicant_and_the_department_ordered_to_act(
    personas: Personas, office: Department
) -> None:
    refused = repair_refused(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 3, 1)
        ),
    )
    recon = reconsideration_filed(personas, refused)
    reconsideration_services.start_work(recon.pk)
    assert links("reconsideration.filed") == {"applicant": portal("reconsideration", recon)}
    act(recon, "accept", personas.recon, payload={})
    act(
        recon,
        "draft",
        personas.recon,
        payload={"decision": "order_performance", "reasons": ["应依法办理"]},
    )
    act(recon, "approve", UserFactory(username="recon2", role="reconsideration", department=office))
    assert links("reconsideration.decided") == {"applicant": portal("reconsideration", recon)}
    assert links("reconsideration.ordered") == {"head": workspace("reconsideration", recon)}
    assert opens(personas.head, workspace("reconsideration", recon)) == 200
    assert opens(personas.applicant, portal("reconsideration", recon)) == 200


def test_every_case_notification_goes_to_its_audiences_own_pages(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    repair = repair_filed(personas, record)
    repair_services.start_work(repair.pk)
    act(repair, "request_supplement", personas.officer, payload={"missing": ["缴款凭证"]})
    objection_services.start_work(objection_filed(personas, record).pk)
    complaint_services.start_work(complaint_filed(personas, repair).pk)
    notifications = list(Notification.objects.select_related("recipient"))
    assert len(notifications) >= 6
    for notification in notifications:
        own = "/staff/cases/" if is_staff_member(notification.recipient) else "/my/cases/"
        assert notification.link.startswith(own), (notification.event, notification.link)
        assert opens(notification.recipient, notification.link) == 200, notification.event


def test_links_for_notifications_with_any_subject(personas: Personas, record: CreditRecord) -> None:
    # For the notifications raised outside the case services (letters, reminders): see the report on #8.
    from portal.links import applicant_link, staff_link

    case = repair_filed(personas, record)
    assert applicant_link(case) == portal("repair", case) and staff_link(case) == workspace("repair", case)
    assert applicant_link(record) == "/my/" and staff_link(record) == "/staff/"

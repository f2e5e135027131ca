"""The objections part of the demo: applicant1 objects to one of their records (intake1 has it to flag and
forward), and applicant2 complains about a department's handling (its head has it to answer). Filed through
the real services, so the demo's queues at /workflow/ have work on a fresh `make run`."""

from __future__ import annotations

from django.db import transaction

from credit.models import CreditRecord, User
from credit.models.records import CORRECTABLE

from .complaint import Complaint
from .complaint_services import file_complaint
from .models import Objection
from .services import file_objection


def seed_demo_cases() -> dict[str, int]:
    created = {"objections": 0, "complaints": 0}
    first = User.objects.filter(username="applicant1").first()
    if first is not None and not Objection.objects.filter(person__user=first).exists():
        record = (
            CreditRecord.objects.filter(person__user=first, department__code="market", state__in=CORRECTABLE)
            .exclude(repair_cases__state__in=["submitted", "accepted"])
            .order_by("-decision_date")
            .first()
        )
        if record is not None:
            with transaction.atomic():
                file_objection(
                    actor=first,
                    grounds=["record_wrong"],
                    statement="处罚决定书文号与本人收到的决定书不一致，请核实更正。",
                    record=record,
                )
            created["objections"] = 1
    second = User.objects.filter(username="applicant2").first()
    if second is not None and not Complaint.objects.filter(person__user=second).exists():
        record = CreditRecord.objects.filter(person__user=second, department__code="market").first()
        if record is not None:
            with transaction.atomic():
                file_complaint(
                    actor=second,
                    about=Complaint.About.CONDUCT,
                    statement="到窗口咨询信用修复时，工作人员态度生硬，未一次性告知所需材料。",
                    department=record.department,
                )
            created["complaints"] = 1
    return created

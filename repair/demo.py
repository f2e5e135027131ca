"""The repair part of the demo: applicant1 has applied to repair their oldest repairable record (the
environment bureau's), so officer2's queue at /workflow/ has work on a fresh `make run`. Filed through the
real service."""

from __future__ import annotations

from django.db import transaction

from credit.models import CreditRecord, User

from . import eligibility
from .models import RepairCase
from .services import file_repair


def seed_demo_repairs() -> int:
    user = User.objects.filter(username="applicant1").first()
    if user is None or RepairCase.objects.filter(person__user=user).exists():
        return 0
    records = CreditRecord.objects.filter(person__user=user).order_by("decision_date")
    for record in records:
        if eligibility.check(record).eligible:
            with transaction.atomic():
                file_repair(
                    record=record,
                    actor=user,
                    statement="罚款已于当月缴清，相关问题已整改到位。",
                    commitment_accepted=True,
                )
            return 1
    return 0

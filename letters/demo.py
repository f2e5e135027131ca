"""The letters part of the demo: applicants consent to electronic service, and every demo record has its
信用修复告知书 (issued by the worker once `make run` starts it). Idempotent."""

from __future__ import annotations

from django.db import transaction

from credit.models import CreditRecord, Person

from .models import Letter, LetterKind
from .services import give_consent, issue_repair_notice


@transaction.atomic
def seed_demo_letters() -> dict[str, int]:
    consents = 0
    for person in Person.objects.filter(user__isnull=False).select_related("user"):
        before = person.service_consents.count()
        give_consent(person=person, actor=person.user)
        consents += person.service_consents.count() - before
    noticed = Letter.objects.filter(kind=LetterKind.REPAIR_NOTICE).values_list("object_id", flat=True)
    missing = CreditRecord.objects.exclude(pk__in=noticed).select_related("department", "person", "ruleset")
    issued = 0
    for record in missing:
        issue_repair_notice(record)
        issued += 1
    return {"consents": consents, "notices": issued}

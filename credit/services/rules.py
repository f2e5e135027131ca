from __future__ import annotations

from django.db import transaction

from credit.models import RuleSet


@transaction.atomic
def copy_as_new_version(ruleset: RuleSet) -> RuleSet:
    """A draft copy of a rule set with the next free version number, for the law's next change."""
    next_version = (
        RuleSet.objects.filter(code=ruleset.code)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
        or 0
    ) + 1
    copy = RuleSet.objects.create(
        code=ruleset.code,
        version=next_version,
        name=ruleset.name,
        basis=ruleset.basis,
        effective_from=ruleset.effective_from,
        effective_until=ruleset.effective_until,
        commitment_text=ruleset.commitment_text,
        required_materials=ruleset.required_materials,
        repair_conditions=ruleset.repair_conditions,
        notes=ruleset.notes,
    )
    for related in ("tier_rules", "domain_rules", "deadline_rules"):
        for row in getattr(ruleset, related).all():
            row.pk = None
            row.ruleset = copy
            row.save()
    return copy

"""Writes on credit records: registration, derived periods, amendments, the period sweep."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credit.models import CreditRecord, Department, Penalty, Person, RecordAmendment, RuleSet
from credit.models.records import IN_FORCE, RecordState, Visibility
from credit.models.rules import TIER_ORDER, Tier
from credit.periods import Period
from credit.services.transitions import System, WrongState, perform_transition
from credit.signals import record_registered

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PenaltyInput:
    kind: str
    tier: str
    amount: Decimal | None = None
    term: Period | None = None
    description: str = ""


@dataclass(frozen=True)
class DerivedPeriods:
    tier: str
    repair_from: date
    display_until: date
    repairable: bool
    published_by_default: bool
    # 轻微: repair waits for the legal duty to be fulfilled rather than for a period.
    needs_duty_fulfilled: bool = False


def derive_periods(
    *, ruleset: RuleSet, decision_date: date, domain: str, penalties: list[PenaltyInput]
) -> DerivedPeriods:
    """Tier and periods of a record: the longest of its penalties wins, and a penalty's own term is never cut
    short. The decision day is not counted; repair may be applied for the day after the minimum ends."""
    if not penalties:
        raise ValidationError(_("A record needs at least one penalty."), code="no_penalty")
    domain_min = ruleset.domain_minimum(domain)
    min_ends: list[date] = []
    max_ends: list[date] = []
    tiers: list[str] = []
    repairable = True
    published = False
    for penalty in penalties:
        try:
            rule = ruleset.tier_rule(penalty.tier)
        except Exception as exc:
            raise ValidationError(
                _("The rule set %(ruleset)s has no tier “%(tier)s”."),
                params={"ruleset": str(ruleset), "tier": penalty.tier},
                code="tier",
            ) from exc
        min_end = rule.min_period.end(decision_date)
        max_end = rule.max_period.end(decision_date)
        if domain_min is not None:
            min_end = max(min_end, domain_min.end(decision_date))
        if penalty.term is not None:
            term_end = penalty.term.end(decision_date)
            min_end = max(min_end, term_end)
            max_end = max(max_end, term_end)
        min_ends.append(min_end)
        max_ends.append(max_end)
        tiers.append(penalty.tier)
        repairable = repairable and rule.repairable
        published = published or rule.published_by_default
    tier = max(tiers, key=lambda t: TIER_ORDER[Tier(t)])
    display_until = max(max_ends)
    repair_from = min(max(min_ends) + timedelta(days=1), display_until + timedelta(days=1))
    return DerivedPeriods(
        tier=tier,
        repair_from=repair_from,
        display_until=display_until,
        repairable=repairable,
        published_by_default=published,
        needs_duty_fulfilled=ruleset.tier_rule(tier).repair_on_duty_fulfilled,
    )


def _penalty_inputs(record: CreditRecord) -> list[PenaltyInput]:
    return [
        PenaltyInput(
            kind=p.kind,
            tier=p.tier,
            amount=p.amount,
            term=Period(p.term_value, p.term_unit) if p.term_value is not None else None,
        )
        for p in record.penalties.all()
    ]


def _apply_derived(record: CreditRecord, derived: DerivedPeriods) -> None:
    record.tier = derived.tier
    record.repair_from = derived.repair_from
    record.display_until = derived.display_until
    record.repairable = derived.repairable
    record.repair_needs_duty_fulfilled = derived.needs_duty_fulfilled


@transaction.atomic
def register_record(
    *,
    person: Person,
    record_type: str,
    domain: str,
    department: Department,
    decision_number: str,
    decision_date: date,
    penalties: list[PenaltyInput],
    facts: str = "",
    visibility: str | None = None,
    registered_by: Any = None,
    never_repairable: bool = False,
) -> CreditRecord:
    """Register a record under the rule set in force on its decision date and bring its state up to date.

    Raises ValidationError with a message a person can act on."""
    if decision_date > timezone.localdate():
        raise ValidationError(
            _("The decision date %(d)s is in the future."), params={"d": decision_date}, code="future"
        )
    if department.kind != Department.Kind.DECIDING:
        raise ValidationError(
            _("%(dept)s is not a deciding body."), params={"dept": department.name}, code="department"
        )
    try:
        ruleset = RuleSet.objects.prefetch_related("tier_rules", "domain_rules").in_force(decision_date)
    except RuleSet.DoesNotExist as exc:
        raise ValidationError(
            _("No rule set is in force on the decision date %(d)s."),
            params={"d": decision_date},
            code="no_ruleset",
        ) from exc
    derived = derive_periods(ruleset=ruleset, decision_date=decision_date, domain=domain, penalties=penalties)
    if visibility is None:
        # Natural persons' dishonesty information is in principle not published (Order 36 Art. 12).
        visibility = Visibility.SHARED_ONLY
    record = CreditRecord(
        person=person,
        record_type=record_type,
        domain=domain,
        department=department,
        decision_number=decision_number.strip(),
        decision_date=decision_date,
        facts=facts,
        visibility=visibility,
        ruleset=ruleset,
        registered_by=registered_by,
    )
    _apply_derived(record, derived)
    if never_repairable:  # e.g. the record shown after a revoked repair: 3 years with no early end (Art. 25)
        record.repairable = False
    record.full_clean(exclude=["number", "state"])
    record.save()
    # The number is the year and the row id: unique without a counter that concurrent imports contend on.
    record.number = f"CR{decision_date.year}{record.pk:08d}"
    CreditRecord.objects.filter(pk=record.pk).update(number=record.number)
    Penalty.objects.bulk_create(
        [
            Penalty(
                record=record,
                kind=p.kind,
                tier=p.tier,
                amount=p.amount,
                term_value=p.term.value if p.term else None,
                term_unit=p.term.unit if p.term else "",
                description=p.description,
            )
            for p in penalties
        ]
    )
    record = bring_up_to_date(record)
    record_registered.send(sender=CreditRecord, record=record, registered_by=registered_by)
    return record


def bring_up_to_date(record: CreditRecord) -> CreditRecord:
    """Take the system steps a record's periods call for today (eligible for repair, then expired)."""
    system = System("system:periods")
    for name in ("mark_repair_eligible", "expire"):
        if record.state not in IN_FORCE:
            break
        method = getattr(record, name)
        meta = method._django_fsm
        if meta.has_transition(record.state) and meta.conditions_met(record, record.state):
            try:
                record = perform_transition(record, name, actor=system)  # type: ignore[assignment]
            except WrongState:
                record.refresh_from_db()  # someone else moved it first; the next sweep re-checks
    return record


def advance_record_periods(*, batch_size: int = 500) -> dict[str, int]:
    """The daily sweep: records whose minimum or maximum period was reached. Idempotent; each record is
    moved under its own row lock, so parallel sweeps move each once. Cost follows the number due."""
    today = timezone.localdate()
    counts = {"repair_eligible": 0, "expired": 0}
    due_expiry = CreditRecord.objects.filter(
        state__in=[RecordState.ACTIVE, RecordState.REPAIR_ELIGIBLE, RecordState.TEMP_MASKED],
        display_until__lt=today,
    )
    due_eligible = CreditRecord.objects.filter(
        state=RecordState.ACTIVE,
        repairable=True,
        repair_from__lte=today,
        display_until__gte=today,
    ).exclude(repair_blocked_until__gte=today)
    system = System("system:periods")
    for queryset, name, key in (
        (due_expiry, "expire", "expired"),
        (due_eligible, "mark_repair_eligible", "repair_eligible"),
    ):
        last_pk = 0
        while True:
            batch = list(queryset.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
            if not batch:
                break
            for record in batch:
                try:
                    perform_transition(record, name, actor=system)
                    counts[key] += 1
                except WrongState:
                    pass  # moved by a parallel sweep or an officer since the batch was read
            last_pk = batch[-1].pk
    return counts


AMENDABLE_FIELDS = (
    "record_type",
    "domain",
    "decision_number",
    "decision_date",
    "facts",
    "visibility",
    "duty_fulfilled_on",  # 轻微: proved in a repair case
)


def apply_amendment(record: CreditRecord, *, changes: dict[str, Any], actor: Any, reason: str) -> None:
    """Correct fields, keep each old value as history, and re-derive the periods. Called inside
    the `amend` transition, so inside its transaction and row lock."""
    changed = {k: v for k, v in changes.items() if k in AMENDABLE_FIELDS and getattr(record, k) != v}
    if not changed:
        raise ValidationError(_("The correction changes nothing."), code="no_change")
    for name, value in changed.items():
        RecordAmendment.objects.create(
            record=record,
            field=name,
            old_value=str(getattr(record, name)),
            new_value=str(value),
            reason=reason,
            actor=actor,
        )
        setattr(record, name, value)
    if "decision_date" in changed:
        # Periods follow the rule set in force on the (corrected) decision date.
        record.ruleset = RuleSet.objects.in_force(record.decision_date)
    derived = derive_periods(
        ruleset=record.ruleset,
        decision_date=record.decision_date,
        domain=record.domain,
        penalties=_penalty_inputs(record),
    )
    _apply_derived(record, derived)

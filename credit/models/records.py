"""Credit records (失信信息) and their legal life.

The `state` field is the law: only the @transition methods below change it, and only through
credit.services.transitions.perform_transition, which checks permission, locks the row, re-checks the state,
saves and writes the audit row in one transaction. Transitions marked ``via_case`` are the effects of a
decided case (a repair, an objection, a reconsideration) and are refused when called without one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from credit.roles import department_perm, nobody

from .rules import Tier


class RecordType(models.TextChoices):
    SERIOUS_LIST = "serious_list", _("Serious dishonesty list (严重失信主体名单信息)")
    ADMIN_PENALTY = "admin_penalty", _("Administrative penalty (行政处罚信息)")
    ABNORMAL_LIST = "abnormal_list", _("Abnormal operations list (异常名录信息)")
    OTHER = "other", _("Other dishonesty information (其他失信信息)")


class Domain(models.TextChoices):
    FOOD_DRUG = "food_drug", _("Food and drugs (食品药品)")
    WORK_SAFETY = "work_safety", _("Work safety (安全生产)")
    FIRE = "fire", _("Fire safety (消防安全)")
    TRAFFIC = "traffic", _("Traffic safety (交通安全)")
    ENVIRONMENT = "environment", _("Environmental protection (环境保护)")
    BIOSAFETY = "biosafety", _("Biosafety (生物安全)")
    PRODUCT_QUALITY = "product_quality", _("Product quality (产品质量)")
    TAX = "tax", _("Tax payment (税收缴纳)")
    HEALTH = "health", _("Medical and health (医疗卫生)")
    LABOUR = "labour", _("Labour and social security (劳动保障)")
    CONSTRUCTION = "construction", _("Construction (工程建设)")
    FINANCE = "finance", _("Financial services (金融服务)")
    IP = "ip", _("Intellectual property (知识产权)")
    JUDICIAL = "judicial", _("Judicial proceedings (司法诉讼)")
    ECOMMERCE = "ecommerce", _("E-commerce (电子商务)")
    VOLUNTEER = "volunteer", _("Volunteer service (志愿服务)")
    SPECIAL_EQUIPMENT = "special_equipment", _("Special equipment (特种设备)")
    OTHER = "other", _("Other (其他)")


class Visibility(models.TextChoices):
    PUBLISHED = "published", _("Published and shared")
    SHARED_ONLY = "shared_only", _("Shared with departments only, not published")


class RecordState(models.TextChoices):
    ACTIVE = "active", _("Active")
    REPAIR_ELIGIBLE = "repair_eligible", _("Repair may be applied for")
    EXPIRED = "expired", _("Expired (period ended)")
    REPAIRED = "repaired", _("Repaired")
    DELETED = "deleted", _("Deleted (objection founded)")
    REVOKED = "revoked", _("Revoked (penalty revoked)")
    TEMP_MASKED = "temp_masked", _("Temporarily masked (bankruptcy reorganisation)")


S = RecordState
IN_FORCE = [S.ACTIVE, S.REPAIR_ELIGIBLE]  # shown or shared, and used
CORRECTABLE = [S.ACTIVE, S.REPAIR_ELIGIBLE, S.TEMP_MASKED]


# Transition conditions (django-fsm calls each with the instance; it reads the clock itself).
def _minimum_reached(record: Any) -> bool:
    return bool(record.minimum_reached())


def _repairable_now(record: Any) -> bool:
    return bool(record.repairable_now())


def _maximum_reached(record: Any) -> bool:
    return bool(record.maximum_reached())


def _under_objection(record: Any) -> bool:
    return bool(record.under_objection)


def _not_under_objection(record: Any) -> bool:
    return not record.under_objection


class CreditRecordQuerySet(models.QuerySet["CreditRecord"]):
    def in_force(self) -> CreditRecordQuerySet:
        """Records that may be shown, shared and used today: in force and inside their period."""
        return self.filter(state__in=IN_FORCE, display_until__gte=timezone.localdate())


class CreditRecord(ConcurrentTransitionMixin, models.Model):
    # Null until the row has an id to number it from; unique once set.
    number = models.CharField(  # noqa: DJ001
        _("record number"), max_length=30, unique=True, null=True, editable=False
    )
    person = models.ForeignKey(
        "credit.Person", on_delete=models.PROTECT, related_name="records", verbose_name=_("person")
    )
    record_type = models.CharField(_("type"), max_length=20, choices=RecordType.choices)
    domain = models.CharField(_("domain"), max_length=30, choices=Domain.choices)
    department = models.ForeignKey(
        "credit.Department",
        on_delete=models.PROTECT,
        related_name="records",
        verbose_name=_("deciding department"),
    )
    decision_number = models.CharField(_("decision document number"), max_length=100)
    decision_date = models.DateField(_("decision date"))
    facts = models.TextField(_("facts"), blank=True)
    visibility = models.CharField(
        _("visibility"), max_length=20, choices=Visibility.choices, default=Visibility.SHARED_ONLY
    )
    ruleset = models.ForeignKey(
        "credit.RuleSet",
        on_delete=models.PROTECT,
        related_name="records",
        verbose_name=_("rule set (periods)"),
    )
    # Derived from the penalties and the rule set (credit.services.records.derive_periods); stored so
    # that sweeps and lists can use indexes.
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices)
    repairable = models.BooleanField(_("repairable under its rule set"), default=True)
    repair_from = models.DateField(_("repair may be applied for from"))
    display_until = models.DateField(_("shown and shared until"))
    repair_needs_duty_fulfilled = models.BooleanField(
        _("repair waits for the legal duty to be fulfilled"),
        default=False,
        help_text=_(
            "轻微: no minimum period, but repair only once the duty is fulfilled (Order 36 Art. 14)."
        ),
    )
    duty_fulfilled_on = models.DateField(_("legal duty fulfilled on"), null=True, blank=True)
    repair_blocked_until = models.DateField(
        _("not repairable until"),
        null=True,
        blank=True,
        help_text=_("Set when a repair is revoked (Order 36 Art. 25)."),
    )
    state = FSMField(_("state"), max_length=20, choices=RecordState.choices, default=S.ACTIVE, protected=True)
    under_objection = models.BooleanField(_("under objection (异议标注)"), default=False)
    objection_flagged_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CreditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("credit record")
        verbose_name_plural = _("credit records")
        ordering = ["-decision_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "decision_number", "person"], name="uniq_record_per_decision"
            ),
            models.CheckConstraint(
                condition=models.Q(display_until__gte=models.F("decision_date")),
                name="record_display_after_decision",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "repair_from"], name="record_state_repair_from"),
            models.Index(fields=["state", "display_until"], name="record_state_display_until"),
            models.Index(fields=["department", "state"], name="record_department_state"),
        ]
        permissions = [
            ("flag_record", _("Flag or clear an objection on a record")),
            ("mask_record", _("Mask or restore a record during bankruptcy reorganisation")),
            ("amend_record", _("Correct a record's fields")),
            ("repair_record", _("Repair a record")),
            ("revoke_repair_record", _("Revoke a record's repair")),
            ("delete_record", _("Delete a record found not to exist")),
            ("revoke_record", _("Revoke a record whose penalty was revoked")),
        ]

    def __str__(self) -> str:
        return self.number or f"record #{self.pk}"

    # -- conditions ----------------------------------------------------------------------------------
    def minimum_reached(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.repairable and today >= self.repair_from and not self.repair_blocked(today)

    def repairable_now(self) -> bool:
        """The record's own conditions for a repair decision: the period, and for 轻微 the fulfilled duty."""
        if self.repair_needs_duty_fulfilled and self.duty_fulfilled_on is None:
            return False
        return self.minimum_reached()

    def repair_blocked(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.repair_blocked_until is not None and today <= self.repair_blocked_until

    def maximum_reached(self, today: date | None = None) -> bool:
        return (today or timezone.localdate()) > self.display_until

    def live_state(self, today: date | None = None) -> str:
        """The state a record in force should be in today, from its periods."""
        if self.maximum_reached(today):
            return S.EXPIRED
        return S.REPAIR_ELIGIBLE if self.minimum_reached(today) else S.ACTIVE

    # -- transitions ---------------------------------------------------------------------------------
    # Each takes keyword context from the transition service: actor, reason, payload, today.
    @transition(
        field=state,
        source=S.ACTIVE,
        target=S.REPAIR_ELIGIBLE,
        conditions=[_minimum_reached],
        permission=nobody,
        custom={"label": _("Minimum period reached"), "system": True},
    )
    def mark_repair_eligible(self, **ctx: Any) -> None:
        pass

    @transition(
        field=state,
        source=[S.ACTIVE, S.REPAIR_ELIGIBLE, S.TEMP_MASKED],
        target=S.EXPIRED,
        conditions=[_maximum_reached],
        permission=nobody,
        custom={"label": _("Display period ended"), "system": True},
    )
    def expire(self, **ctx: Any) -> None:
        pass

    @transition(
        field=state,
        source=S.REPAIR_ELIGIBLE,
        target=S.REPAIRED,
        conditions=[_repairable_now],
        permission=department_perm("credit.repair_record"),
        custom={"label": _("Repair"), "via_case": True},
    )
    def repair(self, **ctx: Any) -> None:
        pass

    @transition(
        field=state,
        source=S.REPAIRED,
        target=RETURN_VALUE(S.ACTIVE, S.REPAIR_ELIGIBLE, S.EXPIRED),
        permission=department_perm("credit.revoke_repair_record"),
        custom={"label": _("Revoke the repair"), "via_case": True, "reason_required": True},
    )
    def revoke_repair(self, *, blocked_until: date, **ctx: Any) -> str:
        self.repair_blocked_until = blocked_until
        return self.live_state()

    def revoke_repair_arguments(self, **ctx: Any) -> dict[str, Any]:
        """The record is not repairable for the period the rule set in force today gives (Art. 25)."""
        today = timezone.localdate()
        from credit.models.rules import RuleSet
        from credit.periods import Period

        rule = RuleSet.objects.in_force(today).deadline_rule("repair.revocation_block")
        return {"blocked_until": Period(rule.value, rule.unit).end(today)}

    @transition(
        field=state,
        source=CORRECTABLE,
        target=S.DELETED,
        permission=department_perm("credit.delete_record"),
        custom={"label": _("Delete (objection founded)"), "via_case": True, "reason_required": True},
    )
    def delete_record(self, **ctx: Any) -> None:
        pass

    @transition(
        field=state,
        source=[*CORRECTABLE, S.REPAIRED],
        target=S.REVOKED,
        permission=department_perm("credit.revoke_record"),
        custom={"label": _("Revoke (penalty revoked)"), "via_case": True, "reason_required": True},
    )
    def revoke(self, **ctx: Any) -> None:
        pass

    @transition(
        field=state,
        source=IN_FORCE,
        target=S.TEMP_MASKED,
        permission=department_perm("credit.mask_record"),
        custom={"label": _("Mask during bankruptcy reorganisation"), "reason_required": True},
    )
    def temp_mask(self, **ctx: Any) -> None:
        pass

    @transition(
        field=state,
        source=S.TEMP_MASKED,
        target=RETURN_VALUE(S.ACTIVE, S.REPAIR_ELIGIBLE, S.EXPIRED),
        permission=department_perm("credit.mask_record"),
        custom={"label": _("Restore (reorganisation failed)"), "reason_required": True},
    )
    def restore(self, **ctx: Any) -> str:
        return self.live_state()

    @transition(
        field=state,
        source=CORRECTABLE,
        target=None,
        conditions=[_not_under_objection],
        permission=department_perm("credit.flag_record"),
        # The system flags it again when a decision on the objection is set aside on reconsideration.
        custom={"label": _("Flag as under objection"), "via_case": True, "also_system": True},
    )
    def flag_objection(self, **ctx: Any) -> None:
        self.under_objection = True
        self.objection_flagged_at = timezone.now()

    @transition(
        field=state,
        source="*",
        target=None,
        conditions=[_under_objection],
        permission=department_perm("credit.flag_record"),
        # The system clears it too when the objection ends without a decision (withdrawn by the applicant).
        custom={"label": _("Clear the objection flag"), "via_case": True, "also_system": True},
    )
    def clear_objection(self, **ctx: Any) -> None:
        self.under_objection = False
        self.objection_flagged_at = None

    @transition(
        field=state,
        source=CORRECTABLE,
        target=RETURN_VALUE(*CORRECTABLE, S.EXPIRED),
        permission=department_perm("credit.amend_record"),
        custom={
            "label": _("Correct fields"),
            "via_case": True,
            "reason_required": True,
            "payload": "credit.api.serializers.AmendmentSerializer",
        },
    )
    def amend(self, *, payload: dict[str, Any], actor: Any = None, reason: str = "", **ctx: Any) -> str:
        from credit.services.records import apply_amendment

        apply_amendment(self, changes=payload, actor=actor, reason=reason)
        if self.state == S.TEMP_MASKED:
            return S.TEMP_MASKED
        return self.live_state()


class PenaltyKind(models.TextChoices):
    WARNING = "warning", _("Warning (警告)")
    CRITICISM = "criticism", _("Circulated criticism (通报批评)")
    FINE = "fine", _("Fine (罚款)")
    CONFISCATION = "confiscation", _("Confiscation (没收违法所得、非法财物)")
    LICENCE_SUSPENSION = (
        "licence_suspension",
        _("Licence suspended or downgraded (暂扣许可证件、降低资质等级)"),
    )
    LICENCE_REVOCATION = "licence_revocation", _("Licence revoked (吊销许可证件)")
    ACTIVITY_RESTRICTION = (
        "activity_restriction",
        _("Activities restricted (限制开展生产经营活动、责令停产停业)"),
    )
    EMPLOYMENT_RESTRICTION = "employment_restriction", _("Employment restricted (限制从业)")
    DETENTION = "detention", _("Administrative detention (行政拘留)")
    LISTING = "listing", _("Listed (列入名单)")
    OTHER = "other", _("Other (其他)")


class Penalty(models.Model):
    record = models.ForeignKey(CreditRecord, on_delete=models.CASCADE, related_name="penalties")
    kind = models.CharField(_("kind"), max_length=30, choices=PenaltyKind.choices)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True)
    term_value = models.PositiveSmallIntegerField(_("own term"), null=True, blank=True)
    term_unit = models.CharField(
        _("own term unit"),
        max_length=10,
        blank=True,
        choices=[("days", _("days")), ("months", _("months")), ("years", _("years"))],
    )
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("penalty")
        verbose_name_plural = _("penalties")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(term_value__isnull=True) & models.Q(term_unit=""))
                | (models.Q(term_value__isnull=False) & ~models.Q(term_unit="")),
                name="penalty_term_complete",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_tier_display()})"


class RecordAmendment(models.Model):
    """A corrected field, kept as history (an objection founded on some facts)."""

    record = models.ForeignKey(CreditRecord, on_delete=models.PROTECT, related_name="amendments")
    field = models.CharField(_("field"), max_length=50)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("record amendment")
        verbose_name_plural = _("record amendments")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"

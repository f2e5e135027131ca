"""Rule sets: the numbers of the law as versioned data.

A rule set is edited as a draft and then published; a published rule set is never changed again, because
records and cases store the version they used. A change of the law is a new rule set (or a new version of
one) with its own dates. Periods and repair eligibility follow the rule set in force on a record's decision
date; a case's procedure deadlines follow the rule set in force on its filing date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from credit.periods import Period, PeriodUnit, in_force_on


class Tier(models.TextChoices):
    MINOR = "minor", _("Minor (轻微)")
    GENERAL = "general", _("General (一般)")
    SERIOUS = "serious", _("Serious (严重)")
    SPECIAL_SERIOUS = "special_serious", _("Specially serious (特定严重)")


TIER_ORDER = {Tier.MINOR: 0, Tier.GENERAL: 1, Tier.SERIOUS: 2, Tier.SPECIAL_SERIOUS: 3}


class DeadlineUnit(models.TextChoices):
    WORKING_DAYS = "wd", _("working days")
    CALENDAR_DAYS = "cd", _("calendar days")
    MONTHS = "months", _("months")
    YEARS = "years", _("years")


class PublishedRuleError(ValidationError):
    pass


class _PublishedGuardQuerySet(models.QuerySet[Any]):
    def delete(self) -> tuple[int, dict[str, int]]:
        # Bulk deletes (the admin's "delete selected") bypass Model.delete(); published rules stay.
        if self.filter(published_at__isnull=False).exists():
            raise PublishedRuleError(_("Published rules cannot be deleted."))
        return super().delete()


class RuleSetQuerySet(_PublishedGuardQuerySet):
    def published(self) -> RuleSetQuerySet:
        return self.filter(published_at__isnull=False)

    def in_force(self, on: date) -> RuleSet:
        """The published rule set in force on a date: the latest start, then the highest version."""
        found = self.published().filter(in_force_on(on)).order_by("-effective_from", "-version").first()
        if found is None:
            raise RuleSet.DoesNotExist(f"No published rule set is in force on {on.isoformat()}")
        return found


class RuleSet(models.Model):
    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    basis = models.CharField(_("legal basis"), max_length=200)
    effective_from = models.DateField(_("in force from"))
    effective_until = models.DateField(_("in force until"), null=True, blank=True)
    commitment_text = models.TextField(_("credit commitment text (信用承诺书)"), blank=True)
    required_materials = models.JSONField(
        _("materials required for repair"),
        default=list,
        blank=True,
        help_text=_("A list of {tier, material, basis} items; tier empty means every tier."),
    )
    repair_conditions = models.JSONField(_("repair conditions"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)

    objects = RuleSetQuerySet.as_manager()

    class Meta:
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")
        ordering = ["-effective_from", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="uniq_ruleset_version"),
            models.CheckConstraint(
                condition=models.Q(effective_until__isnull=True)
                | models.Q(effective_until__gte=models.F("effective_from")),
                name="ruleset_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk and type(self).objects.filter(pk=self.pk, published_at__isnull=False).exists():
            raise PublishedRuleError(_("A published rule set cannot be changed; make a new version."))
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        if self.is_published:
            raise PublishedRuleError(_("A published rule set cannot be deleted."))
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        return f"{self.code}@v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def tier_rule(self, tier: str) -> TierRule:
        for rule in self.tier_rules.all():  # prefetch-friendly
            if rule.tier == tier:
                return rule
        raise TierRule.DoesNotExist(f"{self.label} has no rule for tier {tier}")

    def deadline_rule(self, kind: str) -> DeadlineRule:
        for rule in self.deadline_rules.all():
            if rule.kind == kind:
                return rule
        raise DeadlineRule.DoesNotExist(f"{self.label} has no deadline rule {kind!r}")

    def domain_minimum(self, domain: str) -> Period | None:
        for rule in self.domain_rules.all():
            if rule.domain == domain:
                return rule.min_period
        return None


class _RuleChild(models.Model):
    """A row belonging to a rule set; frozen with it once it is published."""

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        self._check_draft()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        self._check_draft()
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]

    def _check_draft(self) -> None:
        ruleset = RuleSet.objects.filter(pk=self.ruleset_id).first()  # type: ignore[attr-defined]
        if ruleset is not None and ruleset.is_published:
            raise PublishedRuleError(_("A published rule set cannot be changed; make a new version."))


class TierRule(_RuleChild):
    ruleset = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="tier_rules")
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices)
    min_value = models.PositiveSmallIntegerField(_("minimum period"))
    min_unit = models.CharField(max_length=10, choices=PeriodUnit.choices)
    max_value = models.PositiveSmallIntegerField(_("maximum period"))
    max_unit = models.CharField(max_length=10, choices=PeriodUnit.choices)
    repairable = models.BooleanField(_("repairable"), default=True)
    repair_on_duty_fulfilled = models.BooleanField(
        _("repair as soon as the legal duty is fulfilled"),
        default=False,
        help_text=_("轻微: repair may be applied for once the duty is fulfilled, without a minimum period."),
    )
    published_by_default = models.BooleanField(_("shown publicly by default"), default=True)
    basis = models.CharField(_("legal basis"), max_length=200)

    class Meta:
        verbose_name = _("tier rule")
        verbose_name_plural = _("tier rules")
        constraints = [models.UniqueConstraint(fields=["ruleset", "tier"], name="uniq_tier_rule")]

    def __str__(self) -> str:
        return f"{self.get_tier_display()}: {self.min_period} – {self.max_period}"

    @property
    def min_period(self) -> Period:
        return Period(self.min_value, self.min_unit)

    @property
    def max_period(self) -> Period:
        return Period(self.max_value, self.max_unit)


class DomainPeriodRule(_RuleChild):
    """A longer minimum period for a domain (Order 58: 特种设备, 安全生产, 消防 at least 1 year)."""

    ruleset = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="domain_rules")
    domain = models.CharField(_("domain"), max_length=30)
    min_value = models.PositiveSmallIntegerField(_("minimum period"))
    min_unit = models.CharField(max_length=10, choices=PeriodUnit.choices)
    basis = models.CharField(_("legal basis"), max_length=200)

    class Meta:
        verbose_name = _("domain period rule")
        verbose_name_plural = _("domain period rules")
        constraints = [models.UniqueConstraint(fields=["ruleset", "domain"], name="uniq_domain_rule")]

    def __str__(self) -> str:
        return f"{self.domain}: ≥ {self.min_period}"

    @property
    def min_period(self) -> Period:
        return Period(self.min_value, self.min_unit)


class DeadlineRule(_RuleChild):
    """One legal deadline of a procedure: `kind` names it (e.g. ``repair.accept``)."""

    ruleset = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="deadline_rules")
    kind = models.CharField(_("kind"), max_length=60)
    description = models.CharField(_("description"), max_length=200)
    value = models.PositiveSmallIntegerField(_("value"))
    unit = models.CharField(_("unit"), max_length=10, choices=DeadlineUnit.choices)
    basis = models.CharField(_("legal basis"), max_length=200)

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["ruleset", "kind"], name="uniq_deadline_rule")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value} {self.get_unit_display()}"


class CityOverlay(models.Model):
    """A city's local modules (from the municipal plans): optional, never national gates."""

    city = models.CharField(_("city"), max_length=50)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    effective_from = models.DateField(_("in force from"))
    effective_until = models.DateField(_("in force until"), null=True, blank=True)
    interview_required = models.BooleanField(_("integrity interview (诚信约谈) required"), default=False)
    training_required = models.BooleanField(_("credit training required"), default=False)
    volunteer_hours_threshold = models.DecimalField(
        _("volunteer service hours required (志愿服务)"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
    )
    charity_evidence_accepted = models.BooleanField(
        _("charity donation (慈善捐助) accepted as evidence"), default=False
    )
    complaint_reply_days = models.PositiveSmallIntegerField(
        _("written reply to a complaint within (calendar days)"),
        null=True,
        blank=True,
        help_text=_("The city's own period; empty: the rule set's (30 days, 征信业管理条例 Art. 26)."),
    )
    basis = models.CharField(_("local basis"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)

    objects = _PublishedGuardQuerySet.as_manager()

    class Meta:
        verbose_name = _("city overlay")
        verbose_name_plural = _("city overlays")
        constraints = [models.UniqueConstraint(fields=["city", "version"], name="uniq_overlay_version")]

    def __str__(self) -> str:
        return f"{self.city} v{self.version}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk and type(self).objects.filter(pk=self.pk, published_at__isnull=False).exists():
            raise PublishedRuleError(_("A published overlay cannot be changed; make a new version."))
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        if self.published_at is not None:
            raise PublishedRuleError(_("A published overlay cannot be deleted."))
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def in_force(cls, city: str, on: date) -> CityOverlay | None:
        return (
            cls.objects.filter(in_force_on(on), city=city, published_at__isnull=False)
            .order_by("-effective_from", "-version")
            .first()
        )

"""Tier and periods by rule set (DOMAIN.md's table; 民法典 counting)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from credit.models import RuleSet
from credit.periods import Period, add_months
from credit.services.records import PenaltyInput, derive_periods


def ruleset(on: date) -> RuleSet:
    return RuleSet.objects.prefetch_related("tier_rules", "domain_rules").in_force(on)


def derive(decision: date, *penalties: PenaltyInput, domain: str = "food_drug"):  # type: ignore[no-untyped-def]
    return derive_periods(
        ruleset=ruleset(decision), decision_date=decision, domain=domain, penalties=list(penalties)
    )


def fine(tier: str, term: Period | None = None) -> PenaltyInput:
    return PenaltyInput(kind="fine", tier=tier, term=term)


def test_month_end_counting_clamps_to_the_last_day() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert Period(1, "years").end(date(2028, 2, 29)) == date(2029, 2, 28)
    assert Period(10, "days").end(date(2026, 12, 25)) == date(2027, 1, 4)


@pytest.mark.django_db
class TestOrder36:
    def test_general_decided_on_a_month_end(self) -> None:
        periods = derive(date(2026, 5, 31), fine("general"))
        assert (periods.repair_from, periods.display_until) == (date(2026, 9, 1), date(2027, 5, 31))
        assert periods.repairable

    def test_general_decided_on_30_november_ends_on_the_last_of_february(self) -> None:
        periods = derive(date(2026, 11, 30), fine("general"))
        assert periods.repair_from == date(2027, 3, 1)  # 3 months end 2027-02-28

    def test_serious(self) -> None:
        periods = derive(date(2026, 6, 15), fine("serious"))
        assert (periods.repair_from, periods.display_until) == (date(2027, 6, 16), date(2029, 6, 15))

    def test_minor_may_be_repaired_at_once_and_is_not_published(self) -> None:
        periods = derive(date(2026, 6, 15), fine("minor"))
        assert periods.repair_from == date(2026, 6, 16)
        assert periods.display_until == date(2026, 9, 15)
        assert not periods.published_by_default

    def test_several_penalties_the_longest_wins(self) -> None:
        periods = derive(date(2026, 6, 15), fine("minor"), fine("serious"), fine("general"))
        assert periods.tier == "serious"
        assert (periods.repair_from, periods.display_until) == (date(2027, 6, 16), date(2029, 6, 15))

    def test_an_own_term_longer_than_the_minimum_is_never_cut_short(self) -> None:
        suspended = PenaltyInput(kind="licence_suspension", tier="general", term=Period(6, "months"))
        periods = derive(date(2026, 6, 15), suspended)
        assert periods.repair_from == date(2026, 12, 16)
        assert periods.display_until == date(2027, 6, 15)

    def test_an_own_term_longer_than_the_maximum_extends_the_display(self) -> None:
        suspended = PenaltyInput(kind="licence_suspension", tier="minor", term=Period(2, "years"))
        periods = derive(date(2026, 6, 15), suspended)
        assert periods.display_until == date(2028, 6, 15)
        assert periods.repair_from == date(2028, 6, 16)

    def test_a_record_needs_a_penalty(self) -> None:
        with pytest.raises(ValidationError):
            derive(date(2026, 6, 15))


@pytest.mark.django_db
class TestOlderRuleSets:
    def test_the_rule_set_follows_the_decision_date(self) -> None:
        assert ruleset(date(2026, 4, 1)).code == "ndrc-order-36"
        assert ruleset(date(2026, 3, 31)).code == "ndrc-order-58"
        assert ruleset(date(2023, 5, 1)).code == "ndrc-order-58"
        assert ruleset(date(2023, 4, 30)).code == "ndrc-527-2019"
        with pytest.raises(RuleSet.DoesNotExist):
            ruleset(date(2019, 6, 30))

    def test_order_58_general_is_shown_up_to_three_years(self) -> None:
        periods = derive(date(2025, 1, 10), fine("general"))
        assert (periods.repair_from, periods.display_until) == (date(2025, 4, 11), date(2028, 1, 10))

    @pytest.mark.parametrize("domain", ["fire", "work_safety", "special_equipment"])
    def test_order_58_fire_and_safety_domains_need_a_year(self, domain: str) -> None:
        periods = derive(date(2025, 1, 10), fine("general"), domain=domain)
        assert periods.repair_from == date(2026, 1, 11)

    def test_527_serious_needs_six_months(self) -> None:
        periods = derive(date(2021, 3, 1), fine("serious"))
        assert (periods.repair_from, periods.display_until) == (date(2021, 9, 2), date(2024, 3, 1))

    def test_527_specially_serious_is_never_repairable(self) -> None:
        periods = derive(date(2021, 3, 1), fine("general"), fine("special_serious"))
        assert periods.tier == "special_serious"
        assert not periods.repairable
        assert periods.display_until == date(2024, 3, 1)

    def test_a_tier_the_rule_set_does_not_know_is_refused(self) -> None:
        with pytest.raises(ValidationError) as exc:
            derive(date(2021, 3, 1), fine("minor"))
        assert exc.value.code == "tier"

"""The rules a filing works under: which rule set and city overlay are in force is asked of the database on
every call (one statement); the published rows themselves, frozen, are kept by the process. A rule set or
overlay published elsewhere, or one taking effect today, counts from the next call."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from credit.models import CityOverlay, RuleSet
from credit.selectors import rules_in_force
from credit.services.rules import copy_as_new_version

pytestmark = pytest.mark.django_db
CITY = "测试市"
TODAY = date(2026, 11, 23)


def order36() -> RuleSet:
    return RuleSet.objects.get(code="ndrc-order-36", version=1)


def publish(obj: RuleSet | CityOverlay) -> None:
    """As the admin's publish action does: an UPDATE, no save(), no signal."""
    type(obj).objects.filter(pk=obj.pk).update(published_at=timezone.now())


def overlay(city: str = CITY, **fields: object) -> CityOverlay:
    made = CityOverlay.objects.create(city=city, **{"effective_from": date(2026, 4, 1), **fields})
    publish(made)
    return made


def expected(on: date, city: str = CITY) -> tuple[int, int | None]:
    found = CityOverlay.in_force(city, on)
    return RuleSet.objects.in_force(on).pk, found.pk if found else None


def answer(on: date, city: str = CITY) -> tuple[int, int | None]:
    ruleset, found = rules_in_force(on, city)
    return ruleset.pk, found.pk if found else None


def test_it_answers_as_the_models_do() -> None:
    draft_v2 = copy_as_new_version(order36())  # a draft is never in force
    assert draft_v2.published_at is None
    overlay(version=1)
    overlay(version=2, effective_from=date(2026, 6, 1), effective_until=date(2026, 8, 31))
    overlay(version=3, effective_from=date(2026, 6, 1))
    CityOverlay.objects.create(city=CITY, version=4, effective_from=date(2026, 7, 1))  # a draft
    overlay(city="别的市", version=1, effective_from=date(2026, 9, 1))
    days = [
        date(2019, 7, 1),  # 527号's first day
        date(2023, 4, 30),  # its last
        date(2023, 5, 1),  # Order 58's first
        date(2026, 3, 31),
        date(2026, 4, 1),  # Order 36's first, and the first overlay's
        date(2026, 5, 31),
        date(2026, 6, 1),  # two overlays start: the higher version wins
        date(2026, 7, 15),
        date(2026, 9, 1),
        TODAY,
    ]
    for on in days:
        for city in (CITY, "别的市", "无此市"):
            assert answer(on, city) == expected(on, city), (on, city)


def test_no_rule_set_in_force_is_an_error() -> None:
    with pytest.raises(RuleSet.DoesNotExist):
        rules_in_force(date(2019, 6, 30), CITY)


def test_the_rows_are_read_once_and_only_which_is_in_force_is_asked_again(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    made = overlay(volunteer_hours_threshold=Decimal("20"))
    # Which is in force; the rule set; its deadline rules; the overlay.
    with django_assert_num_queries(4):
        ruleset, found = rules_in_force(TODAY, CITY)
    assert found == made and ruleset.deadline_rule("repair.accept").value == 3
    with django_assert_num_queries(1):
        again, found_again = rules_in_force(TODAY, CITY)
        assert again.deadline_rule("repair.total").value == 10
    assert again is ruleset and found_again is found


def test_a_rule_set_published_after_the_process_kept_one_counts_at_once() -> None:
    kept, _ = rules_in_force(TODAY, CITY)
    assert kept == order36()
    newer = copy_as_new_version(order36())  # same start, next version: it wins once published
    assert rules_in_force(TODAY, CITY)[0] == order36()  # a draft is not in force
    publish(newer)
    assert rules_in_force(TODAY, CITY)[0] == newer


def test_a_rule_set_counts_from_the_day_it_takes_effect() -> None:
    newer = copy_as_new_version(order36())
    RuleSet.objects.filter(pk=newer.pk).update(effective_from=TODAY + timedelta(days=1))
    publish(newer)
    assert rules_in_force(TODAY, CITY)[0] == order36()
    with time_machine.travel("2026-11-24T00:00:01+08:00", tick=False):
        assert rules_in_force(timezone.localdate(), CITY)[0] == newer
    assert rules_in_force(TODAY, CITY)[0] == order36()


def test_an_overlay_published_or_ended_counts_at_once() -> None:
    assert rules_in_force(TODAY, CITY)[1] is None
    first = overlay(version=1)
    assert rules_in_force(TODAY, CITY)[1] == first
    second = overlay(version=2)
    assert rules_in_force(TODAY, CITY)[1] == second
    later = overlay(version=3, effective_from=TODAY + timedelta(days=1))
    assert rules_in_force(TODAY, CITY)[1] == second
    assert rules_in_force(TODAY + timedelta(days=1), CITY)[1] == later

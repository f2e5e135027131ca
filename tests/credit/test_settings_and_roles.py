from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured

from config.settings import env_bool, env_int, env_list
from credit.models import RuleSet, TierRule
from credit.models.people import Role
from credit.models.rules import PublishedRuleError
from credit.roles import ROLE_PERMISSIONS
from credit.services.rules import copy_as_new_version

ROOT = Path(__file__).resolve().parents[2]


def test_env_helpers_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL"):
        env_bool("X_BOOL", False)
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_INT"):
        env_int("X_INT", 1)
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_list("X_LIST", []) == ["a", "b", "c"]


def _settings_in_subprocess(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ID_ENCRYPTION_KEYS", "ID_LOOKUP_KEY"}
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_its_secrets() -> None:
    missing = _settings_in_subprocess(DEBUG="0")
    assert missing.returncode != 0 and "SECRET_KEY" in missing.stderr
    no_keys = _settings_in_subprocess(DEBUG="0", SECRET_KEY="s" * 50)
    assert no_keys.returncode != 0 and "ID_ENCRYPTION_KEYS" in no_keys.stderr
    ok = _settings_in_subprocess(
        DEBUG="0",
        SECRET_KEY="s" * 50,
        ALLOWED_HOSTS="credit.example",
        ID_ENCRYPTION_KEYS="u7Y0v3qJ1bQk1m9q2c8r5t4w6y0z3x2v1b4n7m8k9j0=",
        ID_LOOKUP_KEY="a-private-lookup-key",
        LETTERS_TRUST_ROOTS="/etc/credit-repair/ca.pem",
    )
    assert ok.returncode == 0, ok.stderr


def test_the_embedded_defaults_need_no_server() -> None:
    from django.conf import settings

    assert settings.LANGUAGE_CODE == "zh-hans" and settings.TIME_ZONE == "Asia/Shanghai"
    if "DATABASE_URL" not in os.environ:
        assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    if "CELERY_BROKER_URL" not in os.environ:
        assert settings.CELERY_BROKER_URL == "filesystem://"


def test_a_shared_cache_is_redis_and_holds_the_sessions() -> None:
    """Several machines share one Redis cache (rate limits, sessions read from it and written through to the
    database); without CACHE_URL the embedded mode keeps sessions in the database."""
    show = "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'], s.SESSION_ENGINE)"

    def settings_with(**env: str) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
        return subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {show}"],
            env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    embedded = settings_with()
    assert embedded.stdout.split() == [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.contrib.sessions.backends.db",
    ], embedded.stderr
    shared = settings_with(CACHE_URL="redis://127.0.0.1:6379/13")
    assert shared.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "django.contrib.sessions.backends.cached_db",
    ], shared.stderr
    wrong = settings_with(CACHE_URL="memcached://127.0.0.1:11211")
    assert wrong.returncode != 0 and "only a Redis URL" in wrong.stderr


@pytest.mark.django_db
def test_every_role_group_exists_with_its_permissions() -> None:
    for role in Role:
        group = Group.objects.get(name=role)
        codes = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert codes == set(ROLE_PERMISSIONS[role])


@pytest.mark.django_db
def test_a_published_rule_set_is_frozen_and_a_new_version_is_a_draft() -> None:
    order36 = RuleSet.objects.get(code="ndrc-order-36")
    order36.name = "changed"
    with pytest.raises(PublishedRuleError):
        order36.save()
    rule = TierRule.objects.filter(ruleset__code="ndrc-order-36").first()
    assert rule is not None
    rule.max_value = 99
    with pytest.raises(PublishedRuleError):
        rule.save()
    draft = copy_as_new_version(RuleSet.objects.get(code="ndrc-order-36"))
    assert (draft.version, draft.is_published) == (2, False)
    assert draft.deadline_rules.count() == order36.deadline_rules.count()
    general = draft.tier_rule("general")
    general.max_value = 2
    general.save()  # a draft can be edited
    # The draft is not in force until it is published.
    assert RuleSet.objects.in_force(order36.effective_from).version == 1
    RuleSet.objects.filter(pk=draft.pk).update(published_at=order36.published_at)
    assert RuleSet.objects.in_force(order36.effective_from).version == 2


@pytest.mark.django_db
def test_published_rules_cannot_be_deleted_one_by_one_or_in_bulk() -> None:
    from credit.models import CityOverlay

    unused = RuleSet.objects.get(code="ndrc-527-2019")
    with pytest.raises(PublishedRuleError):
        unused.delete()
    with pytest.raises(PublishedRuleError):
        RuleSet.objects.filter(code="ndrc-527-2019").delete()
    overlay = CityOverlay.objects.create(city="测试市", effective_from="2026-04-01")
    CityOverlay.objects.filter(pk=overlay.pk).update(published_at="2026-04-01T00:00:00+08:00")
    with pytest.raises(PublishedRuleError):
        CityOverlay.objects.all().delete()
    draft = copy_as_new_version(unused)
    draft.delete()  # a draft may go
    assert RuleSet.objects.filter(code="ndrc-527-2019").count() == 1


@pytest.mark.django_db
def test_a_role_sets_permissions_are_read_once_a_minute(
    personas: object, django_assert_num_queries, time_machine
) -> None:  # type: ignore[no-untyped-def]
    from credit.models import User
    from credit.roles import role_permissions

    def fresh(username: str) -> User:  # as the next request loads its user
        user = User.objects.get(username=username)
        user.roles()
        return user

    officer, other = fresh("officer"), fresh("other_officer")
    with django_assert_num_queries(1):
        assert "repair.handle_repair" in role_permissions(officer)
    with django_assert_num_queries(0):  # another user of the same roles, within the minute
        assert role_permissions(other) == role_permissions(officer)
    reviewer = fresh("reviewer")
    with django_assert_num_queries(1):  # other roles, other permissions
        assert "repair.handle_repair" not in role_permissions(reviewer)
    from django.core.cache import cache

    key = cache.make_and_validate_key("credit.role_permissions:officer")
    if hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):  # Redis: expiry by its own clock
        assert 0 < cache._cache.get_client(key).ttl(key) <= 60
        return
    time_machine.shift(61)
    later = fresh("other_officer")
    with django_assert_num_queries(1):
        role_permissions(later)

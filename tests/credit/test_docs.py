"""docs/rules.md and docs/states.md are generated from the database and the code; the committed copies must
match what `manage.py docs` would write today."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from credit.docgen import render_rules, render_states
from credit.models import RuleSet
from credit.services.rules import copy_as_new_version

pytestmark = pytest.mark.django_db

DOCS = Path(settings.BASE_DIR) / "docs"
REGENERATE = "run `python manage.py docs` against a freshly migrated database and commit the result"


def test_committed_rules_doc_matches_the_published_rule_sets() -> None:
    assert (DOCS / "rules.md").read_text(encoding="utf-8") == render_rules(), REGENERATE


def test_committed_states_doc_matches_the_transitions_in_the_code() -> None:
    assert (DOCS / "states.md").read_text(encoding="utf-8") == render_states(), REGENERATE


def test_the_check_command_passes_on_the_committed_docs() -> None:
    out = StringIO()
    call_command("docs", "--check", stdout=out, stderr=StringIO())
    assert "docs/rules.md is up to date" in out.getvalue()
    assert "docs/states.md is up to date" in out.getvalue()


def test_a_newly_published_rule_version_changes_the_rules_doc() -> None:
    before = render_rules()
    order36 = RuleSet.objects.get(code="ndrc-order-36", version=1)
    draft = copy_as_new_version(order36)
    assert render_rules() == before, "a draft is not in force and must not appear"

    RuleSet.objects.filter(pk=draft.pk).update(published_at=order36.published_at)

    after = render_rules()
    assert after != before
    assert "## 信用修复管理办法 — `ndrc-order-36` v2" in after


def test_the_check_command_fails_when_the_rules_changed() -> None:
    order36 = RuleSet.objects.get(code="ndrc-order-36", version=1)
    draft = copy_as_new_version(order36)
    RuleSet.objects.filter(pk=draft.pk).update(published_at=order36.published_at)
    err = StringIO()

    with pytest.raises(CommandError, match=r"docs/rules\.md is out of date"):
        call_command("docs", "--check", stdout=StringIO(), stderr=err)

    assert "+## 信用修复管理办法 — `ndrc-order-36` v2" in err.getvalue()


def test_the_rules_doc_shows_units_in_chinese_and_english() -> None:
    rules = render_rules()
    assert "| `repair.accept` | 信用修复受理决定 | 3 | 工作日 working days |" in rules
    assert "| `reconsideration.apply` | 申请行政复议期限 | 60 | 日 calendar days |" in rules


def test_the_record_diagram_draws_every_declared_arrow() -> None:
    states = render_states()
    record = states.split("## credit.CreditRecord", 1)[1].split("\n## ", 1)[0]
    assert "    [*] --> active" in record
    assert "    repair_eligible --> repaired : repair" in record
    # RETURN_VALUE targets: one arrow per state the transition may return.
    for target in ("active", "repair_eligible", "expired"):
        assert f"    repaired --> {target} : revoke_repair" in record
    # Flags keep the state: listed in a table, never drawn.
    assert "flag_objection" not in record.split("```mermaid", 1)[1].split("```", 1)[0]
    assert "| `clear_objection` | * (every state) |" in record


def test_the_record_transition_table_names_permissions_and_flags() -> None:
    states = render_states()
    assert "| `expire` | Display period ended | active, repair_eligible, temp_masked | expired |" in states
    assert "system only" in states
    assert (
        "`credit.repair_record` (own department; city-wide roles everywhere) | reviewer | `via_case` |"
        in (states)
    )

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from credit.docgen import render_flows, render_rules, render_states

# Each generated file and the function that renders it.
GENERATED: dict[str, Callable[[], str]] = {
    "rules.md": render_rules,
    "states.md": render_states,
    "flows.md": render_flows,
}
_DIFF_LINES = 40


def docs_dir() -> Path:
    return Path(settings.BASE_DIR) / "docs"


class Command(BaseCommand):
    help = (
        "Write docs/rules.md (the published rule sets in the database) and docs/states.md (the state "
        "machines of the code). With --check, write nothing and fail if either file is out of date. Run it "
        "against a freshly migrated database, so that only the rule sets the migrations install appear."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit non-zero if a committed file differs from what would be generated",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = docs_dir()
        stale: list[str] = []
        for name, render in GENERATED.items():
            path = directory / name
            wanted = render()
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == wanted:
                self.stdout.write(f"docs/{name} is up to date")
                continue
            if options["check"]:
                stale.append(name)
                self._show_diff(name, current, wanted)
                continue
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(wanted, encoding="utf-8")
            self.stdout.write(f"wrote docs/{name}")
        if stale:
            files = ", ".join(f"docs/{name}" for name in stale)
            raise CommandError(
                f"{files} {'is' if len(stale) == 1 else 'are'} out of date: the code and database generate "
                "something else. If the change is intended, run `python manage.py docs` against a freshly "
                "migrated database and commit the result."
            )

    def _show_diff(self, name: str, current: str | None, wanted: str) -> None:
        if current is None:
            self.stderr.write(f"docs/{name} is missing")
            return
        diff = list(
            difflib.unified_diff(
                current.splitlines(),
                wanted.splitlines(),
                fromfile=f"docs/{name} (committed)",
                tofile=f"docs/{name} (generated)",
                lineterm="",
            )
        )
        self.stderr.write("\n".join(diff[:_DIFF_LINES]))
        if len(diff) > _DIFF_LINES:
            self.stderr.write(f"... {len(diff) - _DIFF_LINES} more diff line(s)")

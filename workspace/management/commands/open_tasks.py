"""Check the staff queues' table of open tasks against what it copies, or repair it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workspace import open_tasks


class Command(BaseCommand):
    help = (
        "Compare workspace.OpenTask (what the staff queues read) with viewflow's open tasks and the "
        "deadlines of their timers (--check, the default: exit 1 on any difference), or write it again "
        "(--sync: idempotent, safe beside live work)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--check", action="store_true", help="report differences (the default)")
        action.add_argument("--sync", action="store_true", help="repair the table")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sync"]:
            written = open_tasks.sync_all()
            self.stdout.write(f"{written} row(s) written; the table matches its sources.")
            return
        found = open_tasks.drift()
        if not found:
            self.stdout.write("The table of open tasks matches its sources.")
            return
        self.stdout.write(
            f"{len(found.missing)} open task(s) without their row as it should be "
            f"(first: {found.missing[:10]}); {len(found.stale)} row(s) no open task accounts for "
            f"(first: {found.stale[:10]}). Run with --sync to repair."
        )
        raise CommandError("the table of open tasks differs from its sources")

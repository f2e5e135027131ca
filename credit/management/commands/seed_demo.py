from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from credit.services.demo import DEMO_PASSWORD, SIGNED_UP, USERS, seed_demo, seed_demo_portal


class Command(BaseCommand):
    help = "Load the demo city, its users (one per role) and ~40 records. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet-logins", action="store_true", help="do not print the demo logins")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates users with a published password; it runs only with DEBUG on"
            )
        created = seed_demo()
        portal = seed_demo_portal()
        created = {key: created[key] + portal[key] for key in created}
        if apps.is_installed("letters"):
            from letters.demo import seed_demo_letters

            letters = seed_demo_letters()
            self.stdout.write(
                f"demo letters: {letters['consents']} consent(s) to electronic service, "
                f"{letters['notices']} notice(s) added (the worker renders and signs them)"
            )
        if apps.is_installed("notifications"):
            from notifications.demo import seed_demo_notifications

            seed_demo_notifications()
        if apps.is_installed("repair") and apps.is_installed("objections"):
            from objections.demo import seed_demo_cases
            from repair.demo import seed_demo_repairs

            repairs, cases = seed_demo_repairs(), seed_demo_cases()
            counts = f"{repairs} repair, {cases['objections']} objection, {cases['complaints']} complaint"
            self.stdout.write(f"demo cases: {counts} filed (the worker starts their work)")
        self.stdout.write(f"demo data: {created['users']} user(s) and {created['records']} record(s) created")
        if not options["quiet_logins"]:
            self.stdout.write(
                f"logins (password {DEMO_PASSWORD}): "
                + ", ".join([u[0] for u in USERS] + SIGNED_UP + ["admin"])
            )

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from credit.services.records import advance_record_periods


class Command(BaseCommand):
    help = (
        "Move records whose minimum period was reached to repair_eligible "
        "and expire those past their maximum."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = advance_record_periods()
        self.stdout.write(
            _("%(eligible)d record(s) became repair-eligible, %(expired)d record(s) expired")
            % {"eligible": counts["repair_eligible"], "expired": counts["expired"]}
        )

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from credit import identity
from credit.models import Person


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored ID number with the first key of ID_ENCRYPTION_KEYS, so that older keys can "
        "be removed afterwards. Run it after putting a new key first in ID_ENCRYPTION_KEYS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                batch = list(
                    Person.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .only("pk", "id_encrypted")[: options["batch_size"]]
                )
                if not batch:
                    break
                for person in batch:
                    person.id_encrypted = identity.rotate(person.id_encrypted)
                Person.objects.bulk_update(batch, ["id_encrypted"])
            rotated += len(batch)
            last_pk = batch[-1].pk
        self.stdout.write(f"{rotated} ID number(s) re-encrypted with the current key")

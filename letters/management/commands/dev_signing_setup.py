from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from credit.models import Department
from letters.models import SigningIdentity
from letters.pki import DEV_PASSPHRASE, DEV_PASSPHRASE_ENV, create_dev_pki


class Command(BaseCommand):
    help = (
        "DEVELOPMENT ONLY: make a test CA, a test timestamping authority, and a signing certificate and seal "
        "for every deciding and reconsideration department, under VAR_DIR/dev-pki, and point each "
        "department's signing identity at them. Idempotent. Refuses to run with DEBUG off."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "dev_signing_setup makes development certificates with no legal effect; it runs only with "
                "DEBUG on. Production signing identities are configured in the admin (docs/deploy.md)."
            )
        passphrase = os.environ.get(DEV_PASSPHRASE_ENV, "").encode() or DEV_PASSPHRASE
        departments = list(
            Department.objects.filter(
                kind__in=[Department.Kind.DECIDING, Department.Kind.RECONSIDERATION]
            ).order_by("code")
        )
        directory = Path(settings.VAR_DIR) / "dev-pki"
        try:
            pki = create_dev_pki(directory, departments, passphrase=passphrase)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        changed = 0
        for department in departments:
            files = pki.departments[department.code]
            wanted = {
                "pkcs12_path": str(files.pkcs12),
                "key_path": "",
                "cert_path": "",
                "chain_path": "",
                "passphrase_env": DEV_PASSPHRASE_ENV,
                "seal_image_path": str(files.seal),
                "signer_text": department.name,
                "development_only": True,
            }
            identity = SigningIdentity.objects.filter(department=department).first()
            if identity is not None and not identity.development_only:
                # A real certificate configured by hand is never replaced by a development one.
                self.stdout.write(f"kept {department.code}: it has a production signing identity")
                continue
            if identity is None:
                SigningIdentity.objects.create(department=department, **wanted)
                changed += 1
            elif any(getattr(identity, name) != value for name, value in wanted.items()):
                for name, value in wanted.items():
                    setattr(identity, name, value)
                identity.save()
                changed += 1

        for path in pki.created:
            self.stdout.write(f"development PKI: wrote {path}")
        self.stdout.write(
            f"development signing (NOT legally valid): CA {pki.ca_cert}; {len(departments)} department(s), "
            f"{changed} signing identit{'y' if changed == 1 else 'ies'} created or updated"
        )

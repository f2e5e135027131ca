from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from letters.services import Verdict, verify_file
from letters.signing import validate_signed_pdf
from letters.trust import trust_roots


class Command(BaseCommand):
    help = (
        "Check a letter's signature and its SHA-256 against the archive. Exit 0: authentic; 1: the "
        "signature is broken, absent or untrusted (tampered); 2: not in the archive (unknown); "
        "3: authentic but superseded or revoked."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2) from exc
        report = validate_signed_pdf(data, trust_roots=trust_roots())
        verification = verify_file(data)
        self.stdout.write(
            f"signature: signed={report.signed} intact={report.intact} valid={report.valid} "
            f"trusted={report.trusted} covers_whole_file={report.covers_whole_file}"
        )
        self.stdout.write(f"signer: {report.signer_subject}")
        self.stdout.write(
            f"archive: {verification.verdict} {verification.reference_number} {verification.sha256}"
        )
        if not (report.signed and report.intact and report.valid and report.covers_whole_file):
            raise CommandError(
                "the signature does not verify: the file is not the letter that was signed", returncode=1
            )
        if not report.trusted:
            raise CommandError(
                "the signer's certificate is not issued by a trusted CA (LETTERS_TRUST_ROOTS)", returncode=1
            )
        if verification.verdict == Verdict.UNKNOWN:
            raise CommandError("no letter with this content was issued", returncode=2)
        if verification.verdict != Verdict.AUTHENTIC:
            raise CommandError(f"the letter is {verification.verdict}", returncode=3)
        self.stdout.write(self.style.SUCCESS("authentic"))

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from asn1crypto import pem, x509
from django.conf import settings


def trust_roots() -> list[x509.Certificate]:
    """The CA certificates letters are validated against (settings.LETTERS_TRUST_ROOTS, PEM files)."""
    return list(_load(tuple(settings.LETTERS_TRUST_ROOTS)))


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> tuple[x509.Certificate, ...]:
    certs = []
    for path in paths:
        if not Path(path).exists():  # the development CA before `make run` made it
            continue
        data = Path(path).read_bytes()
        for _type, _headers, der in (
            pem.unarmor(data, multiple=True) if pem.detect(data) else [("", {}, data)]
        ):
            certs.append(x509.Certificate.load(der))
    return tuple(certs)

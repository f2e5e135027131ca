"""Identity document numbers: validation per type, masking, encryption at rest and exact-match lookup; and
the comparison of names as written on the documents.

A number is never logged, never searched by part, and leaves this module only masked or (for the holder's
own use) decrypted. Lookup is by a keyed hash (HMAC-SHA256), so the database alone does not reveal
numbers, even by enumerating the small space of valid ones.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import date

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK_CHARS = "10X98765432"
_HMT_PREFIXES = ("81", "82", "83")


class IdType(models.TextChoices):
    RESIDENT = "resident_id", _("Resident identity card (居民身份证)")
    HMT_PERMIT = (
        "hmt_permit",
        _("Residence permit for Hong Kong, Macao and Taiwan residents (港澳台居民居住证)"),
    )
    FOREIGN_PERMANENT = "foreign_permanent", _("Foreign permanent resident ID card (外国人永久居留身份证)")


def normalize(number: str) -> str:
    """Strip spaces and separators; a lowercase check character x becomes X."""
    return "".join(ch for ch in number.strip() if ch not in " -").upper()


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits (GB 11643-1999)."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _birth_date_ok(number: str) -> bool:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= timezone.localdate()


def validate(id_type: str, number: str) -> str:
    """Return the normalized number, or raise ValidationError saying what is wrong with it."""
    value = normalize(number)
    if len(value) != 18:
        raise ValidationError(
            _("An ID number has 18 characters; this one has %(n)d."), params={"n": len(value)}, code="length"
        )
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise ValidationError(_("An ID number is 17 digits followed by a digit or X."), code="format")
    if id_type == IdType.RESIDENT:
        if value.startswith(_HMT_PREFIXES) or value.startswith("9"):
            raise ValidationError(
                _(
                    "This number belongs to a residence permit or a foreign permanent resident card, "
                    "not to a resident identity card: choose that document type."
                ),
                code="wrong_type",
            )
        try:
            ric.validate(value)
        except StdnumError as exc:
            raise (
                _explain(value)
                or ValidationError(_("This is not a valid resident ID number."), code="invalid")
            ) from exc
        if not _birth_date_ok(value):  # stdnum accepts birth dates in the future
            raise _explain(value) or ValidationError(_("The birth date is not valid."), code="birth_date")
        return value
    if id_type == IdType.HMT_PERMIT:
        if not value.startswith(_HMT_PREFIXES):
            raise ValidationError(
                _("A Hong Kong, Macao or Taiwan residence permit number starts with 81, 82 or 83."),
                code="prefix",
            )
    elif id_type == IdType.FOREIGN_PERMANENT:
        if not value.startswith("9"):
            raise ValidationError(_("A foreign permanent resident ID number starts with 9."), code="prefix")
    else:
        raise ValidationError(_("Unknown identity document type %(t)s."), params={"t": id_type}, code="type")
    problem = _explain(value)
    if problem is not None:
        raise problem
    return value


def _explain(value: str) -> ValidationError | None:
    if not _birth_date_ok(value):
        return ValidationError(
            _("The birth date inside the ID number (%(d)s) is not a valid date."),
            params={"d": value[6:14]},
            code="birth_date",
        )
    if check_char(value[:17]) != value[17]:
        return ValidationError(
            _("The check character is wrong: the number has a typing error."), code="checksum"
        )
    if value[:2] == "00" or not value[:6].isdigit():
        return ValidationError(_("The region code of the ID number is not valid."), code="region")
    return None


def mask(number: str) -> str:
    """1101**********002X: the first four and the last four characters."""
    value = normalize(number)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


# The middle dot of ethnic-minority and foreign names (买买提·艾力) is typed in several ways.
_MIDDLE_DOTS = str.maketrans(dict.fromkeys("\u2022\u2027\u2219\u22c5\u30fb.", "\u00b7"))


def normalize_name(name: str) -> str:
    """A name as written on an identity document, for comparing: full-width forms folded (NFKC), one middle
    dot, no spaces (Chinese names have none; 'ZHANG Wei' and 'Zhang  Wei' are one name), case ignored."""
    folded = unicodedata.normalize("NFKC", name).translate(_MIDDLE_DOTS)
    return "".join(folded.split()).casefold()


def same_name(one: str, other: str) -> bool:
    return bool(normalize_name(one)) and normalize_name(one) == normalize_name(other)


def _fernet() -> MultiFernet:
    keys = settings.ID_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("ID_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def encrypt(number: str) -> str:
    return _fernet().encrypt(normalize(number).encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("An ID number cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    """The same number encrypted with the first (current) key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("An ID number cannot be decrypted with the configured keys") from exc


def lookup_hash(number: str) -> str:
    key = settings.ID_LOOKUP_KEY.encode()
    return hmac.new(key, normalize(number).encode(), hashlib.sha256).hexdigest()


__all__ = [
    "IdType",
    "check_char",
    "decrypt",
    "encrypt",
    "lookup_hash",
    "mask",
    "normalize",
    "normalize_name",
    "rotate",
    "same_name",
    "validate",
]

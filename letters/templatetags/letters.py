"""Template filters for letters: dates in the forms official documents use, amounts and terms, and the labels
of the project's enumerations in the letter's language (the active one: `letters.rendering` renders under
`translation.override`)."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.db import models
from django.utils import timezone, translation

from credit.identity import IdType
from credit.models.records import Domain, PenaltyKind, RecordType
from credit.models.rules import Tier

logger = logging.getLogger(__name__)
register = template.Library()

_CN_DIGITS = "〇一二三四五六七八九"
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _chinese() -> bool:
    return (translation.get_language() or "").startswith("zh")


def _cn_number(n: int) -> str:
    """1–31 in Chinese numerals: 一, 十, 十一, 二十, 三十一."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[units] if units else "")


@register.filter
def cn_date(value: date | None) -> str:
    """二〇二六年十一月二十三日: the traditional form of the date an official document is made (成文日期)."""
    if not value:
        return ""
    year = "".join(_CN_DIGITS[int(d)] for d in str(value.year))
    return f"{year}年{_cn_number(value.month)}月{_cn_number(value.day)}日"


@register.filter
def ldate(value: date | None) -> str:
    """A date in running text: 2026年9月1日, or 1 September 2026."""
    if not value:
        return ""
    if _chinese():
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {_EN_MONTHS[value.month - 1]} {value.year}"


@register.filter
def ldatetime(value: str | datetime | None) -> str:
    """An ISO date-time (as stored in a letter's context), in China's time: 2026年12月1日9时30分, or
    1 December 2026, 09:30."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    if _chinese():
        return f"{ldate(moment.date())}{moment.hour}时" + (f"{moment.minute}分" if moment.minute else "")
    return f"{ldate(moment.date())}, {moment:%H:%M}"


# The project's labels read "English (中文)"; the zh_Hans catalogue translates them to the Chinese term.
_CHINESE_IN_PARENS = re.compile(r"\s*\(([^()]*[\u3400-\u9fff\U00020000-\U0003ffff][^()]*)\)\s*$")


def _label(choices: type[models.TextChoices], value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        label = str(choices(value).label)
    except ValueError:
        # A letter's context is frozen: an old letter must still render after a value is renamed.
        logger.warning("No %s label for %r; printed as is", choices.__name__, value)
        return str(value)
    match = _CHINESE_IN_PARENS.search(label)
    if match is None:
        return label
    # Untranslated in Chinese: the term the label carries. In English: the label without the Chinese term.
    return match.group(1) if _chinese() else label[: match.start()]


@register.filter
def record_type_label(value: str) -> str:
    return _label(RecordType, value)


@register.filter
def domain_label(value: str) -> str:
    return _label(Domain, value)


@register.filter
def tier_label(value: str) -> str:
    return _label(Tier, value)


@register.filter
def id_type_label(value: str) -> str:
    return _label(IdType, value)


@register.filter
def penalty_label(value: str) -> str:
    return _label(PenaltyKind, value)


@register.filter
def yuan(value: str | Decimal | None) -> str:
    """5,000.00元, or CNY 5,000.00."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{amount:,.2f}元" if _chinese() else f"CNY {amount:,.2f}"


_UNITS = {"days": ("日", "day"), "months": ("个月", "month"), "years": ("年", "year")}


@register.filter
def term_label(value: str | None) -> str:
    """A penalty's own term as stored ("6 months"): 6个月, or 6 months."""
    if not value:
        return ""
    number, _, unit = str(value).partition(" ")
    if unit not in _UNITS or not number.isdigit():
        return str(value)
    chinese, english = _UNITS[unit]
    if _chinese():
        return f"{number}{chinese}"
    return f"{number} {english}{'' if number == '1' else 's'}"


@register.filter
def as_list(value: Any) -> list[Any]:
    """A details entry that may be given as one string or as a list of them."""
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        return [item for item in value if item not in (None, "")]
    return [value]

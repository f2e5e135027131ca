"""System checks for rendering letters. Both problems only show when a Chinese letter is rendered (by the
Celery worker, long after start-up), and WeasyPrint itself only logs a warning, so say it early and loudly."""

from __future__ import annotations

import logging
from typing import Any

from django.core.checks import CheckMessage, Warning, register

from .rendering import cjk_fonts_available, harfbuzz_subset_available

logger = logging.getLogger(__name__)

HARFBUZZ_MESSAGE = (
    "libharfbuzz-subset is missing: Chinese PDFs will take ~11 s instead of ~0.2 s; "
    "apt-get install libharfbuzz-subset0"
)
CJK_MESSAGE = (
    "No CJK font found: Chinese letters will print as empty boxes; "
    "apt-get install fonts-noto-cjk fonts-hanazono"
)


def problems() -> list[CheckMessage]:
    found: list[CheckMessage] = []
    if not harfbuzz_subset_available():
        found.append(Warning(HARFBUZZ_MESSAGE, id="letters.W001"))
    if not cjk_fonts_available():
        found.append(Warning(CJK_MESSAGE, hint="`fc-list :lang=zh family` lists none.", id="letters.W002"))
    return found


@register()
def rendering_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return problems()


def _log_once_at_start_up() -> None:
    # System checks run only for manage.py commands; gunicorn and the Celery worker (which renders the
    # letters) never run them, so the same warnings go to the log when the app loads. The module is imported
    # once per process by LettersConfig.ready(), hence once.
    for message in problems():
        logger.warning("%s (%s)", message.msg, message.id)


_log_once_at_start_up()

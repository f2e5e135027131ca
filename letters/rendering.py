"""Render a letter's frozen context (see `letters.content`) to HTML and to an unsigned PDF.

The PDF is made by WeasyPrint from `templates/letters/<language>/<kind>.html`, with no network and no files:
the only resources a letter may use are inline (the QR code is inline SVG). Signing happens afterwards
(`letters.signing`), in the empty box that the layout reserves at `SEAL_BOX` on the last page.
"""

from __future__ import annotations

import ctypes.util
import functools
import html
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import segno
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from . import content
from .models import LetterKind

LANGUAGES = ("zh-hans", "en")

# A4 in PDF points (210 × 297 mm).
PAGE_WIDTH_PT = 595.2756
PAGE_HEIGHT_PT = 841.8898

# The box the seal stamp goes in, in PDF points on the last page, origin bottom-left as pyHanko expects:
# a 128 pt (≈ 45 mm) square in the bottom-right corner of the text area. Whole points because pyHanko types a
# field's box as ints. The page's right and bottom margins are derived from it, and the CSS is generated from
# these numbers, so the box the layout leaves empty and the box the signer stamps cannot drift apart.
SEAL_BOX: tuple[int, int, int, int] = (396, 71, 524, 199)
SEAL_SIZE_PT = SEAL_BOX[2] - SEAL_BOX[0]
MARGINS_PT: dict[str, float] = {
    "top": 54,  # ≈ 19 mm
    "right": round(PAGE_WIDTH_PT - SEAL_BOX[2], 4),  # ≈ 25 mm
    "bottom": SEAL_BOX[1],  # ≈ 25 mm, room for the page numbers
    "left": 79,  # ≈ 28 mm, the binding side of official documents (GB/T 9704)
}
assert SEAL_BOX[3] - SEAL_BOX[1] == SEAL_SIZE_PT, "the seal box is square"

NOTO_CJK_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


class ExternalResourceError(ValueError):
    """A letter template asked for something other than an inline (data:) resource."""


def _check(kind: str, language: str) -> None:
    if kind not in LetterKind.values:
        raise ValueError(f"Unknown letter kind {kind!r}")
    if language not in LANGUAGES:
        raise ValueError(f"Letters are rendered in {', '.join(LANGUAGES)}, not {language!r}")


def qr_svg(url: str) -> SafeString:
    """The verification URL as an inline SVG QR code (error correction M, so a seal or a fold over a corner
    still scans). Sized by the CSS: no width or height of its own."""
    svg = segno.make(url, error="m").svg_inline(border=0, omitsize=True, dark="#000")
    return mark_safe(svg.replace("<svg ", '<svg class="qr" role="img" ', 1))  # noqa: S308  (segno's own output)


_TITLE = re.compile(r'<h1 class="letter-title"[^>]*>(.*?)</h1>', re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def _with_title(page: str) -> str:
    # The kind's template names its title once, in the heading; the document title (and so the PDF's
    # metadata title) is copied from there rather than written twice in 24 templates.
    match = _TITLE.search(page)
    if match is None:
        return page
    title = " ".join(html.unescape(_TAGS.sub("", match.group(1))).split())
    return page.replace("<title></title>", f"<title>{html.escape(title)}</title>", 1)


def render_html(context: dict[str, Any], *, kind: str, language: str = "zh-hans") -> str:
    _check(kind, language)
    with translation.override(language):
        data = content.for_template(context)
        data["qr_svg"] = qr_svg(context["letter"]["verify_url"])
        data["page"] = {
            "margins": MARGINS_PT,
            "seal_size": SEAL_SIZE_PT,
        }
        return _with_title(render_to_string(f"letters/{language}/{kind}.html", data))


def _data_only_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class DataOnlyFetcher(URLFetcher):
        """Fetches data: URIs only. Refusals are remembered, because WeasyPrint only logs a failed fetch and
        renders on without the resource; `render_pdf` then fails loudly instead."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data"})
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.lower().startswith("data:"):
                self.refused.append(url)
                raise ExternalResourceError(f"Letters use inline resources only, not {url[:80]!r}")
            return super().fetch(url, headers)

    return DataOnlyFetcher()


def render_pdf(context: dict[str, Any], *, kind: str, language: str = "zh-hans") -> bytes:
    """The unsigned PDF. Chinese letters take ~0.2 s with libharfbuzz-subset and ~11 s without (see
    `letters.checks`)."""
    # Imported here: WeasyPrint loads Pango and fontconfig, which the web process never needs.
    from weasyprint import HTML

    page = render_html(context, kind=kind, language=language)
    fetcher = _data_only_fetcher()
    pdf = HTML(string=page, url_fetcher=fetcher).write_pdf()
    if fetcher.refused:
        raise ExternalResourceError(f"{kind}/{language} asked for external resources: {fetcher.refused}")
    assert pdf is not None
    return pdf


@functools.cache
def harfbuzz_subset_available() -> bool:
    # Without libharfbuzz-subset WeasyPrint falls back to fontTools to subset the 20 MB Noto CJK collection:
    # ~11 s per Chinese letter instead of ~0.2 s, with only a warning in its log.
    return ctypes.util.find_library("harfbuzz-subset") is not None


@functools.cache
def cjk_fonts_available() -> bool:
    if any(path.exists() for path in NOTO_CJK_FILES):
        return True
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    try:
        found = subprocess.run(  # noqa: S603  (a fixed command, no shell)
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return bool(found.stdout.strip())

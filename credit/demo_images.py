"""Stand-ins for the photos and scans people upload (a receipt, an identity card, a signed authorisation), for
the demo data and the guides' screenshots: a small PNG with a few lines of text. Pillow only, no Django."""

from __future__ import annotations

import io
from typing import Any

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"  # fonts-noto-cjk (make system-deps)


def paper_png(lines: list[str]) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (640, 400), "#fffdf5")
    draw = ImageDraw.Draw(image)
    font: Any
    try:
        font = ImageFont.truetype(CJK_FONT, 28)
    except OSError:
        font = ImageFont.load_default()
    draw.rectangle((10, 10, 630, 390), outline="#8b1a1a", width=4)
    for i, line in enumerate(lines):
        draw.text((40, 40 + i * 80), line, fill="#1f2933", font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()

"""Letters render from their frozen context, in Chinese (the signed letter) and English (the courtesy
translation): every kind, with its Chinese text and rare characters printed, pages numbered, the QR code
inline, the seal box left empty where the signer stamps, and nothing fetched from anywhere."""

from __future__ import annotations

import copy
import re
import shutil
import socket
import subprocess
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from letters import checks, rendering
from letters.content import KIND_DETAILS
from letters.models import LetterKind
from letters.samples import SAMPLE_CONTEXT
from letters.templatetags import letters as filters

SAMPLE = SAMPLE_CONTEXT

APPLICATION = "XF202600000108"
CHALLENGED = "示范市市场监督管理局作出的不予修复决定（示市监信〔2026〕9号）"
DETAILS: dict[str, dict[str, Any]] = {
    LetterKind.REPAIR_NOTICE: SAMPLE["details"],
    LetterKind.ACCEPTANCE: {
        "application_number": APPLICATION,
        "received_on": "2026-11-20",
        "decide_by": "2026-12-02",
    },
    LetterKind.NON_ACCEPTANCE: {"application_number": APPLICATION, "received_on": "2026-11-20"},
    LetterKind.SUPPLEMENT: {
        "application_number": APPLICATION,
        "missing": ["信用承诺书（本人签字）", "罚款缴纳凭证"],
        "supply_by": "2026-12-04",
    },
    LetterKind.EXTENSION: {
        "application_number": APPLICATION,
        "original_due": "2026-12-02",
        "new_due": "2026-12-16",
        "extension_reason": "需向有关单位核实义务履行情况",
    },
    LetterKind.INTERVIEW: {
        "application_number": APPLICATION,
        "interview_at": "2026-12-01T09:30:00+08:00",
        "place": "示范市市场监督管理局三楼信用监管科",
        "online_link": "",
        "bring": ["居民身份证原件", "整改情况说明"],
    },
    LetterKind.REPAIR_DECISION: {"application_number": APPLICATION, "effective_on": "2026-11-23"},
    LetterKind.REPAIR_REFUSAL: {"application_number": APPLICATION},
    LetterKind.REPAIR_REVOCATION: {
        "application_number": APPLICATION,
        "repaired_on": "2026-10-10",
        "blocked_until": "2029-11-23",
    },
    LetterKind.OBJECTION_RESULT: {
        "application_number": "YY202600000031",
        "grounds": "处罚决定日期记载有误",
        "corrections": [{"field": "决定日期", "old_value": "2026-05-31", "new_value": "2026-05-30"}],
    },
    LetterKind.RECONSIDERATION_ACCEPTANCE: {
        "application_number": "FY202600000007",
        "received_on": "2026-11-18",
        "decide_by": "2027-01-17",
        "challenged_act": CHALLENGED,
    },
    LetterKind.RECONSIDERATION_DECISION: {
        "application_number": "FY202600000007",
        "challenged_act": CHALLENGED,
    },
}
DECISIONS: dict[str, dict[str, Any]] = {
    LetterKind.NON_ACCEPTANCE: {"outcome": "not_accepted", "reasons": ["申请人并非该信息所涉信用主体。"]},
    LetterKind.REPAIR_REFUSAL: {"outcome": "refused", "reasons": ["罚款尚未缴纳，法定义务未履行完毕。"]},
    LetterKind.OBJECTION_RESULT: {"outcome": "founded"},
    LetterKind.RECONSIDERATION_DECISION: {
        "outcome": "uphold",
        "reasons": ["被申请人认定事实清楚，程序合法。"],
    },
}
LANGUAGES = ("zh-hans", "en")
BANNER = "Courtesy translation — this is not the legal document. The signed Chinese letter prevails."
POPPLER = "apt-get install poppler-utils"


def context_for(kind: str, *, record: bool = True, **person: str) -> dict[str, Any]:
    ctx = copy.deepcopy(SAMPLE)
    ctx["letter"]["kind"] = kind
    ctx["details"] = copy.deepcopy(DETAILS[kind])
    if kind != LetterKind.REPAIR_NOTICE:
        ctx["decision"] = {"outcome": "done", "summary": "", "reasons": [], **DECISIONS.get(kind, {})}
    if not record:
        del ctx["record"]  # a letter about a case rather than a single record
    ctx["person"].update(person)
    return ctx


def long_context() -> dict[str, Any]:
    """A 信用修复告知书 long enough for three pages."""
    ctx = context_for(LetterKind.REPAIR_NOTICE)
    ctx["record"]["facts"] = (
        "当事人未按规定在经营场所显著位置公示食品经营许可证等信息，经责令改正后仍未改正。" * 40
    )
    return ctx


def needs_fonts() -> None:
    if not rendering.cjk_fonts_available():
        pytest.skip("No CJK font: apt-get install fonts-noto-cjk fonts-hanazono")


def needs(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing: {POPPLER}")


def run(*command: str, stdin: bytes | None = None) -> str:
    return subprocess.run(command, input=stdin, capture_output=True, check=True).stdout.decode()


def pdf_to_text(pdf: bytes, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page is not None else []
    return run("pdftotext", *pages, "-", "-", stdin=pdf)


def squeezed(text: str) -> str:
    # pdftotext breaks lines anywhere in Chinese text and drops the spaces around numbers.
    return re.sub(r"\s+", "", text)


def pdf_info(pdf: bytes) -> dict[str, str]:
    lines = run("pdfinfo", "-", stdin=pdf).splitlines()
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in lines)}


@cache
def rendered(kind: str, language: str) -> bytes:
    return rendering.render_pdf(context_for(kind), kind=kind, language=language)


@cache
def rendered_long(language: str) -> bytes:
    return rendering.render_pdf(long_context(), kind=LetterKind.REPAIR_NOTICE, language=language)


def chinese_title(kind: str) -> str:
    # Each kind's label carries its legal title: "Credit repair notice (信用修复告知书)".
    with translation.override("en"):  # the English label carries the Chinese title in brackets
        match = re.search(r"\((.+)\)$", str(LetterKind(kind).label))
    assert match is not None
    return match.group(1)


def test_every_kind_has_details_and_samples() -> None:
    assert set(KIND_DETAILS) == set(LetterKind.values) == set(DETAILS)
    for kind, keys in KIND_DETAILS.items():
        assert set(DETAILS[kind]) == set(keys), kind


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", LetterKind.values)
def test_every_kind_renders_a_valid_pdf(kind: str, language: str) -> None:
    needs_fonts()
    needs("pdfinfo", "pdftotext")
    pdf = rendered(kind, language)

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    info = pdf_info(pdf)
    assert int(info["Pages"]) == 1
    text = pdf_to_text(pdf)
    # A missing or null context entry must never print as "None".
    assert "None" not in text
    assert "admin_penalty" not in text and "resident_id" not in text
    if language == "zh-hans":
        assert info["Title"] == chinese_title(kind)
        assert chinese_title(kind) in squeezed(text)
    else:
        assert not re.search(r"[\u3400-\u9fff]", info["Title"]), info["Title"]
        assert chinese_title(kind) not in squeezed(text)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", [kind for kind in LetterKind.values if kind != LetterKind.REPAIR_NOTICE])
def test_a_letter_about_a_case_needs_no_record(kind: str, language: str) -> None:
    page = rendering.render_html(context_for(kind, record=False), kind=kind, language=language)

    assert "None" not in page
    assert DETAILS[kind]["application_number"] in page


def test_the_repair_notice_prints_its_chinese_text() -> None:
    needs_fonts()
    needs("pdftotext")
    text = squeezed(pdf_to_text(rendered(LetterKind.REPAIR_NOTICE, "zh-hans")))

    for expected in [
        "示范市市场监督管理局",
        "信用修复告知书",
        "张伟（居民身份证：3702**********0021）",
        "示市监信〔2026〕15号",
        "信息编号：CR202600000042",
        # The record, with the labels of its enumerations rather than their values.
        "示市监罚〔2026〕7号",
        "2026年5月31日",
        "行政处罚信息",
        "食品药品",
        "罚款5,000.00元",
        # Repair from, display and sharing until; natural persons not published but shared.
        "自2026年9月1日起",
        "至2027年5月31日届满",
        "自然人的失信信息原则上不在信用网站公开公示",
        "仍依法在有关部门之间共享使用",
        "示范市信用网“信用修复”栏目",
        "示范市信用网“信用异议”栏目",
        "收到本告知书之日起60日内依法申请行政复议",
        "或者在6个月内依法提起行政诉讼",
        "二〇二六年十一月二十三日",
        "验证码：K7QM-3XDA-9PRT",
        "http://127.0.0.1:8000/verify/K7QM3XDA9PRT/",
    ]:
        assert expected in text, expected


def test_the_english_translation_says_so_on_every_page() -> None:
    needs_fonts()
    needs("pdfinfo", "pdftotext")
    pdf = rendered_long("en")
    pages = int(pdf_info(pdf)["Pages"])
    assert pages >= 2

    for page in range(1, pages + 1):
        assert squeezed(BANNER) in squeezed(pdf_to_text(pdf, page)), page
    assert pdf_info(pdf)["Title"] == "Credit Repair Notice"
    assert "信用修复告知书" not in squeezed(pdf_to_text(pdf))


@pytest.mark.parametrize(("language", "numbering"), [("zh-hans", "第{}页共{}页"), ("en", "Page{}of{}")])
def test_pages_are_numbered_and_the_closing_block_is_on_the_last(language: str, numbering: str) -> None:
    needs_fonts()
    needs("pdfinfo", "pdftotext")
    one_page = rendered(LetterKind.REPAIR_NOTICE, language)
    assert numbering.format(1, 1) in squeezed(pdf_to_text(one_page))

    pdf = rendered_long(language)
    pages = int(pdf_info(pdf)["Pages"])
    for page in range(1, pages + 1):
        text = squeezed(pdf_to_text(pdf, page))
        assert numbering.format(page, pages) in text
        # The verification block (and with it the seal box) is on the last page only.
        assert ("K7QM-3XDA-9PRT" in text) == (page == pages), page


@pytest.mark.parametrize("repeats", [8, 20, 32])
def test_the_closing_block_never_stands_alone_on_a_page(repeats: int) -> None:
    # Facts long enough that the text fills the first page but leaves no room for the closing block.
    needs_fonts()
    needs("pdfinfo", "pdftotext")
    ctx = context_for(LetterKind.REPAIR_NOTICE)
    ctx["record"]["facts"] = "当事人未按规定公示信息。" * repeats
    pdf = rendering.render_pdf(ctx, kind=LetterKind.REPAIR_NOTICE)
    pages = int(pdf_info(pdf)["Pages"])

    last = squeezed(pdf_to_text(pdf, pages))
    body = last.split("示范市市场监督管理局")[0]
    assert "依法提起行政诉讼" in body and "特此告知" in body


def seal_box_in_layout(page: str) -> tuple[int, list[tuple[int, list[float]]]]:
    """Where WeasyPrint put the element #seal-box: the page count, and for each box found its page and its
    corners in PDF points, origin bottom-left."""
    from weasyprint import HTML

    document = HTML(string=page).render()
    found: list[tuple[int, list[float]]] = []
    pt = 0.75  # per CSS px

    def walk(box: Any, index: int) -> None:
        element = getattr(box, "element", None)
        if element is not None and element.get("id") == "seal-box":
            x, y, height = box.border_box_x(), box.border_box_y(), document.pages[index].height
            left, top = x * pt, (height - y) * pt
            found.append((index, [left, top - box.border_height() * pt, left + box.border_width() * pt, top]))
            return  # its anonymous children carry the same element
        for child in getattr(box, "children", None) or []:
            walk(child, index)

    for index, layout_page in enumerate(document.pages):
        walk(layout_page._page_box, index)
    return len(document.pages), found


@pytest.mark.parametrize("long", [False, True])
def test_the_seal_box_is_where_the_signer_stamps(long: bool) -> None:
    needs_fonts()
    ctx = long_context() if long else context_for(LetterKind.REPAIR_NOTICE)
    pages, boxes = seal_box_in_layout(rendering.render_html(ctx, kind=LetterKind.REPAIR_NOTICE))

    assert len(boxes) == 1
    page_index, corners = boxes[0]
    assert page_index == pages - 1
    assert corners == pytest.approx(list(rendering.SEAL_BOX), abs=0.01)
    assert rendering.SEAL_BOX[2] - rendering.SEAL_BOX[0] == pytest.approx(45 * 72 / 25.4, abs=1)


def test_no_text_is_printed_in_the_seal_box() -> None:
    needs_fonts()
    needs("pdftotext")
    pdf = rendered(LetterKind.REPAIR_NOTICE, "zh-hans")
    bbox = run("pdftotext", "-bbox", "-", "-", stdin=pdf)
    page_height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', bbox).group(1))  # type: ignore[union-attr]
    x1, y1, x2, y2 = rendering.SEAL_BOX
    words = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', bbox)
    assert words
    for x_min, y_min, x_max, y_max, word in words:
        # pdftotext's y grows downwards.
        bottom, top = page_height - float(y_max), page_height - float(y_min)
        overlaps = float(x_min) < x2 and float(x_max) > x1 and bottom < y2 and top > y1
        assert not overlaps, word


TOFU = "\U000f0000"  # Supplementary Private Use Area-A: no font has it, so it prints as the .notdef box.


def page_pixels(pdf: bytes, folder: Path) -> bytes:
    from PIL import Image

    source, target = folder / "page.pdf", folder / "page"
    source.write_bytes(pdf)
    run("pdftoppm", "-r", "100", "-png", "-f", "1", "-l", "1", "-singlefile", str(source), str(target))
    with Image.open(target.with_suffix(".png")) as image:
        return image.convert("L").tobytes()


def name_pdf(name: str) -> bytes:
    return rendering.render_pdf(
        context_for(LetterKind.REPAIR_NOTICE, name=name), kind=LetterKind.REPAIR_NOTICE
    )


def hanamin_b_installed() -> bool:
    return shutil.which("fc-list") is not None and bool(run("fc-list", "HanaMinB", "family").strip())


@pytest.mark.parametrize(
    ("character", "face"),
    # 𠀀 (U+20000) is in both HanaMin faces, so it prints from HanaMinA, the first in the list;
    # 𠀁 (U+20001) is in HanaMinB only. Noto CJK has neither: that is how 𠀀 once printed as an empty box.
    [("𠀀", "HanaMin"), ("𠀁", "HanaMinB")],
)
def test_a_rare_character_in_a_name_prints(character: str, face: str, tmp_path: Path) -> None:
    needs_fonts()
    needs("pdftoppm", "pdffonts", "pdftotext")
    if not hanamin_b_installed():
        pytest.skip("No HanaMin fonts for CJK Ext-B: apt-get install fonts-hanazono")
    # Two characters no font has print the same box: so a page that differs from the tofu page is a glyph.
    tofu = page_pixels(name_pdf(f"王{TOFU}"), tmp_path)
    assert page_pixels(name_pdf("王\U000f0001"), tmp_path) == tofu

    pdf = name_pdf(f"王{character}")

    assert page_pixels(pdf, tmp_path) != tofu
    assert face in run("pdffonts", "-", stdin=pdf)
    assert f"王{character}" in pdf_to_text(pdf)


def test_the_qr_code_is_inline_svg_and_nothing_is_linked() -> None:
    page = rendering.render_html(context_for(LetterKind.REPAIR_NOTICE), kind=LetterKind.REPAIR_NOTICE)

    svg = re.search(r'<svg class="qr".*?</svg>', page, re.DOTALL)
    assert svg is not None
    assert svg.group(0).count("<path") > 0
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "@import" not in page and "url(" not in page


def test_rendering_fetches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    needs_fonts()
    fetcher = rendering._data_only_fetcher()
    with pytest.raises(rendering.ExternalResourceError):
        fetcher("http://example.com/seal.png")
    with pytest.raises(rendering.ExternalResourceError):
        fetcher("file:///etc/passwd")
    assert fetcher("data:text/plain,ok").read() == b"ok"

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a letter tried to connect to the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert rendering.render_pdf(SAMPLE, kind=LetterKind.REPAIR_NOTICE).startswith(b"%PDF-")

    # A template that asks for anything else fails loudly instead of printing without it.
    page = rendering.render_html(SAMPLE, kind=LetterKind.REPAIR_NOTICE)
    linked = page.replace("</body>", '<img src="http://example.com/seal.png"></body>')
    monkeypatch.setattr(rendering, "render_html", lambda *args, **kwargs: linked)
    with pytest.raises(rendering.ExternalResourceError, match=r"example\.com"):
        rendering.render_pdf(SAMPLE, kind=LetterKind.REPAIR_NOTICE)


def test_unknown_kinds_and_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        rendering.render_html(SAMPLE, kind="love_letter")
    with pytest.raises(ValueError, match="fr"):
        rendering.render_html(SAMPLE, kind=LetterKind.REPAIR_NOTICE, language="fr")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 23), "二〇二六年十一月二十三日"),
        (date(2027, 1, 10), "二〇二七年一月十日"),
        (date(2030, 12, 31), "二〇三〇年十二月三十一日"),
        (date(2026, 10, 20), "二〇二六年十月二十日"),
    ],
)
def test_the_issue_date_is_in_chinese_numerals(day: date, expected: str) -> None:
    assert filters.cn_date(day) == expected


def test_enumerations_print_their_labels_in_the_letters_language() -> None:
    with translation.override("zh-hans"):
        assert filters.record_type_label("admin_penalty") == "行政处罚信息"
        assert filters.domain_label("food_drug") == "食品药品"
        assert filters.tier_label("serious") == "严重"
        assert filters.id_type_label("resident_id") == "居民身份证"
        assert filters.penalty_label("fine") == "罚款"
        assert filters.yuan("5000") == "5,000.00元"
        assert filters.term_label("6 months") == "6个月"
        assert filters.ldate(date(2026, 9, 1)) == "2026年9月1日"
        assert filters.ldatetime("2026-12-01T01:30:00+00:00") == "2026年12月1日9时30分"
    with translation.override("en"):
        assert filters.record_type_label("admin_penalty") == "Administrative penalty"
        assert filters.id_type_label("resident_id") == "Resident identity card"
        assert filters.yuan("5000") == "CNY 5,000.00"
        assert filters.term_label("1 years") == "1 year"
        assert filters.ldate(date(2026, 9, 1)) == "1 September 2026"
    # A value renamed since the letter was frozen prints as it is rather than breaking an old letter.
    assert filters.domain_label("astrology") == "astrology"


def test_the_system_check_warns_about_slow_or_boxed_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "harfbuzz_subset_available", lambda: False)
    monkeypatch.setattr(checks, "cjk_fonts_available", lambda: False)
    assert [message.id for message in checks.rendering_check()] == ["letters.W001", "letters.W002"]
    assert "apt-get install libharfbuzz-subset0" in checks.rendering_check()[0].msg

    monkeypatch.setattr(checks, "harfbuzz_subset_available", lambda: True)
    monkeypatch.setattr(checks, "cjk_fonts_available", lambda: True)
    assert checks.rendering_check() == []

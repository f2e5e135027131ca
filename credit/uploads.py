"""Uploads from phones and PCs (evidence, signed forms, identity documents, authorisations): checked before
anything is stored, by what the file *is*.

The type is read from the content (magic bytes), never from the name or the browser's content type, and
the content must then parse as that type. PDF, JPEG and PNG are kept byte for byte, so the SHA-256 matches
the file the applicant holds; HEIC/HEIF phone photos, which staff browsers cannot show, become JPEG.
A refusal is a `ValidationError` whose code is a `Refusal` and whose message tells the applicant why.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum

import pillow_heif
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext, gettext_lazy
from PIL import Image, ImageOps
from pyhanko.pdf_utils.crypt import AuthStatus, StandardSecurityHandler
from pyhanko.pdf_utils.reader import PdfFileReader

MAX_BYTES = 10 * 1024 * 1024  # the default; settings.REPAIR_MAX_UPLOAD_BYTES overrides it
MAX_NAME_CHARS = 200  # Evidence.original_name's max_length

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
HEIC = "image/heic"

_EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
# Spellings of the same type the applicant may already use: kept, since the name is theirs.
_SAME_EXTENSION = {PDF: {".pdf"}, JPEG: {".jpg", ".jpeg", ".jpe", ".jfif"}, PNG: {".png"}}
_KIND_LABELS = {
    PDF: gettext_lazy("a PDF"),
    JPEG: gettext_lazy("a JPEG image"),
    PNG: gettext_lazy("a PNG image"),
    HEIC: gettext_lazy("a HEIC/HEIF photo"),
}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Major brands of HEIC/HEIF still photos, as phones write them (iPhone: heic; some Android phones: mif1).
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# mif1/msf1 only say "HEIF": an AVIF may carry them too, and this libheif has no AV1 decoder.
_GENERIC_HEIF_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}

# Characters Windows refuses in file names: replaced so the name still works when staff download the file.
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')
# A final ".xyz" of up to 5 letters and digits, at least one a letter: "scan.PDF" has an extension,
# "收据 2024.03" has none and keeps its ".03".
_EXTENSION_LIKE = re.compile(r"\.(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,5}\Z")


class Refusal(StrEnum):
    """Stable machine codes of the refusals: clients switch on these, never on the messages."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TYPE = "type"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str  # "application/pdf" | "image/jpeg" | "image/png"
    extension: str  # ".pdf" | ".jpg" | ".png"
    original_name: str  # the uploaded name, sanitised: no path parts, at most 200 characters
    sha256: str  # of `content`, i.e. of the JPEG when a HEIC photo was converted
    converted_from: str | None  # "image/heic" when a phone photo was converted


def max_bytes() -> int:
    return int(getattr(settings, "REPAIR_MAX_UPLOAD_BYTES", MAX_BYTES))


def clean_upload(upload: UploadedFile) -> CleanFile:
    """The upload checked and ready to store, or a `ValidationError` saying why it is refused.

    Nothing is written anywhere: the caller stores `content` only once this returns."""
    data = _read_within_limit(upload, max_bytes())
    if not data:
        raise ValidationError(
            gettext(
                "The file is empty. Upload a PDF, a JPEG or PNG image, or a HEIC/HEIF photo from a phone."
            ),
            code=Refusal.EMPTY,
        )
    kind = _sniff(data)
    if kind is None:
        raise ValidationError(
            gettext(
                "This type of file is not accepted. Upload a PDF, a JPEG or PNG image, or a HEIC/HEIF photo "
                "from a phone. Renaming a file does not change its type."
            ),
            code=Refusal.TYPE,
        )
    converted_from = None
    if kind == PDF:
        _check_pdf(data)
        content, content_type = data, PDF
    elif kind in (JPEG, PNG):
        _check_image(data, kind)
        content, content_type = data, kind
    else:
        content, content_type, converted_from = _heic_to_jpeg(_decode_heic(data)), JPEG, HEIC
    extension = _EXTENSIONS[content_type]
    return CleanFile(
        content=content,
        content_type=content_type,
        extension=extension,
        original_name=_clean_name(upload.name, content_type, converted=converted_from is not None),
        sha256=hashlib.sha256(content).hexdigest(),
        converted_from=converted_from,
    )


def _read_within_limit(upload: UploadedFile, limit: int) -> bytes:
    # The declared size first, so an oversized upload is refused without reading it into memory.
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            gettext("The file is %(size)s MB; the limit is %(limit)s MB."),
            code=Refusal.TOO_LARGE,
            params={"size": _megabytes(upload.size, round_up=True), "limit": _megabytes(limit)},
        )
    # A form field may have read the file already; a stream that cannot rewind is read from where it is.
    with suppress(AttributeError, OSError, ValueError):
        upload.seek(0)
    # The size may lie (a custom storage, a client that streamed more): one byte past the limit proves it,
    # and no more is read. `read(n)` may return less than asked before the end, hence the loop.
    chunks: list[bytes] = []
    wanted = limit + 1
    while wanted > 0:
        chunk = upload.read(wanted)
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    data = b"".join(chunks)
    if len(data) > limit:
        raise ValidationError(
            gettext("The file is larger than the limit of %(limit)s MB."),
            code=Refusal.TOO_LARGE,
            params={"limit": _megabytes(limit)},
        )
    return data


def _megabytes(size: int, *, round_up: bool = False) -> str:
    # A refused size rounds up and the limit down, so a file one byte over never reads "10 MB; limit 10 MB".
    tenths = size * 10 / (1024 * 1024)
    tenths = math.ceil(tenths) if round_up else math.floor(tenths)
    return f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths / 10:.1f}"


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(_PNG_SIGNATURE):
        return PNG
    if _is_heif(data):
        return HEIC
    return None


def _is_heif(data: bytes) -> bool:
    # ISO-BMFF: the first box is `ftyp` — size (4), "ftyp" (4), major brand (4), minor version (4), then
    # compatible brands (4 each) up to the box's size.
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    major = data[8:12]
    if major not in _HEIF_BRANDS:
        return False
    box_end = min(int.from_bytes(data[0:4], "big"), len(data))
    compatible = {data[i : i + 4] for i in range(16, box_end - 3, 4)}
    return major not in _GENERIC_HEIF_BRANDS or not compatible & _AVIF_BRANDS


def _corrupt(kind: str) -> ValidationError:
    return ValidationError(
        gettext(
            "The file looks like %(kind)s but cannot be read: it may be damaged or incomplete. Save or "
            "export it again, then upload a PDF, a JPEG or PNG image, or a HEIC/HEIF photo from a phone."
        ),
        code=Refusal.CORRUPT,
        params={"kind": str(_KIND_LABELS[kind])},
    )


def _too_many_pixels() -> ValidationError:
    limit = Image.MAX_IMAGE_PIXELS or 0
    return ValidationError(
        gettext(
            "The image has too many pixels to be checked safely: at most %(limit)s megapixels are accepted. "
            "Reduce its resolution and upload it again."
        ),
        code=Refusal.TOO_LARGE,
        params={"limit": f"{limit / 1_000_000:.0f}"},
    )


def _check_pdf(data: bytes) -> None:
    # A parser of untrusted input can fail in any way (bad xref, recursion, wrong object types): every
    # failure means the same thing to the applicant, so all of them are caught.
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        # Many bank statements are encrypted with an empty user password, only to restrict editing: they
        # open for everyone, so they are accepted. A real password would lock staff out.
        locked = reader.encrypted and (
            not isinstance(reader.security_handler, StandardSecurityHandler)
            or reader.decrypt(b"").status == AuthStatus.FAILED
        )
        pages = 0 if locked else int(reader.root["/Pages"]["/Count"])
    except Exception as error:
        raise _corrupt(PDF) from error
    if locked:
        raise ValidationError(
            gettext(
                "The PDF is protected by a password, so it cannot be read here. Save a copy without the "
                "password and upload that."
            ),
            code=Refusal.ENCRYPTED,
        )
    if pages < 1:
        raise _corrupt(PDF)


def _check_image(data: bytes, kind: str) -> None:
    # Pillow alone cannot be trusted to notice a cut-off file: it obeys ImageFile.LOAD_TRUNCATED_IMAGES, a
    # process-wide switch that weasyprint turns on when it is imported (the letters app imports it), and
    # then it pads a truncated JPEG or PNG and reports success. So the file's own structure is checked first.
    complete = _jpeg_is_complete(data) if kind == JPEG else _png_is_complete(data)
    if not complete:
        raise _corrupt(kind)
    try:
        # `formats=` keeps to the decoder the content was sniffed for. A JPEG with a multi-picture
        # extension (some phones and cameras) opens as "MPO" and is still a plain JPEG.
        with Image.open(io.BytesIO(data), formats=["JPEG" if kind == JPEG else "PNG"]) as image:
            _check_pixels(image.size)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Raised by `Image.open` over twice the pixel limit; the warning arrives as an exception only where
        # warnings are errors (e.g. `python -W error`).
        raise _too_many_pixels() from error
    except ValidationError:
        raise
    except Exception as error:
        # As for PDF: decoders of untrusted input raise many kinds of error (OSError, SyntaxError,
        # struct.error, ValueError, ...), and all of them mean "cannot be read".
        raise _corrupt(kind) from error


def _decode_heic(data: bytes) -> Image.Image:
    try:
        heif = pillow_heif.open_heif(io.BytesIO(data))  # reads the boxes; the pixels are decoded below
        _check_pixels(heif.size)
        # pillow-heif's own API raises on damaged data, where its Pillow plugin would obey
        # LOAD_TRUNCATED_IMAGES (see `_check_image`) and return a blank image. Not registering the plugin
        # also leaves every other `Image.open` in the process as it was.
        return heif.to_pillow()
    except ValidationError:
        raise
    except Exception as error:
        raise _corrupt(HEIC) from error


def _check_pixels(size: tuple[int, int]) -> None:
    # Pillow itself only warns between MAX_IMAGE_PIXELS and twice that. The limit is enforced here rather
    # than by turning the warning into an error, because warning filters are process-wide, not per request.
    width, height = size
    if Image.MAX_IMAGE_PIXELS is not None and width * height > Image.MAX_IMAGE_PIXELS:
        raise _too_many_pixels()


def _jpeg_is_complete(data: bytes) -> bool:
    """Whether the JPEG's segments run from its start to an end-of-image marker (trailing data is allowed)."""
    pos, end = 2, len(data)
    while pos + 2 <= end:
        if data[pos] != 0xFF:
            # Stray bytes between segments: libjpeg skips them with a warning and browsers show the image,
            # so they are skipped here too. A cut-off file still lacks its end marker.
            pos = data.find(b"\xff", pos)
            if pos < 0:
                return False
            continue
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI
            return True
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        if pos + 4 > end:
            return False
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:
            # After start-of-scan comes entropy-coded data. It ends at the first 0xFF that is neither a
            # stuffed 0xFF00 nor a restart marker (RST0–7); that 0xFF begins the next marker.
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= end:
                    return False
                if data[pos + 1] == 0x00 or 0xD0 <= data[pos + 1] <= 0xD7:
                    pos += 2
                    continue
                break
    return False


def _png_is_complete(data: bytes) -> bool:
    """Whether the PNG's chunks, each with a correct CRC, run from its signature to IEND."""
    pos, end, view = len(_PNG_SIGNATURE), len(data), memoryview(data)  # a view: IDAT is not copied
    while pos + 12 <= end:
        length = int.from_bytes(data[pos : pos + 4], "big")
        crc_at = pos + 8 + length
        if crc_at + 4 > end:
            return False
        if zlib.crc32(view[pos + 4 : crc_at]) != int.from_bytes(data[crc_at : crc_at + 4], "big"):
            return False
        if data[pos + 4 : pos + 8] == b"IEND":
            return True
        pos = crc_at + 4
    return False


def _heic_to_jpeg(image: Image.Image) -> bytes:
    # libheif already applies the HEIF rotation (irot/imir) and pillow-heif then resets the EXIF orientation
    # to 1, so that nothing turns the photo twice; exif_transpose covers a file where EXIF is the only one.
    with image:
        upright = ImageOps.exif_transpose(image)
        icc_profile = image.info.get("icc_profile")
    if upright.mode != "RGB":
        # JPEG has no alpha: flatten on white, or transparent areas would turn black.
        rgba = upright.convert("RGBA")
        upright = Image.new("RGB", rgba.size, "white")
        upright.paste(rgba, mask=rgba.getchannel("A"))
    # Nothing of the original's metadata is carried over (GPS position, device, XMP): the encoder writes
    # only what is passed here. The colour profile is kept, as iPhone photos are Display P3 and would look
    # washed out without it; it says nothing about the applicant.
    upright.info = {}
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=90, exif=b"", icc_profile=icc_profile or None)
    return out.getvalue()


def _clean_name(name: str | None, content_type: str, *, converted: bool) -> str:
    """The uploaded name as a bare, printable file name whose extension tells the truth about the content."""
    name = unicodedata.normalize("NFC", name or "")
    # Browsers on Windows have sent "C:\\fakepath\\x.jpg" or the full path: the last part is the name.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Control and format characters go, among them the right-to-left override (U+202E) that shows
    # "photo<U+202E>gpj.exe" as "photoexe.jpg".
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co"})
    name = _WINDOWS_RESERVED.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    stem, suffix = name, ""
    match = _EXTENSION_LIKE.search(name)
    if match and match.start() > 0:
        stem, suffix = name[: match.start()], name[match.start() :]
    stem = stem.rstrip(" .") or "upload"
    # The extension follows the content: a PNG named .pdf becomes .png, a converted photo .jpg.
    if converted or suffix.lower() not in _SAME_EXTENSION[content_type]:
        suffix = _EXTENSIONS[content_type]
    return stem[: MAX_NAME_CHARS - len(suffix)].rstrip(" .") + suffix


@contextmanager
def files_removed_on_failure() -> Iterator[list[FieldFile]]:
    """Collects the files a write stores. If the write fails, its transaction rolls its rows back, but the
    files were already written to storage, which no transaction covers: they are deleted here."""
    stored: list[FieldFile] = []
    try:
        yield stored
    except BaseException:
        for file in stored:
            file.delete(save=False)
        raise

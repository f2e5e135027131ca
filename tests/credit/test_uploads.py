"""Evidence uploads: the content decides the type, PDF/JPEG/PNG are kept byte for byte, phone photos become
upright JPEGs without their metadata, and every refusal says why. The files are made here, no fixtures on
disk, and nothing touches the database."""

from __future__ import annotations

import hashlib
import random
import warnings
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import cast

import pillow_heif
import pytest
import weasyprint
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils import translation
from PIL import Image, ImageFile
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pytest_django.fixtures import Settings

from credit import uploads
from credit.uploads import MAX_BYTES, CleanFile, Refusal, clean_upload

ALLOWED = "a PDF, a JPEG or PNG image, or a HEIC/HEIF photo from a phone"
ORIENTATION = 0x0112
GPS_IFD = 0x8825
SHANGHAI = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}

pillow_heif.register_heif_opener()  # to make HEIC files here; `clean_upload` does not need it


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The site defaults to Chinese: the messages are checked in their English source, which stays put when
    # the translations arrive.
    with translation.override("en"):
        yield


# -- making files ------------------------------------------------------------------------------------------
def _striped(size: tuple[int, int] = (40, 20), mode: str = "RGB") -> Image.Image:
    """Red with a blue stripe on the left edge, so a rotation shows where the stripe ends up."""
    image = Image.new(mode, size, "red")
    image.paste("blue", (0, 0, size[0] // 4, size[1]))
    return image


def _noise(size: tuple[int, int] = (256, 256)) -> Image.Image:
    # Noise compresses badly, so cutting the file in half really cuts into the pixel data.
    rng = random.Random(36)
    return Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def _exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = SHANGHAI
    return exif.tobytes()


def _heic(image: Image.Image | None = None, *, orientation: int = 1) -> bytes:
    return _encode(
        image or _striped(), "HEIF", exif=_exif(orientation), xmp=b"<x:xmpmeta>where: Shanghai</x:xmpmeta>"
    )


def _with_brands(heic: bytes, major: bytes, *compatible: bytes) -> bytes:
    """The same HEIC with other brands in its `ftyp` box: major brand, minor version, 3 compatible brands.
    The box keeps its size, as the file's item locations are absolute offsets."""
    assert heic[:4] == (28).to_bytes(4, "big") and len(compatible) == 3
    return heic[:8] + major + b"\0\0\0\0" + b"".join(compatible) + heic[28:]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return cast(
        bytes, weasyprint.HTML(string="<h1>志愿服务证明</h1><p>Volunteer service: 40 hours.</p>").write_pdf()
    )


def _encrypted(pdf: bytes, *, user_password: str) -> bytes:
    writer = copy_into_new_writer(PdfFileReader(BytesIO(pdf)))
    writer.encrypt("the owner's password", user_password)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


class _Stream:
    """An upload as `clean_upload` sees it, without Django's own clean-up of the name or the size: the size
    can lie, every byte handed out is counted, and reading can be forbidden altogether."""

    def __init__(self, data: bytes, *, name: str, size: int | None, readable: bool = True) -> None:
        self.name = name
        self.size = size
        self.handed_out = 0
        self._data = BytesIO(data)
        self._readable = readable

    def seek(self, offset: int) -> int:
        return self._data.seek(offset)

    def read(self, n: int = -1) -> bytes:
        if not self._readable:
            raise AssertionError("the upload was read although its size is over the limit")
        chunk = self._data.read(min(n, 4096) if n >= 0 else n)  # short reads, as a socket would give
        self.handed_out += len(chunk)
        return chunk


def _clean(data: bytes, name: str = "evidence", content_type: str = "application/octet-stream") -> CleanFile:
    return clean_upload(SimpleUploadedFile(name, data, content_type=content_type))


def _refused(upload: UploadedFile | _Stream, code: Refusal) -> str:
    with pytest.raises(ValidationError) as caught:
        clean_upload(cast(UploadedFile, upload))
    assert caught.value.code == code
    return caught.value.messages[0]


# -- accepted as they are ----------------------------------------------------------------------------------
def test_it_keeps_a_pdf_byte_for_byte(pdf: bytes) -> None:
    clean = _clean(pdf, "志愿服务证明.pdf", "application/pdf")

    assert clean == CleanFile(
        content=pdf,
        content_type="application/pdf",
        extension=".pdf",
        original_name="志愿服务证明.pdf",
        sha256=hashlib.sha256(pdf).hexdigest(),
        converted_from=None,
    )


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"), [("JPEG", "image/jpeg", ".jpg"), ("PNG", "image/png", ".png")]
)
def test_it_keeps_an_image_byte_for_byte(fmt: str, content_type: str, extension: str) -> None:
    data = _encode(_striped(), fmt)

    clean = _clean(data, f"receipt{extension}", content_type)

    assert clean == CleanFile(
        content=data,
        content_type=content_type,
        extension=extension,
        original_name=f"receipt{extension}",
        sha256=hashlib.sha256(data).hexdigest(),
        converted_from=None,
    )


def test_a_jpeg_keeps_its_own_extension_spelling() -> None:
    assert _clean(_encode(_striped(), "JPEG"), "photo.JPEG").original_name == "photo.JPEG"


def test_a_multi_picture_jpeg_is_kept_as_a_jpeg() -> None:
    # Some phones and cameras write MPO: a JPEG followed by more pictures.
    data = _encode(_striped(), "MPO", save_all=True, append_images=[_striped()])

    clean = _clean(data, "DSC_0001.JPG")

    assert (clean.content, clean.content_type, clean.original_name) == (data, "image/jpeg", "DSC_0001.JPG")


def test_a_jpeg_with_stray_bytes_between_segments_is_accepted() -> None:
    # libjpeg and browsers skip them, so the applicant sees nothing wrong with the file.
    jpeg = _encode(_striped(), "JPEG")
    quantisation_tables = jpeg.index(b"\xff\xdb")
    data = jpeg[:quantisation_tables] + b"\0\0" + jpeg[quantisation_tables:]

    assert _clean(data, "a.jpg").content == data


def test_it_accepts_a_pdf_whose_password_is_empty(pdf: bytes) -> None:
    # Bank statements often come like this: encrypted only to forbid editing, open for anyone.
    data = _encrypted(pdf, user_password="")

    assert _clean(data, "statement.pdf").content == data


# -- the content decides the type --------------------------------------------------------------------------
def test_a_png_named_pdf_is_accepted_as_png() -> None:
    data = _encode(_striped(), "PNG")

    clean = _clean(data, "scan.pdf", "application/pdf")

    assert (clean.content_type, clean.extension, clean.original_name) == ("image/png", ".png", "scan.png")
    assert clean.content == data


def test_an_exe_named_pdf_is_refused_as_a_type_not_allowed() -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"This program cannot be run in DOS mode."

    message = _refused(SimpleUploadedFile("invoice.pdf", exe, content_type="application/pdf"), Refusal.TYPE)

    assert ALLOWED in message


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body>%PDF-1.7</body></html>",  # the magic must open the file, not appear somewhere in it
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"PK\x03\x04 a .docx is a zip",
        b"plain text",
    ],
)
def test_other_content_is_refused_as_a_type_not_allowed(data: bytes) -> None:
    assert ALLOWED in _refused(SimpleUploadedFile("evidence.jpg", data), Refusal.TYPE)


# -- phone photos ------------------------------------------------------------------------------------------
def test_a_heic_photo_becomes_an_upright_jpeg_without_its_metadata() -> None:
    # Stored 40×20 with the stripe on the left, and EXIF orientation 6: shown rotated 90° clockwise, 20×40
    # with the stripe at the top.
    clean = _clean(_heic(orientation=6), "IMG_0001.HEIC", "image/heic")

    assert (clean.content_type, clean.extension, clean.converted_from) == ("image/jpeg", ".jpg", "image/heic")
    assert clean.original_name == "IMG_0001.jpg"
    assert clean.sha256 == hashlib.sha256(clean.content).hexdigest()
    with Image.open(BytesIO(clean.content)) as jpeg:
        jpeg.load()
        assert jpeg.format == "JPEG"
        assert jpeg.size == (20, 40)
        assert _is_blue(jpeg.getpixel((10, 2))) and _is_red(jpeg.getpixel((10, 37)))
        assert GPS_IFD not in jpeg.getexif() and len(jpeg.getexif()) == 0
    assert b"Shanghai" not in clean.content


def test_an_unrotated_heic_photo_keeps_its_size() -> None:
    with Image.open(BytesIO(_clean(_heic(), "photo.heic").content)) as jpeg:
        assert (jpeg.format, jpeg.size) == ("JPEG", (40, 20))
        assert _is_blue(jpeg.getpixel((2, 10))) and _is_red(jpeg.getpixel((37, 10)))


def test_transparency_in_a_heif_photo_becomes_white() -> None:
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 16, 32))

    with Image.open(BytesIO(_clean(_heic(image), "sticker.heif").content)) as jpeg:
        assert jpeg.mode == "RGB"
        assert _is_blue(jpeg.getpixel((4, 16))) and min(cast(tuple[int, ...], jpeg.getpixel((28, 16)))) > 240


@pytest.mark.parametrize(
    "brands",
    [
        (b"heic", b"mif1", b"heic", b"miaf"),  # what an iPhone writes
        (b"heix", b"mif1", b"heix", b"miaf"),
        (b"mif1", b"mif1", b"heic", b"miaf"),
        (b"mif1", b"mif1", b"miaf", b"MiHE"),  # generic HEIF, not claiming AVIF
    ],
)
def test_heif_brands_are_recognised(brands: tuple[bytes, ...]) -> None:
    clean = _clean(_with_brands(_heic(), *brands), "photo")

    assert (clean.converted_from, clean.original_name) == ("image/heic", "photo.jpg")


@pytest.mark.parametrize(
    "brands",
    [
        (b"avif", b"mif1", b"avif", b"miaf"),
        (b"mif1", b"mif1", b"avif", b"miaf"),  # generic HEIF that is really an AVIF
        (b"miaf", b"mif1", b"heic", b"miaf"),  # "heic" only among the compatible brands: not a phone photo
        (b"isom", b"isom", b"mp42", b"avc1"),  # an MP4 video
    ],
)
def test_other_iso_media_files_are_not_taken_for_a_heic_photo(brands: tuple[bytes, ...]) -> None:
    data = _with_brands(_heic(), *brands)

    assert ALLOWED in _refused(SimpleUploadedFile("photo.heic", data), Refusal.TYPE)


# -- damaged files -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "label"),
    [
        (lambda pdf: _encode(_noise(), "JPEG")[:-2000], "a JPEG image"),
        (lambda pdf: _encode(_noise(), "PNG")[:-2000], "a PNG image"),
        # Without metadata items, which would sit after the pixels and fail the opening already.
        (lambda pdf: _encode(_noise(), "HEIF")[:-200], "a HEIC/HEIF photo"),
        (lambda pdf: b"%PDF-1.7\n", "a PDF"),
        (lambda pdf: pdf[: len(pdf) // 2], "a PDF"),
        (lambda pdf: _encode(_striped(), "PNG")[:40], "a PNG image"),  # the header only
    ],
    ids=["truncated jpeg", "truncated png", "truncated heic", "header-only pdf", "half a pdf", "png header"],
)
@pytest.mark.parametrize("pillow_pads", [False, True], ids=["strict pillow", "lenient pillow"])
def test_a_file_that_does_not_parse_is_refused_as_corrupt(
    make: Callable[[bytes], bytes], label: str, pillow_pads: bool, pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # weasyprint turns LOAD_TRUNCATED_IMAGES on for the whole process when imported: the result must not
    # depend on it.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", pillow_pads)

    message = _refused(SimpleUploadedFile("evidence", make(pdf)), Refusal.CORRUPT)

    assert f"looks like {label} but cannot be read" in message
    assert ALLOWED in message


def test_a_pdf_locked_by_a_password_is_refused(pdf: bytes) -> None:
    message = _refused(
        SimpleUploadedFile("statement.pdf", _encrypted(pdf, user_password="123456")), Refusal.ENCRYPTED
    )

    assert "without the password" in message


# -- size --------------------------------------------------------------------------------------------------
def test_it_refuses_an_oversized_upload_before_reading_it() -> None:
    huge = _Stream(b"", name="scan.pdf", size=25 * 1024 * 1024, readable=False)

    assert _refused(huge, Refusal.TOO_LARGE) == "The file is 25 MB; the limit is 10 MB."


def test_it_reads_no_more_than_one_byte_past_the_limit_when_the_size_lies() -> None:
    liar = _Stream(_encode(_striped(), "PNG") + b"\0" * (MAX_BYTES + 50_000), name="a.png", size=1024)

    assert _refused(liar, Refusal.TOO_LARGE) == "The file is larger than the limit of 10 MB."
    assert liar.handed_out == MAX_BYTES + 1


def test_a_file_exactly_at_the_default_limit_is_accepted() -> None:
    # A JPEG padded after its end marker: viewers ignore what follows it.
    jpeg = _encode(_striped(), "JPEG")
    data = jpeg + b"\0" * (MAX_BYTES - len(jpeg))

    assert _clean(data, "big.jpg").content == data
    message = _refused(SimpleUploadedFile("big.jpg", data + b"\0"), Refusal.TOO_LARGE)
    assert message == "The file is 10.1 MB; the limit is 10 MB."  # one byte over never reads as "10 MB"


def test_the_limit_comes_from_the_settings(settings: Settings) -> None:
    data = _encode(_striped(), "PNG")
    settings.REPAIR_MAX_UPLOAD_BYTES = len(data)
    assert _clean(data, "a.png").content == data

    settings.REPAIR_MAX_UPLOAD_BYTES = len(data) - 1
    assert "the limit is" in _refused(SimpleUploadedFile("a.png", data), Refusal.TOO_LARGE)


def test_an_empty_file_is_refused() -> None:
    message = _refused(SimpleUploadedFile("nothing.pdf", b""), Refusal.EMPTY)

    assert message.startswith("The file is empty.") and ALLOWED in message


def test_it_reads_the_whole_file_even_after_a_form_has_read_it() -> None:
    data = _encode(_striped(), "PNG")
    upload = SimpleUploadedFile("a.png", data)
    upload.read()

    assert clean_upload(upload).content == data


# -- decompression bombs -----------------------------------------------------------------------------------
@pytest.fixture
def small_pixel_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    return 1_000_000


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_an_image_over_the_pixel_limit_is_refused(small_pixel_limit: int, fmt: str) -> None:
    # 1,200 × 1,000 pixels: over the limit, where Pillow only warns.
    data = _encode(Image.new("RGB", (1200, 1000), "white"), fmt)

    with pytest.warns(Image.DecompressionBombWarning):
        message = _refused(SimpleUploadedFile("bomb", data), Refusal.TOO_LARGE)

    assert "at most 1 megapixels" in message


def test_a_heic_photo_over_the_pixel_limit_is_refused(small_pixel_limit: int) -> None:
    data = _heic(Image.new("RGB", (1200, 1000), "white"))

    assert "at most 1 megapixels" in _refused(SimpleUploadedFile("bomb.heic", data), Refusal.TOO_LARGE)


def test_an_image_far_over_the_pixel_limit_is_refused(small_pixel_limit: int) -> None:
    # Over twice the limit Pillow refuses to open it at all (DecompressionBombError).
    data = _encode(Image.new("1", (2000, 1500)), "PNG")

    assert "at most 1 megapixels" in _refused(SimpleUploadedFile("bomb.png", data), Refusal.TOO_LARGE)


def test_the_pixel_limit_holds_where_warnings_are_errors(small_pixel_limit: int) -> None:
    data = _encode(Image.new("1", (1200, 1000)), "PNG")

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        _refused(SimpleUploadedFile("bomb.png", data), Refusal.TOO_LARGE)


# -- names -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\Users\\张三\\Desktop\\收据.jpg", "收据.jpg"),
        ("/home/zhang/.hidden.jpg", "hidden.jpg"),
        ("photo\u202egpj.exe", "photogpj.jpg"),  # a right-to-left override hiding the real extension
        ('a<b>:c"d|e?f*.jpg', "a_b__c_d_e_f_.jpg"),
        ("收据 2024.03", "收据 2024.03.jpg"),
        ("  many   spaces .jpg ", "many spaces.jpg"),
        ("report.final.JPG", "report.final.JPG"),
        ("", "upload.jpg"),
        ("...", "upload.jpg"),
        ("x" * 300 + ".jpeg", "x" * 195 + ".jpeg"),
    ],
)
def test_the_name_is_reduced_to_a_bare_file_name(name: str, expected: str) -> None:
    # Django already strips POSIX paths from its upload objects' names; this checks `clean_upload` does not
    # rely on it.
    clean = clean_upload(cast(UploadedFile, _Stream(_encode(_striped(), "JPEG"), name=name, size=None)))

    assert clean.original_name == expected
    assert len(clean.original_name) <= uploads.MAX_NAME_CHARS


# -- helpers -----------------------------------------------------------------------------------------------
def _is_blue(pixel: object) -> bool:
    red, green, blue = cast(tuple[int, int, int], pixel)[:3]
    return blue > 200 and red < 60 and green < 60


def _is_red(pixel: object) -> bool:
    red, green, blue = cast(tuple[int, int, int], pixel)[:3]
    return red > 200 and green < 60 and blue < 60

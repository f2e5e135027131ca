"""Signing letters: PAdES signatures that pyHanko and poppler accept, a visible seal, and validation that
notices any change to the file. The development PKI is built once per module: RSA key generation is slow."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO, StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import weasyprint
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from fontTools.ttLib import TTFont
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import HTTPTimeStamper
from pytest_django.fixtures import Settings

from credit.models import Department
from letters import signing
from letters.models import SigningIdentity
from letters.pki import DEV_PASSPHRASE, DEV_PASSPHRASE_ENV, DevPki, create_dev_pki
from letters.signing import (
    SIGNATURE_FIELD,
    SignatureReport,
    configured_timestamper,
    dev_timestamper,
    load_signer,
    sign_pdf,
    stamp_font,
    validate_signed_pdf,
)
from tests.conftest import Personas

SHANGHAI = ZoneInfo("Asia/Shanghai")
FROZEN_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # tests/conftest.py
# Before the frozen "now" and before the real one, so the certificates are valid for both pyHanko (which
# reads the frozen clock) and pdfsig (which reads the real one).
NOT_BEFORE = datetime(2026, 1, 1, tzinfo=UTC)
BOX = (396.0, 71.0, 524.0, 199.0)  # a 128 pt square, as letters.rendering.SEAL_BOX
PASSPHRASE_VAR = "TEST_SIGNING_PASSPHRASE"
# Stand-ins for the personas' departments: the PKI is built once per module, outside any test's database.
MARKET = Department(code="market", name="市场监督管理局", city="测试市", kind=Department.Kind.DECIDING)
RECONSIDERATION = Department(
    code="recon-office",
    name="示范市人民政府行政复议办公室",
    city="示范市",
    kind=Department.Kind.RECONSIDERATION,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    directory = tmp_path_factory.mktemp("dev-pki")
    return create_dev_pki(
        directory, [MARKET, RECONSIDERATION], passphrase=DEV_PASSPHRASE, not_before=NOT_BEFORE
    )


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(autouse=True)
def _isolated(settings: Settings, var_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Stamp fonts go to a directory shared by this module's tests, so each is cut once; loaded keys are
    # forgotten between tests so that one test's cached signer never answers for another's files.
    settings.VAR_DIR = var_dir
    monkeypatch.setenv(PASSPHRASE_VAR, DEV_PASSPHRASE.decode())
    signing._signers.clear()
    yield
    signing._signers.clear()


@pytest.fixture(scope="module")
def unsigned_pdf() -> bytes:
    return weasyprint.HTML(string="<p>信用修复告知书 测试</p>").write_pdf()


def identity_for(pki: DevPki, department: Department = MARKET, **overrides: object) -> SigningIdentity:
    files = pki.departments[department.code]
    fields: dict[str, object] = {
        "department": department,
        "pkcs12_path": str(files.pkcs12),
        "passphrase_env": PASSPHRASE_VAR,
        "seal_image_path": str(files.seal),
        "signer_text": department.name,
    }
    fields.update(overrides)
    return SigningIdentity(**fields)


def sign(pdf: bytes, identity: SigningIdentity) -> bytes:
    return sign_pdf(pdf, identity=identity, box=BOX, reason="测试", location="测试市").data


def check(pki: DevPki, data: bytes) -> SignatureReport:
    return validate_signed_pdf(data, trust_roots=[pki.ca_cert])


@pytest.fixture
def signed(pki: DevPki, unsigned_pdf: bytes) -> bytes:
    return sign(unsigned_pdf, identity_for(pki))


# The signature ------------------------------------------------------------------------------------------


def test_a_signed_letter_validates_against_the_dev_ca(pki: DevPki, unsigned_pdf: bytes) -> None:
    result = sign_pdf(
        unsigned_pdf, identity=identity_for(pki), box=BOX, reason="信用修复告知书", location="测试市"
    )
    report = check(pki, result.data)
    assert (report.signed, report.intact, report.valid, report.trusted, report.covers_whole_file) == (
        True,
        True,
        True,
        True,
        True,
    )
    assert report.ok
    assert report.subfilter == "/ETSI.CAdES.detached"
    assert report.signer_subject == result.signer_subject
    assert "CN=市场监督管理局" in report.signer_subject and "O=测试市" in report.signer_subject
    assert not report.timestamped and not result.timestamped
    assert report.signing_time == FROZEN_NOW  # the signer's own claim (/M), on the frozen clock


def test_another_ca_is_not_trusted(pki: DevPki, signed: bytes, tmp_path: Path) -> None:
    other = create_dev_pki(tmp_path, [], passphrase=b"other", not_before=NOT_BEFORE)
    report = validate_signed_pdf(
        signed, trust_roots=[x509.load_pem_x509_certificate(other.ca_cert.read_bytes())]
    )
    assert report.intact and report.valid and not report.trusted and not report.ok


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils (pdfsig) is not installed")
def test_poppler_finds_the_signature_valid(signed: bytes, tmp_path: Path) -> None:
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    output = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    # Poppler does not know the development CA, so only the signature itself is checked, not the chain.
    assert "Signature Validation: Signature is Valid." in output
    assert "ETSI.CAdES.detached" in output
    assert "Total document signed" in output


def test_with_a_timestamp_authority_the_signature_is_b_t(pki: DevPki, unsigned_pdf: bytes) -> None:
    result = sign_pdf(
        unsigned_pdf,
        identity=identity_for(pki),
        box=BOX,
        reason="测试",
        location="测试市",
        timestamper=dev_timestamper(pki),
    )
    assert result.timestamped
    report = check(pki, result.data)
    assert report.ok and report.timestamped
    assert report.signing_time == FROZEN_NOW  # now the TSA's time, not the signer's claim


def test_a_changed_byte_in_the_signed_range_is_detected(
    pki: DevPki, signed: bytes, unsigned_pdf: bytes
) -> None:
    corrupted = bytearray(signed)
    offset = len(unsigned_pdf) // 3  # inside the embedded font stream, long before the signature
    corrupted[offset] ^= 0x01
    report = check(pki, bytes(corrupted))
    assert report.signed
    assert not report.intact and not report.valid and not report.ok


def test_bytes_appended_after_signing_are_detected(pki: DevPki, signed: bytes) -> None:
    report = check(pki, signed + b"\n% added later\n")
    assert report.intact and report.valid  # what was signed is untouched ...
    assert not report.covers_whole_file and not report.ok  # ... but the file is not what was signed


def test_an_incremental_update_after_signing_is_detected(pki: DevPki, signed: bytes) -> None:
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.root["/Lang"] = generic.TextStringObject("en")  # any change makes a new revision
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    assert len(out.getvalue()) > len(signed)
    report = check(pki, out.getvalue())
    assert report.intact and not report.covers_whole_file and not report.ok


@pytest.mark.parametrize("data", [b"", b"not a pdf at all", b"%PDF-1.7\n garbage \n%%EOF\n"])
def test_garbage_is_not_signed_and_does_not_raise(pki: DevPki, data: bytes) -> None:
    report = check(pki, data)
    assert not report.signed and not report.ok and report.error


def test_an_unsigned_pdf_is_not_signed(pki: DevPki, unsigned_pdf: bytes) -> None:
    report = check(pki, unsigned_pdf)
    assert not report.signed and report.error == "the PDF has no signature"


def test_a_mangled_signature_is_not_intact_and_does_not_raise(pki: DevPki, signed: bytes) -> None:
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    mangled = signed[:start] + b"00" * 64 + signed[start + 128 :]  # the CMS blob's first bytes zeroed
    report = check(pki, mangled)
    assert report.signed and not report.intact and not report.ok and report.error


# The visible stamp --------------------------------------------------------------------------------------


def test_the_stamp_is_a_visible_field_with_the_seal(signed: bytes) -> None:
    reader = PdfFileReader(BytesIO(signed))
    (field,) = [f.get_object() for f in reader.root["/AcroForm"]["/Fields"]]
    assert field["/T"] == SIGNATURE_FIELD and field["/FT"] == "/Sig"
    assert [float(v) for v in field["/Rect"]] == list(BOX)
    last_page = reader.root["/Pages"]["/Kids"][-1].get_object()
    assert any(annot.get_object() is field for annot in last_page["/Annots"])
    appearance = field["/AP"]["/N"]
    assert len(appearance.data) > 100
    resources = appearance["/Resources"]
    images = [x.get_object() for x in resources["/XObject"].values()]
    assert any(image["/Subtype"] == "/Image" and image["/Width"] == 400 for image in images)
    assert "/F1" in resources["/Font"]  # the subset CJK font for the name and date


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
def test_the_seal_is_red_where_the_box_is(signed: bytes, tmp_path: Path) -> None:
    (tmp_path / "signed.pdf").write_bytes(signed)
    last = str(PdfFileReader(BytesIO(signed)).root["/Pages"]["/Count"])
    # At 72 dpi a pixel is a point.
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "72",
            "-f",
            last,
            "-l",
            last,
            "-singlefile",
            str(tmp_path / "signed.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    with Image.open(tmp_path / "page.png") as page:
        image = page.convert("RGB")
    x1, y1, x2, y2 = (round(v) for v in BOX)
    inside = image.crop((x1, image.height - y2, x2, image.height - y1))
    outside = image.crop((x1, image.height - y2 - 150, x2, image.height - y2 - 20))

    def red(region: Image.Image) -> int:
        rgb = region.tobytes()
        return sum(1 for i in range(0, len(rgb), 3) if rgb[i] > 180 and rgb[i + 1] < 90 and rgb[i + 2] < 90)

    assert red(inside) > 0.05 * inside.width * inside.height
    assert red(outside) == 0


def test_the_stamp_font_is_a_small_reusable_subset(settings: Settings, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    text = "示范市人民政府行政复议办公室\n2026年11月23日 10:00"
    path = stamp_font(text)
    assert path.parent == tmp_path / "fonts" and path.suffix == ".otf"
    font = TTFont(path)
    cmap = font.getBestCmap()
    for char in "示范市人民政府行政复议办公室年月日0123456789:ABCxyz〇十":
        assert ord(char) in cmap, char
    assert ord("龘") not in cmap
    assert path.stat().st_size < 200_000  # the whole face is 16 MB

    written = path.stat().st_mtime_ns, path.stat().st_ino
    signing._stamp_font.cache_clear()  # past the in-process cache, to the file on disk
    assert stamp_font(text) == path
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == written
    assert stamp_font("2026年11月23日" + text) == path  # the same characters, the same font


# Keys ---------------------------------------------------------------------------------------------------


def test_a_missing_key_file_is_a_clear_configuration_error(pki: DevPki, tmp_path: Path) -> None:
    identity = identity_for(pki, pkcs12_path=str(tmp_path / "nowhere.p12"))
    with pytest.raises(ImproperlyConfigured, match=r"PKCS#12 file .*nowhere\.p12 does not exist"):
        load_signer(identity)


def test_a_production_identity_needs_its_passphrase_variable(
    pki: DevPki, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEBUG = True  # even in development: only development certificates have a fallback
    monkeypatch.delenv(PASSPHRASE_VAR)
    with pytest.raises(ImproperlyConfigured, match=f"{PASSPHRASE_VAR} .* is not set"):
        load_signer(identity_for(pki, development_only=False))


def test_a_development_identity_falls_back_to_the_dev_passphrase_only_in_debug(
    pki: DevPki, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSPHRASE_VAR)
    identity = identity_for(pki, development_only=True)
    settings.DEBUG = True
    assert load_signer(identity).signing_cert is not None
    signing._signers.clear()
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="is not set"):
        load_signer(identity)


def test_a_wrong_passphrase_is_a_clear_configuration_error(
    pki: DevPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSPHRASE_VAR, "wrong")
    with pytest.raises(ImproperlyConfigured, match="cannot read its key"):
        load_signer(identity_for(pki))


def test_signers_are_cached_until_their_file_changes(pki: DevPki) -> None:
    identity = identity_for(pki)
    first = load_signer(identity)
    assert load_signer(identity) is first
    path = Path(identity.pkcs12_path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # as if a renewed file was copied in
    try:
        assert load_signer(identity) is not first
    finally:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_pem_key_certificate_and_chain_sign_as_well(pki: DevPki, unsigned_pdf: bytes, tmp_path: Path) -> None:
    key, cert, chain = pkcs12.load_key_and_certificates(
        pki.departments[MARKET.code].pkcs12.read_bytes(), DEV_PASSPHRASE
    )
    assert key is not None and cert is not None
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(DEV_PASSPHRASE),
        )
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "chain.pem").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))
    identity = identity_for(
        pki,
        pkcs12_path="",
        key_path=str(tmp_path / "key.pem"),
        cert_path=str(tmp_path / "cert.pem"),
        chain_path=str(tmp_path / "chain.pem"),
    )
    assert check(pki, sign(unsigned_pdf, identity)).ok


def test_the_timestamp_authority_comes_from_settings(settings: Settings) -> None:
    settings.LETTERS_TSA_URL = ""
    assert configured_timestamper() is None
    settings.LETTERS_TSA_URL = "http://tsa.example.test/tsr"
    timestamper = configured_timestamper()
    assert isinstance(timestamper, HTTPTimeStamper) and timestamper.url == "http://tsa.example.test/tsr"


# The development PKI ------------------------------------------------------------------------------------


def test_the_dev_pki_says_what_it_is_and_is_reused(pki: DevPki) -> None:
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    assert "DEVELOPMENT ONLY" in ca.subject.rfc4514_string() and "不具法律效力" in ca.subject.rfc4514_string()
    tsa = x509.load_pem_x509_certificate(pki.tsa_cert.read_bytes())
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]
    with Image.open(pki.departments[RECONSIDERATION.code].seal) as seal:
        assert seal.size == (400, 400) and seal.mode == "RGBA"
        assert seal.getpixel((0, 0))[3] == 0  # type: ignore[index]  # transparent around the ring

    before = {path: path.stat().st_mtime_ns for path in pki.directory.iterdir()}
    again = create_dev_pki(pki.directory, [MARKET, RECONSIDERATION], passphrase=DEV_PASSPHRASE)
    assert again.created == ()
    assert {path: path.stat().st_mtime_ns for path in pki.directory.iterdir()} == before


def test_a_renamed_department_gets_a_new_certificate(tmp_path: Path) -> None:
    department = Department(code="env", name="生态环境局", city="测试市")
    create_dev_pki(tmp_path, [department], passphrase=b"pw", not_before=NOT_BEFORE)
    department.name = "示范市生态环境局"
    renewed = create_dev_pki(tmp_path, [department], passphrase=b"pw", not_before=NOT_BEFORE)
    assert set(renewed.created) == {tmp_path / "env.p12", tmp_path / "env-seal.png"}
    _, cert, _ = pkcs12.load_key_and_certificates((tmp_path / "env.p12").read_bytes(), b"pw")
    assert cert is not None and "CN=示范市生态环境局" in cert.subject.rfc4514_string()


@pytest.mark.django_db
def test_dev_signing_setup_gives_deciding_and_reconsideration_departments_an_identity(
    personas: Personas,
    settings: Settings,
    tmp_path: Path,
    unsigned_pdf: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv(DEV_PASSPHRASE_ENV, raising=False)  # as in `make run`
    recon = Department.objects.create(
        code="recon", name="行政复议办公室", city="测试市", kind=Department.Kind.RECONSIDERATION
    )
    out = StringIO()
    call_command("dev_signing_setup", stdout=out)
    assert "development" in out.getvalue()
    identities = {i.department.code: i for i in SigningIdentity.objects.select_related("department")}
    assert set(identities) == {"market", "environment", "recon"}  # not the platform
    market = identities["market"]
    assert market.development_only and market.signer_text == "市场监督管理局"
    assert market.passphrase_env == DEV_PASSPHRASE_ENV
    assert Path(market.pkcs12_path) == tmp_path / "dev-pki" / "market.p12"
    assert recon.pk == identities["recon"].department_id

    data = sign(unsigned_pdf, market)  # with the development passphrase: DEV_SIGNING_PASSPHRASE is unset
    assert validate_signed_pdf(data, trust_roots=[tmp_path / "dev-pki" / "ca-cert.pem"]).ok

    again = StringIO()
    call_command("dev_signing_setup", stdout=again)
    assert "wrote" not in again.getvalue()
    assert "0 signing identities created or updated" in again.getvalue()


@pytest.mark.django_db
def test_dev_signing_setup_refuses_without_debug(settings: Settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("dev_signing_setup")

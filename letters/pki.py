"""A development PKI: a test CA, a test timestamping authority and one signing certificate and seal per
department, so that letters can be signed and verified end to end on a laptop.

Nothing made here has any legal effect, and everything says so: the CA's name, the certificates' organisation
and the seal's own text. Production signs with certificates from a real CA (docs/deploy.md).

Idempotent: what already exists (and still matches the department) is reused, so `make run` can call it on
every start and a letter signed yesterday still validates against the same CA today.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from credit.models import Department
from letters.files import write_atomically

CA_COMMON_NAME = "DEVELOPMENT ONLY test CA 开发测试 不具法律效力"
DEV_ORGANISATION = "credit-repair development"
TSA_COMMON_NAME = "DEVELOPMENT ONLY test TSA 开发测试时间戳"
# The command stores DEV_PASSPHRASE_ENV as the identities' passphrase variable; `make run` does not set it,
# so development identities fall back to DEV_PASSPHRASE (letters.signing._passphrase, DEBUG only).
DEV_PASSPHRASE_ENV = "DEV_SIGNING_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
DEV_PASSPHRASE = b"dev-only-passphrase"
SEAL_WARNING = "开发测试 非正式印章"
SEAL_RED = (0xDD, 0x00, 0x00, 0xFF)  # #d00
SEAL_SIZE = 400
VALIDITY = timedelta(days=3653)
# RSA rather than ECDSA: pyHanko's in-process test timestamper (DummyTimeStamper) signs with RSA only, and
# RSA-2048 with SHA-256 is what every validator (pyHanko, poppler's pdfsig, Acrobat) accepts.
RSA_BITS = 2048

# Noto CJK in Debian's fonts-noto-cjk; the seal wants a heavy face, serif (宋体-like) as on real seals.
SEAL_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


@dataclass(frozen=True)
class DepartmentFiles:
    code: str
    name: str
    pkcs12: Path
    seal: Path


@dataclass(frozen=True)
class DevPki:
    directory: Path
    ca_cert: Path
    ca_key: Path
    tsa_cert: Path
    tsa_key: Path
    departments: dict[str, DepartmentFiles] = field(default_factory=dict)  # by department code
    created: tuple[Path, ...] = ()  # what this call wrote, for the command's report


def create_dev_pki(
    directory: Path,
    departments: Iterable[Department],
    *,
    passphrase: bytes,
    not_before: datetime | None = None,
) -> DevPki:
    """Create (or reuse) the development CA, TSA, and each department's PKCS#12 file and seal image.

    `passphrase` encrypts the CA's key and the PKCS#12 files. `not_before` defaults to a day ago; tests that
    travel in time pass an earlier start so the certificates are valid both then and now.
    """
    directory.mkdir(parents=True, exist_ok=True)
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    created: list[Path] = []

    ca_cert_path, ca_key_path = directory / "ca-cert.pem", directory / "ca-key.pem"
    if ca_cert_path.exists() and ca_key_path.exists():
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        try:
            loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=passphrase)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"cannot open {ca_key_path} with this passphrase; use the one it was made with, or delete "
                f"{directory} to start a new development CA"
            ) from exc
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{ca_key_path} is not an RSA key")
        ca_key = loaded
    else:
        ca_key = _new_key()
        ca_cert = _ca_certificate(ca_key, start)
        _write(ca_key_path, _pem_key(ca_key, passphrase), secret=True)
        _write(ca_cert_path, ca_cert.public_bytes(serialization.Encoding.PEM))
        created += [ca_cert_path, ca_key_path]

    tsa_cert_path, tsa_key_path = directory / "tsa-cert.pem", directory / "tsa-key.pem"
    if not (_issued_by(tsa_cert_path, ca_cert) and tsa_key_path.exists()):
        tsa_key = _new_key()
        tsa_cert = _tsa_certificate(tsa_key, ca_key, ca_cert, start)
        # Unencrypted: only the in-process test timestamper reads it, and it has no passphrase to ask for.
        _write(tsa_key_path, _pem_key(tsa_key, None), secret=True)
        _write(tsa_cert_path, tsa_cert.public_bytes(serialization.Encoding.PEM))
        created += [tsa_cert_path, tsa_key_path]

    files: dict[str, DepartmentFiles] = {}
    for department in departments:
        p12_path = directory / f"{department.code}.p12"
        seal_path = directory / f"{department.code}-seal.png"
        reissue = not _p12_matches(p12_path, passphrase, ca_cert, department)
        if reissue:
            key = _new_key()
            cert = _department_certificate(key, ca_key, ca_cert, department, start)
            data = pkcs12.serialize_key_and_certificates(
                name=department.code.encode(),
                key=key,
                cert=cert,
                cas=[ca_cert],
                encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
            )
            _write(p12_path, data, secret=True)
            created.append(p12_path)
        if reissue or not seal_path.exists():
            _write(seal_path, draw_seal(department.name))
            created.append(seal_path)
        files[department.code] = DepartmentFiles(department.code, department.name, p12_path, seal_path)

    return DevPki(
        directory=directory,
        ca_cert=ca_cert_path,
        ca_key=ca_key_path,
        tsa_cert=tsa_cert_path,
        tsa_key=tsa_key_path,
        departments=files,
        created=tuple(created),
    )


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def _pem_key(key: rsa.RSAPrivateKey, passphrase: bytes | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _fit(value: str) -> str:
    """X.509 limits a CN or O to 64 (cryptography counts UTF-8 bytes): 21 Chinese characters."""
    while len(value.encode()) > 64:
        value = value[:-1]
    return value


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(organisation)),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "DEVELOPMENT ONLY 开发测试 不具法律效力"),
            x509.NameAttribute(NameOID.COMMON_NAME, _fit(common_name)),
        ]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: rsa.RSAPublicKey, start: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,  # nonRepudiation: pyHanko requires it of a document signer by default
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def _ca_certificate(key: rsa.RSAPrivateKey, start: datetime) -> x509.Certificate:
    name = _name(CA_COMMON_NAME, DEV_ORGANISATION)
    return (
        _builder(name, name, key.public_key(), start)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .sign(key, hashes.SHA256())
    )


def _issued(
    builder: x509.CertificateBuilder, ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate
) -> x509.Certificate:
    return (
        builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _tsa_certificate(
    key: rsa.RSAPrivateKey, ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate, start: datetime
) -> x509.Certificate:
    builder = _builder(
        _name(TSA_COMMON_NAME, DEV_ORGANISATION), ca_cert.subject, key.public_key(), start
    ).add_extension(
        # RFC 3161 §2.3: a TSA certificate has exactly this EKU, marked critical.
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
        critical=True,
    )
    return _issued(builder, ca_key, ca_cert)


def _department_certificate(
    key: rsa.RSAPrivateKey,
    ca_key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    department: Department,
    start: datetime,
) -> x509.Certificate:
    builder = _builder(
        _name(department.name, department.city), ca_cert.subject, key.public_key(), start
    ).add_extension(
        # emailProtection is what NSS (pdfsig) and Acrobat look for in a document signer; documentSigning
        # (RFC 9336) says what the key is for.
        x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.EMAIL_PROTECTION, x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")]
        ),
        critical=False,
    )
    return _issued(builder, ca_key, ca_cert)


def _issued_by(cert_path: Path, ca_cert: x509.Certificate) -> bool:
    if not cert_path.exists():
        return False
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return _verifies(cert, ca_cert)


def _verifies(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _p12_matches(path: Path, passphrase: bytes, ca_cert: x509.Certificate, department: Department) -> bool:
    """Reuse a department's file only if it opens with this passphrase, comes from this CA and still names
    the department as it is now (a renamed department gets a new certificate and seal)."""
    if not path.exists():
        return False
    try:
        _, cert, _ = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
    except ValueError:
        return False
    if cert is None or not _verifies(cert, ca_cert):
        return False
    subject = cert.subject
    return (
        _attribute(subject, NameOID.COMMON_NAME) == department.name
        and _attribute(subject, NameOID.ORGANIZATION_NAME) == department.city
    )


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    # Atomic, so that a web process and a worker starting together never read half a key.
    write_atomically(path, data, mode=0o600 if secret else 0o644)


# The seal ------------------------------------------------------------------------------------------------


def _seal_font(size: int) -> ImageFont.FreeTypeFont:
    for path in SEAL_FONTS:
        if path.exists():
            # Index 2 is the Simplified Chinese face in every Noto CJK collection.
            return ImageFont.truetype(str(path), size, index=2)
    raise FileNotFoundError("No Noto CJK font found; install fonts-noto-cjk (scripts/system-deps.sh)")


def _star(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    inner = outer * 0.382  # the regular five-pointed star's ratio, as on the national emblem's stars
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(-90 + i * 36)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _draw_glyph(
    canvas: Image.Image, char: str, font: ImageFont.FreeTypeFont, x: float, y: float, angle: float
) -> None:
    """Draw one character centred on (x, y), turned clockwise by `angle` degrees."""
    size = int(font.size * 1.5)
    tile = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((size / 2, size / 2), char, font=font, fill=SEAL_RED, anchor="mm")
    tile = tile.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)
    canvas.alpha_composite(tile, (round(x - tile.width / 2), round(y - tile.height / 2)))


def draw_seal(name: str, *, size: int = SEAL_SIZE) -> bytes:
    """A round official-style seal (公章) as a transparent PNG: red ring, star, the name along the upper arc,
    and across the bottom the words that say it is a development seal."""
    # Drawn at twice the size and scaled down: Pillow does not anti-alias ellipses and polygons.
    scale = 2
    full = size * scale
    canvas = Image.new("RGBA", (full, full), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    centre = full / 2
    ring_width = 0.035 * full
    outer = full / 2 - 0.02 * full
    draw.ellipse(
        (centre - outer, centre - outer, centre + outer, centre + outer),
        outline=SEAL_RED,
        width=round(ring_width),
    )
    draw.polygon(_star(centre, centre, 0.16 * full), fill=SEAL_RED)

    # The name along the upper arc, read clockwise, each character upright towards the rim. Long names get
    # smaller characters so that the arc never passes about 250 degrees.
    chars = list(name)
    font_size = 0.13 * full
    inner = outer - ring_width
    while True:
        radius = inner - 0.02 * full - font_size / 2
        # Measured on the glyphs' inner edge, where neighbours come closest.
        step = math.degrees(font_size * 1.1 / (radius - font_size * 0.4))
        if step * len(chars) <= 250 or font_size < 0.05 * full:
            break
        font_size *= 0.93
    font = _seal_font(round(font_size))
    # Give short names a wider spacing, as seal engravers do, but never more than 40 degrees apart.
    step = min(max(step, 220 / max(len(chars), 1)), 40.0)
    first = -step * (len(chars) - 1) / 2
    for i, char in enumerate(chars):
        angle = first + i * step
        x = centre + radius * math.sin(math.radians(angle))
        y = centre - radius * math.cos(math.radians(angle))
        _draw_glyph(canvas, char, font, x, y, angle)

    warning_font = _seal_font(round(0.062 * full))
    draw.text((centre, centre + 0.30 * full), SEAL_WARNING, font=warning_font, fill=SEAL_RED, anchor="mm")

    # Every pixel the same red, only the alpha varies: the colour planes then compress to almost nothing,
    # in the PNG and in each signed PDF that embeds it.
    alpha = canvas.resize((size, size), Image.Resampling.LANCZOS).getchannel("A")
    image = Image.new("RGBA", (size, size), SEAL_RED)
    image.putalpha(alpha)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

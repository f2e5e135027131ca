"""Signing letters: PAdES signatures (B-B, or B-T with a timestamping authority) with a visible seal, and
validation of a signed letter for anyone who wants to check one.

Keys are read from files named by a `SigningIdentity` and cached per process, because a worker signs many
letters with the same few keys. The stamp's Chinese text needs an embedded CJK font; pyHanko cannot read the
system's `.ttc` collection and embeds the whole face slowly, so `stamp_font` cuts a small `.otf` once.
"""

from __future__ import annotations

import hashlib
import os
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image
from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimeStamper
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .files import write_atomically
from .pki import DEV_PASSPHRASE, DevPki

if TYPE_CHECKING:
    from .models import SigningIdentity

# A CA certificate to trust: loaded already (cryptography or asn1crypto), or a PEM/DER file.
TrustRoot: TypeAlias = x509.Certificate | asn1_x509.Certificate | Path | str

SIGNATURE_FIELD = "DepartmentSeal"
CJK_COLLECTION = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_FACE = "NotoSansCJKsc-Regular"
# Characters every stamp may need besides its own text: dates and times in either notation.
STAMP_BASE_CHARACTERS = (
    string.ascii_letters
    + string.digits
    + string.punctuation
    + " "
    + "〇一二三四五六七八九十年月日时分秒：（）"
)


@dataclass(frozen=True)
class SignedPdf:
    data: bytes
    signer_subject: str
    timestamped: bool


@dataclass(frozen=True)
class SignatureReport:
    signed: bool
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    covers_whole_file: bool = False
    signer_subject: str = ""
    timestamped: bool = False
    signing_time: datetime | None = None
    subfilter: str = ""
    error: str = ""  # why the file or the signature could not be read, for logs and support

    @property
    def ok(self) -> bool:
        """The one answer a verification page gives: this is, unchanged, a letter we signed."""
        return self.signed and self.intact and self.valid and self.trusted and self.covers_whole_file


# Keys --------------------------------------------------------------------------------------------------

# One entry per identity, replaced when its files change on disk (a renewed certificate). A plain dict is
# enough: two threads loading the same key at once only do the work twice.
_signers: dict[object, tuple[tuple[tuple[str, int], ...], signers.SimpleSigner]] = {}


def load_signer(identity: SigningIdentity) -> signers.SimpleSigner:
    """The identity's key and certificate chain, read from its PKCS#12 file or its PEM files."""
    files = _key_files(identity)
    for label, path in files:
        if not path.is_file():
            raise ImproperlyConfigured(f"Signing identity {identity}: the {label} {path} does not exist")
    passphrase = _passphrase(identity)
    fingerprint = tuple((str(path), path.stat().st_mtime_ns) for _, path in files)
    cache_key: object = identity.pk if identity.pk is not None else fingerprint
    cached = _signers.get(cache_key)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    signer = _read_signer(identity, passphrase)
    _signers[cache_key] = (fingerprint, signer)
    return signer


def _key_files(identity: SigningIdentity) -> list[tuple[str, Path]]:
    if identity.pkcs12_path:
        return [("PKCS#12 file", Path(identity.pkcs12_path))]
    if not (identity.key_path and identity.cert_path):
        raise ImproperlyConfigured(f"Signing identity {identity} names neither a PKCS#12 file nor a key")
    files = [("private key", Path(identity.key_path)), ("certificate", Path(identity.cert_path))]
    if identity.chain_path:
        files.append(("certificate chain", Path(identity.chain_path)))
    return files


def _passphrase(identity: SigningIdentity) -> bytes | None:
    name = identity.passphrase_env
    if not name:
        return None
    value = os.environ.get(name)
    if value:
        return value.encode()
    # `make run` starts the server without the variable; only a development certificate may fall back to
    # the development passphrase, and only in DEBUG. A production identity without its secret must stop.
    if identity.development_only and settings.DEBUG:
        return DEV_PASSPHRASE
    raise ImproperlyConfigured(
        f"Signing identity {identity}: the environment variable {name} (its key's passphrase) is not set"
    )


def _read_signer(identity: SigningIdentity, passphrase: bytes | None) -> signers.SimpleSigner:
    try:
        if identity.pkcs12_path:
            return signers.SimpleSigner.load_pkcs12_data(
                Path(identity.pkcs12_path).read_bytes(), other_certs=[], passphrase=passphrase
            )
        key = load_private_key_from_pemder(identity.key_path, passphrase=passphrase)
        cert = load_cert_from_pemder(identity.cert_path)
        chain = list(load_certs_from_pemder([identity.chain_path])) if identity.chain_path else []
    except (OSError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"Signing identity {identity}: cannot read its key ({exc}); is the passphrase right?"
        ) from exc
    registry = SimpleCertificateStore()
    registry.register_multiple(chain)
    return signers.SimpleSigner(signing_cert=cert, signing_key=key, cert_registry=registry)


def _subject(cert: asn1_x509.Certificate) -> str:
    return x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()


# The stamp ---------------------------------------------------------------------------------------------


def stamp_font(text: str) -> Path:
    """An .otf with just the glyphs a stamp needs (the text's, plus digits, Latin and date characters),
    cut from Noto Sans CJK SC once and kept under VAR_DIR/fonts by a hash of its character set."""
    characters = frozenset(char for char in text if char.isprintable()) | frozenset(STAMP_BASE_CHARACTERS)
    path = _stamp_font(characters, Path(settings.VAR_DIR) / "fonts")
    if not path.exists():  # var/ was cleaned under a running worker: cut it again
        _stamp_font.cache_clear()
        path = _stamp_font(characters, Path(settings.VAR_DIR) / "fonts")
    return path


@lru_cache(maxsize=64)
def _stamp_font(characters: frozenset[str], directory: Path) -> Path:
    ordered = "".join(sorted(characters))
    digest = hashlib.sha256(f"{CJK_COLLECTION.name}:{CJK_FACE}:{ordered}".encode()).hexdigest()[:16]
    path = directory / f"{CJK_FACE}-{digest}.otf"
    if path.exists():
        return path
    if not CJK_COLLECTION.exists():
        raise ImproperlyConfigured(
            f"{CJK_COLLECTION} is missing; install fonts-noto-cjk (scripts/system-deps.sh)"
        )
    collection = TTCollection(str(CJK_COLLECTION))
    face = next(
        (font for font in collection.fonts if font["name"].getDebugName(6) == CJK_FACE),
        None,
    )
    if face is None:
        raise ImproperlyConfigured(f"{CJK_COLLECTION} has no face {CJK_FACE}")
    # Glyph names kept: pyHanko maps CFF glyphs by name when it embeds the font.
    options = subset.Options()
    options.glyph_names = True
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(char) for char in ordered])
    subsetter.subset(face)
    # Atomic: another worker may be cutting the same font at the same moment; both write the same bytes.
    buffer = BytesIO()
    face.save(buffer)
    write_atomically(path, buffer.getvalue())
    return path


@lru_cache(maxsize=64)
def _seal_image(path: str, mtime_ns: int) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image.copy()


@lru_cache(maxsize=16)
def _advances(font_path: str) -> dict[int, int]:
    """Advance width (font units) of each character in a stamp font."""
    font = TTFont(font_path)
    hmtx = font["hmtx"]
    return {codepoint: hmtx[glyph][0] for codepoint, glyph in font.getBestCmap().items()}


def _centred(lines: list[str], font_path: Path) -> list[str]:
    # pyHanko's text box aligns lines to the left; leading spaces centre the shorter ones on the longest,
    # which is close enough for a CJK face with no kerning.
    advances = _advances(str(font_path))
    widths = [sum(advances.get(ord(char), 0) for char in line) for line in lines]
    space = advances[ord(" ")]
    return [
        " " * round((max(widths) - width) / 2 / space) + line
        for line, width in zip(lines, widths, strict=True)
    ]


def _stamp_style(
    identity: SigningIdentity, lines: list[str], box: tuple[float, float, float, float]
) -> tuple[TextStampStyle, str]:
    """The stamp's style and its text: the seal over the signer's name and the time of signing."""
    seal_path = Path(identity.seal_image_path)
    if not seal_path.is_file():
        raise ImproperlyConfigured(f"Signing identity {identity}: the seal image {seal_path} does not exist")
    seal = PdfImage(_seal_image(str(seal_path), seal_path.stat().st_mtime_ns))
    side = min(box[2] - box[0], box[3] - box[1])
    # The date line is about 10 em wide: at side/14 it spans 70% of the seal, inside the ring's chord there.
    font_size = max(6, round(side / 14))
    font_path = stamp_font("".join(lines))
    # GB/T 9704-2012 §7.3.5.1: the seal is pressed over the issuer's name and the date, which sit a little
    # below its centre. The text is drawn after the seal, so black stays black where they overlap, as
    # under real red ink.
    drop = round(0.12 * side)
    style = TextStampStyle(
        stamp_text="%(stamp_text)s",
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(str(font_path), font_size=font_size),
            font_size=font_size,
            leading=round(font_size * 1.3),
            # pyHanko's default pads a text box by 10 pt, which would shrink the text; the stamp places it.
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN,
                y_align=layout.AxisAlignment.ALIGN_MIN,
                margins=layout.Margins.uniform(1),
            ),
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(left=round(side * 0.14), right=round(side * 0.14), top=2 * drop, bottom=0),
        ),
        background=seal,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(2),
        ),
        background_opacity=0.9,
        border_width=0,
    )
    return style, "\n".join(_centred(lines, font_path))


# Signing -----------------------------------------------------------------------------------------------


def sign_pdf(
    pdf: bytes,
    *,
    identity: SigningIdentity,
    box: tuple[float, float, float, float],
    page: int = -1,
    reason: str,
    location: str,
    timestamper: TimeStamper | None = None,
) -> SignedPdf:
    """Sign `pdf` as the identity's department: PAdES B-B with SHA-256, or B-T when a timestamper is
    given, in a new visible field at `box` (x1, y1, x2, y2 in points) on `page` (the last by default)."""
    signer = load_signer(identity)
    # The stamp shows the time in the city's zone (TIME_ZONE). pyHanko reads the clock again for the
    # signature's /M a few milliseconds later: the two differ only if a minute turns in between.
    signed_at = timezone.localtime()
    style, text = _stamp_style(
        identity,
        [identity.signer_text, f"{signed_at.year}年{signed_at.month}月{signed_at.day}日 {signed_at:%H:%M}"],
        box,
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    pdf_signer = signers.PdfSigner(
        metadata,
        signer=signer,
        timestamper=timestamper,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(
            sig_field_name=SIGNATURE_FIELD,
            on_page=page,
            box=box,  # type: ignore[arg-type]  # pyHanko's annotation says int; any number is fine in a PDF
        ),
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    output = pdf_signer.sign_pdf(writer, appearance_text_params={"stamp_text": text})
    return SignedPdf(
        data=output.getvalue(),
        signer_subject=_subject(signer.signing_cert),
        timestamped=timestamper is not None,
    )


def configured_timestamper() -> TimeStamper | None:
    """The production timestamping authority (RFC 3161), if one is configured."""
    url: str = getattr(settings, "LETTERS_TSA_URL", "")
    return HTTPTimeStamper(url) if url else None


def dev_timestamper(pki: DevPki) -> DummyTimeStamper:
    """An in-process timestamping authority with the development PKI's TSA certificate: for tests and
    `make run` only, where there is no real TSA to ask."""
    ca = load_cert_from_pemder(str(pki.ca_cert))
    store = SimpleCertificateStore()
    store.register(ca)
    return DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(str(pki.tsa_cert)),
        tsa_key=load_private_key_from_pemder(str(pki.tsa_key), passphrase=None),
        certs_to_embed=store,
    )


# Validation --------------------------------------------------------------------------------------------


def _asn1_certificates(
    roots: Iterable[TrustRoot],
) -> list[asn1_x509.Certificate]:
    result: list[asn1_x509.Certificate] = []
    for root in roots:
        if isinstance(root, asn1_x509.Certificate):
            result.append(root)
        elif isinstance(root, x509.Certificate):
            result.append(asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER)))
        else:
            result.extend(load_certs_from_pemder([str(root)]))
    return result


def validate_signed_pdf(
    data: bytes,
    *,
    trust_roots: Iterable[TrustRoot],
    moment: datetime | None = None,
) -> SignatureReport:
    """Check the letter's signature (the first one: the issuing department's) against `trust_roots`.

    Never raises for a bad file: garbage or an unsigned PDF gives `signed=False`, a signature that cannot
    be checked gives `intact=False`, with the reason in `error`. `moment` defaults to now.
    """
    roots = _asn1_certificates(trust_roots)  # a missing trust root is our configuration error: raise
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        # Filled /Sig fields, found without parsing their contents, so that a signature whose CMS blob
        # was mangled still counts as a signature (one that fails), not as an unsigned file.
        filled = [value for _, value, _ in fields.enumerate_sig_fields(reader, filled_status=True)]
    except Exception as exc:  # any parse failure means "not a signed PDF we can read"
        return SignatureReport(signed=False, error=f"not a readable PDF: {exc}")
    if not filled:
        return SignatureReport(signed=False, error="the PDF has no signature")
    subfilter = str(filled[0].get_object().get("/SubFilter", ""))
    try:
        signatures = reader.embedded_regular_signatures
        if not signatures:
            raise ValueError("no approval signature, only document timestamps")
        embedded = signatures[0]
        subfilter = str(embedded.sig_object.get("/SubFilter", ""))
        context = ValidationContext(trust_roots=roots, allow_fetching=False, moment=moment)
        status = validate_pdf_signature(embedded, signer_validation_context=context)
    except Exception as exc:  # a mangled signature is a failed check, not a crash
        return SignatureReport(
            signed=True, subfilter=subfilter, error=f"the signature cannot be checked: {exc}"
        )
    timestamp = status.timestamp_validity
    timestamped = timestamp is not None and timestamp.intact and timestamp.valid and timestamp.trusted
    return SignatureReport(
        signed=True,
        intact=status.intact,
        valid=status.intact and status.valid,
        trusted=status.trusted,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer_subject=_subject(status.signing_cert),
        timestamped=timestamped,
        signing_time=timestamp.timestamp
        if timestamped and timestamp is not None
        else status.signer_reported_dt,
        subfilter=subfilter,
    )

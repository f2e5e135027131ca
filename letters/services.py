"""Writes on letters: issue (number and content, in the deciding transaction), generate (render, sign,
store; in a Celery task after commit), correct, serve, and consent to electronic service."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credit.models import CreditRecord, Department, Person, RuleSet
from credit.models.people import persons_acted_for
from credit.roles import department_perm, may
from credit.services.transitions import Forbidden, System, WrongState, perform_transition

from . import content
from .files import write_atomically
from .models import (
    Letter,
    LetterKind,
    LetterSequence,
    LetterState,
    ServiceConsent,
    ServiceMethod,
    ServiceRecord,
    SigningIdentity,
)

logger = logging.getLogger(__name__)
SYSTEM = System("system:letters")

# Sent after a letter is issued (its PDF signed and stored): sender=Letter, letter.
letter_issued = Signal()
# Sent after staff record a letter's service (in person, by post): sender=ServiceRecord, service.
letter_served = Signal()

# Crockford's base32 without I, L, O, U: nothing to misread when a code is typed from paper.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 12


def new_verification_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


def normalize_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return cleaned.translate(str.maketrans("OIL", "011"))


def display_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def verify_url(code: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/verify/{code}/"


def reference_number(department: Department, year: int, sequence: int) -> str:
    prefix = department.letter_prefix or department.code
    return f"{prefix}信〔{year}〕{sequence}号"


def allocate_sequence(department: Department, year: int) -> int:
    """The next reference number of a department and year. Must run inside the transaction that creates
    the letter: the row lock is held until it commits, and a rollback gives the number back (no gaps)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocate_sequence must run inside the letter's transaction")
    LetterSequence.objects.get_or_create(department=department, year=year)
    row = LetterSequence.objects.select_for_update().get(department=department, year=year)
    row.last_number += 1
    row.save(update_fields=["last_number"])
    return row.last_number


def issue_letter(
    *,
    subject: models.Model,
    kind: str,
    decision: str,
    person: Person,
    department: Department,
    case_number: str,
    basis: list[str],
    ruleset: RuleSet | None = None,
    decision_summary: str = "",
    reasons: list[str] | None = None,
    details: dict[str, Any] | None = None,
    supersedes: Letter | None = None,
) -> Letter:
    """Decide a letter: freeze its content, give it a reference number and a verification code, and have
    it rendered and signed once the calling transaction commits. Idempotent: the same subject, kind and
    decision give back the same letter. `ruleset` given, the letter states the remedies and their periods."""
    if kind not in LetterKind.values:
        raise ValueError(f"Unknown letter kind {kind!r}")
    revision = supersedes.revision + 1 if supersedes is not None else 1
    key = {
        "content_type": ContentType.objects.get_for_model(subject),
        "object_id": subject.pk,
        "kind": kind,
        "decision": decision,
        "revision": revision,
    }
    existing = Letter.objects.filter(**key).first()
    if existing is not None:
        return existing
    today = timezone.localdate()
    try:
        with transaction.atomic():
            sequence = allocate_sequence(department, today.year)
            code = new_verification_code()
            number = reference_number(department, today.year, sequence)
            letter = Letter.objects.create(
                **key,
                person=person,
                department=department,
                year=today.year,
                sequence=sequence,
                reference_number=number,
                case_number=case_number,
                verification_code=code,
                supersedes=supersedes,
                context={
                    "letter": {
                        "reference_number": number,
                        "kind": kind,
                        "case_number": case_number,
                        "issued_on": today.isoformat(),
                        "verification_code": display_code(code),
                        "verify_url": verify_url(code),
                    },
                    "department": {"name": department.name},
                    "person": {"name": person.name, "id_type": person.id_type, "id_masked": person.id_masked},
                    **(
                        {"record": content.record_facts(subject)} if isinstance(subject, CreditRecord) else {}
                    ),
                    "decision": {"outcome": decision, "summary": decision_summary, "reasons": reasons or []},
                    "basis": basis,
                    "remedies": content.remedies(ruleset) if ruleset is not None else None,
                    "details": details or {},
                },
            )
    except IntegrityError:
        # A concurrent call decided the same letter first; its number was rolled back with ours.
        return Letter.objects.get(**key)
    from .tasks import generate_letter

    transaction.on_commit(partial(generate_letter.delay, letter.pk))
    return letter


def issue_repair_notice(record: CreditRecord) -> Letter:
    """信用修复告知书, served with the record's registration ("两书同达")."""
    tier_rule = record.ruleset.tier_rule(record.tier)
    # The signed letter is Chinese whatever the language of the request that decided it.
    with translation.override("zh-hans"):
        channel = _("the %(city)s credit website or the public credit platform's service window") % {
            "city": record.department.city
        }
    return issue_letter(
        subject=record,
        kind=LetterKind.REPAIR_NOTICE,
        decision="registered",
        person=record.person,
        department=record.department,
        case_number=record.number or "",
        basis=[tier_rule.basis, *[c["basis"] for c in record.ruleset.repair_conditions[:1]]],
        ruleset=RuleSet.objects.in_force(timezone.localdate()),
        details={"objection_channel": channel, "repair_channel": channel},
    )


@dataclass(frozen=True)
class Generated:
    letter: Letter
    created: bool


def generate(letter_id: int) -> Generated:
    """Render, sign and store a pending letter, then mark it issued. Safe to run twice at once: both may
    render, only the first to take the row lock stores its file; the other's file is removed."""
    from .rendering import SEAL_BOX, render_pdf
    from .signing import configured_timestamper, sign_pdf

    letter = Letter.objects.select_related("department").get(pk=letter_id)
    if letter.state != LetterState.PENDING:
        return Generated(letter, False)
    identity = SigningIdentity.objects.filter(department=letter.department).first()
    if identity is None:
        raise RuntimeError(f"{letter.department} has no signing identity; configure one in the admin")
    pdf = render_pdf(letter.context, kind=letter.kind, language="zh-hans")
    title = LetterKind(letter.kind).label
    signed = sign_pdf(
        pdf,
        identity=identity,
        box=SEAL_BOX,
        reason=f"{title} {letter.reference_number}",
        location=letter.department.city,
        timestamper=configured_timestamper(),
    )
    digest = hashlib.sha256(signed.data).hexdigest()
    relative = f"letters/{letter.year}/{letter.pk:08d}-{digest[:16]}.pdf"
    path = Path(settings.MEDIA_ROOT) / relative
    _write_atomically(path, signed.data)
    with transaction.atomic():
        locked = Letter.objects.select_for_update(of=("self",)).get(pk=letter_id)
        if locked.state != LetterState.PENDING:
            if locked.file.name != relative:
                path.unlink(missing_ok=True)
            return Generated(locked, False)
        Letter.objects.filter(pk=letter_id).update(
            file=relative,
            sha256=digest,
            signer_subject=signed.signer_subject[:300],
            timestamped=signed.timestamped,
        )
        issued = perform_transition(locked, "issue", actor=SYSTEM)
        assert isinstance(issued, Letter)
        if issued.supersedes_id is not None:
            previous = Letter.objects.get(pk=issued.supersedes_id)
            if previous.state == LetterState.ISSUED:
                perform_transition(previous, "supersede", actor=SYSTEM, reason=issued.reference_number)
        consent = consent_in_force(issued.person)
        if consent is not None:
            ServiceRecord.objects.create(
                letter=issued,
                method=ServiceMethod.ELECTRONIC,
                served_at=issued.issued_at,
                receipt=_("delivered to the applicant portal"),
                consent=consent,
            )
        transaction.on_commit(partial(letter_issued.send, sender=Letter, letter=issued))
    return Generated(issued, True)


def _write_atomically(path: Path, data: bytes) -> None:
    write_atomically(path, data)


def record_failure(letter_id: int, error: BaseException) -> None:
    Letter.objects.filter(pk=letter_id).update(
        attempts=models.F("attempts") + 1, last_error=repr(error)[:2000]
    )


def correct_letter(letter: Letter, *, actor: Any, reason: str, changes: dict[str, Any]) -> Letter:
    """A correction is a new letter, with a new number, that supersedes the old one once it is issued."""
    if letter.state != LetterState.ISSUED:
        raise WrongState(_("Only an issued letter can be corrected."), state=letter.state)
    if not (department_perm("letters.revoke_letter")(letter, actor)):
        raise Forbidden(_("Only the department's legal reviewer corrects a letter."))
    if not reason.strip():
        raise ValidationError(_("A correction needs a reason."), code="reason_required")
    ctx = letter.context
    subject = letter.subject
    assert subject is not None, "a letter's subject is kept for as long as the letter"
    with transaction.atomic():
        return issue_letter(
            subject=subject,
            kind=letter.kind,
            decision=letter.decision,
            person=letter.person,
            department=letter.department,
            case_number=letter.case_number,
            basis=changes.get("basis", ctx["basis"]),
            decision_summary=changes.get("summary", ctx["decision"]["summary"]),
            reasons=changes.get("reasons", ctx["decision"]["reasons"]),
            details={**ctx["details"], **changes.get("details", {})},
            ruleset=RuleSet.objects.in_force(timezone.localdate()) if ctx.get("remedies") else None,
            supersedes=letter,
        )


def consent_in_force(person: Person) -> ServiceConsent | None:
    return (
        ServiceConsent.objects.filter(person=person, withdrawn_at__isnull=True).order_by("-given_at").first()
    )


def give_consent(*, person: Person, actor: Any, channel: str = "portal") -> ServiceConsent:
    """The person (or their verified agent) consents online; intake records a consent signed on paper."""
    acts_for = person.pk in set(persons_acted_for(actor))
    if not (acts_for or may(actor, "credit.verify_identity")):
        raise Forbidden(_("Only the person, their agent or intake can record this consent."))
    existing = consent_in_force(person)
    if existing is not None:
        return existing
    return ServiceConsent.objects.create(person=person, recorded_by=actor, channel=channel)


def withdraw_consent(*, person: Person, actor: Any) -> int:
    acts_for = person.pk in set(persons_acted_for(actor))
    if not (acts_for or may(actor, "credit.verify_identity")):
        raise Forbidden(_("Only the person, their agent or intake can withdraw this consent."))
    return ServiceConsent.objects.filter(person=person, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )


def record_service(
    *, letter: Letter, method: str, served_at: datetime, receipt: str, actor: Any
) -> ServiceRecord:
    """Record how a letter was served. Electronic service needs the person's consent in force."""
    if not (department_perm("letters.record_service")(letter, actor)):
        raise Forbidden(_("You may not record the service of this letter."))
    if letter.state == LetterState.PENDING:
        raise WrongState(_("The letter is not issued yet."), state=letter.state)
    if method not in ServiceMethod.values:
        raise ValidationError(_("Unknown service method."), code="method")
    if served_at > timezone.now():
        raise ValidationError(_("The service date cannot be in the future."), code="future")
    if letter.issued_at is not None and served_at < letter.issued_at:
        raise ValidationError(_("A letter cannot be served before it was issued."), code="before_issue")
    consent = None
    if method == ServiceMethod.ELECTRONIC:
        consent = consent_in_force(letter.person)
        if consent is None:
            raise ValidationError(_("The person has not consented to electronic service."), code="no_consent")
    elif not receipt.strip():
        raise ValidationError(
            _("Give the receipt: who signed for it, or the postal tracking number."), code="receipt_required"
        )
    with transaction.atomic():
        service = ServiceRecord.objects.create(
            letter=letter,
            method=method,
            served_at=served_at,
            receipt=receipt.strip(),
            consent=consent,
            recorded_by=actor,
        )
        letter_served.send(sender=ServiceRecord, service=service)
    return service


class Verdict(models.TextChoices):  # labels lazy: the class is built once, read in each request's language
    AUTHENTIC = "authentic", gettext_lazy("Authentic")
    SUPERSEDED = "superseded", gettext_lazy("Authentic, but superseded by a corrected letter")
    REVOKED = "revoked", gettext_lazy("Revoked")
    UNKNOWN = "unknown", gettext_lazy("Unknown: no such letter was issued")


_VERDICTS = {
    LetterState.ISSUED: Verdict.AUTHENTIC,
    LetterState.SUPERSEDED: Verdict.SUPERSEDED,
    LetterState.REVOKED: Verdict.REVOKED,
}


@dataclass(frozen=True)
class Verification:
    """What verification may tell anyone: never the person, never the content."""

    verdict: str
    kind: str = ""
    department: str = ""
    reference_number: str = ""
    issued_on: str = ""
    sha256: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "verdict": self.verdict,
            "kind": self.kind,
            "department": self.department,
            "reference_number": self.reference_number,
            "issued_on": self.issued_on,
            "sha256": self.sha256,
        }


def _verification(letter: Letter | None) -> Verification:
    if letter is None or letter.state not in _VERDICTS:
        return Verification(Verdict.UNKNOWN)
    return Verification(
        verdict=_VERDICTS[LetterState(letter.state)],
        kind=letter.kind,
        department=letter.department.name,
        reference_number=letter.reference_number,
        issued_on=timezone.localdate(letter.issued_at).isoformat() if letter.issued_at else "",
        sha256=letter.sha256,
    )


def verify_code(code: str) -> Verification:
    normalized = normalize_code(code)
    if len(normalized) != _CODE_LENGTH:
        return Verification(Verdict.UNKNOWN)
    return _verification(
        Letter.objects.select_related("department").filter(verification_code=normalized).first()
    )


def verify_file(data: bytes) -> Verification:
    """By the file's SHA-256 against the archive: a changed byte anywhere makes it unknown."""
    digest = hashlib.sha256(data).hexdigest()
    return _verification(Letter.objects.select_related("department").filter(sha256=digest).first())

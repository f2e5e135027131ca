"""Writes on repair cases. Legal steps go through `credit.services.transitions.perform_transition`; what each
step entails (deadlines, letters, the record's repair, the outbox, notifications) happens in `on_step`, inside
the step's transaction, so a step and its consequences commit or fail together."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import partial
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credit.models import CreditRecord, Deadline, DownstreamEvent, RuleSet
from credit.roles import acts_for, department_perm, may
from credit.selectors import rules_in_force
from credit.services.deadlines import (
    close_deadline,
    extend_deadline,
    meet_deadline,
    open_deadline,
    open_deadlines,
)
from credit.services.records import bring_up_to_date
from credit.services.transitions import Forbidden, System, WrongState, perform_transition, write_log
from credit.uploads import clean_upload
from credit.workflow import without_work
from letters.models import LetterKind
from letters.services import issue_letter
from notifications.services import notify

from . import eligibility, flows
from .models import (
    OPEN_STATES,
    CaseNote,
    Commitment,
    Evidence,
    EvidenceKind,
    Interview,
    RepairCase,
    RepairState,
)

SYSTEM = System("system:repair")


def _reserve_case_id() -> int | None:
    """On PostgreSQL a case's id is taken from its sequence before the INSERT, so that its number, made from
    the id, is written by the INSERT itself: an UPDATE after it would write a second version of the row and
    of each of its index entries. SQLite has no sequence to ask (None): there the number follows in an
    UPDATE. Either way the id comes from the database and the number from the id, so both stay unique."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [RepairCase._meta.db_table])
        return int(cursor.fetchone()[0])


def _case_number(filed_on: date, case_id: int) -> str:
    return f"XF{filed_on.year}{case_id:08d}"


@transaction.atomic
def file_repair(
    *,
    record: CreditRecord,
    actor: Any,
    statement: str,
    commitment_accepted: bool,
    duty_fulfilled_on: date | None = None,
    signed_form: UploadedFile | None = None,
) -> RepairCase:
    """File a repair application: online by the person (or their agent), or at the window by intake with the
    scanned signed form. The credit commitment is signed inside the application. Repair is free."""
    walk_in = not acts_for(actor, record.person_id)
    if walk_in and not may(actor, "repair.file_for_applicant"):
        raise Forbidden(_("Only the person, their agent, or intake for a walk-in applicant may apply."))
    if walk_in and signed_form is None:
        raise ValidationError(
            _("A walk-in application needs the scanned signed application form."), code="signed_form_required"
        )
    if not statement.strip():
        raise ValidationError(
            _("Say how the conduct was corrected and the obligations performed."), code="statement_required"
        )
    if not commitment_accepted:
        raise ValidationError(
            _("A credit repair needs the signed credit commitment."), code="commitment_required"
        )
    answer = eligibility.check(record)
    # 轻微: the duty fulfilled is what the application proves; the officer verifies it before the decision.
    blocking = [
        r for r in answer.reasons if not (r.code == eligibility.Code.DUTY_NOT_FULFILLED and duty_fulfilled_on)
    ]
    if blocking:
        raise ValidationError(" ".join(r.message for r in blocking), code="not_eligible")
    today = timezone.localdate()
    # One statement says which rule set and overlay are in force; the rows themselves (frozen once
    # published) usually come from the process's copy, the rule set with its deadline rules.
    ruleset, overlay = rules_in_force(today, record.department.city)
    case = RepairCase(
        record=record,
        person_id=record.person_id,
        department_id=record.department_id,
        ruleset=ruleset,
        overlay=overlay,
        channel=RepairCase.Channel.WALK_IN if walk_in else RepairCase.Channel.ONLINE,
        filed_by=actor,
        statement=statement.strip(),
        duty_fulfilled_on=duty_fulfilled_on,
    )
    case.pk = _reserve_case_id()
    if case.pk is not None:
        case.number = _case_number(today, case.pk)
    try:
        case.save(force_insert=True)
    except IntegrityError as exc:
        # Another filing of this record committed since the eligibility check (the partial unique
        # constraint). No savepoint is needed: raising ends this transaction, or this function's savepoint
        # when a caller's transaction encloses it, and nothing runs on the aborted transaction before that.
        raise ValidationError(
            _("This record already has an open repair application."), code="open_repair"
        ) from exc
    changed: list[str] = []
    if case.number is None:  # no id reserved: the number from the id the INSERT gave
        case.number = _case_number(today, case.pk)
        changed.append("number")
    if signed_form is not None:
        clean = clean_upload(signed_form)
        case.signed_form.save(f"{case.number}{clean.extension}", ContentFile(clean.content), save=False)
        changed.append("signed_form")
    if changed:
        case.save(update_fields=changed)
    text = ruleset.commitment_text
    Commitment.objects.create(
        case=case,
        person_id=record.person_id,
        ruleset=ruleset,
        text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        signed_by=actor,
    )
    write_log(
        case,
        "file",
        source="",
        target=RepairState.SUBMITTED,
        actor=actor,
        reason=str(RepairCase.Channel(case.channel).label),
    )
    # Both deadlines count from today: one read of the calendar, one INSERT.
    open_deadlines(subject=case, kinds=("repair.accept", "repair.total"), start=today, ruleset=ruleset)
    # The work (viewflow's process) and the notices follow after commit, in a task: neither is needed for
    # the application to exist with its deadlines, and together they were most of the cost of filing.
    from .tasks import after_filing

    transaction.on_commit(partial(after_filing.delay, case.pk))
    return case


def start_work(case_id: int) -> bool:
    """Start the case's flow and tell the applicant and the department. Idempotent: a redelivered task, or
    the sweep that finds cases without a flow, does nothing twice. True when it started the flow."""
    from viewflow.workflow.models import Process

    from .flows import RepairFlow

    with transaction.atomic():
        case = RepairCase.objects.select_for_update(of=("self",)).get(pk=case_id)
        started = Process.objects.filter(
            artifact_content_type=ContentType.objects.get_for_model(RepairCase), artifact_object_id=case.pk
        ).exists()
        if not started and case.state in OPEN_STATES:
            RepairFlow.start.run(case=case)
        context = {"case": case, "person": case.person, "department": case.department}
        notify(
            "repair.filed",
            key=f"repair:{case.pk}:filed",
            case_number=case.number or "",
            link=reverse("portal:case", kwargs={"kind": "repair", "pk": case.pk}),
            context=context,
        )
        notify(
            "repair.new_application",
            key=f"repair:{case.pk}:new",
            case_number=case.number or "",
            link=reverse("workspace:case", kwargs={"kind": "repair", "pk": case.pk}),
            context=context,
        )
    return not started and case.state in OPEN_STATES


def cases_without_work() -> Any:
    """Open cases whose flow was never started (the after-filing message was lost)."""
    return without_work(RepairCase.objects.filter(state__in=OPEN_STATES))


def step(
    case: RepairCase,
    name: str,
    *,
    actor: Any,
    reason: str = "",
    payload: dict[str, Any] | None = None,
    visible: Any = None,
) -> RepairCase:
    result = perform_transition(case, name, actor=actor, reason=reason, payload=payload, visible=visible)
    assert isinstance(result, RepairCase)
    return result


def on_step(
    case: RepairCase, transition: str, actor: Any, source: str, target: str, reason: str = ""
) -> None:
    """The consequences of a legal step, in its transaction (called by the case_transitioned receiver)."""
    today = timezone.localdate()
    ruleset = case.ruleset

    def remedies_ruleset() -> RuleSet:  # asked only by the letters that state remedies
        return RuleSet.objects.prefetch_related("deadline_rules").in_force(today)

    letter: dict[str, Any] = dict(
        subject=case, person=case.person, department=case.department, case_number=case.number or ""
    )
    if transition == "accept":
        meet_deadline(subject=case, kind="repair.accept")
        decide = open_deadline(subject=case, kind="repair.decide", start=today, ruleset=ruleset)
        issue_letter(
            kind=LetterKind.ACCEPTANCE,
            decision="accepted",
            basis=[ruleset.deadline_rule("repair.accept").basis],
            details={
                "application_number": case.number,
                "received_on": timezone.localdate(case.received_at).isoformat(),
                "decide_by": decide.due_date.isoformat(),
            },
            **letter,
        )
        _tell(case, "repair.accepted")
    elif transition == "request_supplement":
        meet_deadline(subject=case, kind="repair.accept")
        due = open_deadline(subject=case, kind="repair.supplement", start=today, ruleset=ruleset)
        issue_letter(
            kind=LetterKind.SUPPLEMENT,
            decision="supplement",
            basis=[ruleset.deadline_rule("repair.supplement").basis],
            details={
                "application_number": case.number,
                "missing": case.supplement_missing,
                "supply_by": due.due_date.isoformat(),
            },
            **letter,
        )
        _tell(case, "repair.supplement_requested")
    elif transition == "supply":
        meet_deadline(subject=case, kind="repair.supplement")
        open_deadline(subject=case, kind="repair.accept", start=today, ruleset=ruleset)
    elif transition == "return_non_acceptance":
        # Back to the officer for a new acceptance decision, on a new acceptance period.
        open_deadline(subject=case, kind="repair.accept", start=today, ruleset=ruleset)
    elif transition == "lapse":
        _close_all(case, Deadline.Status.MISSED, only="repair.supplement")
        _close_all(case, Deadline.Status.CANCELLED)
        _tell(case, "repair.lapsed")
    elif transition == "propose_non_acceptance":
        meet_deadline(subject=case, kind="repair.accept")
    elif transition == "approve_non_acceptance":
        _close_all(case, Deadline.Status.CANCELLED)
        issue_letter(
            kind=LetterKind.NON_ACCEPTANCE,
            decision="not_accepted",
            ruleset=remedies_ruleset(),
            basis=[ruleset.deadline_rule("repair.accept").basis],
            reasons=case.non_acceptance_reasons,
            details={
                "application_number": case.number,
                "received_on": timezone.localdate(case.received_at).isoformat(),
            },
            **letter,
        )
        _tell(case, "repair.decided")
    elif transition == "extend":
        decide = Deadline.objects.for_object(case).pending().get(kind="repair.decide")
        if decide.due_date < today:
            raise ValidationError(
                _("An extension must be served before the original deadline."), code="too_late"
            )
        extended = extend_deadline(decide, kind="repair.extend")
        flows.move_timer(decide, extended)
        issue_letter(
            kind=LetterKind.EXTENSION,
            decision="extended",
            basis=[ruleset.deadline_rule("repair.extend").basis],
            details={
                "application_number": case.number,
                "original_due": decide.due_date.isoformat(),
                "new_due": extended.due_date.isoformat(),
                "extension_reason": reason,
            },
            **letter,
        )
        _tell(case, "repair.extended")
    elif transition == "approve_decision":
        for kind in ("repair.decide", "repair.extend", "repair.total"):
            meet_deadline(subject=case, kind=kind)
        if target == RepairState.REPAIRED:
            _repair_record(case, actor)
            issue_letter(
                kind=LetterKind.REPAIR_DECISION,
                decision="repaired",
                ruleset=remedies_ruleset(),
                basis=[c["basis"] for c in case.record.ruleset.repair_conditions[:1]] or [ruleset.basis],
                details={"application_number": case.number, "effective_on": today.isoformat()},
                **letter,
            )
        else:
            issue_letter(
                kind=LetterKind.REPAIR_REFUSAL,
                decision="refused",
                ruleset=remedies_ruleset(),
                basis=[ruleset.basis],
                reasons=case.draft_reasons,
                details={"application_number": case.number},
                **letter,
            )
        _tell(case, "repair.decided")
    elif transition == "withdraw":
        _close_all(case, Deadline.Status.CANCELLED)
    elif transition == "reopen":
        # The decision was set aside: the department decides again, on a new period.
        kind = "repair.decide" if target == RepairState.ACCEPTED else "repair.accept"
        open_deadline(subject=case, kind=kind, start=today, ruleset=ruleset)
        _tell(case, "repair.reopened")
    _advance_work(case, transition, source, actor)


# Which task of the flow each step ends, by the state it leaves.
_TASK_ENDED_BY: dict[str, str] = {
    RepairState.SUBMITTED: "examine",
    RepairState.AWAITING_SUPPLEMENT: "supplement",
    RepairState.NON_ACCEPTANCE_REVIEW: "review",
    RepairState.ACCEPTED: "decide",
    RepairState.DECISION_REVIEW: "legal_review",
}


def _advance_work(case: RepairCase, transition: str, source: str, actor: Any) -> None:
    from .flows import RepairFlow, complete

    if transition == "reopen":  # the case's earlier work ended with its decision: new work starts
        RepairFlow.reopen.run(case=case)
        return
    if source == case.state:  # a step that leaves the state as it is (an extension) ends no task
        return
    if source in _TASK_ENDED_BY and transition != "lapse":  # a lapse is the supplement timer's own doing
        complete(case, getattr(RepairFlow, _TASK_ENDED_BY[source]), actor)


def _repair_record(case: RepairCase, actor: Any) -> None:
    """Carry out the decision: stop the record's display, sharing and use; lift sanctions; tell the outbox."""
    record = case.record
    if record.repair_needs_duty_fulfilled and record.duty_fulfilled_on is None:
        perform_transition(
            record,
            "amend",
            actor=actor,
            via=case,
            reason=_("Duty fulfilled, proved in the repair"),
            payload={
                "duty_fulfilled_on": case.duty_fulfilled_on.isoformat() if case.duty_fulfilled_on else None
            },
        )
        record.refresh_from_db()
    # The daily sweep may not have moved the record to repair_eligible yet; the dates decide, not the sweep.
    record = bring_up_to_date(record)
    perform_transition(record, "repair", actor=actor, via=case, reason=case.number or "")
    DownstreamEvent.objects.create(
        kind=DownstreamEvent.Kind.REPAIRED,
        record=record,
        payload={
            "record": record.number,
            "case": case.number,
            "decided_at": timezone.now().isoformat(),
            "sanctions_lifted": True,
        },
    )


def _close_all(case: RepairCase, status: str, only: str | None = None) -> None:
    for deadline in Deadline.objects.for_object(case).pending():
        if only is None or deadline.kind == only:
            close_deadline(deadline, status=status)


def _tell(case: RepairCase, event: str) -> None:
    notify(
        event,
        key=f"repair:{case.pk}:{event}:{timezone.now().timestamp()}",
        case_number=case.number or "",
        link=reverse("portal:case", kwargs={"kind": "repair", "pk": case.pk}),
        context={"case": case, "person": case.person, "department": case.department},
    )


# -- evidence, interviews, notes --------------------------------------------------------------------------

_EVIDENCE_STATES = [RepairState.SUBMITTED, RepairState.AWAITING_SUPPLEMENT, RepairState.ACCEPTED]


@transaction.atomic
def add_evidence(
    *,
    case: RepairCase,
    upload: UploadedFile,
    kind: str,
    actor: Any,
    hours: Any = None,
    amount: Any = None,
    description: str = "",
) -> Evidence:
    if not (acts_for(actor, case.person_id) or may(actor, "repair.file_for_applicant")):
        raise Forbidden(_("Only the applicant, their agent or intake add evidence."))
    if case.state not in _EVIDENCE_STATES:
        raise WrongState(_("Evidence can no longer be added to this case."), state=case.state)
    if kind not in EvidenceKind.values:
        raise ValidationError(_("Unknown kind of evidence."), code="kind")
    if kind == EvidenceKind.VOLUNTEER and (hours is None or hours <= 0):
        raise ValidationError(
            _("A volunteer service certificate needs its certified hours."), code="hours_required"
        )
    if kind == EvidenceKind.CHARITY and (amount is None or amount <= 0):
        raise ValidationError(_("A donation receipt needs its amount."), code="amount_required")
    clean = clean_upload(upload)
    evidence = Evidence(
        case=case,
        kind=kind,
        original_name=clean.original_name,
        content_type=clean.content_type,
        size=len(clean.content),
        sha256=clean.sha256,
        hours=hours,
        amount=amount,
        description=description[:300],
        uploaded_by=actor,
    )
    evidence.file.save(
        f"{case.number}-{clean.sha256[:12]}{clean.extension}", ContentFile(clean.content), save=False
    )
    evidence.save()
    write_log(
        case,
        "add_evidence",
        source=case.state,
        target=case.state,
        actor=actor,
        reason=str(EvidenceKind(kind).label),
    )
    return evidence


@transaction.atomic
def verify_evidence(*, evidence: Evidence, accept: bool, actor: Any, reason: str = "") -> Evidence:
    case = RepairCase.objects.select_for_update().get(pk=evidence.case_id)
    if not (department_perm("repair.handle_repair")(case, actor)):
        raise Forbidden(_("Only the department's case officers verify evidence."))
    if case.state not in (RepairState.SUBMITTED, RepairState.ACCEPTED):
        raise WrongState(_("Evidence is verified while the case is being examined."), state=case.state)
    if not accept and not reason.strip():
        raise ValidationError(
            _("Say why the evidence is rejected: the applicant sees it."), code="reason_required"
        )
    evidence.status = Evidence.Status.ACCEPTED if accept else Evidence.Status.REJECTED
    evidence.rejection_reason = "" if accept else reason.strip()[:300]
    evidence.verified_by = actor
    evidence.verified_at = timezone.now()
    evidence.save()
    write_log(
        case,
        "verify_evidence",
        source=case.state,
        target=case.state,
        actor=actor,
        reason=f"{evidence.pk}: {evidence.status} {evidence.rejection_reason}".strip(),
    )
    return evidence


@transaction.atomic
def schedule_interview(
    *, case: RepairCase, at: datetime, actor: Any, place: str = "", online_link: str = ""
) -> Interview:
    if not (department_perm("repair.handle_repair")(case, actor)):
        raise Forbidden(_("Only the department's case officers schedule interviews."))
    if case.state != RepairState.ACCEPTED:
        raise WrongState(_("Interviews are held once the application is accepted."), state=case.state)
    if not (place or online_link):
        raise ValidationError(_("Give the place or the online link of the interview."), code="where_required")
    if at <= timezone.now():
        raise ValidationError(_("An interview is scheduled in the future."), code="past")
    case.interviews.filter(status=Interview.Status.SCHEDULED).update(status=Interview.Status.RESCHEDULED)
    interview = Interview.objects.create(
        case=case, scheduled_at=at, place=place, online_link=online_link, scheduled_by=actor
    )
    issue_letter(
        subject=case,
        kind=LetterKind.INTERVIEW,
        decision=f"interview:{interview.pk}",
        person=case.person,
        department=case.department,
        case_number=case.number or "",
        basis=[case.ruleset.basis],
        details={
            "application_number": case.number,
            "interview_at": timezone.localtime(at).isoformat(),
            "place": place,
            "online_link": online_link,
            "bring": [],
        },
    )
    _tell(case, "repair.interview_scheduled")
    return interview


@transaction.atomic
def record_interview(*, interview: Interview, held: bool, actor: Any, minutes: str = "") -> Interview:
    case = interview.case
    if not (department_perm("repair.handle_repair")(case, actor)):
        raise Forbidden(_("Only the department's case officers record interviews."))
    if interview.status != Interview.Status.SCHEDULED:
        raise WrongState(_("This interview's outcome is already recorded."), state=interview.status)
    if held and not minutes.strip():
        raise ValidationError(_("A held interview needs its minutes."), code="minutes_required")
    interview.status = Interview.Status.HELD if held else Interview.Status.MISSED
    interview.minutes = minutes.strip()
    interview.recorded_by = actor
    interview.save()
    write_log(
        case, "record_interview", source=case.state, target=case.state, actor=actor, reason=interview.status
    )
    return interview


@transaction.atomic
def waive_interview(*, case: RepairCase, actor: Any, reason: str) -> RepairCase:
    if not (department_perm("repair.approve_extension")(case, actor)):
        raise Forbidden(_("Only the head of the department waives an interview."))
    if not reason.strip():
        raise ValidationError(_("A waiver needs its reasons."), code="reason_required")
    case.interview_waived_by = actor
    case.interview_waiver_reason = reason.strip()
    case.save(update_fields=["interview_waived_by", "interview_waiver_reason"])
    write_log(case, "waive_interview", source=case.state, target=case.state, actor=actor, reason=reason)
    return case


def add_note(*, case: RepairCase, actor: Any, text: str, for_applicant: bool) -> CaseNote:
    if not (
        may(actor, "repair.handle_repair")
        or may(actor, "repair.review_repair")
        or may(actor, "repair.approve_extension")
        or may(actor, "repair.file_for_applicant")
    ):
        raise Forbidden(_("Only staff write case notes."))
    if not text.strip():
        raise ValidationError(_("A note needs text."), code="text_required")
    return CaseNote.objects.create(case=case, author=actor, text=text.strip(), for_applicant=for_applicant)


def open_repairs(record: CreditRecord) -> Any:
    return RepairCase.objects.filter(record=record, state__in=OPEN_STATES)


# -- revocation (Order 36 Art. 25) -------------------------------------------------------------------------


@transaction.atomic
def open_revocation(*, case: RepairCase, ground: str, facts: str, actor: Any) -> Any:
    """An officer opens a revocation of a granted repair; the department's legal reviewer decides."""
    from .models import RepairRevocation

    if not (department_perm("repair.handle_repair")(case, actor)):
        raise Forbidden(_("Only the department's case officers open a revocation."))
    if case.state != RepairState.REPAIRED:
        raise WrongState(_("Only a granted repair can be revoked."), state=case.state)
    if ground not in RepairRevocation.Ground.values or not facts.strip():
        raise ValidationError(_("Give the ground and the facts of the revocation."), code="ground_required")
    try:
        with transaction.atomic():
            revocation = RepairRevocation.objects.create(
                case=case,
                person=case.person,
                department=case.department,
                ground=ground,
                facts=facts.strip(),
                opened_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError(
            _("A revocation of this repair is already in review."), code="open_revocation"
        ) from exc
    write_log(revocation, "open", source="", target=revocation.state, actor=actor, reason=ground)
    return revocation


def on_revocation_approved(revocation: Any, actor: Any) -> None:
    """Undo the repair: the record is back and blocked for 3 years; a new record is shown for 3 years with no
    early end; the commitment is marked breached; the letter, the outbox and the applicant are told."""
    from credit.models.records import RecordType
    from credit.periods import Period
    from credit.services.records import PenaltyInput, register_record

    case = revocation.case
    perform_transition(case, "revoke", actor=SYSTEM, reason=revocation.number, via=revocation)
    record = perform_transition(
        case.record, "revoke_repair", actor=actor, via=revocation, reason=str(revocation.get_ground_display())
    )
    assert isinstance(record, CreditRecord)
    today = timezone.localdate()
    years = RuleSet.objects.in_force(today).deadline_rule("repair.revocation_block").value
    new_record = register_record(
        person=case.person,
        record_type=RecordType.OTHER,
        domain=record.domain,
        department=case.department,
        decision_number=f"{case.number}-撤销",
        decision_date=today,
        registered_by=actor,
        never_repairable=True,
        facts=str(revocation.get_ground_display()),
        penalties=[PenaltyInput(kind="other", tier="serious", term=Period(years, "years"))],
    )
    type(revocation).objects.filter(pk=revocation.pk).update(new_record=new_record)
    Commitment.objects.filter(case=case, breached_at__isnull=True).update(breached_at=timezone.now())
    DownstreamEvent.objects.create(
        kind=DownstreamEvent.Kind.REPAIR_REVOKED,
        record=record,
        payload={"record": record.number, "case": case.number, "new_record": new_record.number},
    )
    issue_letter(
        subject=revocation,
        kind=LetterKind.REPAIR_REVOCATION,
        decision="revoked",
        person=case.person,
        department=case.department,
        case_number=case.number or "",
        basis=[RuleSet.objects.in_force(today).deadline_rule("repair.revocation_block").basis],
        reasons=[revocation.facts],
        ruleset=RuleSet.objects.in_force(today),
        details={
            "application_number": case.number,
            "repaired_on": timezone.localdate(case.decided_at).isoformat() if case.decided_at else "",
            "blocked_until": record.repair_blocked_until.isoformat() if record.repair_blocked_until else "",
        },
    )
    _tell(case, "repair.revoked")

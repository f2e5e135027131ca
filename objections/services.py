"""Writes on objections. Legal steps go through `credit.services.transitions.perform_transition`; what each
step entails (the record's flag, deadlines, the decision's effect on the record or on the repair case,
letters, notifications) happens in `on_step`, inside the step's transaction, so a step and its consequences
commit or fail together."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from credit.models import CreditRecord, Deadline, RuleSet
from credit.models.records import CORRECTABLE
from credit.models.rules import DeadlineUnit
from credit.roles import acts_for, may
from credit.services.deadlines import close_deadline, close_pending, compute_due, meet_deadline, open_deadline
from credit.services.transitions import Forbidden, System, WrongState, perform_transition, write_log
from credit.uploads import clean_upload
from credit.workflow import end_task, move_timer, without_work, work_of
from letters.models import LetterKind
from letters.services import issue_letter
from notifications.services import notify
from repair.models import RepairCase, RepairState

from .models import (
    OPEN_STATES,
    RECORD_GROUNDS,
    Ground,
    Objection,
    ObjectionEvidence,
    ObjectionState,
    Outcome,
    Remedy,
)

SYSTEM = System("system:objection")
T = TypeVar("T")
# The decisions on a repair application that can be objected to (Order 36 Art. 18).
OBJECTIONABLE_DECISIONS = [RepairState.NOT_ACCEPTED, RepairState.REFUSED]
# No national figure limits an objection's extension; the head sets it, at most the one extension period
# the same Order gives a repair decision (Art. 17: 10 WD). docs/decisions.md.
MAX_EXTENSION_WORKING_DAYS = 10


def open_objection_on(*, person_id: int, record: CreditRecord | None, repair_case: RepairCase | None) -> Any:
    queryset = Objection.objects.filter(person_id=person_id, state__in=OPEN_STATES)
    if repair_case is not None:
        return queryset.filter(repair_case=repair_case).first()
    return queryset.filter(record=record, repair_case__isnull=True).first()


def _already_open(existing: Objection) -> ValidationError:
    return ValidationError(
        _("An objection to this is already open: %(number)s. It must be decided or withdrawn first."),
        params={"number": existing.number},
        code="open_objection",
    )


@transaction.atomic
def file_objection(
    *,
    actor: Any,
    grounds: list[str],
    statement: str,
    record: CreditRecord | None = None,
    repair_case: RepairCase | None = None,
    signed_form: UploadedFile | None = None,
) -> Objection:
    """File an objection to a record, or to a decision on a repair application: online by the person (or
    their agent), or at the window by intake with the scanned signed form."""
    if (record is None) == (repair_case is None):
        raise ValueError("An objection targets either a record or a repair decision")
    if repair_case is not None:
        record = repair_case.record
    assert record is not None
    person_id = record.person_id
    walk_in = not acts_for(actor, person_id)
    if walk_in and not may(actor, "objections.forward_objection"):
        raise Forbidden(_("Only the person, their agent, or intake for a walk-in applicant may object."))
    if walk_in and signed_form is None:
        raise ValidationError(
            _("A walk-in objection needs the scanned signed objection form."), code="signed_form_required"
        )
    grounds = list(dict.fromkeys(grounds))  # each ground once, in the order given
    allowed = [Ground.DECISION_WRONG] if repair_case is not None else RECORD_GROUNDS
    if not grounds or any(g not in allowed for g in grounds):
        raise ValidationError(
            _("Choose the grounds of the objection from: %(choices)s."),
            params={"choices": "、".join(str(Ground(g).label) for g in allowed)},
            code="grounds",
        )
    if not statement.strip():
        raise ValidationError(_("Say what is wrong and why."), code="statement_required")
    if repair_case is not None and repair_case.state not in OBJECTIONABLE_DECISIONS:
        raise WrongState(
            _("Only a decision not to accept or not to repair can be objected to."), state=repair_case.state
        )
    if repair_case is None and record.state not in CORRECTABLE:
        raise WrongState(
            _("This record is no longer shown or used, so there is nothing to object to."), state=record.state
        )
    existing = open_objection_on(person_id=person_id, record=record, repair_case=repair_case)
    if existing is not None:
        raise _already_open(existing)
    today = timezone.localdate()
    objection = Objection(
        person_id=person_id,
        record=record,
        repair_case=repair_case,
        department_id=(repair_case or record).department_id,
        ruleset=RuleSet.objects.in_force(today),
        grounds=grounds,
        statement=statement.strip(),
        channel=Objection.Channel.WALK_IN if walk_in else Objection.Channel.ONLINE,
        filed_by=actor,
    )
    try:
        with transaction.atomic():
            objection.save()
    except IntegrityError as exc:  # another filing committed since the check above
        found = open_objection_on(person_id=person_id, record=record, repair_case=repair_case)
        raise _already_open(found) if found is not None else exc from exc
    objection.number = f"YY{today.year}{objection.pk:08d}"
    if signed_form is not None:
        clean = clean_upload(signed_form)
        objection.signed_form.save(
            f"{objection.number}{clean.extension}", ContentFile(clean.content), save=False
        )
    objection.save(update_fields=["number", "signed_form"])
    write_log(
        objection,
        "file",
        source="",
        target=ObjectionState.SUBMITTED,
        actor=actor,
        reason=str(Objection.Channel(objection.channel).label),
    )
    if repair_case is None:
        open_deadline(subject=objection, kind="objection.flag", start=today, ruleset=objection.ruleset)
    open_deadline(subject=objection, kind="objection.forward", start=today, ruleset=objection.ruleset)
    from .tasks import after_filing

    transaction.on_commit(partial(after_filing.delay, objection.pk))
    return objection


def start_work(objection_id: int) -> bool:
    """Start the objection's flow and tell the applicant and intake. Idempotent."""
    from .flows import ObjectionFlow

    with transaction.atomic():
        objection = Objection.objects.select_for_update(of=("self",)).get(pk=objection_id)
        started = work_of(objection) is not None
        if not started and objection.state in OPEN_STATES:
            ObjectionFlow.start.run(objection=objection)
        _tell(objection, "objection.filed")
        notify(
            "objection.new",
            key=f"objection:{objection.pk}:new",
            case_number=objection.number or "",
            link=reverse("workspace:case", kwargs={"kind": "objection", "pk": objection.pk}),
            context=_context(objection),
        )
    return not started and objection.state in OPEN_STATES


def objections_without_work() -> Any:
    return without_work(Objection.objects.filter(state__in=OPEN_STATES))


@transaction.atomic
def add_evidence(*, objection: Objection, upload: UploadedFile, actor: Any, description: str = "") -> Any:
    if not (acts_for(actor, objection.person_id) or may(actor, "objections.forward_objection")):
        raise Forbidden(_("Only the applicant, their agent or intake add evidence."))
    if objection.state not in (ObjectionState.SUBMITTED, ObjectionState.FORWARDED, ObjectionState.ACCEPTED):
        raise WrongState(_("Evidence can no longer be added to this objection."), state=objection.state)
    clean = clean_upload(upload)
    evidence = ObjectionEvidence(
        objection=objection,
        original_name=clean.original_name,
        content_type=clean.content_type,
        size=len(clean.content),
        sha256=clean.sha256,
        description=description[:300],
        uploaded_by=actor,
    )
    evidence.file.save(
        f"{objection.number}-{clean.sha256[:12]}{clean.extension}", ContentFile(clean.content), save=False
    )
    evidence.save()
    write_log(
        objection,
        "add_evidence",
        source=objection.state,
        target=objection.state,
        actor=actor,
        reason=clean.original_name,
    )
    return evidence


def check_draft(objection: Objection, payload: dict[str, Any]) -> None:
    """A draft decision must say what it does: raises ValidationError naming what is missing or wrong."""
    outcome, remedy = payload["outcome"], payload.get("remedy", "")
    if outcome != Outcome.FOUNDED:
        if remedy:
            raise ValidationError(_("Only a founded objection has a remedy."), code="remedy")
        if not payload.get("reasons"):
            raise ValidationError(_("This outcome needs its reasons."), code="reasons_required")
        return
    if objection.targets_decision:
        if remedy not in ("", Remedy.REOPEN):
            raise ValidationError(
                _("A founded objection to a repair decision sets it aside: the remedy is to decide again."),
                code="remedy",
            )
        payload["remedy"] = Remedy.REOPEN
        return
    if remedy not in (Remedy.CORRECT, Remedy.DELETE):
        raise ValidationError(_("Say whether the record is corrected or deleted."), code="remedy")
    if remedy == Remedy.CORRECT:
        from credit.api.serializers import AmendmentSerializer

        corrections = AmendmentSerializer(data=payload.get("corrections") or {})
        if not corrections.is_valid():
            raise ValidationError(
                _("The corrections are not valid: %(errors)s"),
                params={"errors": corrections.errors},
                code="corrections",
            )
        record = objection.record
        if all(getattr(record, name) == value for name, value in corrections.validated_data.items()):
            raise ValidationError(_("The correction changes nothing."), code="no_change")
    elif payload.get("corrections"):
        raise ValidationError(_("A deleted record is not corrected."), code="corrections")


def _in_chinese(make: Callable[[], T]) -> T:
    """What a letter says is frozen in Chinese, whatever the language of the request that decided it."""
    with translation.override("zh-hans"):
        return make()


def _context(objection: Objection) -> dict[str, Any]:
    return {"case": objection, "person": objection.person, "department": objection.department}


def _tell(objection: Objection, event: str) -> None:
    notify(
        event,
        key=f"objection:{objection.pk}:{event}:{objection.state}",
        case_number=objection.number or "",
        link=reverse("portal:case", kwargs={"kind": "objection", "pk": objection.pk}),
        context=_context(objection),
    )


def _clear_flag(objection: Objection, actor: Any, reason: str) -> None:
    record = CreditRecord.objects.get(pk=objection.record_id)
    if not objection.targets_decision and record.under_objection:
        perform_transition(record, "clear_objection", actor=actor, reason=reason, via=objection)


def extend_verification(objection: Objection, *, working_days: int, reason: str) -> tuple[Deadline, Deadline]:
    """Replace the pending verification deadline by one `working_days` later, served before it ends."""
    today = timezone.localdate()
    original = Deadline.objects.for_object(objection).pending().get(kind="objection.verify")
    if original.due_date < today:
        raise ValidationError(_("An extension must be served before the original deadline."), code="too_late")
    close_deadline(original, status=Deadline.Status.EXTENDED)
    due = compute_due(start=original.due_date, value=working_days, unit=DeadlineUnit.WORKING_DAYS)
    extended = Deadline.objects.create(
        content_type=original.content_type,
        object_id=original.object_id,
        kind="objection.extend",
        description=_("Verification extended with the head's approval"),
        ruleset=original.ruleset,
        basis=original.basis,
        value=working_days,
        unit=DeadlineUnit.WORKING_DAYS,
        start_date=original.due_date,
        due_date=due.date,
        provisional=due.provisional,
        replaces=original,
    )
    move_timer(original, extended)
    return original, extended


def on_step(
    objection: Objection,
    transition: str,
    actor: Any,
    source: str,
    target: str,
    reason: str = "",
    payload: dict[str, Any] | None = None,
) -> None:
    """The consequences of a legal step, in its transaction (called by the case_transitioned receiver)."""
    today = timezone.localdate()
    ruleset = objection.ruleset
    letter: dict[str, Any] = dict(
        subject=objection,
        person=objection.person,
        department=objection.department,
        case_number=objection.number or "",
    )
    application = {
        "application_number": objection.number,
        "received_on": timezone.localdate(objection.received_at).isoformat(),
    }
    if transition == "forward":
        record = CreditRecord.objects.get(pk=objection.record_id)
        if not objection.targets_decision and not record.under_objection:
            perform_transition(
                record, "flag_objection", actor=actor, reason=objection.number or "", via=objection
            )
        meet_deadline(subject=objection, kind="objection.flag")
        meet_deadline(subject=objection, kind="objection.forward")
        _tell(objection, "objection.forwarded")
    elif transition == "accept":
        open_deadline(subject=objection, kind="objection.verify", start=today, ruleset=ruleset)
        _tell(objection, "objection.accepted")
    elif transition == "approve_non_acceptance":
        _clear_flag(objection, actor, _("Objection not accepted"))
        close_pending(objection, status=Deadline.Status.CANCELLED)
        issue_letter(
            kind=LetterKind.NON_ACCEPTANCE,
            decision="not_accepted",
            ruleset=RuleSet.objects.in_force(today),
            basis=[ruleset.deadline_rule("objection.verify").basis],
            reasons=objection.non_acceptance_reasons,
            details=application,
            **letter,
        )
        _tell(objection, "objection.decided")
    elif transition == "extend":
        working_days = int((payload or {}).get("working_days", 0))
        original, extended = extend_verification(objection, working_days=working_days, reason=reason)
        issue_letter(
            kind=LetterKind.EXTENSION,
            decision="extended",
            basis=[original.basis],
            details={
                **application,
                "original_due": original.due_date.isoformat(),
                "new_due": extended.due_date.isoformat(),
                "extension_reason": reason,
            },
            **letter,
        )
        _tell(objection, "objection.extended")
    elif transition == "approve_decision":
        for kind in ("objection.verify", "objection.extend"):
            meet_deadline(subject=objection, kind=kind)
        details = {
            **application,
            "grounds": _in_chinese(lambda: [str(Ground(g).label) for g in objection.grounds]),
            "decision_objected_to": objection.targets_decision,
        }
        details.update(_apply_decision(objection, actor))
        issue_letter(
            kind=LetterKind.OBJECTION_RESULT,
            decision=objection.draft_outcome,
            ruleset=RuleSet.objects.in_force(today),
            basis=[ruleset.deadline_rule("objection.verify").basis],
            decision_summary=objection.draft_findings,
            reasons=objection.draft_reasons,
            details=details,
            **letter,
        )
        _tell(objection, "objection.decided")
    elif transition == "withdraw":
        _clear_flag(objection, SYSTEM, _("Objection withdrawn"))
        close_pending(objection, status=Deadline.Status.CANCELLED)
    elif transition == "reopen":
        # Set aside on reconsideration: decided again, the record flagged again while it is.
        record = CreditRecord.objects.get(pk=objection.record_id)
        if not objection.targets_decision and not record.under_objection and record.state in CORRECTABLE:
            perform_transition(record, "flag_objection", actor=SYSTEM, reason=reason, via=objection)
        if target == ObjectionState.ACCEPTED:
            open_deadline(subject=objection, kind="objection.verify", start=today, ruleset=ruleset)
        _tell(objection, "objection.reopened")
    _advance_work(objection, transition, source, target, actor)


def _apply_decision(objection: Objection, actor: Any) -> dict[str, Any]:
    """The approved decision's effect, through the record's (or the repair case's) own legal steps, with
    this objection as their cause. Returns what the letter says about it."""
    outcome, remedy = objection.draft_outcome, objection.draft_remedy
    reason = _("Objection %(number)s: %(outcome)s") % {
        "number": objection.number,
        "outcome": Outcome(outcome).label,
    }
    if outcome == Outcome.FOUNDED and remedy == Remedy.REOPEN:
        assert objection.repair_case is not None
        perform_transition(objection.repair_case, "reopen", actor=actor, reason=reason, via=objection)
        return {"reopened": True}
    if outcome == Outcome.UNRESOLVED:
        return {}  # the flag stays beside the record: the check and the objection are both on file
    record = CreditRecord.objects.get(pk=objection.record_id)
    found: dict[str, Any] = {}
    if outcome == Outcome.FOUNDED and remedy == Remedy.CORRECT:
        from credit.models.records import RecordAmendment

        since = timezone.now()
        perform_transition(
            record, "amend", actor=actor, reason=reason, payload=objection.draft_corrections, via=objection
        )
        amendments = RecordAmendment.objects.filter(record=record, at__gte=since).order_by("id")
        with translation.override("zh-hans"):  # the letter's words are frozen in Chinese
            found["corrections"] = [
                {
                    "field": str(CreditRecord._meta.get_field(a.field).verbose_name),
                    "old_value": a.old_value,
                    "new_value": a.new_value,
                }
                for a in amendments
            ]
        record.refresh_from_db()
    elif outcome == Outcome.FOUNDED and remedy == Remedy.DELETE:
        perform_transition(record, "delete_record", actor=actor, reason=reason, via=objection)
        record.refresh_from_db()
        found["deleted"] = True
    if record.under_objection:
        perform_transition(record, "clear_objection", actor=actor, reason=reason, via=objection)
    return found


# Which task of the flow each step ends, by the state it leaves.
_TASK_ENDED_BY: dict[str, str] = {
    ObjectionState.SUBMITTED: "register",
    ObjectionState.FORWARDED: "acceptance",
    ObjectionState.NON_ACCEPTANCE_REVIEW: "review",
    ObjectionState.ACCEPTED: "verify",
    ObjectionState.DECISION_REVIEW: "legal_review",
}


def _advance_work(objection: Objection, transition: str, source: str, target: str, actor: Any) -> None:
    from .flows import ObjectionFlow

    if transition == "reopen":  # the earlier work ended with the decision: new work starts
        ObjectionFlow.reopen.run(objection=objection)
        return
    if source == target or source not in _TASK_ENDED_BY:  # an extension ends no task
        return
    end_task(objection, getattr(ObjectionFlow, _TASK_ENDED_BY[source]), actor)

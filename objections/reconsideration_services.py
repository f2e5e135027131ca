"""Writes on administrative reconsiderations: filing within the period the law gives, and what each legal
step entails (deadlines, letters from the reconsideration office, the decision's effect), in the step's
transaction (`on_step`, called by the case_transitioned receiver)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credit.models import CreditRecord, Deadline, Department, RuleSet
from credit.roles import acts_for, may
from credit.services.deadlines import (
    close_deadline,
    close_pending,
    compute_due,
    extend_deadline,
    meet_deadline,
    open_deadline,
)
from credit.services.transitions import Forbidden, System, WrongState, perform_transition, write_log
from credit.uploads import clean_upload
from credit.workflow import end_task, move_timer, without_work, work_of
from letters.models import Letter, LetterKind
from letters.services import issue_letter
from notifications.services import notify
from repair.models import RepairCase, RepairState

from .models import Objection, ObjectionState
from .reconsideration import (
    OPEN_RECONSIDERATION,
    REOPENING,
    Decision,
    Reconsideration,
    ReconsiderationEvidence,
    ReconsiderationState,
)

R = ReconsiderationState
SYSTEM = System("system:reconsideration")

# The acts that can be challenged, and the letter that decided each (the period runs from its service).
CHALLENGEABLE: dict[type[models.Model], dict[str, str]] = {
    Objection: {
        ObjectionState.DECIDED: LetterKind.OBJECTION_RESULT,
        ObjectionState.NOT_ACCEPTED: LetterKind.NON_ACCEPTANCE,
    },
    RepairCase: {
        RepairState.REFUSED: LetterKind.REPAIR_REFUSAL,
        RepairState.NOT_ACCEPTED: LetterKind.NON_ACCEPTANCE,
    },
}
# How a letter names the challenged act (the letters are in Chinese).
ACT_NAMES = {
    (Objection, ObjectionState.DECIDED): "异议处理决定",
    (Objection, ObjectionState.NOT_ACCEPTED): "异议不予受理决定",
    (RepairCase, RepairState.REFUSED): "不予修复决定",
    (RepairCase, RepairState.NOT_ACCEPTED): "信用修复申请不予受理决定",
}


def decision_letter(act: Any) -> Letter | None:
    kind = CHALLENGEABLE[type(act)].get(act.state)
    if kind is None:
        return None
    return (
        Letter.objects.filter(
            content_type=ContentType.objects.get_for_model(act), object_id=act.pk, kind=kind
        )
        .order_by("-revision")
        .first()
    )


def last_day_to_apply(act: Any, *, knew_on: date, ruleset: RuleSet) -> date:
    """60 calendar days from knowing the act; 1 year when its letter did not state the right; never more than
    5 years after the act (行政复议法 Arts. 20–21)."""
    letter = decision_letter(act)
    stated = letter is not None and letter.context.get("remedies") is not None
    rule = ruleset.deadline_rule("reconsideration.apply" if stated else "reconsideration.apply_unstated")
    absolute = ruleset.deadline_rule("reconsideration.apply_absolute")
    decided_on = timezone.localdate(act.decided_at)
    by_knowing = compute_due(start=knew_on, value=rule.value, unit=rule.unit).date
    by_act = compute_due(start=decided_on, value=absolute.value, unit=absolute.unit).date
    return min(by_knowing, by_act)


def challenged_act(act: Any) -> str:
    return f"{act.department.name}作出的{ACT_NAMES[(type(act), act.state)]}（{act.number}）"


def open_reconsideration_of(act: Any) -> Reconsideration | None:
    field = "objection" if isinstance(act, Objection) else "repair_case"
    return Reconsideration.objects.filter(**{field: act}, state__in=OPEN_RECONSIDERATION).first()


def _already_open(existing: Reconsideration) -> ValidationError:
    return ValidationError(
        _("A reconsideration of this decision is already open: %(number)s."),
        params={"number": existing.number},
        code="open_reconsideration",
    )


@transaction.atomic
def file_reconsideration(
    *,
    actor: Any,
    request: str,
    statement: str,
    objection: Objection | None = None,
    repair_case: RepairCase | None = None,
    knew_on: date | None = None,
    signed_form: UploadedFile | None = None,
) -> Reconsideration:
    if (objection is None) == (repair_case is None):
        raise ValueError("A reconsideration challenges either an objection decision or a repair decision")
    act: Any = objection or repair_case
    if act.state not in CHALLENGEABLE[type(act)]:
        raise WrongState(
            _("Only a decision not to accept, not to repair, or on an objection can be challenged."),
            state=act.state,
        )
    walk_in = not acts_for(actor, act.person_id)
    if walk_in and not may(actor, "objections.forward_objection"):
        raise Forbidden(_("Only the person, their agent, or intake for a walk-in applicant may apply."))
    if walk_in and signed_form is None:
        raise ValidationError(
            _("A walk-in application needs the scanned signed application form."), code="signed_form_required"
        )
    if not request.strip() or not statement.strip():
        raise ValidationError(_("Say what you ask for, and the facts and reasons."), code="request_required")
    office = (
        Department.objects.filter(kind=Department.Kind.RECONSIDERATION, city=act.department.city)
        .order_by("pk")
        .first()
    )
    if office is None:
        raise ValidationError(
            _("No reconsideration office is set up for %(city)s."),
            params={"city": act.department.city},
            code="no_office",
        )
    today = timezone.localdate()
    ruleset = RuleSet.objects.in_force(today)
    letter = decision_letter(act)
    served = letter.served_at if letter is not None else None
    if served is not None:
        knew_on = timezone.localdate(served)  # the law's default: the day the decision was served
    knew_on = knew_on or today
    if knew_on > today or knew_on < timezone.localdate(act.decided_at):
        raise ValidationError(_("The day you learned of the decision is not possible."), code="knew_on")
    last_day = last_day_to_apply(act, knew_on=knew_on, ruleset=ruleset)
    if today > last_day:
        raise ValidationError(
            _("The period for applying for reconsideration ended on %(date)s."),
            params={"date": last_day.isoformat()},
            code="out_of_time",
        )
    existing = open_reconsideration_of(act)
    if existing is not None:
        raise _already_open(existing)
    case = Reconsideration(
        person_id=act.person_id,
        record_id=act.record_id,
        objection=objection,
        repair_case=repair_case,
        department_id=act.department_id,
        office=office,
        ruleset=ruleset,
        request=request.strip(),
        statement=statement.strip(),
        knew_on=knew_on,
        channel=Reconsideration.Channel.WALK_IN if walk_in else Reconsideration.Channel.ONLINE,
        filed_by=actor,
    )
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError as exc:
        found = open_reconsideration_of(act)
        raise _already_open(found) if found is not None else exc from exc
    case.number = f"FY{today.year}{case.pk:08d}"
    if signed_form is not None:
        clean = clean_upload(signed_form)
        case.signed_form.save(f"{case.number}{clean.extension}", ContentFile(clean.content), save=False)
    case.save(update_fields=["number", "signed_form"])
    write_log(
        case, "file", source="", target=R.SUBMITTED, actor=actor, reason=str(case.Channel(case.channel).label)
    )
    open_deadline(subject=case, kind="reconsideration.accept", start=today, ruleset=ruleset)
    open_deadline(subject=case, kind="reconsideration.supplement_request", start=today, ruleset=ruleset)
    from .tasks import after_reconsideration_filed

    transaction.on_commit(partial(after_reconsideration_filed.delay, case.pk))
    return case


def start_work(case_id: int) -> bool:
    from .flows import ReconsiderationFlow

    with transaction.atomic():
        case = Reconsideration.objects.select_for_update(of=("self",)).get(pk=case_id)
        started = work_of(case) is not None
        if not started and case.state in OPEN_RECONSIDERATION:
            ReconsiderationFlow.start.run(reconsideration=case)
        _tell(case, "reconsideration.filed")
    return not started and case.state in OPEN_RECONSIDERATION


def reconsiderations_without_work() -> Any:
    return without_work(Reconsideration.objects.filter(state__in=OPEN_RECONSIDERATION))


# Evidence is given while the application is examined, and with the answer to the notice to supplement; once
# the decision is drafted the office decides on what it has.
EVIDENCE_STATES = (R.SUBMITTED, R.AWAITING_SUPPLEMENT, R.ACCEPTED)


@transaction.atomic
def add_evidence(
    *, reconsideration: Reconsideration, upload: UploadedFile, actor: Any, description: str = ""
) -> ReconsiderationEvidence:
    """One checked file added to the reconsideration. A refused file writes nothing: it is checked before
    anything is stored, and a failure after the file was stored removes it again (the row rolls back)."""
    if not (acts_for(actor, reconsideration.person_id) or may(actor, "objections.forward_objection")):
        raise Forbidden(_("Only the applicant, their agent or intake add evidence."))
    # The state is read from the locked row: a sweep deeming the application withdrawn, or the office
    # drafting its decision, may have moved it since the caller loaded it.
    state = (
        Reconsideration.objects.select_for_update(of=("self",))
        .filter(pk=reconsideration.pk)
        .values_list("state", flat=True)
        .first()
    )
    if state not in EVIDENCE_STATES:
        raise WrongState(
            _("Evidence can no longer be added to this application for reconsideration."), state=str(state)
        )
    clean = clean_upload(upload)
    evidence = ReconsiderationEvidence(
        reconsideration=reconsideration,
        original_name=clean.original_name,
        content_type=clean.content_type,
        size=len(clean.content),
        sha256=clean.sha256,
        description=description[:300],
        supplement=state == R.AWAITING_SUPPLEMENT,
        uploaded_by=actor,
    )
    evidence.file.save(
        f"{reconsideration.number}-{clean.sha256[:12]}{clean.extension}",
        ContentFile(clean.content),
        save=False,
    )
    try:
        evidence.save()
        write_log(
            reconsideration,
            "add_evidence",
            source=state,
            target=state,
            actor=actor,
            reason=clean.original_name,
        )
    except BaseException:
        # The storage is outside the transaction: the file would outlive its rolled-back row.
        evidence.file.delete(save=False)
        raise
    return evidence


def check_reconsideration_draft(case: Reconsideration, payload: dict[str, Any]) -> None:
    decision = payload["decision"]
    corrections = payload.get("corrections") or {}
    if decision == Decision.VARY:
        from credit.api.serializers import AmendmentSerializer

        body = AmendmentSerializer(data=corrections)
        if not body.is_valid():
            raise ValidationError(
                _("The corrections are not valid: %(errors)s"),
                params={"errors": body.errors},
                code="corrections",
            )
        record = case.record
        if all(getattr(record, name) == value for name, value in body.validated_data.items()):
            raise ValidationError(_("The correction changes nothing."), code="no_change")
    elif corrections:
        raise ValidationError(_("Only a decision to vary the act corrects the record."), code="corrections")
    if decision not in (Decision.MEDIATION, Decision.SETTLEMENT) and not payload.get("reasons"):
        raise ValidationError(_("This decision needs its reasons."), code="reasons_required")


def _context(case: Reconsideration) -> dict[str, Any]:
    return {"case": case, "person": case.person, "department": case.department}


def _tell(case: Reconsideration, event: str) -> None:
    notify(
        event,
        key=f"reconsideration:{case.pk}:{event}:{case.state}",
        case_number=case.number or "",
        link=reverse("portal:case", kwargs={"kind": "reconsideration", "pk": case.pk}),
        context=_context(case),
    )


def _cancel(case: Reconsideration, kind: str) -> None:
    for deadline in Deadline.objects.for_object(case).pending().filter(kind=kind):
        close_deadline(deadline, status=Deadline.Status.CANCELLED)


_DECISION_CLOCK = ("reconsideration.decide", "reconsideration.decide_simplified", "reconsideration.extend")


def on_step(
    case: Reconsideration,
    transition: str,
    actor: Any,
    source: str,
    target: str,
    reason: str = "",
    payload: dict[str, Any] | None = None,
) -> None:
    today = timezone.localdate()
    ruleset = case.ruleset
    act = case.challenged
    letter: dict[str, Any] = dict(
        subject=case, person=case.person, department=case.office, case_number=case.number or ""
    )
    application = {
        "application_number": case.number,
        "received_on": timezone.localdate(case.received_at).isoformat(),
        "challenged_act": challenged_act(act),
    }
    if transition in ("accept", "deem_accepted"):
        meet_deadline(subject=case, kind="reconsideration.accept")
        _cancel(case, "reconsideration.supplement_request")
        kind = "reconsideration.decide_simplified" if case.simplified else "reconsideration.decide"
        decide = open_deadline(subject=case, kind=kind, start=today, ruleset=ruleset)
        issue_letter(
            kind=LetterKind.RECONSIDERATION_ACCEPTANCE,
            decision="deemed_accepted" if transition == "deem_accepted" else "accepted",
            basis=[ruleset.deadline_rule("reconsideration.accept").basis],
            decision_summary="本机关未在法定期限内作出是否受理的决定，依法视为受理。"
            if transition == "deem_accepted"
            else "",
            details={**application, "decide_by": decide.due_date.isoformat()},
            **letter,
        )
        _tell(case, "reconsideration.accepted")
    elif transition == "request_supplement":
        window = (
            Deadline.objects.for_object(case)
            .pending()
            .filter(kind="reconsideration.supplement_request")
            .first()
        )
        if window is None or window.due_date < today:
            raise ValidationError(
                _("A supplement must be requested within the period for it; it has passed."), code="too_late"
            )
        meet_deadline(subject=case, kind="reconsideration.supplement_request")
        _cancel(case, "reconsideration.accept")  # the acceptance period starts again when supplied
        due = open_deadline(
            subject=case, kind="reconsideration.supplement_reply", start=today, ruleset=ruleset
        )
        issue_letter(
            kind=LetterKind.SUPPLEMENT,
            decision="supplement",
            basis=[ruleset.deadline_rule("reconsideration.supplement_request").basis],
            details={
                **application,
                "missing": case.supplement_missing,
                "supply_by": due.due_date.isoformat(),
            },
            **letter,
        )
        _tell(case, "reconsideration.supplement_requested")
    elif transition == "supply":
        meet_deadline(subject=case, kind="reconsideration.supplement_reply")
        open_deadline(subject=case, kind="reconsideration.accept", start=today, ruleset=ruleset)
    elif transition == "deem_withdrawn":
        for deadline in (
            Deadline.objects.for_object(case).pending().filter(kind="reconsideration.supplement_reply")
        ):
            close_deadline(deadline, status=Deadline.Status.MISSED)
        close_pending(case, status=Deadline.Status.CANCELLED)
        _tell(case, "reconsideration.withdrawn")
    elif transition == "reject":
        close_pending(case, status=Deadline.Status.CANCELLED)
        issue_letter(
            kind=LetterKind.NON_ACCEPTANCE,
            decision="not_accepted",
            basis=[ruleset.deadline_rule("reconsideration.accept").basis],
            reasons=case.non_acceptance_reasons,
            details=application,
            **letter,
        )
        _tell(case, "reconsideration.decided")
    elif transition == "extend":
        original = Deadline.objects.for_object(case).pending().filter(kind__in=_DECISION_CLOCK[:2]).first()
        if original is None or original.due_date < today:
            raise ValidationError(
                _("An extension must be served before the original deadline."), code="too_late"
            )
        extended = extend_deadline(original, kind="reconsideration.extend")
        move_timer(original, extended)
        issue_letter(
            kind=LetterKind.EXTENSION,
            decision="extended",
            basis=[ruleset.deadline_rule("reconsideration.extend").basis],
            details={
                **application,
                "original_due": original.due_date.isoformat(),
                "new_due": extended.due_date.isoformat(),
                "extension_reason": reason,
            },
            **letter,
        )
        _tell(case, "reconsideration.extended")
    elif transition == "approve":
        for kind in _DECISION_CLOCK:
            meet_deadline(subject=case, kind=kind)
        details = {**application, **_apply_decision(case, act, actor)}
        issue_letter(
            kind=LetterKind.RECONSIDERATION_DECISION,
            decision=case.draft_decision,
            ruleset=RuleSet.objects.in_force(today),
            basis=[ruleset.deadline_rule("reconsideration.decide").basis],
            decision_summary=case.draft_findings,
            reasons=case.draft_reasons,
            details=details,
            **letter,
        )
        _tell(case, "reconsideration.decided")
    elif transition == "withdraw":
        close_pending(case, status=Deadline.Status.CANCELLED)
    _advance_work(case, transition, source, target, actor)


def _apply_decision(case: Reconsideration, act: Any, actor: Any) -> dict[str, Any]:
    """The decision's effect through the record's or the challenged case's own steps, caused by this case."""
    decision = case.draft_decision
    reason = _("Reconsideration %(number)s: %(decision)s") % {
        "number": case.number,
        "decision": Decision(decision).label,
    }
    if decision == Decision.VARY:
        record = CreditRecord.objects.get(pk=case.record_id)
        perform_transition(
            record, "amend", actor=actor, reason=reason, payload=case.draft_corrections, via=case
        )
        return {"corrections": case.draft_corrections}
    if decision in REOPENING:
        perform_transition(type(act).objects.get(pk=act.pk), "reopen", actor=actor, reason=reason, via=case)
        return {"reopened": True}
    if decision == Decision.ORDER_PERFORMANCE:
        notify(
            "reconsideration.ordered",
            key=f"reconsideration:{case.pk}:ordered",
            case_number=case.number or "",
            link=reverse("workspace:case", kwargs={"kind": "reconsideration", "pk": case.pk}),
            context=_context(case),
        )
    return {}


_TASK_ENDED_BY: dict[str, str] = {
    R.SUBMITTED: "acceptance",
    R.AWAITING_SUPPLEMENT: "supplement",
    R.ACCEPTED: "decide",
    R.DECISION_REVIEW: "review",
}


def _advance_work(case: Reconsideration, transition: str, source: str, target: str, actor: Any) -> None:
    from .flows import ReconsiderationFlow

    # The deemed steps are the timers' own doing: their task was ended by the timer that fired.
    if transition in ("deem_accepted", "deem_withdrawn") or source == target or source not in _TASK_ENDED_BY:
        return
    end_task(case, getattr(ReconsiderationFlow, _TASK_ENDED_BY[source]), actor)

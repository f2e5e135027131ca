"""Writes on complaints: filing, with the city's period for the written reply, and the reply's effects."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credit.models import CityOverlay, Deadline, Department, Person, RuleSet
from credit.models.people import persons_acted_for
from credit.models.rules import DeadlineUnit
from credit.roles import Role, may
from credit.selectors import Scope
from credit.services.deadlines import close_deadline, compute_due, meet_deadline
from credit.services.transitions import Forbidden, write_log
from credit.workflow import end_task, without_work, work_of
from notifications.services import notify

from .complaint import Complaint, ComplaintState


def complaint_scope(user: Any) -> Scope:
    """Complainants their own; the head of the department concerned its complaints; auditors all; intake
    the complaints it entered. A department's other staff none: a complaint may be about them."""
    if not (user and user.is_authenticated and user.is_active):
        return Scope()
    if user.has_role(Role.AUDITOR):
        return Scope(everything=True)
    return Scope(
        departments=frozenset(user.department_ids()) if user.has_role(Role.HEAD) else None,
        persons=frozenset(persons_acted_for(user)) if user.has_role(Role.APPLICANT) else None,
        extra=models.Q(filed_by=user) if user.has_role(Role.INTAKE) else None,
    )


def complaints_for(user: Any) -> models.QuerySet[Complaint]:
    return complaint_scope(user).apply(Complaint.objects.all())


def _department_of(case: Any) -> Department:
    return case.office if hasattr(case, "office") else case.department


def reply_due(department: Department, ruleset: RuleSet, start: Any) -> tuple[Any, int, str]:
    """The city's period for the written reply, or the rule set's (calendar days)."""
    rule = ruleset.deadline_rule("complaint.reply")
    overlay = CityOverlay.in_force(department.city, start)
    if overlay is not None and overlay.complaint_reply_days:
        days, basis = overlay.complaint_reply_days, overlay.basis or str(overlay)
    else:
        days, basis = rule.value, rule.basis
    return compute_due(start=start, value=days, unit=DeadlineUnit.CALENDAR_DAYS), days, basis


@transaction.atomic
def file_complaint(
    *,
    actor: Any,
    about: str,
    statement: str,
    case: Any = None,
    department: Department | None = None,
    person: Person | None = None,
    staff_named: str = "",
) -> Complaint:
    """File a complaint about a case's handling (naming the case) or a staff member's conduct (naming the
    department, and the case if there is one)."""
    if about not in Complaint.About.values:
        raise ValidationError(
            _("Say whether the complaint is about a case's handling or a staff member's conduct."),
            code="about",
        )
    if not statement.strip():
        raise ValidationError(_("Say what happened."), code="statement_required")
    if about == Complaint.About.HANDLING and case is None:
        raise ValidationError(_("Name the case whose handling you complain about."), code="case_required")
    if case is not None:
        person_id, department = case.person_id, _department_of(case)
    else:
        if department is None:
            raise ValidationError(_("Name the department concerned."), code="department_required")
        own = list(persons_acted_for(actor))
        if person is not None:
            person_id = person.pk
        elif len(own) == 1:
            person_id = own[0]
        else:
            raise ValidationError(_("Name the person the complaint is made for."), code="person_required")
    walk_in = person_id not in set(persons_acted_for(actor))
    if walk_in and not may(actor, "objections.forward_objection"):
        raise Forbidden(_("Only the person, their agent, or intake for a walk-in complainant may complain."))
    today = timezone.localdate()
    ruleset = RuleSet.objects.in_force(today)
    complaint = Complaint.objects.create(
        person_id=person_id,
        department=department,
        about=about,
        case_content_type=ContentType.objects.get_for_model(case) if case is not None else None,
        case_object_id=case.pk if case is not None else None,
        staff_named=staff_named.strip()[:100],
        statement=statement.strip(),
        ruleset=ruleset,
        channel=Complaint.Channel.WALK_IN if walk_in else Complaint.Channel.ONLINE,
        filed_by=actor,
    )
    complaint.number = f"TS{today.year}{complaint.pk:08d}"
    complaint.save(update_fields=["number"])
    write_log(
        complaint,
        "file",
        source="",
        target=ComplaintState.SUBMITTED,
        actor=actor,
        reason=str(Complaint.About(about).label),
    )
    due, days, basis = reply_due(department, ruleset, today)
    Deadline.objects.create(
        content_type=ContentType.objects.get_for_model(Complaint),
        object_id=complaint.pk,
        kind="complaint.reply",
        description=ruleset.deadline_rule("complaint.reply").description,
        ruleset=ruleset,
        basis=basis,
        value=days,
        unit=DeadlineUnit.CALENDAR_DAYS,
        start_date=today,
        due_date=due.date,
        provisional=due.provisional,
    )
    from .tasks import after_complaint_filed

    transaction.on_commit(partial(after_complaint_filed.delay, complaint.pk))
    return complaint


def _context(complaint: Complaint) -> dict[str, Any]:
    return {"case": complaint, "person": complaint.person, "department": complaint.department}


def start_work(complaint_id: int) -> bool:
    from .flows import ComplaintFlow

    with transaction.atomic():
        complaint = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint_id)
        started = work_of(complaint) is not None
        if not started and complaint.state == ComplaintState.SUBMITTED:
            ComplaintFlow.start.run(complaint=complaint)
        key = f"complaint:{complaint.pk}"
        notify(
            "complaint.filed",
            key=f"{key}:filed",
            case_number=complaint.number or "",
            link=reverse("portal:case", kwargs={"kind": "complaint", "pk": complaint.pk}),
            context=_context(complaint),
        )
        notify(
            "complaint.new",
            key=f"{key}:new",
            case_number=complaint.number or "",
            link=reverse("workspace:case", kwargs={"kind": "complaint", "pk": complaint.pk}),
            context=_context(complaint),
        )
    return not started


def complaints_without_work() -> Any:
    return without_work(Complaint.objects.filter(state=ComplaintState.SUBMITTED))


def on_step(complaint: Complaint, transition: str, actor: Any, source: str, target: str, **_: Any) -> None:
    from .flows import ComplaintFlow

    if transition == "answer":
        meet_deadline(subject=complaint, kind="complaint.reply")
        notify(
            "complaint.replied",
            key=f"complaint:{complaint.pk}:replied",
            case_number=complaint.number or "",
            link=reverse("portal:case", kwargs={"kind": "complaint", "pk": complaint.pk}),
            context=_context(complaint),
        )
    elif transition == "withdraw":
        for deadline in Deadline.objects.for_object(complaint).pending():
            close_deadline(deadline, status=Deadline.Status.CANCELLED)
    if source == ComplaintState.SUBMITTED:
        end_task(complaint, ComplaintFlow.reply, actor)

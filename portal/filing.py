"""Filing a repair application or an objection as a guided form in steps (portal.wizard). The last step
sends the evidence with the filing, in one transaction through the services that the API uses: a refusal,
of a file or by the law, files nothing and shows the step again with everything typed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credit.models import CityOverlay, CreditRecord
from credit.models.people import persons_acted_for
from credit.models.records import CORRECTABLE, IN_FORCE
from credit.selectors import records_for, rules_in_force, scoped
from credit.services.transitions import TransitionError
from credit.uploads import files_removed_on_failure
from objections import services as objection_services
from objections.models import OPEN_STATES as OPEN_OBJECTION
from objections.models import RECORD_GROUNDS, Ground, Objection
from objections.services import OBJECTIONABLE_DECISIONS
from repair import eligibility
from repair import services as repair_services
from repair.models import EvidenceKind, RepairCase

from . import forms
from .access import applicant_view, current_user
from .responses import (
    FORM_ERRORS,
    STORAGE_FAILED_STATUS,
    done,
    posted,
    reasons,
    storage_failed,
    uploaded,
)
from .selectors import persons_of, repairable_by_filing
from .wizard import Step, Wizard

# A person with more records in force than this chooses among the newest; nobody has been seen near it.
MAX_CHOICES = 100

REPAIR_STEPS = [
    Step("record", gettext_lazy("Record")),
    Step("statement", gettext_lazy("Statement")),
    Step("commitment", gettext_lazy("Commitment")),
    Step("evidence", gettext_lazy("Evidence and submit")),
]
OBJECTION_STEPS = [
    Step("target", gettext_lazy("What you object to")),
    Step("grounds", gettext_lazy("Grounds")),
    Step("statement", gettext_lazy("Statement")),
    Step("evidence", gettext_lazy("Evidence and submit")),
]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _render_step(
    request: HttpRequest, wizard: Wizard, step: str, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.update(
        wizard=wizard,
        step=step,
        progress=wizard.progress(step),
        step_number=wizard.names.index(step) + 1,
        step_count=len(wizard.steps),
        back_url=wizard.before(step),
        nav=wizard.name,
        several_persons=len(persons_of(current_user(request))) > 1,
    )
    return render(request, template, context, status=status)


def case_url(kind: str, pk: int) -> str:
    return reverse("portal:case", kwargs={"kind": kind, "pk": pk})


# -- repair ------------------------------------------------------------------------------------------------
@dataclass
class RepairDraft:
    """The wizard's data, checked again on every request: the record may have changed since."""

    record: CreditRecord | None
    answer: eligibility.Answer | None
    data: dict[str, Any]

    @property
    def needs_duty_date(self) -> bool:
        return self.answer is not None and any(
            reason.code == eligibility.Code.DUTY_NOT_FULFILLED for reason in self.answer.reasons
        )

    @property
    def duty_fulfilled_on(self) -> date | None:
        value = self.data.get("duty_fulfilled_on")
        return date.fromisoformat(value) if value and self.needs_duty_date else None

    def commitment(self) -> tuple[str, CityOverlay | None]:
        """The commitment text of the rule set in force today (the one the filing signs) and the overlay."""
        assert self.record is not None
        ruleset, overlay = rules_in_force(timezone.localdate(), self.record.department.city)
        return ruleset.commitment_text, overlay

    def first_incomplete(self) -> str:
        if self.record is None or self.answer is None or not repairable_by_filing(self.answer):
            return "record"
        if not self.data.get("statement") or (
            self.needs_duty_date and not self.data.get("duty_fulfilled_on")
        ):
            return "statement"
        if self.data.get("commitment_sha") != _sha(self.commitment()[0]):
            return "commitment"
        return "evidence"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _repair_draft(user: Any, data: dict[str, Any]) -> RepairDraft:
    record = None
    if _int(data.get("record")) is not None:
        record = records_for(user).filter(pk=data["record"]).first()
    answer = eligibility.check(record) if record is not None else None
    return RepairDraft(record=record, answer=answer, data=data)


def evidence_kinds(overlay: CityOverlay | None) -> list[tuple[str, Any]]:
    # Donations count as evidence only where the city's plan says so (a local module, never a national gate).
    accepted = overlay is not None and overlay.charity_evidence_accepted
    return [("", _("— choose —"))] + [
        (value, label) for value, label in EvidenceKind.choices if value != EvidenceKind.CHARITY or accepted
    ]


@applicant_view
def repair_wizard(request: HttpRequest, step: str = "record") -> HttpResponse:
    user = current_user(request)
    wizard = Wizard(request, "repair", REPAIR_STEPS, "portal:file-repair")
    if step not in wizard.names:
        raise Http404
    start = _int(request.GET.get("record"))
    if request.method == "GET" and start is not None:  # "apply for repair" next to a record: a fresh start
        wizard.clear()
        wizard.save(record=start)
        return HttpResponseRedirect(wizard.url("record"))
    draft = _repair_draft(user, wizard.data)
    missing = draft.first_incomplete()
    if wizard.names.index(step) > wizard.names.index(missing):
        return HttpResponseRedirect(wizard.url(missing))
    if step == "record":
        return _repair_record(request, wizard, draft)
    if step == "statement":
        return _repair_statement(request, wizard, draft)
    if step == "commitment":
        return _repair_commitment(request, wizard, draft)
    return _repair_evidence(request, wizard, draft)


def _repair_record(request: HttpRequest, wizard: Wizard, draft: RepairDraft) -> HttpResponse:
    user = current_user(request)
    today = timezone.localdate()
    records = list(
        records_for(user).filter(state__in=IN_FORCE).order_by("-decision_date", "-id")[:MAX_CHOICES]
    )
    answers = eligibility.check_many(records, today=today)
    candidates = [(record, answers[record.pk]) for record in records]
    choices = [
        (str(record.pk), record.number or "") for record, answer in candidates if repairable_by_filing(answer)
    ]
    selected = str(draft.record.pk) if draft.record is not None else None
    form = forms.ChoiceStepForm(
        posted(request),
        initial={"choice": selected},
        choices=choices,
        label=gettext_lazy("The record to repair"),
    )
    if request.method == "POST" and form.is_valid():
        chosen = int(form.cleaned_data["choice"])
        if chosen != (draft.record.pk if draft.record else None):
            wizard.forget("duty_fulfilled_on")
        wizard.save(record=chosen)
        return HttpResponseRedirect(wizard.after("record"))
    context = {
        "form": form,
        "candidates": [
            {"record": record, "answer": answer, "selectable": repairable_by_filing(answer)}
            for record, answer in candidates
        ],
        "selected": selected,
    }
    status = 422 if form.is_bound else 200
    return _render_step(request, wizard, "record", "portal/wizard/repair_record.html", context, status)


def _repair_statement(request: HttpRequest, wizard: Wizard, draft: RepairDraft) -> HttpResponse:
    assert draft.record is not None
    form = forms.RepairStatementForm(
        posted(request), initial=wizard.data, needs_duty_date=draft.needs_duty_date
    )
    if request.method == "POST" and form.is_valid():
        fulfilled = form.cleaned_data.get("duty_fulfilled_on")
        if fulfilled is not None and fulfilled > timezone.localdate():
            form.add_error("duty_fulfilled_on", _("The duty must be fulfilled already: give a past date."))
        elif fulfilled is not None and fulfilled < draft.record.decision_date:
            form.add_error("duty_fulfilled_on", _("The duty cannot be fulfilled before the decision."))
        else:
            wizard.save(
                statement=form.cleaned_data["statement"],
                duty_fulfilled_on=fulfilled.isoformat() if fulfilled else None,
            )
            return HttpResponseRedirect(wizard.after("statement"))
    context = {"form": form, "record": draft.record}
    status = 422 if form.is_bound else 200
    return _render_step(request, wizard, "statement", "portal/wizard/repair_statement.html", context, status)


def _repair_commitment(request: HttpRequest, wizard: Wizard, draft: RepairDraft) -> HttpResponse:
    text, _overlay = draft.commitment()
    form = forms.CommitmentForm(
        posted(request), initial={"sign": wizard.data.get("commitment_sha") == _sha(text)}
    )
    if request.method == "POST" and form.is_valid():
        wizard.save(commitment_sha=_sha(text))
        return HttpResponseRedirect(wizard.after("commitment"))
    context = {"form": form, "text": text, "record": draft.record}
    status = 422 if form.is_bound else 200
    return _render_step(
        request, wizard, "commitment", "portal/wizard/repair_commitment.html", context, status
    )


def _repair_evidence(request: HttpRequest, wizard: Wizard, draft: RepairDraft) -> HttpResponse:
    assert draft.record is not None
    user = current_user(request)
    text, overlay = draft.commitment()
    kinds = evidence_kinds(overlay)
    formset = forms.RepairEvidenceFormSet(
        posted(request), uploaded(request), prefix="evidence", form_kwargs={"kinds": kinds}
    )
    context: dict[str, Any] = {
        "formset": formset,
        "record": draft.record,
        "draft": draft,
        "statement": wizard.data.get("statement", ""),
        "overlay": overlay,
        "errors": [],
    }
    if request.method != "POST":
        return _render_step(request, wizard, "evidence", "portal/wizard/repair_evidence.html", context)
    status = FORM_ERRORS
    if formset.is_valid():
        try:
            with files_removed_on_failure() as stored, transaction.atomic():
                case = repair_services.file_repair(
                    record=draft.record,
                    actor=user,
                    statement=wizard.data["statement"],
                    commitment_accepted=wizard.data.get("commitment_sha") == _sha(text),
                    duty_fulfilled_on=draft.duty_fulfilled_on,
                )
                for row in formset.uploads():
                    stored.append(
                        repair_services.add_evidence(
                            case=case,
                            upload=row["file"],
                            kind=row["kind"],
                            actor=user,
                            hours=row.get("hours"),
                            amount=row.get("amount"),
                            description=row.get("description", ""),
                        ).file
                    )
        except (ValidationError, TransitionError) as exc:
            context["errors"] = reasons(exc)
        except OSError:  # the storage failed: the transaction rolled back, the stored files were removed
            context["errors"] = [storage_failed()]
            status = STORAGE_FAILED_STATUS
        else:
            wizard.clear()
            messages.success(
                request, _("Your repair application %(number)s was filed.") % {"number": case.number}
            )
            return done(request, case_url("repair", case.pk))
    return _render_step(request, wizard, "evidence", "portal/wizard/repair_evidence.html", context, status)


# -- objection ---------------------------------------------------------------------------------------------
@dataclass
class Target:
    value: str  # "record-<pk>" or "repair-<pk>"
    record: CreditRecord | None
    repair_case: RepairCase | None
    open_objection: str | None  # the number of an objection already open on it

    @property
    def grounds(self) -> list[Ground]:
        return [Ground.DECISION_WRONG] if self.repair_case is not None else list(RECORD_GROUNDS)


def _targets(user: Any) -> list[Target]:
    """What the user may object to now: records still shown or used, and decisions not to accept or not to
    repair; those with an objection already open are listed with its number and cannot be chosen."""
    records = records_for(user).filter(state__in=CORRECTABLE).order_by("-decision_date", "-id")[:MAX_CHOICES]
    decisions = (
        scoped(user, RepairCase.objects.select_related("record", "department", "person"))
        .filter(state__in=OBJECTIONABLE_DECISIONS)
        .order_by("-decided_at", "-id")[:MAX_CHOICES]
    )
    open_on: dict[tuple[str, int], str] = {}
    for record_id, repair_id, number in Objection.objects.filter(
        person__in=list(persons_acted_for(user)), state__in=OPEN_OBJECTION
    ).values_list("record_id", "repair_case_id", "number"):
        open_on[("repair", repair_id) if repair_id else ("record", record_id)] = number
    found = [Target(f"repair-{case.pk}", None, case, open_on.get(("repair", case.pk))) for case in decisions]
    found += [Target(f"record-{r.pk}", r, None, open_on.get(("record", r.pk))) for r in records]
    return found


@dataclass
class ObjectionDraft:
    target: Target | None
    data: dict[str, Any]

    def first_incomplete(self) -> str:
        if self.target is None or self.target.open_objection:
            return "target"
        grounds = self.data.get("grounds") or []
        if not grounds or any(g not in self.target.grounds for g in grounds):
            return "grounds"
        if not self.data.get("statement"):
            return "statement"
        return "evidence"


def _objection_draft(user: Any, data: dict[str, Any]) -> ObjectionDraft:
    value = data.get("target")
    target = None
    if value:
        kind, _sep, pk = str(value).partition("-")
        if kind == "record" and _int(pk) is not None:
            record = records_for(user).filter(pk=pk, state__in=CORRECTABLE).first()
            target = Target(value, record, None, None) if record else None
        elif kind == "repair" and _int(pk) is not None:
            case = (
                scoped(user, RepairCase.objects.select_related("record", "department"))
                .filter(pk=pk, state__in=OBJECTIONABLE_DECISIONS)
                .first()
            )
            target = Target(value, None, case, None) if case else None
        if target is not None:
            existing = objection_services.open_objection_on(
                person_id=(target.record or target.repair_case).person_id,  # type: ignore[union-attr]
                record=target.record,
                repair_case=target.repair_case,
            )
            target.open_objection = existing.number if existing is not None else None
    return ObjectionDraft(target=target, data=data)


@applicant_view
def objection_wizard(request: HttpRequest, step: str = "target") -> HttpResponse:
    user = current_user(request)
    wizard = Wizard(request, "objection", OBJECTION_STEPS, "portal:file-objection")
    if step not in wizard.names:
        raise Http404
    if request.method == "GET" and ("record" in request.GET or "repair_case" in request.GET):
        wizard.clear()
        if _int(request.GET.get("record")) is not None:
            wizard.save(target=f"record-{int(request.GET['record'])}")
        elif _int(request.GET.get("repair_case")) is not None:
            wizard.save(target=f"repair-{int(request.GET['repair_case'])}")
        return HttpResponseRedirect(wizard.url("target"))
    draft = _objection_draft(user, wizard.data)
    missing = draft.first_incomplete()
    if wizard.names.index(step) > wizard.names.index(missing):
        return HttpResponseRedirect(wizard.url(missing))
    if step == "target":
        return _objection_target(request, wizard, draft)
    if step == "grounds":
        return _objection_grounds(request, wizard, draft)
    if step == "statement":
        return _objection_statement(request, wizard)
    return _objection_evidence(request, wizard, draft)


def _objection_target(request: HttpRequest, wizard: Wizard, draft: ObjectionDraft) -> HttpResponse:
    targets = _targets(current_user(request))
    choices = [(t.value, t.value) for t in targets if not t.open_objection]
    selected = draft.target.value if draft.target is not None else None
    form = forms.ChoiceStepForm(
        posted(request),
        initial={"choice": selected},
        choices=choices,
        label=gettext_lazy("What you object to"),
    )
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["choice"] != selected:
            wizard.forget("grounds")
        wizard.save(target=form.cleaned_data["choice"])
        return HttpResponseRedirect(wizard.after("target"))
    context = {
        "form": form,
        "records": [t for t in targets if t.record is not None],
        "decisions": [t for t in targets if t.repair_case is not None],
        "selected": selected,
    }
    status = 422 if form.is_bound else 200
    return _render_step(request, wizard, "target", "portal/wizard/objection_target.html", context, status)


def _objection_grounds(request: HttpRequest, wizard: Wizard, draft: ObjectionDraft) -> HttpResponse:
    assert draft.target is not None
    allowed = draft.target.grounds
    initial = wizard.data.get("grounds") or ([Ground.DECISION_WRONG.value] if len(allowed) == 1 else [])
    form = forms.GroundsForm(
        posted(request), initial={"grounds": initial}, choices=[(g.value, g.label) for g in allowed]
    )
    if request.method == "POST" and form.is_valid():
        wizard.save(grounds=list(form.cleaned_data["grounds"]))
        return HttpResponseRedirect(wizard.after("grounds"))
    context = {"form": form, "target": draft.target}
    status = 422 if form.is_bound else 200
    return _render_step(request, wizard, "grounds", "portal/wizard/objection_grounds.html", context, status)


def _objection_statement(request: HttpRequest, wizard: Wizard) -> HttpResponse:
    form = forms.ObjectionStatementForm(posted(request), initial=wizard.data)
    if request.method == "POST" and form.is_valid():
        wizard.save(statement=form.cleaned_data["statement"])
        return HttpResponseRedirect(wizard.after("statement"))
    status = 422 if form.is_bound else 200
    return _render_step(
        request, wizard, "statement", "portal/wizard/objection_statement.html", {"form": form}, status
    )


def _objection_evidence(request: HttpRequest, wizard: Wizard, draft: ObjectionDraft) -> HttpResponse:
    assert draft.target is not None
    user = current_user(request)
    formset = forms.ObjectionEvidenceFormSet(posted(request), uploaded(request), prefix="evidence")
    grounds = wizard.data.get("grounds") or []
    context: dict[str, Any] = {
        "formset": formset,
        "target": draft.target,
        "grounds": [Ground(g).label for g in grounds],
        "statement": wizard.data.get("statement", ""),
        "errors": [],
    }
    if request.method != "POST":
        return _render_step(request, wizard, "evidence", "portal/wizard/objection_evidence.html", context)
    status = FORM_ERRORS
    if formset.is_valid():
        try:
            with files_removed_on_failure() as stored, transaction.atomic():
                objection = objection_services.file_objection(
                    actor=user,
                    grounds=grounds,
                    statement=wizard.data["statement"],
                    record=draft.target.record,
                    repair_case=draft.target.repair_case,
                )
                for row in formset.uploads():
                    stored.append(
                        objection_services.add_evidence(
                            objection=objection,
                            upload=row["file"],
                            actor=user,
                            description=row.get("description", ""),
                        ).file
                    )
        except (ValidationError, TransitionError) as exc:
            context["errors"] = reasons(exc)
        except OSError:  # the storage failed: the transaction rolled back, the stored files were removed
            context["errors"] = [storage_failed()]
            status = STORAGE_FAILED_STATUS
        else:
            wizard.clear()
            messages.success(
                request, _("Your objection %(number)s was filed.") % {"number": objection.number}
            )
            return done(request, case_url("objection", objection.pk))
    return _render_step(request, wizard, "evidence", "portal/wizard/objection_evidence.html", context, status)

"""The applicant's actions on a case, each on its own page: add evidence or answer a notice to supplement,
withdraw, apply for reconsideration, complain. Each calls the service or legal step the API calls, in a
transaction: a refusal shows the page again with what was typed, and nothing is written."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credit.services.transitions import NotFound, TransitionError, allowed_transitions, perform_transition
from credit.uploads import files_removed_on_failure
from objections import complaint_services, reconsideration_services
from objections import services as objection_services
from objections.models import Objection, Reconsideration
from repair import services as repair_services
from repair.models import RepairCase

from . import forms
from .access import applicant_view, current_user
from .filing import case_url, evidence_kinds
from .responses import (
    FORM_ERRORS,
    STORAGE_FAILED_STATUS,
    done,
    posted,
    reasons,
    storage_failed,
    uploaded,
)
from .selectors import case_for, persons_of
from .views import EVIDENCE_STATES, SUPPLEMENT_STATES


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], failed: bool, status: int = FORM_ERRORS
) -> HttpResponse:
    return render(request, template, context, status=status if failed else 200)


@applicant_view
@require_http_methods(["GET", "POST"])
def case_evidence(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Add evidence to a repair, an objection or a reconsideration, or answer a repair's or a
    reconsideration's notice to supplement: the files and the `supply` step together, so the department
    (or the reconsideration office) receives the answer whole or not at all."""
    return _evidence_page(request, kind, pk, supply_only=False)


@applicant_view
@require_http_methods(["GET", "POST"])
def case_supply(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """A reconsideration's answer to the notice to supplement: the files (or a note saying what was handed
    in or posted) with the `supply` step, as a repair's answer on its evidence page."""
    if kind != "reconsideration":
        raise Http404
    return _evidence_page(request, kind, pk, supply_only=True)


def _evidence_page(request: HttpRequest, kind: str, pk: int, *, supply_only: bool) -> HttpResponse:
    user = current_user(request)
    case_kind, case = case_for(user, kind, pk)
    if kind not in EVIDENCE_STATES:
        raise Http404
    supplement = case.state == SUPPLEMENT_STATES.get(kind)
    if supply_only and not supplement:
        messages.error(request, _("This is not possible while the case is in this state."))
        return HttpResponseRedirect(case_url(kind, case.pk))
    if not supplement and case.state not in EVIDENCE_STATES[kind]:
        messages.error(request, _("Evidence can no longer be added to this case."))
        return HttpResponseRedirect(case_url(kind, case.pk))
    if isinstance(case, RepairCase):
        formset = forms.RepairEvidenceFormSet(
            posted(request),
            uploaded(request),
            prefix="evidence",
            form_kwargs={"kinds": evidence_kinds(case.overlay)},
        )
    else:
        formset = forms.ObjectionEvidenceFormSet(posted(request), uploaded(request), prefix="evidence")
    note = forms.SupplementNoteForm(posted(request)) if supplement else None
    if note is not None and isinstance(case, Reconsideration):
        note.fields["note"].label = _("Note to the reconsideration office (optional)")
    context: dict[str, Any] = {
        "kind": case_kind,
        "case": case,
        "formset": formset,
        "note": note,
        "supplement": supplement,
        "errors": [],
    }
    if request.method != "POST":
        return _page(request, "portal/case_evidence.html", context, failed=False)
    if formset.is_valid() and (note is None or note.is_valid()):
        uploads = formset.uploads()
        text = note.cleaned_data["note"].strip() if note is not None else ""
        if not uploads and not (supplement and text):
            context["errors"] = [
                _("Choose the files of the missing materials, or say in the note what you supply.")
                if supplement
                else _("Choose at least one file.")
            ]
            return _page(request, "portal/case_evidence.html", context, failed=True)
        try:
            with files_removed_on_failure() as stored, transaction.atomic():
                for row in uploads:
                    stored.append(_add(case, row, user).file)
                if supplement:
                    perform_transition(
                        case, "supply", actor=user, reason=text, visible=case_kind.visible(user)
                    )
        except NotFound as exc:
            raise Http404 from exc
        except (ValidationError, TransitionError) as exc:
            context["errors"] = reasons(exc)
        except OSError:  # the storage failed: the transaction rolled back, the stored files were removed
            context["errors"] = [storage_failed()]
            return _page(request, "portal/case_evidence.html", context, True, STORAGE_FAILED_STATUS)
        else:
            if supplement and isinstance(case, Reconsideration):
                messages.success(
                    request,
                    _("Your supplement was sent; the reconsideration office examines the application again."),
                )
            elif supplement:
                messages.success(
                    request, _("Your supplement was sent; the department examines the application again.")
                )
            else:
                messages.success(request, _("Your evidence was added to the case."))
            return done(request, case_url(kind, case.pk))
    return _page(request, "portal/case_evidence.html", context, failed=True)


def _add(case: Any, row: dict[str, Any], user: Any) -> Any:
    if isinstance(case, Reconsideration):
        return reconsideration_services.add_evidence(
            reconsideration=case, upload=row["file"], actor=user, description=row.get("description", "")
        )
    if isinstance(case, RepairCase):
        return repair_services.add_evidence(
            case=case,
            upload=row["file"],
            kind=row["kind"],
            actor=user,
            hours=row.get("hours"),
            amount=row.get("amount"),
            description=row.get("description", ""),
        )
    return objection_services.add_evidence(
        objection=case, upload=row["file"], actor=user, description=row.get("description", "")
    )


def _step_page(
    request: HttpRequest, kind: str, pk: int, name: str, template: str, form_class: type[Any]
) -> HttpResponse:
    """A legal step the applicant takes on a case (a withdrawal), with its confirmation form."""
    user = current_user(request)
    case_kind, case = case_for(user, kind, pk)
    if name not in allowed_transitions(case, user):
        messages.error(request, _("This is not possible while the case is in this state."))
        return HttpResponseRedirect(case_url(kind, case.pk))
    form = form_class(posted(request))
    context: dict[str, Any] = {"kind": case_kind, "case": case, "form": form, "errors": []}
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data.get("reason") or form.cleaned_data.get("note") or ""
        try:
            perform_transition(case, name, actor=user, reason=reason, visible=case_kind.visible(user))
        except NotFound as exc:
            raise Http404 from exc
        except TransitionError as exc:
            context["errors"] = reasons(exc)
        else:
            messages.success(request, _("Done."))
            return HttpResponseRedirect(case_url(kind, case.pk))
    return _page(request, template, context, failed=request.method == "POST")


@applicant_view
@require_http_methods(["GET", "POST"])
def case_withdraw(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    return _step_page(request, kind, pk, "withdraw", "portal/case_withdraw.html", forms.WithdrawForm)


@applicant_view
@require_http_methods(["GET", "POST"])
def case_reconsideration(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = current_user(request)
    case_kind, case = case_for(user, kind, pk)
    if type(case) not in reconsideration_services.CHALLENGEABLE:
        raise Http404
    if case.state not in reconsideration_services.CHALLENGEABLE[type(case)]:
        messages.error(
            request, _("Only a decision not to accept, not to repair, or on an objection can be challenged.")
        )
        return HttpResponseRedirect(case_url(kind, case.pk))
    letter = reconsideration_services.decision_letter(case)
    served = letter.served_at if letter is not None else None
    form = forms.ReconsiderationForm(posted(request), served=served is not None)
    context: dict[str, Any] = {"kind": case_kind, "case": case, "form": form, "served": served, "errors": []}
    if request.method == "POST" and form.is_valid():
        try:
            filed = reconsideration_services.file_reconsideration(
                actor=user,
                request=form.cleaned_data["request"],
                statement=form.cleaned_data["statement"],
                objection=case if isinstance(case, Objection) else None,
                repair_case=case if isinstance(case, RepairCase) else None,
                knew_on=form.cleaned_data.get("knew_on"),
            )
        except (ValidationError, TransitionError) as exc:
            context["errors"] = reasons(exc)
        else:
            messages.success(
                request,
                _("Your application for reconsideration %(number)s was filed.") % {"number": filed.number},
            )
            return HttpResponseRedirect(case_url("reconsideration", filed.pk))
    return _page(request, "portal/case_reconsideration.html", context, failed=request.method == "POST")


@applicant_view
@require_http_methods(["GET", "POST"])
def complaint(request: HttpRequest, kind: str | None = None, pk: int | None = None) -> HttpResponse:
    """A complaint about a case's handling (from the case's page) or about a staff member's conduct."""
    user = current_user(request)
    case_kind, case = case_for(user, kind, pk) if kind is not None and pk is not None else (None, None)
    if kind == "complaint":
        raise Http404
    persons = persons_of(user)
    form = forms.ComplaintForm(posted(request), with_case=case is not None, persons=persons)
    context: dict[str, Any] = {"kind": case_kind, "case": case, "form": form, "errors": []}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            filed = complaint_services.file_complaint(
                actor=user,
                about=data["about"],
                statement=data["statement"],
                case=case,
                department=data.get("department"),
                person=data.get("person"),
                staff_named=data.get("staff_named", ""),
            )
        except (ValidationError, TransitionError) as exc:
            context["errors"] = reasons(exc)
        else:
            messages.success(request, _("Your complaint %(number)s was filed.") % {"number": filed.number})
            return HttpResponseRedirect(case_url("complaint", filed.pk))
    return _page(request, "portal/complaint.html", context, failed=request.method == "POST")

"""The applicant's pages: home (records, cases, letters), a case, and the consent to electronic service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from credit.services.transitions import TransitionError, allowed_transitions
from letters import services as letter_services
from objections.models import Ground, Objection, ObjectionState
from objections.reconsideration import Reconsideration, ReconsiderationState
from objections.services import OBJECTIONABLE_DECISIONS, open_objection_on
from repair.models import RepairCase, RepairState

from . import selectors
from .access import applicant_view, current_user
from .responses import private_file


@applicant_view
def home(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    today = timezone.localdate()
    persons = selectors.persons_of(user)
    records, record_rows = selectors.record_page(user, request.GET.get("records"), today=today)
    # Not linked yet (nor acting for anyone): where the account's real-name check stands.
    context = {
        "persons": persons,
        "last_claim": selectors.last_claim_of(user) if not persons else None,
        "several_persons": len(persons) > 1,
        "records": records,
        "record_rows": record_rows,
        "cases": selectors.case_page(user, request.GET.get("cases"), today=today),
        "letters": selectors.letter_page(user, request.GET.get("letters")),
        "consents": selectors.consents_of(persons),
        "today": today,
        "nav": "home",
    }
    return render(request, "portal/home.html", context)


# -- the case page -----------------------------------------------------------------------------------------
# Evidence may be added while the case is examined (repair.services, objections.services,
# objections.reconsideration_services), and with the answer to a notice to supplement.
EVIDENCE_STATES: dict[str, set[str]] = {
    "repair": {RepairState.SUBMITTED, RepairState.ACCEPTED},
    "objection": {ObjectionState.SUBMITTED, ObjectionState.FORWARDED, ObjectionState.ACCEPTED},
    "reconsideration": {ReconsiderationState.SUBMITTED, ReconsiderationState.ACCEPTED},
}
SUPPLEMENT_STATES: dict[str, str] = {
    "repair": RepairState.AWAITING_SUPPLEMENT,
    "reconsideration": ReconsiderationState.AWAITING_SUPPLEMENT,
}


def actions_for(kind: str, case: Any, user: Any, allowed: list[str], window: Any) -> list[dict[str, str]]:
    """The applicant's actions on this case now, each a link to its own page. Legal steps are offered only
    when the step's own rule allows this user now (allowed_transitions); the filings' services check again."""
    args = {"kind": kind, "pk": case.pk}
    found = []
    if kind == "repair" and case.state == RepairState.AWAITING_SUPPLEMENT and "supply" in allowed:
        found.append(
            {
                "url": reverse("portal:case-evidence", kwargs=args),
                "label": _("Answer the notice to supplement"),
            }
        )
    elif case.state in EVIDENCE_STATES.get(kind, ()):
        found.append({"url": reverse("portal:case-evidence", kwargs=args), "label": _("Add evidence")})
    if (
        kind == "reconsideration"
        and case.state == ReconsiderationState.AWAITING_SUPPLEMENT
        and "supply" in allowed
    ):
        found.append(
            {"url": reverse("portal:case-supply", kwargs=args), "label": _("Answer the notice to supplement")}
        )
    if window is not None and window.open_number is None:
        found.append(
            {
                "url": reverse("portal:case-reconsideration", kwargs=args),
                "label": _("Apply for administrative reconsideration"),
            }
        )
    if (
        isinstance(case, RepairCase)
        and case.state in OBJECTIONABLE_DECISIONS
        and open_objection_on(person_id=case.person_id, record=None, repair_case=case) is None
    ):
        found.append(
            {
                "url": f"{reverse('portal:file-objection')}?repair_case={case.pk}",
                "label": _("Object to this decision"),
            }
        )
    if kind != "complaint":
        found.append(
            {"url": reverse("portal:case-complaint", kwargs=args), "label": _("Complain about the handling")}
        )
    if "withdraw" in allowed:
        found.append({"url": reverse("portal:case-withdraw", kwargs=args), "label": _("Withdraw")})
    return found


@applicant_view
def case_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = current_user(request)
    case_kind, case = selectors.case_for(user, kind, pk)
    today = timezone.localdate()
    deadlines, window = selectors.deadline_rows(case, today=today)
    allowed = allowed_transitions(case, user)
    context: dict[str, Any] = {
        "kind": case_kind,
        "case": case,
        "timeline": selectors.timeline_rows(case, user),
        "deadlines": deadlines,
        "pending": [row for row in deadlines if row.clock is not None],
        "closed": [row for row in deadlines if row.clock is None],
        "window": window,
        "letters": selectors.letters_of(user, case),
        "actions": actions_for(kind, case, user, allowed, window),
        "grounds": [Ground(g).label for g in getattr(case, "grounds", []) if g in Ground.values],
    }
    if isinstance(case, RepairCase):
        context.update(
            evidence=list(case.evidence.all()),
            interviews=list(case.interviews.all()),
            notes=list(case.notes.filter(for_applicant=True)),
        )
    elif isinstance(case, (Objection, Reconsideration)):
        context.update(evidence=list(case.evidence.all()))
    return render(request, "portal/case.html", context)


# -- the person's own evidence files -----------------------------------------------------------------------
@applicant_view
@require_safe
def case_file(request: HttpRequest, kind: str, pk: int, evidence_pk: int) -> FileResponse:
    """A file the person (or their agent, or intake) gave with the case, from private storage: only for the
    persons the user acts for (`case_for` is scoped), a 404 for anyone else's, as if it did not exist."""
    _kind, case = selectors.case_for(current_user(request), kind, pk)
    if kind not in EVIDENCE_STATES:  # the kinds that have evidence
        raise Http404
    piece = case.evidence.filter(pk=evidence_pk).first()
    if piece is None or not piece.file:
        raise Http404
    try:
        handle = piece.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return private_file(handle, content_type=piece.content_type, name=piece.original_name)


# -- consent to electronic service -------------------------------------------------------------------------
@applicant_view
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    persons = selectors.persons_of(user)
    if request.method == "POST":
        person = next((p for p in persons if str(p.pk) == request.POST.get("person")), None)
        action = request.POST.get("action")
        if person is None or action not in ("give", "withdraw"):
            raise Http404
        try:
            if action == "give":
                letter_services.give_consent(person=person, actor=user)
                messages.success(
                    request, _("Letters will now be served to you electronically, in this portal.")
                )
            else:
                letter_services.withdraw_consent(person=person, actor=user)
                messages.success(
                    request, _("Your consent is withdrawn: letters will be served in person or by post.")
                )
        except TransitionError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("portal:consent"))
    return render(
        request, "portal/consent.html", {"consents": selectors.consents_of(persons), "nav": "consent"}
    )

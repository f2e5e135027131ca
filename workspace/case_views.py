"""The staff case file, its legal steps, the legal reviewer's approval screen, the head's screens and walk-in
filing at the counter.

Every page starts from the user's scope (the case type's flow `visible()`): a case outside it is 404, never
403, so a page does not tell anyone that a case exists. A signed-out visitor is sent to the login page; a
signed-in user without a staff role (an applicant, an administrator) gets 403. Opening a case, or a person's
records at the counter, is written to the data-access log with its purpose. Legal steps go through
`perform_transition`, which checks the law again (state, conditions, role, department, four-eyes) under a
row lock; the step's consequences end the case's viewflow task (`credit.workflow.end_task`)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters

from credit.models import AccessLog, Person
from credit.models.audit import AccessPurpose
from credit.models.people import Role, User
from credit.roles import department_perm, may
from credit.selectors import deadlines_of, is_staff_member, timeline
from credit.services.access import Purpose, log_access
from credit.services.transitions import (
    TransitionError,
    allowed_transitions,
    perform_transition,
    transition_meta,
)
from credit.sla import countdowns
from objections.models import Ground

from . import case_selectors as selectors
from .case_forms import (
    CORRECTION_PREFIX,
    ApprovalForm,
    CaseStepForm,
    IdentityForm,
    InterviewForm,
    InterviewOutcomeForm,
    NoteForm,
    ReasonForm,
    ReassignForm,
    VerifyEvidenceForm,
    WalkInObjectionForm,
    WalkInRepairForm,
)
from .case_selectors import KINDS, CaseKind
from .case_services import add_internal_note, may_write_notes, reassign_task

# Steps of the timeline that are not FSM transitions (written with credit.services.transitions.write_log).
OTHER_STEPS = {
    "file": gettext_lazy("Filed"),
    "add_evidence": gettext_lazy("Evidence added"),
    "verify_evidence": gettext_lazy("Evidence verified"),
    "record_interview": gettext_lazy("Interview recorded"),
    "waive_interview": gettext_lazy("Interview waived"),
    "reassign": gettext_lazy("Task reassigned"),
    "open": gettext_lazy("Opened"),
}
# The case types whose applicants hand in evidence (a complaint has none).
EVIDENCE_KINDS = ("repair", "objection", "reconsideration")
WALK_IN_SESSION_KEY = "workspace.walk_in_person"
# Who repair.services.add_note lets write a repair case's notes.
REPAIR_NOTE_PERMS = (
    "repair.handle_repair",
    "repair.review_repair",
    "repair.approve_extension",
    "repair.file_for_applicant",
)


# -- who gets in ---------------------------------------------------------------------------------------------
class StaffMixin(LoginRequiredMixin):
    """Signed out: the login page. Signed in without a staff role: 403."""

    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not is_staff_member(request.user):
            raise PermissionDenied
        self.allowed(request)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    @property
    def user(self) -> User:
        return cast(User, self.request.user)

    def allowed(self, request: HttpRequest) -> None:
        """Refuse (PermissionDenied) a staff member whose role has no business on this page."""


class CaseMixin(StaffMixin):
    kwargs: dict[str, Any]

    @property
    def kind(self) -> CaseKind:
        return KINDS[self.kwargs["kind"]]

    def get_case(self, *, for_file: bool = False) -> Any:
        if for_file:
            case = selectors.case_for_file(self.kind, self.user, self.kwargs["pk"])
        else:
            case = self.kind.visible(self.user).filter(pk=self.kwargs["pk"]).first()
        if case is None:
            raise Http404
        return case

    def log_view(self, case: Any, action: str = AccessLog.Action.VIEW) -> None:
        """The staff member saw this person's case: the case is the purpose (查询使用登记)."""
        log_access(
            user=self.user,
            person_ids=[case.person_id],
            action=action,
            purpose=Purpose(AccessPurpose.CASE, "", case),
            path=self.request.path,
        )

    def case_url(self, case: Any) -> str:
        return reverse("workspace:case", kwargs={"kind": self.kind.slug, "pk": case.pk})


def step_label(model: type, name: str) -> str:
    meta = transition_meta(model, name)
    if meta is not None:
        return str(meta.custom.get("label", name))
    return str(OTHER_STEPS.get(name, name))


def refusal_status(exc: TransitionError) -> int:
    """A refusal by the law, as the page's status: invalid details are 422 (the form is shown again)."""
    return 422 if exc.status_code == 400 else exc.status_code


def add_refusal(form: Any, exc: TransitionError) -> None:
    """Put the transition service's refusal on the form, field by field where it names fields."""
    for name, errors in (exc.extra.get("errors") or {}).items():
        if name == "corrections" and isinstance(errors, dict):
            for record_field, messages_ in errors.items():
                target = CORRECTION_PREFIX + record_field
                for message in _flat(messages_):
                    form.add_error(target if target in form.fields else None, message)
            continue
        target = name if name in form.fields else None
        for message in _flat(errors):
            form.add_error(target, message)
    if not form.errors:
        form.add_error(None, exc.message)


def _flat(errors: Any) -> list[str]:
    if isinstance(errors, dict):
        return [f"{key}: {m}" for key, value in errors.items() for m in _flat(value)]
    if isinstance(errors, list | tuple):
        return [m for error in errors for m in _flat(error)]
    return [str(errors)]


# -- the case file -------------------------------------------------------------------------------------------
class CaseFileView(CaseMixin, View):
    """Everything about one case on one page, for staff who may see it; the steps this user may take now."""

    template_name = "workspace/case/file.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = self.get_case(for_file=True)
        self.log_view(case)
        return render(request, self.template_name, self.context(case, self.note_form()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """A new note. An invalid one shows the page again with the text kept."""
        case = self.get_case(for_file=True)
        if not self.may_note():
            raise PermissionDenied
        form = self.note_form(request.POST)
        if form.is_valid():
            try:
                self.add_note(case, form.cleaned_data)
            except TransitionError as exc:
                raise PermissionDenied from exc
            except ValidationError as exc:
                form.add_error("text", exc)
            else:
                messages.success(request, _("The note was added."))
                return HttpResponseRedirect(self.case_url(case) + "#notes")
        self.log_view(case)
        return render(request, self.template_name, self.context(case, form), status=400)

    def may_note(self) -> bool:
        """Staff who work on cases write notes; on a repair case, those repair.services.add_note allows."""
        if self.kind.slug == "repair":
            return may_write_notes(self.user) and any(may(self.user, perm) for perm in REPAIR_NOTE_PERMS)
        return may_write_notes(self.user)

    def note_form(self, data: Any = None) -> NoteForm:
        return NoteForm(data, applicant_notes=self.kind.slug == "repair")

    def add_note(self, case: Any, data: dict[str, Any]) -> None:
        if self.kind.slug == "repair":
            from repair.services import add_note

            add_note(
                case=case, actor=self.user, text=data["text"], for_applicant=data.get("for_applicant", False)
            )
        else:
            add_internal_note(case=case, actor=self.user, text=data["text"])

    def context(self, case: Any, note_form: NoteForm) -> dict[str, Any]:
        kind, user = self.kind, self.user
        model = type(case)
        deadlines = list(deadlines_of(case))
        clocks = countdowns([d.due_date for d in deadlines if d.status == d.Status.PENDING])
        allowed = allowed_transitions(case, user)
        review = kind.reviews.get(case.state)
        steps = []
        for name in allowed:
            if review is not None and name in review:
                continue  # taken on the approval screen, beside the draft
            steps.append((name, step_label(model, name)))
        processes = selectors.processes_of(kind, case)
        record = getattr(case, "record", None) if kind.has_record else None
        context: dict[str, Any] = {
            "kind": kind,
            "case": case,
            "record": record,
            "amendments": selectors.amendments_of(record) if record is not None else [],
            "person": case.person,
            "deadlines": [
                (d, clocks.get(d.due_date) if d.status == d.Status.PENDING else None) for d in deadlines
            ],
            "timeline": [(entry, step_label(model, entry.transition)) for entry in timeline(case)],
            "letters": selectors.letters_of(kind, case),
            "letter_purpose": f"purpose=case&case={model._meta.label_lower}:{case.pk}",
            "notes": selectors.notes_of(kind, case),
            "note_form": note_form if self.may_note() else None,
            "steps": steps,
            "review": review is not None,
            "may_review": review is not None and bool(set(review) & set(allowed)),
            "open_tasks": selectors.open_tasks_of(kind, case),
            "chart_url": self.chart_url(processes),
            "evidence": self.evidence(case),
        }
        if kind.slug == "repair":
            context["blockers"] = case.blockers() if case.state == "accepted" else []
            context["may_waive"] = self.may_waive(case)
            # The officer's work beside the legal steps (repair.services checks it again).
            may_handle = department_perm("repair.handle_repair")(case, user)
            context["may_verify"] = may_handle and case.state in ("submitted", "accepted")
            context["may_interview"] = may_handle and case.state == "accepted"
        if kind.slug == "objection":
            context["grounds"] = [str(Ground(g).label) if g in Ground.values else g for g in case.grounds]
        if kind.slug == "complaint":
            context["complained_case"] = self.complained_case(case)
        return context

    def evidence(self, case: Any) -> list[Any]:
        if self.kind.slug in EVIDENCE_KINDS:
            return list(case.evidence.all())
        return []

    def chart_url(self, processes: list[Any]) -> str:
        """The flow chart of the case's newest process in viewflow's pages (or the flow's chart before work
        starts); viewflow checks the process against the user's scope again."""
        flow = self.kind.flow.instance
        try:
            if processes:
                return str(flow.reverse("process_chart", kwargs={"process_pk": processes[0].pk}))
            return str(flow.reverse("chart"))
        except NoReverseMatch:  # the workflow pages are not mounted
            return ""

    def may_waive(self, case: Any) -> bool:
        overlay = case.overlay
        return bool(
            case.state == "accepted"
            and overlay is not None
            and overlay.interview_required
            and case.interview_waived_by_id is None
            and may(self.user, "repair.approve_extension")
            and (self.user.is_city_wide_staff or case.department_id in self.user.department_ids())
        )

    def complained_case(self, complaint: Any) -> tuple[Any, str] | None:
        """The case complained about, with a link to its file when this user may see it."""
        case = complaint.case
        if case is None:
            return None
        kind = selectors.kind_of(type(case))
        if kind is None or not kind.visible(self.user).filter(pk=case.pk).exists():
            return (case, "")
        return (case, reverse("workspace:case", kwargs={"kind": kind.slug, "pk": case.pk}))


class CaseStepView(CaseMixin, View):
    """One legal step, its form built from the step's payload serializer; the law decides in
    `perform_transition` (a step refused there changes nothing and is shown with its reason)."""

    template_name = "workspace/case/step.html"

    def setup_step(self) -> tuple[Any, str]:
        case = self.get_case()
        name = self.kwargs["step"]
        meta = transition_meta(type(case), name)
        if meta is None:
            raise Http404
        review = self.kind.reviews.get(case.state)
        if review is not None and name in review:
            # The legal review is taken beside the draft it decides on.
            raise _Redirect(reverse("workspace:approval", kwargs={"kind": self.kind.slug, "pk": case.pk}))
        return case, name

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            case, name = self.setup_step()
        except _Redirect as redirect:
            return HttpResponseRedirect(redirect.url)
        if name not in allowed_transitions(case, self.user):
            raise PermissionDenied
        self.log_view(case)
        form = CaseStepForm(case=case, step=name)
        return render(request, self.template_name, self.context(case, form))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            case, name = self.setup_step()
        except _Redirect as redirect:
            return HttpResponseRedirect(redirect.url)
        form = CaseStepForm(request.POST, case=case, step=name)
        status = 422
        if form.is_valid():
            try:
                perform_transition(
                    case,
                    name,
                    actor=self.user,
                    reason=form.cleaned_data.get("reason", ""),
                    payload=form.payload(),
                    visible=self.kind.visible(self.user),
                )
            except TransitionError as exc:
                add_refusal(form, exc)
                status = refusal_status(exc)
            else:
                messages.success(request, _("Done: %(step)s.") % {"step": form.step_label})
                return HttpResponseRedirect(self.case_url(case))
        self.log_view(case)
        return render(request, self.template_name, self.context(case, form), status=status)

    def context(self, case: Any, form: CaseStepForm) -> dict[str, Any]:
        meta = transition_meta(type(case), form.step_name)
        return {
            "kind": self.kind,
            "case": case,
            "form": form,
            "reason_required": bool(meta and meta.custom.get("reason_required")),
        }


class _Redirect(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


class CaseFileDownloadView(CaseMixin, View):
    """A file of the case (evidence, or the signed form of a walk-in filing), served only to staff who may see
    the case, never from a public media URL. Images are shown inline; anything else is downloaded. Each
    file served is a view (inline) or an export (download) of the person's data, and is logged."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        case = self.get_case()
        stored, content_type, name = self.find(case)
        if not stored:
            raise Http404
        inline = content_type in ("image/jpeg", "image/png")
        self.log_view(case, AccessLog.Action.VIEW if inline else AccessLog.Action.EXPORT)
        try:
            handle = stored.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(handle, as_attachment=not inline, filename=name, content_type=content_type)
        response["Cache-Control"] = "private, no-store"
        # A file the applicant uploaded is never run as a page of this site.
        response["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def find(self, case: Any) -> tuple[Any, str, str]:
        evidence_pk = self.kwargs.get("evidence_pk")
        if evidence_pk is None:
            stored = getattr(case, "signed_form", None)
            if not stored:
                raise Http404
            extension = stored.name.rsplit(".", 1)[-1].lower()
            content_type = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}.get(
                extension, "application/octet-stream"
            )
            return stored, content_type, f"{case.number}-signed-form.{extension}"
        if self.kind.slug not in EVIDENCE_KINDS:
            raise Http404
        piece = case.evidence.filter(pk=evidence_pk).first()
        if piece is None:
            raise Http404
        return piece.file, piece.content_type, piece.original_name


# -- the legal reviewer's approval screen --------------------------------------------------------------------
class ApprovalView(CaseMixin, View):
    """The drafted decision (or proposed non-acceptance), its reasons and, for a correction, the record's
    fields before and after; approve, or return with reasons. Four-eyes is the law's: whoever drafted,
    accepted or verified in the case gets no buttons, and their POST is refused by `perform_transition`."""

    template_name = "workspace/case/approval.html"

    def review_of(self, case: Any) -> tuple[str, str] | None:
        return self.kind.reviews.get(case.state)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.kind.reviews:
            raise Http404
        case = self.get_case(for_file=True)
        review = self.review_of(case)
        if review is None:
            messages.info(request, _("This case has no draft waiting for legal review."))
            return HttpResponseRedirect(self.case_url(case))
        self.log_view(case)
        return render(request, self.template_name, self.context(case, review, ApprovalForm()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.kind.reviews:
            raise Http404
        case = self.get_case(for_file=True)
        review = self.review_of(case)
        form = ApprovalForm(request.POST)
        status = 422
        if review is None:
            form.add_error(None, _("This case has no draft waiting for legal review."))
            status = 409
            review = ("", "")
        elif form.is_valid():
            approve, send_back = review
            name = approve if form.cleaned_data["decision"] == ApprovalForm.APPROVE else send_back
            try:
                perform_transition(
                    case,
                    name,
                    actor=self.user,
                    reason=form.cleaned_data.get("reason", ""),
                    visible=self.kind.visible(self.user),
                )
            except TransitionError as exc:
                add_refusal(form, exc)
                status = refusal_status(exc)
            else:
                messages.success(request, _("Done: %(step)s.") % {"step": step_label(type(case), name)})
                return HttpResponseRedirect(self.case_url(case))
        self.log_view(case)
        return render(request, self.template_name, self.context(case, review, form), status=status)

    def context(self, case: Any, review: tuple[str, str], form: ApprovalForm) -> dict[str, Any]:
        allowed = set(allowed_transitions(case, self.user)) if review[0] else set()
        involved = case.involved_user_ids() if hasattr(case, "involved_user_ids") else {case.drafted_by_id}
        non_acceptance = "non_acceptance" in review[0]
        corrections: dict[str, Any] = {}
        if not non_acceptance:
            corrections = getattr(case, "draft_corrections", None) or {}
        return {
            "kind": self.kind,
            "case": case,
            "record": getattr(case, "record", None),
            "form": form,
            "non_acceptance": non_acceptance,
            "may_approve": review[0] in allowed,
            "may_return": review[1] in allowed,
            "involved": self.user.pk in involved,
            "diff": selectors.corrections_diff(case.record, corrections) if corrections else [],
            "draft": self.draft(case, non_acceptance),
        }

    def draft(self, case: Any, non_acceptance: bool) -> dict[str, Any]:
        """What the reviewer decides on, the same for the three case types that have a legal review."""
        if non_acceptance:
            return {"outcome": _("Not to accept"), "reasons": case.non_acceptance_reasons, "drafted_by": None}
        if self.kind.slug == "repair":
            outcome = case.get_draft_outcome_display()
            remedy, findings = "", ""
        elif self.kind.slug == "objection":
            outcome, remedy, findings = (
                case.get_draft_outcome_display(),
                case.get_draft_remedy_display(),
                case.draft_findings,
            )
        else:
            outcome, remedy, findings = case.get_draft_decision_display(), "", case.draft_findings
        return {
            "outcome": outcome,
            "remedy": remedy,
            "findings": findings,
            "reasons": case.draft_reasons,
            "drafted_by": case.drafted_by,
        }


# -- the head's screens --------------------------------------------------------------------------------------
class ExtensionsView(StaffMixin, View):
    """Open cases whose clock this user may extend now (a department's head; the reconsideration office for
    its decisions), the nearest deadline first, each with its countdown. The extension itself is the case's
    `extend` step, taken on the step page with its reasons (a 延期通知书 follows)."""

    def allowed(self, request: HttpRequest) -> None:
        if not selectors.extension_kinds(request.user):
            raise PermissionDenied

    def get(self, request: HttpRequest) -> HttpResponse:
        kinds = selectors.extension_kinds(self.user)
        slug = request.GET.get("kind") or kinds[0]
        if slug not in kinds:
            raise Http404
        page = selectors.extension_candidates(self.user, slug, request.GET.get("after"))
        clocks = countdowns([case.due for case in page.rows])
        rows = [(case, clocks[case.due]) for case in page.rows]
        return render(
            request,
            "workspace/case/extensions.html",
            {"kinds": [KINDS[k] for k in kinds], "kind": KINDS[slug], "rows": rows, "next": page.next_cursor},
        )


class WaiversView(StaffMixin, View):
    """Accepted repairs whose city requires an interview that is neither held nor waived: the head may waive
    it (repair.services.waive_interview). Repair is the only case type with a waiver."""

    def allowed(self, request: HttpRequest) -> None:
        if not may(request.user, "repair.approve_extension"):
            raise PermissionDenied

    def get(self, request: HttpRequest) -> HttpResponse:
        page = selectors.waiver_candidates(self.user, request.GET.get("after"))
        clocks = countdowns([case.due for case in page.rows if case.due])
        rows = [(case, clocks.get(case.due) if case.due else None) for case in page.rows]
        return render(request, "workspace/case/waivers.html", {"rows": rows, "next": page.next_cursor})


class RepairActionView(CaseMixin, View):
    """A repair case's work that is not a legal step (repair.services: a waiver, verifying evidence, an
    interview), on its own page: the service checks who may act and in which state; a refusal shows the
    form again with what was typed."""

    template_name = "workspace/case/action.html"
    form_class: type[Any] = ReasonForm
    title: Any = ""
    submit: Any = ""
    done: Any = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if kwargs.get("kind") != "repair":
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def target(self, case: Any) -> Any:
        """The evidence or interview acted on (404 if it is not this case's), or None."""
        return None

    def perform(self, case: Any, target: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = self.get_case()
        target = self.target(case)
        return render(request, self.template_name, self.context(case, target, self.form_class()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = self.get_case()
        target = self.target(case)
        form = self.form_class(request.POST)
        status = 422
        if form.is_valid():
            try:
                with transaction.atomic():
                    self.perform(case, target, form.cleaned_data)
            except TransitionError as exc:
                add_refusal(form, exc)
                status = refusal_status(exc)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, self.done)
                return HttpResponseRedirect(self.case_url(case))
        return render(request, self.template_name, self.context(case, target, form), status=status)

    def context(self, case: Any, target: Any, form: Any) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "case": case,
            "target": target,
            "form": form,
            "title": self.title,
            "submit": self.submit,
        }


class WaiveInterviewView(RepairActionView):
    title = gettext_lazy("Waive the integrity interview")
    submit = gettext_lazy("Waive the interview")
    done = gettext_lazy("The interview was waived.")

    def perform(self, case: Any, target: Any, data: dict[str, Any]) -> None:
        from repair.services import waive_interview

        waive_interview(case=case, actor=self.user, reason=data["reason"])


class VerifyEvidenceView(RepairActionView):
    """Accept a piece of evidence, or reject it with a reason the applicant sees."""

    form_class = VerifyEvidenceForm
    title = gettext_lazy("Verify the evidence")
    submit = gettext_lazy("Record the verification")
    done = gettext_lazy("The evidence was verified.")

    def target(self, case: Any) -> Any:
        piece = case.evidence.filter(pk=self.kwargs["evidence_pk"]).first()
        if piece is None:
            raise Http404
        return piece

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.log_view(self.get_case())  # the page shows the person's evidence
        return super().get(request, *args, **kwargs)

    def perform(self, case: Any, target: Any, data: dict[str, Any]) -> None:
        from repair.services import verify_evidence

        accept = data["decision"] == VerifyEvidenceForm.ACCEPT
        verify_evidence(evidence=target, accept=accept, actor=self.user, reason=data.get("reason", ""))


class ScheduleInterviewView(RepairActionView):
    """Schedule the integrity interview (诚信约谈); its notice (约谈通知书) follows."""

    form_class = InterviewForm
    title = gettext_lazy("Schedule an integrity interview")
    submit = gettext_lazy("Schedule the interview")
    done = gettext_lazy("The interview was scheduled; its notice is being prepared.")

    def perform(self, case: Any, target: Any, data: dict[str, Any]) -> None:
        from repair.services import schedule_interview

        schedule_interview(
            case=case,
            at=data["scheduled_at"],
            actor=self.user,
            place=data.get("place", ""),
            online_link=data.get("online_link", ""),
        )


class InterviewOutcomeView(RepairActionView):
    """Record whether the interview was held (with its minutes) or missed."""

    form_class = InterviewOutcomeForm
    title = gettext_lazy("Record the interview")
    submit = gettext_lazy("Record the outcome")
    done = gettext_lazy("The interview was recorded.")

    def target(self, case: Any) -> Any:
        interview = case.interviews.filter(pk=self.kwargs["interview_pk"]).first()
        if interview is None:
            raise Http404
        return interview

    def perform(self, case: Any, target: Any, data: dict[str, Any]) -> None:
        from repair.services import record_interview

        held = data["outcome"] == InterviewOutcomeForm.HELD
        record_interview(interview=target, held=held, actor=self.user, minutes=data.get("minutes", ""))


def _may_see_escalations(user: Any) -> bool:
    return bool(user.has_role(Role.HEAD, Role.RECONSIDERATION))


class EscalationsView(StaffMixin, View):
    """Tasks whose deadline ran out while they were open, escalated to this head (or, for reconsiderations, to
    the office's reconsideration officers): newest first, each with the clock that ran out."""

    def allowed(self, request: HttpRequest) -> None:
        if not _may_see_escalations(request.user):
            raise PermissionDenied

    def get(self, request: HttpRequest) -> HttpResponse:
        page = selectors.escalations(self.user, request.GET.get("after"))
        clocks = countdowns([task.clock.due_date for task in page.rows if task.clock is not None])  # type: ignore[attr-defined]
        rows = []
        for task in page.rows:
            kind = selectors.kind_of(type(task.case))  # type: ignore[attr-defined]
            clock = task.clock  # type: ignore[attr-defined]
            rows.append((task, kind, clock, clocks.get(clock.due_date) if clock is not None else None))
        return render(request, "workspace/case/escalations.html", {"rows": rows, "next": page.next_cursor})


class ReassignView(StaffMixin, View):
    """Give an escalated task to someone who may work it now; the case's timeline says who moved it."""

    template_name = "workspace/case/reassign.html"

    def allowed(self, request: HttpRequest) -> None:
        if not _may_see_escalations(request.user):
            raise PermissionDenied

    def task(self, task_pk: int) -> Any:
        task = selectors.escalated_tasks(self.user).filter(pk=task_pk).first()
        if task is None:
            raise Http404
        selectors.attach_cases([task])
        return task

    def get(self, request: HttpRequest, task_pk: int) -> HttpResponse:
        task = self.task(task_pk)
        form = ReassignForm(candidates=selectors.reassign_candidates(task))
        return render(request, self.template_name, self.context(task, form))

    def post(self, request: HttpRequest, task_pk: int) -> HttpResponse:
        task = self.task(task_pk)
        form = ReassignForm(request.POST, candidates=selectors.reassign_candidates(task))
        status = 422
        if form.is_valid():
            try:
                reassign_task(
                    task=task, to=form.cleaned_data["to"], actor=self.user, reason=form.cleaned_data["reason"]
                )
            except TransitionError as exc:
                add_refusal(form, exc)
                status = refusal_status(exc)
            else:
                messages.success(
                    request,
                    _("The task was given to %(user)s.") % {"user": form.cleaned_data["to"].get_username()},
                )
                return HttpResponseRedirect(reverse("workspace:escalations"))
        return render(request, self.template_name, self.context(task, form), status=status)

    def context(self, task: Any, form: ReassignForm) -> dict[str, Any]:
        return {"task": task, "kind": selectors.kind_of(type(task.case)), "form": form}


# -- walk-in filing ------------------------------------------------------------------------------------------
def _intake(user: Any) -> bool:
    return may(user, "objections.forward_objection") or may(user, "repair.file_for_applicant")


@method_decorator(sensitive_post_parameters("id_number"), name="dispatch")
class WalkInView(StaffMixin, View):
    """Step 1 at the counter: the person's identity document, by its exact number (validated with
    python-stdnum; found by its keyed hash, never by part). The number is posted, never put in a URL."""

    template_name = "workspace/case/walk_in.html"

    def allowed(self, request: HttpRequest) -> None:
        if not _intake(request.user):
            raise PermissionDenied

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.GET.get("done"):
            request.session.pop(WALK_IN_SESSION_KEY, None)
        return render(request, self.template_name, {"form": IdentityForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = IdentityForm(request.POST)
        if form.is_valid():
            person = Person.objects.by_id_number(form.cleaned_data["id_number"]).first()
            if person is not None and person.id_type == form.cleaned_data["id_type"]:
                request.session[WALK_IN_SESSION_KEY] = person.pk
                return HttpResponseRedirect(reverse("workspace:walk-in-person"))
            form.add_error(None, _("No person with this identity document has credit records here."))
        return render(request, self.template_name, {"form": form}, status=422)


class WalkInPersonView(StaffMixin, View):
    """Step 2: the person's records (a view of their data, logged as answering their enquiry at the counter)
    and the two filings, through the same services as the API (repair.services.file_repair,
    objections.services.file_objection), with the scanned signed form."""

    template_name = "workspace/case/walk_in_person.html"

    def allowed(self, request: HttpRequest) -> None:
        if not _intake(request.user):
            raise PermissionDenied

    def person(self) -> Person:
        pk = self.request.session.get(WALK_IN_SESSION_KEY)
        person = Person.objects.filter(pk=pk).first() if pk else None
        if person is None:
            raise _Redirect(reverse("workspace:walk-in"))
        return person

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            person = self.person()
        except _Redirect as redirect:
            return HttpResponseRedirect(redirect.url)
        records, decisions = selectors.walk_in_targets(person.pk)
        return self.show(
            person, records, decisions, self.objection_form(records, decisions), self.repair_form(records)
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            person = self.person()
        except _Redirect as redirect:
            return HttpResponseRedirect(redirect.url)
        records, decisions = selectors.walk_in_targets(person.pk)
        objection_form, repair_form = self.objection_form(records, decisions), self.repair_form(records)
        what = request.POST.get("filing")
        form: Any
        file: Any
        if what == "objection":
            form = objection_form = self.objection_form(records, decisions, request.POST, request.FILES)
            file = self.file_objection
        elif what == "repair":
            form = repair_form = self.repair_form(records, request.POST, request.FILES)
            file = self.file_repair
        else:
            raise Http404
        if form.is_valid():
            try:
                with transaction.atomic():  # the filing and its evidence stand or fall together
                    kind, case = file(form, records, decisions)
            except TransitionError as exc:
                add_refusal(form, exc)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("Filed: %(number)s.") % {"number": case.number})
                return HttpResponseRedirect(reverse("workspace:case", kwargs={"kind": kind, "pk": case.pk}))
        return self.show(person, records, decisions, objection_form, repair_form, status=422, open_form=what)

    def show(
        self,
        person: Person,
        records: list[Any],
        decisions: list[Any],
        objection_form: WalkInObjectionForm,
        repair_form: WalkInRepairForm,
        *,
        status: int = 200,
        open_form: str | None = None,
    ) -> HttpResponse:
        log_access(
            user=self.user,
            person_ids=[person.pk],
            action=AccessLog.Action.LIST,
            purpose=Purpose(AccessPurpose.ENQUIRY, _("Walk-in filing at the counter")),
            path=self.request.path,
        )
        context = {
            "person": person,
            "records": records,
            "decisions": decisions,
            "objection_form": objection_form if may(self.user, "objections.forward_objection") else None,
            "repair_form": repair_form if may(self.user, "repair.file_for_applicant") else None,
            "open_form": open_form,
        }
        return render(self.request, self.template_name, context, status=status)

    def objection_form(self, records: list[Any], decisions: list[Any], *args: Any) -> WalkInObjectionForm:
        # Both forms are on one page: their own ids keep each label on its own input.
        return WalkInObjectionForm(*args, records=records, decisions=decisions, auto_id="objection_%s")

    def repair_form(self, records: list[Any], *args: Any) -> WalkInRepairForm:
        return WalkInRepairForm(*args, records=records, auto_id="repair_%s")

    def file_objection(
        self, form: WalkInObjectionForm, records: list[Any], decisions: list[Any]
    ) -> tuple[str, Any]:
        from objections import services

        if not may(self.user, "objections.forward_objection"):
            raise PermissionDenied
        target, _sep, pk = form.cleaned_data["target"].partition(":")
        record = next((r for r in records if target == "record" and str(r.pk) == pk), None)
        decision = next((c for c in decisions if target == "repair" and str(c.pk) == pk), None)
        if record is None and decision is None:
            raise ValidationError(_("Choose what the objection is about."))
        objection = services.file_objection(
            actor=self.user,
            grounds=form.cleaned_data["grounds"],
            statement=form.cleaned_data["statement"],
            record=record,
            repair_case=decision,
            signed_form=form.cleaned_data["signed_form"],
        )
        if form.cleaned_data.get("evidence"):
            services.add_evidence(
                objection=objection,
                upload=form.cleaned_data["evidence"],
                actor=self.user,
                description=form.cleaned_data.get("evidence_description", ""),
            )
        return "objection", objection

    def file_repair(
        self, form: WalkInRepairForm, records: list[Any], decisions: list[Any]
    ) -> tuple[str, Any]:
        from repair import services

        if not may(self.user, "repair.file_for_applicant"):
            raise PermissionDenied
        record = next((r for r in records if str(r.pk) == form.cleaned_data["record"]), None)
        if record is None:
            raise ValidationError(_("Choose the record to repair."))
        case = services.file_repair(
            record=record,
            actor=self.user,
            statement=form.cleaned_data["statement"],
            commitment_accepted=form.cleaned_data["commitment_accepted"],
            duty_fulfilled_on=form.cleaned_data.get("duty_fulfilled_on"),
            signed_form=form.cleaned_data["signed_form"],
        )
        if form.cleaned_data.get("evidence"):
            services.add_evidence(
                case=case,
                upload=form.cleaned_data["evidence"],
                kind=form.cleaned_data["evidence_kind"],
                actor=self.user,
                hours=form.cleaned_data.get("hours"),
                amount=form.cleaned_data.get("amount"),
                description=form.cleaned_data.get("evidence_description", ""),
            )
        return "repair", case

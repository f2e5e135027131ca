"""viewflow's staff pages for case flows, scoped the way the law scopes the cases.

A case flow's human work is a ``CaseTask``: a viewflow ``View`` node that names the legal steps (the case's
FSM transitions) that end it. Who may claim, work and release such a task is derived from those steps'
own permissions (role, department, four-eyes), so the task pages can never let anyone do what the
transition service would refuse. The task form takes one of those steps through `perform_transition`; the
step's consequences then complete the task (`end_task`), exactly as when the step is taken through the API.

viewflow's stock pages (`FlowAppViewset`) list every process and task of a flow to anyone with the flow's
permission, and build their filter panel and menu counts from the whole queue (../shared/FINDINGS.md).
`ScopedFlowAppViewset` keeps the stock pages but limits every list and every object to the cases the user
may see (`credit.selectors.scoped`), offers the task filter from the flow's nodes instead of a DISTINCT
over the queue, drops the per-request menu counts and the process drop-down, and turns off the manage
actions (cancel, undo, revive, reassign by a manager): a legal step is undone only by another legal step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.views import generic
from django_filters import ChoiceFilter, DateRangeFilter, FilterSet
from rest_framework import serializers
from viewflow.urls import Site
from viewflow.workflow import STATUS, chart
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow import FlowAppViewset, View
from viewflow.workflow.flow.views import (
    DashboardProcessListView,
    DashboardTaskListView,
    DashboardView,
    FlowArchiveListView,
    FlowInboxListView,
    FlowQueueListView,
)
from viewflow.workflow.flow.views.mixins import TaskSuccessUrlMixin
from viewflow.workflow.models import Process, Task

from credit.models import AccessLog, Deadline
from credit.models.audit import AccessPurpose
from credit.selectors import Scope, is_staff_member, scope_of
from credit.services.access import Purpose, log_access
from credit.services.transitions import TransitionError, perform_transition, transition_meta
from credit.signals import deadlines_changed
from credit.sla import Countdown, countdowns

ACTIVE = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
# How a task or process is summed up in viewflow's lists: the case number and its legal state. The lists
# prefetch `process__artifact`, so this costs no query per row.
CASE_SUMMARY = "{{ process.artifact }} · {{ process.artifact.get_state_display }}"


# -- the flow side ----------------------------------------------------------------------------------------
class ScopedFlowMixin:
    """Mixed into a case flow (a `viewflow.workflow.flow.Flow` whose process artifact is the case)."""

    case_model: Any

    def scope(self, user: Any) -> Scope:
        """Which cases of this flow the user may see; a flow with its own rule (complaints) overrides it."""
        return scope_of(user)

    def visible(self, user: Any) -> models.QuerySet[Any]:
        return self.scope(user).apply(self.case_model._default_manager.all())

    def has_view_permission(self, user: Any, obj: Any = None) -> bool:
        if not is_staff_member(user):
            return False
        if obj is None:
            return True
        case = obj.artifact if isinstance(obj, Process) else obj
        return case is not None and self.visible(user).filter(pk=case.pk).exists()

    def has_manage_permission(self, user: Any, obj: Any = None) -> bool:
        """Nobody cancels, undoes or revives the work of a legal step by hand."""
        return False


def deadline_timer_of(*kinds: str) -> Callable[[Any], datetime]:
    """A delay for ``.OnTimeout(...)`` on a task whose legal clock may have been replaced or have run out:
    the due moment of the case's latest deadline of `kinds` that is pending or already missed (a task
    created after its deadline passed is overdue at once; the escalation is keyed by the deadline, so it
    is raised once). The timer task is linked to the deadline, so an extension or recomputation moves it;
    the row is read under its lock, so a recomputation at the same time either sees the link or is seen."""

    def delay(activation: Any) -> datetime:
        subject = activation.process.artifact
        with transaction.atomic(savepoint=False):
            deadline = (
                Deadline.objects.for_object(subject)
                .filter(kind__in=kinds, status__in=[Deadline.Status.PENDING, Deadline.Status.MISSED])
                .order_by("-pk")
                .select_for_update(of=("self",))
                .first()
            )
            if deadline is None:
                raise LookupError(f"{subject!r} has no deadline {kinds!r} to attach a timer to")
            Deadline.objects.filter(pk=deadline.pk).update(task=activation.task)
            deadlines_changed.send(sender=Deadline, deadline_ids=[deadline.pk])
        return deadline.due_at

    delay.deadline_kind = " / ".join(kinds)  # type: ignore[attr-defined]
    return delay


def case_of(task: Task) -> Any:
    return task.process.coerced.artifact


def may_take_step(case: Any, name: str, user: Any) -> bool:
    """The step's permission for this user on this case (role, department, four-eyes), in its state now."""
    meta = transition_meta(type(case), name)
    if meta is None:
        return False
    method = getattr(case, name)._django_fsm
    state = method.field.get_state(case)
    if not method.has_transition(state):
        return False
    return bool(method.get_transition(state).has_perm(case, user))


class CaseTask(View):
    """A human task ended by one of the case's legal steps `steps`; `perm` is the role permission that puts
    it in a user's queue (viewflow's owner permission)."""

    def __init__(self, *, steps: list[str], perm: str, **kwargs: Any) -> None:
        super().__init__(CaseTaskView.as_view(), **kwargs)
        self.steps = steps
        self.Permission(perm)
        # A row in a queue names the case and its state, never the person (lists are not access-logged).
        self.Annotation(summary_template=CASE_SUMMARY, result_template=CASE_SUMMARY)

    def may_work(self, user: Any, task: Task) -> bool:
        if not (user and user.is_authenticated and is_staff_member(user)):
            return False
        case = case_of(task)
        return case is not None and any(may_take_step(case, name, user) for name in self.steps)

    def can_assign(self, user: Any, task: Task) -> bool:
        return bool(super().can_assign(user, task)) and self.may_work(user, task)

    def can_execute(self, user: Any, task: Task) -> bool:
        return bool(super().can_execute(user, task)) and self.may_work(user, task)

    def can_unassign(self, user: Any, task: Task) -> bool:
        # Only the owner releases a task (managers have no manage permission here).
        return bool(super().can_unassign(user, task))


def work_of(subject: models.Model) -> Process | None:
    """The subject's first process (whether its work was ever started)."""
    return Process.objects.filter(
        artifact_content_type=ContentType.objects.get_for_model(type(subject)), artifact_object_id=subject.pk
    ).first()


def without_work(queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """The cases of `queryset` whose flow was never started (their after-filing message was lost)."""
    started = Process.objects.filter(
        artifact_content_type=ContentType.objects.get_for_model(queryset.model)
    ).values("artifact_object_id")
    return queryset.exclude(pk__in=started)


def requeue_without_work(
    queryset: models.QuerySet[Any], task: Any, *, older_than_minutes: int, limit: int
) -> int:
    """The database is the record of what is still to do: send `task` again for each case of `queryset`
    received more than `older_than_minutes` ago whose flow was never started. Returns how many."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(without_work(queryset).filter(received_at__lte=cutoff).values_list("pk", flat=True)[:limit])
    for case_id in ids:
        task.delay(case_id)
    return len(ids)


def end_task(subject: models.Model, node: Any, actor: Any = None) -> bool:
    """Complete the subject's open task at `node` because the legal step that ends it was taken (call inside
    the step's transaction). A human task records the staff member who took the step as its owner, whether
    they worked it from the task page, took the step through the API, or had not claimed it; a step by the
    applicant (a withdrawal) completes it as it stands. True when a task was completed."""
    # A case reopened after its decision was set aside has more than one process: the open task is in the
    # newest, so it is looked for across all of them.
    open_tasks = Task.objects.filter(
        process__artifact_content_type=ContentType.objects.get_for_model(type(subject)),
        process__artifact_object_id=subject.pk,
        flow_task=node,
        status__in=ACTIVE,
    )
    found = open_tasks.values_list("process_id", flat=True).first()
    if found is None:
        return False
    with node.flow_class.lock(found):
        task = open_tasks.filter(process_id=found).first()
        if task is None:
            return False
        if not isinstance(node, View):
            node.run(task)
            return True
        now = timezone.now()
        if is_staff_member(actor) and task.owner_id != getattr(actor, "pk", None):
            task.owner = actor
            task.assigned = now
        if task.status != STATUS.STARTED:
            task.status = STATUS.STARTED
            task.started = now
        node.activation_class(task).execute()
        return True


def move_timer(original: Deadline, replacement: Deadline) -> None:
    """An extension moves the boundary timer of the deadline it replaces to the new due moment."""
    if original.task_id is not None:
        Task.objects.filter(pk=original.task_id, status=STATUS.SCHEDULED).update(scheduled=replacement.due_at)
        Deadline.objects.filter(pk=replacement.pk).update(task_id=original.task_id)
        deadlines_changed.send(sender=Deadline, deadline_ids=[original.pk, replacement.pk])


# -- the task page ----------------------------------------------------------------------------------------
def _form_field(field: serializers.Field) -> forms.Field:
    """A form field for one field of a step's payload serializer."""
    # Nothing is required here: the step's own serializer validates the payload (perform_transition).
    label = field.label or (field.field_name or "").replace("_", " ").capitalize()
    if isinstance(field, serializers.ListField):
        return forms.CharField(
            label=label,
            required=False,
            widget=forms.Textarea(attrs={"rows": 4}),
            help_text=_("One item per line."),
        )
    if isinstance(field, serializers.ChoiceField):
        return forms.ChoiceField(label=label, required=False, choices=[("", "—"), *field.choices.items()])
    if isinstance(field, serializers.BooleanField):
        return forms.BooleanField(label=label, required=False)
    return forms.CharField(label=label, required=False, max_length=getattr(field, "max_length", None))


def payload_serializer(model: type[models.Model], name: str) -> type[serializers.Serializer[Any]] | None:
    meta = transition_meta(model, name)
    path = meta.custom.get("payload") if meta is not None else None
    return import_string(path) if path else None


class StepForm(forms.Form):
    """One form for the task: which step to take, its reason, and the fields of the steps' payloads."""

    step = forms.ChoiceField(label=_("Step"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason or comments"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, case: Any, steps: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = type(case)
        self.case = case
        self.payload_fields: dict[str, list[str]] = {}
        choices = []
        for name in steps:
            meta = transition_meta(model, name)
            if meta is None:
                continue
            choices.append((name, meta.custom.get("label", name)))
            serializer = payload_serializer(model, name)
            names: list[str] = []
            if serializer is not None:
                for field_name, field in serializer().fields.items():
                    if field_name not in self.fields:
                        self.fields[field_name] = _form_field(field)
                    names.append(field_name)
            self.payload_fields[name] = names
        self.step_labels = dict(choices)
        step = self.fields["step"]
        assert isinstance(step, forms.ChoiceField)
        step.choices = choices

    def payload(self) -> dict[str, Any] | None:
        name = self.cleaned_data["step"]
        names = self.payload_fields.get(name) or []
        if not names:
            return None
        serializer = payload_serializer(type(self.case), name)
        assert serializer is not None
        data: dict[str, Any] = {}
        for field_name in names:
            value = self.cleaned_data.get(field_name)
            field = serializer().fields[field_name]
            if isinstance(field, serializers.ListField):
                data[field_name] = [line.strip() for line in (value or "").splitlines() if line.strip()]
            elif value not in (None, ""):
                data[field_name] = value
        return data


class CaseTaskView(TaskSuccessUrlMixin, generic.FormView):  # type: ignore[type-arg]
    """Execute a case task: see the case, take one of the steps that end the task.

    viewflow's wrapper has checked `can_execute` (the task's owner, with a step they may take) and, for a
    POST, locked the process inside a transaction. Opening the page shows the person's case to a staff
    member: it is logged in the data-access log with the case as its purpose."""

    form_class = StepForm
    template_name = "credit/workflow/case_task.html"

    @property
    def case(self) -> Any:
        return case_of(self.request.activation.task)  # type: ignore[attr-defined]

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        node = self.request.activation.flow_task  # type: ignore[attr-defined]
        case = self.case
        kwargs.update(case=case, steps=[n for n in node.steps if may_take_step(case, n, self.request.user)])
        return kwargs

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = self.case
        log_access(
            user=request.user,
            person_ids=[case.person_id],
            action=AccessLog.Action.VIEW,
            purpose=Purpose(AccessPurpose.CASE, "", case),
            path=request.path,
        )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from credit.selectors import deadlines_of, timeline

        case = self.case
        steps = []
        for entry in timeline(case):
            meta = transition_meta(type(case), entry.transition)
            steps.append((entry, meta.custom.get("label", entry.transition) if meta else entry.transition))
        return super().get_context_data(
            case=case,
            record=getattr(case, "record", None),
            deadlines=deadlines_of(case),
            timeline=steps,
            **kwargs,
        )

    def form_valid(self, form: StepForm) -> HttpResponse:
        case = self.case
        try:
            perform_transition(
                case,
                form.cleaned_data["step"],
                actor=self.request.user,
                reason=form.cleaned_data.get("reason", ""),
                payload=form.payload(),
                visible=self.request.activation.flow_class.instance.visible(self.request.user),  # type: ignore[attr-defined]
            )
        except TransitionError as exc:
            for field, errors in (exc.extra.get("errors") or {}).items():
                target = field if field in form.fields else None
                for error in errors if isinstance(errors, list) else [errors]:
                    form.add_error(target, str(error))
            if not form.errors:
                form.add_error(None, exc.message)
            response = self.form_invalid(form)
            response.status_code = 422 if exc.status_code == 400 else exc.status_code
            return response
        label = form.step_labels.get(form.cleaned_data["step"], "")
        messages.success(self.request, _("Done: %(step)s.") % {"step": label})
        return HttpResponseRedirect(self.get_success_url())


# -- the stock pages, scoped -------------------------------------------------------------------------------
def scoped_tasks(queryset: models.QuerySet[Task], flow_class: Any, user: Any) -> models.QuerySet[Task]:
    """Tasks of `flow_class` whose case the user may see."""
    case_model = flow_class.case_model
    visible = flow_class.instance.visible(user).values("pk")
    return queryset.filter(
        process__flow_class=flow_class,
        process__artifact_content_type=ContentType.objects.get_for_model(case_model),
        process__artifact_object_id__in=visible,
    ).prefetch_related("process__artifact")


def scoped_processes(
    queryset: models.QuerySet[Process], flow_class: Any, user: Any
) -> models.QuerySet[Process]:
    case_model = flow_class.case_model
    visible = flow_class.instance.visible(user).values("pk")
    return queryset.filter(
        flow_class=flow_class,
        artifact_content_type=ContentType.objects.get_for_model(case_model),
        artifact_object_id__in=visible,
    ).prefetch_related("artifact")


def node_choices(flow_class: Any) -> list[tuple[str, str]]:
    """The filter's task choices from the flow itself, not from a DISTINCT over the queue."""
    return [
        (get_task_ref(node), str(node.task_title or node.name))
        for node in flow_class.instance.nodes()
        if node.task_type == "HUMAN"
    ]


class TaskFilter(FilterSet):
    flow_task = ChoiceFilter()
    created = DateRangeFilter()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        flow_class = getattr(self.request, "resolver_match", None)
        flow = getattr(flow_class, "flow", None)
        self.filters["flow_task"].field.choices = node_choices(type(flow)) if flow is not None else []

    class Meta:
        model = Task
        fields = ("flow_task", "created")


def task_clocks(task_ids: list[int]) -> dict[int, Countdown]:
    """The countdown of each task's open deadline (pending, or missed with the step outstanding), for a page
    of tasks: two queries. A deadline
    is linked to the boundary timer of its task (`Deadline.task`), which follows the task."""
    latest: dict[int, Deadline] = {}
    running = (
        Deadline.objects.open()
        .filter(task__previous__in=task_ids)
        .annotate(host_id=F("task__previous"))
        .order_by("pk")
    )
    for deadline in running:
        latest[deadline.host_id] = deadline  # type: ignore[attr-defined]
    clocks = countdowns({d.due_date for d in latest.values()})
    return {task_id: clocks[deadline.due_date] for task_id, deadline in latest.items()}


class DueColumnMixin:
    """A task list's "due" column: the task's deadline as the law counts it, in working days, so that an
    overdue task shows as overdue on every list (the rows of the page only, read in two queries)."""

    _clocks: dict[int, Countdown]

    def get_columns(self) -> tuple[str, ...]:
        return (*super().get_columns(), "due")  # type: ignore[misc]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        page = context.get("page_obj")
        rows = page.object_list if page is not None else context.get("object_list") or []
        self._clocks = task_clocks([task.pk for task in rows])
        return context

    def due(self, task: Task) -> str:
        clock = getattr(self, "_clocks", {}).get(task.pk)
        if clock is None or task.finished is not None:
            return ""
        return format_html('<span class="sla sla-{}">{}</span>', clock.state, clock.label)

    due.short_description = _("Due")  # type: ignore[attr-defined]


class ScopedInboxView(DueColumnMixin, FlowInboxListView):
    filterset_class = TaskFilter

    @property
    def queryset(self) -> models.QuerySet[Task]:
        return scoped_tasks(
            Task.objects.filter(owner=self.request.user, status=STATUS.ASSIGNED).select_related("process"),
            self.flow_class,
            self.request.user,
        ).order_by("-created")


class ScopedQueueView(DueColumnMixin, FlowQueueListView):
    filterset_class = TaskFilter

    @property
    def queryset(self) -> models.QuerySet[Task]:
        queue = Task.objects.user_queue(self.request.user).filter(status=STATUS.NEW).select_related("process")
        return scoped_tasks(queue, self.flow_class, self.request.user).order_by("-created")


class ScopedArchiveView(FlowArchiveListView):
    filterset_class = TaskFilter

    @property
    def queryset(self) -> models.QuerySet[Task]:
        done = Task.objects.filter(owner=self.request.user, finished__isnull=False).select_related("process")
        return scoped_tasks(done, self.flow_class, self.request.user).order_by("-created")


class ScopedTaskListView(DueColumnMixin, DashboardTaskListView):
    filterset_class = TaskFilter

    @property
    def queryset(self) -> models.QuerySet[Task]:
        return scoped_tasks(Task.objects.select_related("process"), self.flow_class, self.request.user)


class ScopedProcessListView(DashboardProcessListView):
    def get_queryset(self) -> models.QuerySet[Process]:
        return scoped_processes(super().get_queryset(), self.flow_class, self.request.user)


class ScopedDashboardView(DashboardView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        sorted_nodes, _edges = chart.topsort(self.flow_class)
        human = [node for node in sorted_nodes if node.task_type == "HUMAN"]
        end_nodes = [node for node in sorted_nodes if node.task_type == "END"]
        tasks = scoped_tasks(Task.objects.select_related("process"), self.flow_class, self.request.user)
        columns = [
            {
                "node": node,
                "node_ref": get_task_ref(node),
                "tasks": tasks.filter(Q(finished__isnull=True) | Q(status=STATUS.ERROR), flow_task=node)[
                    : self.MAX_ROWS
                ],
            }
            for node in human
        ]
        finished = tasks.filter(finished__isnull=False, flow_task__in=end_nodes)[: self.MAX_ROWS]
        return generic.TemplateView.get_context_data(
            self, columns=columns, start_nodes=[], end_nodes=end_nodes, finished=finished, **kwargs
        )


class ScopedFlowAppViewset(FlowAppViewset):
    """viewflow's pages for one case flow, with every list and object limited to the user's scope."""

    inbox_view_class = ScopedInboxView
    queue_view_class = ScopedQueueView
    archive_view_class = ScopedArchiveView
    task_list_view_class = ScopedTaskListView
    process_list_view_class = ScopedProcessListView
    dashboard_view_class = ScopedDashboardView
    # Bulk assign and unassign re-check every task against its node (CaseTask.can_assign: the step's scope).

    def get_context_data(self, request: HttpRequest) -> dict[str, Any]:
        # viewflow counts the whole inbox and queue for the menu on every page; not here.
        return {}


class WorkflowSite(Site):
    """/workflow/: viewflow's pages for the case flows, for staff only."""

    def has_view_permission(self, user: Any, obj: Any = None) -> bool:
        return is_staff_member(user)


def workflow_site(*flow_classes: Any) -> WorkflowSite:
    return WorkflowSite(
        title=_("Case work"),
        viewsets=[ScopedFlowAppViewset(flow_class) for flow_class in flow_classes],
    )


class WorkflowLoginMiddleware:
    """Send a signed-out visitor of /workflow/ to the login page (viewflow's site check, which runs after
    this, would answer 403): an officer whose session expired lands where they can sign in again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, *args: Any) -> HttpResponse | None:
        if request.path.startswith("/workflow/") and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return None

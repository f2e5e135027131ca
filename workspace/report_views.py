"""The dashboard (heads and city-wide roles) and the auditor's views of the transition log and the data-access
log. Thin: the figures come from `credit.reports` and `workspace.stats`, the log rows from
`workspace.auditlog`; each page runs a constant number of queries whatever the number of cases or rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from credit import reports
from credit.models import AccessLog, Department, TransitionLog, User
from credit.models.audit import AccessPurpose, AuditExport
from credit.roles import may

from . import auditlog, charts, stats

# -- shared ----------------------------------------------------------------------------------------------


def case_link(case_type: str, pk: int) -> str | None:
    """The case file's address, once the case file's pages are installed."""
    try:
        return reverse("workspace:case", kwargs={"kind": case_type, "pk": pk})
    except NoReverseMatch:
        return None


_TYPE_OF_LABEL = {case_type.model._meta.label_lower: case_type.key for case_type in stats.CASE_TYPES}


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# -- dashboard -------------------------------------------------------------------------------------------


class DashboardForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=_date_input())
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=_date_input())
    department = forms.TypedChoiceField(
        label=gettext_lazy("Department"), required=False, coerce=int, empty_value=None
    )
    overdue_after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, departments: list[Department], today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        choices = [(d.pk, d.name) for d in departments]
        field = self.fields["department"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [
            ("", _("All my departments") if len(choices) < 2 else _("All departments")),
            *choices,
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or self.today
        start = data.get("start") or end - timedelta(days=stats.DEFAULT_PERIOD_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The period starts after it ends."), code="order")
        if (end - start).days + 1 > stats.MAX_PERIOD_DAYS:
            raise forms.ValidationError(
                _("A period of at most %(days)d days, please.") % {"days": stats.MAX_PERIOD_DAYS}, code="long"
            )
        data["period"] = stats.Period(start, end)
        return data

    def clean_overdue_after(self) -> reports.Cursor | None:
        text = self.cleaned_data.get("overdue_after") or ""
        if not text:
            return None
        try:
            return reports.Cursor.parse(text)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="cursor") from None


@dataclass
class DepartmentRow:
    department_id: int | None
    name: str
    received: int = 0
    open: int = 0
    overdue: int = 0
    met: int = 0
    missed: int = 0
    repairs_decided: int = 0
    repairs_within: float | None = None


@dataclass
class TypeRow:
    key: str
    label: str
    span: str
    states: list[tuple[str, str, int]]  # (state, label, count)
    received: int
    decided: int
    median: int | None
    p90: int | None
    beyond: int
    unit: str
    limit: tuple[int, int] | None
    within: float | None
    extended: int  # decided cases compared with their extended limit
    departments: list[tuple[str, stats.Histogram]]
    chart: str = ""
    state_chart: str = ""


def _beyond(histogram: stats.Histogram, value: int | None) -> str | None:
    """A percentile among the cases older than the calendar window has no number."""
    return _("over a year") if value is None and histogram.total else None


def _unit_label(unit: str) -> str:
    return _("working days") if unit == "wd" else _("calendar days")


def _limit_label(limit: tuple[int, int] | None, unit: str) -> str:
    if limit is None:
        return "—"
    low, high = limit
    value = str(low) if low == high else f"{low}–{high}"
    return f"{value} {_unit_label(unit)}"


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not stats.may_see_dashboard(user):
        raise PermissionDenied
    today = timezone.localdate()
    allowed = list(stats.departments_for(user))
    # Always bound: every field is optional, and an empty query means the default period.
    form = DashboardForm(request.GET, departments=allowed, today=today)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return render(request, "workspace/reports/dashboard.html", context, status=400)
    data = form.cleaned_data
    period: stats.Period = data["period"]
    # Show the period counted (the default one when none was asked for) in the date fields.
    context["form"] = DashboardForm(
        _with_dates(request, period.start, period.end), departments=allowed, today=today
    )
    scope = stats.dashboard_departments(user)
    chosen = data.get("department")
    departments = frozenset({chosen}) if chosen is not None else scope
    names: dict[int | None, str] = {d.pk: d.name for d in allowed}

    by_state = stats.cases_by_state(user, period=period, departments=departments)
    overdue = reports.overdue_now(limit=20, after=data.get("overdue_after"), departments=departments)
    overdue_counts = stats.overdue_counts(departments=departments)
    outcomes = reports.outcomes(start=period.start, end=period.end, departments=departments)
    handling = stats.handling_times(user, period=period, departments=departments)

    rows: dict[int | None, DepartmentRow] = {}

    def row(department_id: int | None, name: str = "") -> DepartmentRow:
        if department_id not in rows:
            label = names.get(department_id) or name or _("(no department)")
            rows[department_id] = DepartmentRow(department_id, label)
        return rows[department_id]

    states: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for count in by_state:
        states[count.case_type][count.state] += count.count
        one = row(count.department_id)
        one.received += count.count
        if count.state in stats.CASE_TYPE[count.case_type].open_states:
            one.open += count.count
    for overdue_count in overdue_counts:
        row(overdue_count.department_id).overdue += overdue_count.count
    for outcome in outcomes:
        one = row(outcome.department_id, outcome.department)
        one.met += outcome.met
        one.missed += outcome.missed
    for (key, department_id), histogram in handling.by_department.items():
        if key == "repair":
            one = row(department_id)
            one.repairs_decided = histogram.total
            one.repairs_within = histogram.share_within
    department_rows = sorted(rows.values(), key=lambda r: (r.department_id is None, r.name))

    types: list[TypeRow] = []
    for case_type in stats.CASE_TYPES:
        overall = handling.overall.get(case_type.key, stats.Histogram())
        counted = states.get(case_type.key, {})
        state_rows = [
            (state, case_type.state_label(state), counted.get(state, 0))
            for state in case_type.states.values
            if state in case_type.open_states or counted.get(state)
        ]
        per_department = sorted(
            (
                (names.get(dep) or _("(no department)"), histogram)
                for (key, dep), histogram in handling.by_department.items()
                if key == case_type.key
            ),
            key=lambda pair: pair[0],
        )
        type_row = TypeRow(
            key=case_type.key,
            label=str(case_type.label),
            span=str(case_type.span),
            states=state_rows,
            received=sum(counted.values()),
            decided=overall.total,
            median=overall.median,
            p90=overall.p90,
            beyond=overall.beyond_window,
            unit=overall.unit,
            limit=overall.limit_range,
            within=overall.share_within,
            extended=overall.extended,
            departments=per_department,
        )
        type_row.state_chart = charts.bar_chart(
            title=_("%(type)s: cases received, by state today") % {"type": type_row.label},
            labels=[label for _state, label, _n in state_rows],
            series=[charts.Series(_("cases"), [n for _s, _l, n in state_rows])],
            description=_("The same figures are in the table below."),
        )
        if per_department:
            limit = overall.limit_range
            type_row.chart = charts.bar_chart(
                title=_("%(type)s: handling time %(span)s, in %(unit)s")
                % {"type": type_row.label, "span": type_row.span, "unit": _unit_label(overall.unit)},
                labels=[name for name, _h in per_department],
                series=[
                    charts.Series(
                        _("median"),
                        [h.median for _n, h in per_department],
                        [_beyond(h, h.median) for _n, h in per_department],
                    ),
                    charts.Series(
                        _("90th percentile"),
                        [h.p90 for _n, h in per_department],
                        [_beyond(h, h.p90) for _n, h in per_department],
                    ),
                ],
                description=_("The same figures are in the table below."),
                marker=limit[1] if limit else None,
                marker_label=_("legal limit %(limit)s") % {"limit": _limit_label(limit, overall.unit)},
            )
        types.append(type_row)

    repair_rows = [r for r in department_rows if r.repairs_decided]
    repair_limit = handling.overall.get("repair", stats.Histogram()).limit_range
    context.update(
        period=period,
        scope_all=departments is None,
        department_rows=department_rows,
        types=types,
        overdue=overdue,
        overdue_rows=[
            (
                one,
                case_link(_TYPE_OF_LABEL[one.subject_type], one.subject_id)
                if one.subject_type in _TYPE_OF_LABEL
                else None,
            )
            for one in overdue.rows
        ],
        overdue_next=_with(request, overdue_after=str(overdue.next)) if overdue.next else None,
        overdue_total=sum(r.overdue for r in department_rows),
        repair_limit=_limit_label(repair_limit, "wd") if repair_limit else "",
        overdue_chart=charts.bar_chart(
            title=_("Deadlines overdue now, per department"),
            labels=[r.name for r in department_rows],
            series=[charts.Series(_("overdue"), [r.overdue for r in department_rows])],
            description=_("The same figures are in the table “Per department”."),
        ),
        repair_chart=charts.bar_chart(
            title=_("Share of repairs decided within the legal limit, per department"),
            labels=[r.name for r in repair_rows],
            series=[charts.Series(_("within the limit"), [r.repairs_within for r in repair_rows])],
            percent=True,
            description=_("The same figures are in the table “Per department”."),
        ),
    )
    return render(request, "workspace/reports/dashboard.html", context)


def _with_dates(request: HttpRequest, start: date, end: date) -> Any:
    query = request.GET.copy()
    query["start"], query["end"] = start.isoformat(), end.isoformat()
    return query


def _with(request: HttpRequest, **changes: str) -> str:
    query = request.GET.copy()
    for key, value in changes.items():
        query[key] = value
    return f"?{query.urlencode()}"


# -- the auditor's views ---------------------------------------------------------------------------------

LOG_DEFAULT_DAYS = 30


class LogForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=_date_input())
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=_date_input())
    actor = forms.CharField(
        label=gettext_lazy("Actor (user name)"), required=False, max_length=150, strip=True
    )
    number = forms.CharField(
        label=gettext_lazy("Case or record number"), required=False, max_length=40, strip=True
    )
    department = forms.TypedChoiceField(
        label=gettext_lazy("Department"), required=False, coerce=int, empty_value=None
    )
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, departments: list[Department], today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        field = self.fields["department"]
        assert isinstance(field, forms.TypedChoiceField)
        self.department_choices = [(d.pk, d.name) for d in departments]
        field.choices = [("", _("All departments")), *self.department_choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or self.today
        start = data.get("start") or end - timedelta(days=LOG_DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The period starts after it ends."), code="order")
        data["start"], data["end"] = start, end
        return data

    def clean_after(self) -> auditlog.LogCursor | None:
        text = self.cleaned_data.get("after") or ""
        if not text:
            return None
        try:
            return auditlog.LogCursor.parse(text)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="cursor") from None

    def filters(self) -> auditlog.Filters:
        data = self.cleaned_data
        return auditlog.Filters(
            start=data["start"],
            end=data["end"],
            actor=data.get("actor") or "",
            number=data.get("number") or "",
            transition=data.get("transition") or "",
            purpose=data.get("purpose") or "",
            action=data.get("action") or "",
            person=data.get("person"),
            department=data.get("department"),
        )


class TransitionLogForm(LogForm):
    transition = forms.CharField(
        label=gettext_lazy("Transition (step name)"), required=False, max_length=60, strip=True
    )
    field_order = ["start", "end", "actor", "number", "transition", "department"]


class AccessLogForm(LogForm):
    purpose = forms.ChoiceField(
        label=gettext_lazy("Purpose"), required=False, choices=[("", "—"), *AccessPurpose.choices]
    )
    action = forms.ChoiceField(
        label=gettext_lazy("Action"), required=False, choices=[("", "—"), *AccessLog.Action.choices]
    )
    person = forms.IntegerField(label=gettext_lazy("Person (internal number)"), required=False, min_value=1)
    field_order = ["start", "end", "actor", "number", "purpose", "action", "person", "department"]


@dataclass(frozen=True)
class LogView:
    """One of the two logs: who may read it, its form, rows, CSV and page."""

    name: str  # AuditExport.Log
    permission: str
    form_class: type[LogForm]
    template: str
    export_url: str


TRANSITIONS = LogView(
    name="transitions",
    permission="credit.view_transitionlog",
    form_class=TransitionLogForm,
    template="workspace/reports/transition_log.html",
    export_url="workspace:transition-log-export",
)
ACCESSES = LogView(
    name="accesses",
    permission="credit.view_accesslog",
    form_class=AccessLogForm,
    template="workspace/reports/access_log.html",
    export_url="workspace:access-log-export",
)


def _log_form(request: HttpRequest, log: LogView, data: Any) -> LogForm:
    if not may(request.user, log.permission):
        raise PermissionDenied
    departments = list(Department.objects.order_by("name"))
    return log.form_class(data, departments=departments, today=timezone.localdate())


def _shown(form: LogForm, request: HttpRequest, filters: auditlog.Filters) -> LogForm:
    """The same form, with the dates counted (the default period when none was asked for)."""
    departments = [Department(pk=pk, name=name) for pk, name in form.department_choices]
    shown = _with_dates(request, filters.start, filters.end)
    return type(form)(shown, departments=departments, today=form.today)


def _queryset(log: LogView, filters: auditlog.Filters) -> Any:
    return auditlog.transitions(filters) if log is TRANSITIONS else auditlog.accesses(filters)


def _log_page(request: HttpRequest, log: LogView) -> HttpResponse:
    form = _log_form(request, log, request.GET)
    context: dict[str, Any] = {
        "form": form,
        "export_url": reverse(log.export_url),
    }
    if not form.is_valid():
        return render(request, log.template, context, status=400)
    filters = form.filters()
    page = auditlog.page(_queryset(log, filters), after=form.cleaned_data.get("after"))
    context["form"] = _shown(form, request, filters)
    if log is TRANSITIONS:
        rows = [
            {
                "entry": entry,
                "type": auditlog.model_label(entry.content_type_id),
                "number": entry.object_number or f"#{entry.object_id}",
                "actor": auditlog.display_name(entry.actor, entry.actor_label),
            }
            for entry in page.rows
        ]
    else:
        rows = [
            {
                "entry": entry,
                "actor": auditlog.display_name(entry.user),
                "person": auditlog.person_reference(entry.person_id),
                "case_type": auditlog.model_label(entry.case_content_type_id),
                "path": auditlog.path_only(entry.path),
            }
            for entry in page.rows
        ]
    context.update(
        rows=rows,
        filters=filters,
        next_url=_with(request, after=str(page.next)) if page.next else None,
        first_url=_with(request, after="") if form.cleaned_data.get("after") else None,
        export_fields=[(name, value) for name, value in request.GET.items() if name != "after"],
    )
    return render(request, log.template, context)


def _export(request: HttpRequest, log: LogView) -> HttpResponseBase:
    """The filtered log as CSV. The export is recorded first, as an AuditExport row (who, which log, the
    filters, the last row id it covers), then streamed; the rows are bounded by that id, so the record says
    exactly which rows left the system."""
    form = _log_form(request, log, request.POST)
    if not form.is_valid():
        context = {"form": form, "export_url": reverse(log.export_url)}
        return render(request, log.template, context, status=400)
    filters = form.filters()
    model = TransitionLog if log is TRANSITIONS else AccessLog
    # Recorded (and committed) before the first byte is sent: a download that breaks off is still on record.
    up_to = model.objects.aggregate(last=Max("pk"))["last"] or 0
    exporter = cast(User, request.user)  # signed in: login_required
    AuditExport.objects.create(user=exporter, log=log.name, filters=filters.as_payload(), up_to_id=up_to)
    queryset = _queryset(log, filters).filter(pk__lte=up_to)
    if log is TRANSITIONS:
        lines = auditlog.csv_lines(
            auditlog.transition_csv_header(),
            (
                auditlog.transition_csv_row(entry)
                for entry in queryset.iterator(chunk_size=auditlog.EXPORT_CHUNK)
            ),
        )
    else:
        lines = auditlog.csv_lines(
            auditlog.access_csv_header(),
            (auditlog.access_csv_row(entry) for entry in queryset.iterator(chunk_size=auditlog.EXPORT_CHUNK)),
        )
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in lines), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{log.name}-log-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def transition_log(request: HttpRequest) -> HttpResponse:
    return _log_page(request, TRANSITIONS)


@login_required
@require_POST
def transition_log_export(request: HttpRequest) -> HttpResponseBase:
    return _export(request, TRANSITIONS)


@login_required
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    return _log_page(request, ACCESSES)


@login_required
@require_POST
def access_log_export(request: HttpRequest) -> HttpResponseBase:
    return _export(request, ACCESSES)

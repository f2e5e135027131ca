"""Administration. Persons and credit records are deliberately not here: staff open them only through the
scoped API and workspace, which ask for a purpose and write the access log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit import reports
from credit.models import (
    AccessLog,
    CalendarChange,
    CalendarDay,
    CalendarYear,
    CityOverlay,
    Deadline,
    DeadlineChange,
    DeadlineRule,
    Department,
    DomainPeriodRule,
    Membership,
    RuleSet,
    TierRule,
    TransitionLog,
    User,
)
from credit.models.audit import AuditExport


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class CreditUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Preferences"), {"fields": ("preferred_language", "phone")}),
    )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "city"]
    list_filter = ["kind"]
    inlines = [MembershipInline]


class _RuleInline(admin.TabularInline):
    extra = 0

    def _editable(self, obj: RuleSet | None) -> bool:
        return obj is None or not obj.is_published

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


class TierRuleInline(_RuleInline):
    model = TierRule


class DomainRuleInline(_RuleInline):
    model = DomainPeriodRule


class DeadlineRuleInline(_RuleInline):
    model = DeadlineRule


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "version", "effective_from", "effective_until", "published_at"]
    inlines = [TierRuleInline, DomainRuleInline, DeadlineRuleInline]
    actions = ["publish", "new_version"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or not obj.is_published) and super().has_delete_permission(request, obj)

    @admin.action(description=_("Publish the selected drafts (they can no longer be changed)"))
    def publish(self, request: HttpRequest, queryset: Any) -> None:
        count = queryset.filter(published_at__isnull=True).update(published_at=timezone.now())
        self.message_user(request, _("%(n)d rule set(s) published.") % {"n": count}, messages.SUCCESS)

    @admin.action(description=_("Copy the selected rule sets as new draft versions"))
    def new_version(self, request: HttpRequest, queryset: Any) -> None:
        from credit.services.rules import copy_as_new_version

        with transaction.atomic():
            for ruleset in queryset:
                copy_as_new_version(ruleset)
        self.message_user(request, _("Draft copies made; edit them, then publish."), messages.SUCCESS)


@admin.register(CityOverlay)
class CityOverlayAdmin(admin.ModelAdmin):
    list_display = [
        "city",
        "version",
        "effective_from",
        "effective_until",
        "interview_required",
        "volunteer_hours_threshold",
        "published_at",
    ]
    actions = ["publish"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.published_at is None) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.published_at is None) and super().has_delete_permission(request, obj)

    @admin.action(description=_("Publish the selected drafts"))
    def publish(self, request: HttpRequest, queryset: Any) -> None:
        queryset.filter(published_at__isnull=True).update(published_at=timezone.now())


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name", "source"]
    list_filter = ["kind"]
    date_hierarchy = "date"

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        obj.created_by = obj.created_by or request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "official", "source"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Overdue now")), ("no", _("Not overdue"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.overdue()
        if self.value() == "no":
            return queryset.exclude(pk__in=Deadline.objects.overdue().values("pk"))
        return queryset


class KindFilter(admin.SimpleListFilter):
    """The kinds the rule sets know, from their (small) table: the stock filter would ask the deadline table
    for its DISTINCT kinds, a scan of every row."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        kinds = DeadlineRule.objects.order_by("kind").values_list("kind", flat=True).distinct()
        return [(kind, kind) for kind in kinds]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(kind=self.value()) if self.value() else queryset


class DepartmentFilter(admin.SimpleListFilter):
    """The department of the deadline's subject (a reconsideration's office)."""

    title = _("department")
    parameter_name = "department"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(str(pk), name) for pk, name in Department.objects.order_by("code").values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(reports.in_departments([int(value)]))


# The met/missed table covers the last 30 days unless a period is asked for.
REPORT_DAYS = 30


class ReportForm(forms.Form):
    start = forms.DateField(label=_("due from"), required=False)
    end = forms.DateField(label=_("due to"), required=False)
    department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.none(), required=False
    )
    overdue_after = forms.CharField(required=False, widget=forms.HiddenInput)
    provisional_after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, scope: frozenset[int] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = Department.objects.order_by("code")
        self.fields["department"].queryset = (  # type: ignore[attr-defined]
            departments if scope is None else departments.filter(pk__in=scope)
        )

    def _cursor(self, name: str) -> reports.Cursor | None:
        text = self.cleaned_data.get(name) or ""
        if not text:
            return None
        try:
            return reports.Cursor.parse(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="cursor") from exc

    def clean_overdue_after(self) -> reports.Cursor | None:
        return self._cursor("overdue_after")

    def clean_provisional_after(self) -> reports.Cursor | None:
        return self._cursor("provisional_after")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"] - timedelta(days=REPORT_DAYS - 1)
        if data["start"] > data["end"]:
            raise forms.ValidationError(_("The period starts after it ends."), code="period")
        return data


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["kind", "subject", "department", "start_date", "due_date", "provisional", "status"]
    list_filter = ["status", "provisional", OverdueFilter, KindFilter, DepartmentFilter]
    list_select_related = ["content_type"]
    # The changelist would count the whole table a second time for "N total"; the filtered count is enough.
    show_full_result_count = False
    change_list_template = "admin/credit/deadline/change_list.html"

    def get_queryset(self, request: HttpRequest) -> Any:
        return reports.with_subject_columns(super().get_queryset(request))

    @admin.display(description=_("case or record"))
    def subject(self, deadline: Deadline) -> str:
        return f"{deadline.content_type.name} {deadline.subject_number or deadline.object_id}"  # type: ignore[attr-defined]

    @admin.display(description=_("department"))
    def department(self, deadline: Deadline) -> str:
        return deadline.department_name or "-"  # type: ignore[attr-defined]

    def get_urls(self) -> list[Any]:
        report = path("report/", self.admin_site.admin_view(self.report_view), name="credit_deadline_report")
        return [report, *super().get_urls()]

    def report_view(self, request: HttpRequest) -> TemplateResponse:
        """The three deadline reports, limited to the departments the user answers for (all for city-wide
        staff and the administrator)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        scope = reports.report_scope(request.user)
        form = ReportForm(request.GET, scope=scope)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Deadline reports"),
            "form": form,
        }
        if form.is_valid():
            data = form.cleaned_data
            department = data.get("department")
            departments = scope if department is None else frozenset({department.pk})
            overdue = reports.overdue_now(after=data["overdue_after"], departments=departments)
            provisional = reports.provisional_pending(
                after=data["provisional_after"], departments=departments
            )
            context.update(
                start=data["start"],
                end=data["end"],
                overdue=overdue,
                provisional=provisional,
                outcomes=reports.outcomes(start=data["start"], end=data["end"], departments=departments),
                overdue_next=_with(request, overdue_after=overdue.next),
                provisional_next=_with(request, provisional_after=provisional.next),
            )
        return TemplateResponse(request, "admin/credit/deadline/report.html", context)


def _with(request: HttpRequest, **changes: Any) -> str:
    """The current query string with `changes` (a next-page link), or "" when a change is None."""
    if any(value is None for value in changes.values()):
        return ""
    query = request.GET.copy()
    for name, value in changes.items():
        query[name] = str(value)
    return f"?{query.urlencode()}"


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "object_number", "transition", "from_state", "to_state", "actor_label"]
    list_filter = ["transition", "content_type"]
    search_fields = ["object_number"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "person_id", "action", "purpose", "note"]
    list_filter = ["purpose", "action"]


@admin.register(AuditExport)
class AuditExportAdmin(ReadOnlyAdmin):
    """Who exported which log, with which filters, up to which row (workspace.report_views)."""

    list_display = ["at", "user", "log", "up_to_id", "filters"]
    list_filter = ["log"]
    list_select_related = ["user"]


@admin.register(CalendarChange)
class CalendarChangeAdmin(ReadOnlyAdmin):
    """Each calendar change and the recomputation it caused (credit.services.recompute)."""

    list_display = ["created_at", "kind", "first", "last", "recomputed_at", "moved"]
    list_filter = ["kind"]


@admin.register(DeadlineChange)
class DeadlineChangeAdmin(ReadOnlyAdmin):
    """The history of recomputed due dates."""

    list_display = ["at", "deadline", "old_due", "new_due", "old_provisional", "new_provisional", "cause"]
    list_select_related = ["deadline", "cause"]

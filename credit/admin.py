"""Administration. Persons and credit records are deliberately not here: staff open them only through the
scoped API and workspace, which ask for a purpose and write the access log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit.models import (
    AccessLog,
    CalendarDay,
    CalendarYear,
    CityOverlay,
    Deadline,
    DeadlineRule,
    Department,
    DomainPeriodRule,
    Membership,
    RuleSet,
    TierRule,
    TransitionLog,
    User,
)


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


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["kind", "content_type", "object_id", "start_date", "due_date", "provisional", "status"]
    list_filter = ["status", "provisional", "kind"]


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "object_number", "transition", "from_state", "to_state", "actor_label"]
    list_filter = ["transition", "content_type"]
    search_fields = ["object_number"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "person_id", "action", "purpose", "note"]
    list_filter = ["purpose", "action"]

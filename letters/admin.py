from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Letter, LetterSequence, ServiceConsent, ServiceRecord, SigningIdentity


@admin.register(SigningIdentity)
class SigningIdentityAdmin(admin.ModelAdmin):
    list_display = ["department", "signer_text", "development_only"]


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Letter)
class LetterAdmin(_ReadOnly):
    """Letters are immutable; the admin shows their state and the last generation error, nothing personal."""

    list_display = ["reference_number", "kind", "department", "state", "issued_at", "attempts"]
    list_filter = ["state", "kind", "department"]
    search_fields = ["reference_number"]
    fields = [
        "reference_number",
        "kind",
        "department",
        "state",
        "case_number",
        "issued_at",
        "sha256",
        "signer_subject",
        "timestamped",
        "supersedes",
        "attempts",
        "last_error",
    ]


@admin.register(LetterSequence)
class LetterSequenceAdmin(_ReadOnly):
    list_display = ["department", "year", "last_number"]


@admin.register(ServiceRecord)
class ServiceRecordAdmin(_ReadOnly):
    list_display = ["letter", "method", "served_at", "recorded_by"]


@admin.register(ServiceConsent)
class ServiceConsentAdmin(_ReadOnly):
    list_display = ["person_id", "given_at", "withdrawn_at", "channel"]

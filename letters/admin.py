from __future__ import annotations

from django.contrib import admin

from credit.admin import ReadOnlyAdmin

from .models import Letter, LetterSequence, ServiceConsent, ServiceRecord, SigningIdentity


@admin.register(SigningIdentity)
class SigningIdentityAdmin(admin.ModelAdmin):
    list_display = ["department", "signer_text", "development_only"]


@admin.register(Letter)
class LetterAdmin(ReadOnlyAdmin):
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
class LetterSequenceAdmin(ReadOnlyAdmin):
    list_display = ["department", "year", "last_number"]


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin):
    list_display = ["letter", "method", "served_at", "recorded_by"]


@admin.register(ServiceConsent)
class ServiceConsentAdmin(ReadOnlyAdmin):
    list_display = ["person_id", "given_at", "withdrawn_at", "channel"]

"""Internal notes in the admin: read-only, like the audit rows (they are append-only)."""

from django.contrib import admin

from credit.admin import ReadOnlyAdmin

from .models import InternalNote


@admin.register(InternalNote)
class InternalNoteAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case_content_type", "case_object_id", "author"]
    list_filter = ["case_content_type"]
    raw_id_fields = ["author"]

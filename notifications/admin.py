from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from credit.admin import ReadOnlyAdmin

from .models import Delivery, DeliveryStatus, Notification, Preference


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: what was queued, sent or failed, with the error and the attempts."""

    list_display = ["created_at", "channel", "status", "attempts", "sent_at", "idempotency_key", "last_error"]
    list_filter = ["status", "channel"]
    search_fields = ["idempotency_key"]
    exclude = ["payload", "address"]  # the message and the address are personal data
    actions = ["retry"]

    @admin.action(description=_("Send the selected failed deliveries again"))
    def retry(self, request: HttpRequest, queryset: Any) -> None:
        from .tasks import deliver

        ids = list(
            queryset.filter(status__in=[DeliveryStatus.FAILED, DeliveryStatus.GAVE_UP]).values_list(
                "pk", flat=True
            )
        )
        Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.FAILED)
        for delivery_id in ids:
            deliver.delay(delivery_id)
        self.message_user(request, _("%(n)d delivery(ies) queued again.") % {"n": len(ids)}, messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event", "recipient", "case_number", "read_at"]
    list_filter = ["event"]
    exclude = ["body"]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email", "sms", "daily_digest"]

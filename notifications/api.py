from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .models import Notification, Preference
from .services import mark_read


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    class Meta:
        model = Notification
        fields = ["id", "event", "subject", "body", "link", "case_number", "created_at", "read_at"]


class PreferenceSerializer(serializers.ModelSerializer[Preference]):
    class Meta:
        model = Preference
        fields = ["email", "sms", "daily_digest"]


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Notification]
):
    """The caller's own inbox; nobody sees anyone else's."""

    serializer_class = NotificationSerializer

    def get_queryset(self) -> Any:
        queryset = Notification.objects.filter(recipient_id=self.request.user.pk or 0)
        if self.request.query_params.get("unread") == "1":
            queryset = queryset.filter(read_at__isnull=True)
        return queryset

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = self.get_object()
        return Response({"read": mark_read(request.user, [notification.pk])})

    @extend_schema(request=None, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"read": mark_read(request.user)})

    @extend_schema(request=PreferenceSerializer, responses={200: PreferenceSerializer})
    @action(detail=False, methods=["get", "put"])
    def preferences(self, request: Request) -> Response:
        preference, _ = Preference.objects.get_or_create(user_id=request.user.pk or 0)
        if request.method == "PUT":
            serializer = PreferenceSerializer(preference, data=request.data)
            serializer.is_valid(raise_exception=True)
            serializer.save()
        return Response(PreferenceSerializer(preference).data)

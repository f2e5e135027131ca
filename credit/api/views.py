from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from credit.models import CreditRecord, Penalty, Person
from credit.models.audit import AccessLog
from credit.selectors import is_staff_member, records_for
from credit.services.access import Purpose, log_access, resolve_purpose
from credit.services.transitions import NotFound, perform_transition

from .serializers import RecordDetailSerializer, RecordListSerializer, TransitionRequestSerializer

PURPOSE_PARAMS = [
    OpenApiParameter("purpose", str, description="Staff only: why the person's records are opened (logged)."),
    OpenApiParameter("note", str, description="Staff only: explanation, required when purpose is “other”."),
    OpenApiParameter(
        "case", str, description="Staff only, with purpose=case: the case, as app_label.model:id."
    ),
]


class CaseTransitionsMixin:
    """POST …/{id}/transitions/{name}/ on any case or record viewset: the one transition path."""

    detail_serializer_class: type[Any]

    def get_queryset(self) -> Any:  # pragma: no cover - provided by the viewset
        raise NotImplementedError

    @extend_schema(request=TransitionRequestSerializer, responses={200: None})
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<name>[a-z_]+)")
    def transitions(self, request: Request, pk: str | None = None, name: str = "") -> Response:
        body = TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        visible = self.get_queryset()
        instance = visible.filter(pk=pk).first()
        if instance is None:
            raise NotFound("Not found.")
        updated = perform_transition(
            instance,
            name,
            actor=request.user,
            reason=body.validated_data.get("reason", ""),
            payload=body.validated_data.get("payload"),
            visible=visible,
        )
        refreshed = self.get_queryset().get(pk=updated.pk)
        return Response(self.detail_serializer_class(refreshed, context={"request": request}).data)


class AccessLoggedMixin(GenericAPIView):  # type: ignore[type-arg]
    """Staff opening a person's data must give a purpose; each person whose data they see is logged.

    Applicants see only what is theirs and are not logged. A purpose naming a case limits the view to the
    case's person."""

    person_field = "person_id"

    def get_purpose(self) -> Purpose | None:
        if not is_staff_member(self.request.user):
            return None
        params = self.request.query_params
        return resolve_purpose(
            self.request.user, params.get("purpose"), params.get("note", ""), params.get("case")
        )

    def limit_to_purpose(self, queryset: Any, purpose: Purpose | None) -> Any:
        if purpose is not None and purpose.person_id is not None:
            return queryset.filter(**{self.person_field: purpose.person_id})
        return queryset

    def check_purpose_covers(self, instance: Any, purpose: Purpose | None) -> None:
        covered = purpose is None or purpose.person_id is None
        if not covered and getattr(instance, self.person_field) != purpose.person_id:  # type: ignore[union-attr]
            raise ValidationError(_("This record is not about the person of the case named as the purpose."))

    def log(self, purpose: Purpose | None, person_ids: list[int], action: str) -> None:
        if purpose is not None:
            log_access(
                user=self.request.user,
                person_ids=person_ids,
                action=action,
                purpose=purpose,
                path=self.request.path,
            )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        purpose = self.get_purpose()
        queryset = self.limit_to_purpose(self.filter_queryset(self.get_queryset()), purpose)
        page = self.paginate_queryset(queryset) or []  # the project always paginates
        self.log(purpose, [getattr(obj, self.person_field) for obj in page], AccessLog.Action.LIST)
        data = self.get_serializer(page, many=True).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        purpose = self.get_purpose()
        instance = self.get_object()
        self.check_purpose_covers(instance, purpose)
        self.log(purpose, [getattr(instance, self.person_field)], AccessLog.Action.VIEW)
        return Response(self.get_serializer(instance).data)


@extend_schema(parameters=PURPOSE_PARAMS)
class RecordViewSet(
    AccessLoggedMixin,
    CaseTransitionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[CreditRecord],
):
    """Credit records: applicants see the records of the persons they act for, staff their scope. Staff
    must give a purpose, and every person whose records they see is written to the access log."""

    detail_serializer_class = RecordDetailSerializer

    def get_queryset(self) -> Any:
        queryset = records_for(self.request.user)
        if self.action != "list":
            queryset = queryset.prefetch_related(
                Prefetch("penalties", queryset=Penalty.objects.order_by("id")), "amendments"
            )
        return queryset

    def get_serializer_class(self) -> Any:
        return RecordListSerializer if self.action == "list" else RecordDetailSerializer

    def filter_queryset(self, queryset: Any) -> Any:
        params = self.request.query_params
        for name in ("state", "tier", "domain", "record_type"):
            if params.get(name):
                queryset = queryset.filter(**{name: params[name]})
        if params.get("department"):
            queryset = queryset.filter(department__code=params["department"])
        if params.get("id_number"):
            # Exact match of the whole number only, by its keyed hash; never a partial search.
            if not is_staff_member(self.request.user):
                raise ValidationError(_("Only staff search by ID number."))
            queryset = queryset.filter(person__in=Person.objects.by_id_number(params["id_number"]))
        return queryset

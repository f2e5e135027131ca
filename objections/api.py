"""/api/v1/objections/: the objection on the kernel's case API contract, filing and evidence."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from credit.api.serializers import CaseSerializerMixin
from credit.api.views import PURPOSE_PARAMS, AccessLoggedMixin, CaseTransitionsMixin
from credit.selectors import records_for, scoped
from repair.models import RepairCase

from . import services
from .models import Ground, Objection, ObjectionEvidence, Outcome, Remedy


# -- transition payloads (named by the transitions' `custom["payload"]`) ---------------------------------
class ReasonsSerializer(serializers.Serializer[Any]):
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=1000), min_length=1, label=_("Reasons")
    )


class ExtensionSerializer(serializers.Serializer[Any]):
    working_days = serializers.IntegerField(
        min_value=1, max_value=services.MAX_EXTENSION_WORKING_DAYS, label=_("Extension in working days")
    )


class DraftSerializer(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=Outcome.choices, label=_("Outcome"))
    remedy = serializers.ChoiceField(
        choices=Remedy.choices, required=False, allow_blank=True, default="", label=_("Remedy")
    )
    corrections = serializers.DictField(
        required=False,
        default=dict,
        label=_("Corrections"),
        help_text="For a correction: the record's fields and their corrected values.",
    )
    findings = serializers.CharField(max_length=5000, required=False, allow_blank=True, label=_("Findings"))
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=1000), required=False, default=list, label=_("Reasons")
    )


# -- reads --------------------------------------------------------------------------------------------------
class EvidenceSerializer(serializers.ModelSerializer[ObjectionEvidence]):
    class Meta:
        model = ObjectionEvidence
        fields = ["id", "original_name", "content_type", "size", "sha256", "description", "uploaded_at"]


class ObjectionListSerializer(serializers.ModelSerializer[Objection]):
    record = serializers.CharField(source="record.number", read_only=True)
    repair_case = serializers.CharField(source="repair_case.number", read_only=True, default=None)
    department = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Objection
        fields = [
            "id",
            "number",
            "state",
            "record",
            "repair_case",
            "department",
            "grounds",
            "channel",
            "received_at",
            "extended",
        ]


class ObjectionDetailSerializer(CaseSerializerMixin, ObjectionListSerializer):
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta(ObjectionListSerializer.Meta):
        fields = [
            *ObjectionListSerializer.Meta.fields,
            "statement",
            "non_acceptance_reasons",
            "draft_outcome",
            "draft_remedy",
            "draft_corrections",
            "draft_findings",
            "draft_reasons",
            "decided_at",
            "evidence",
            "allowed_transitions",
            "deadlines",
            "timeline",
        ]


# -- writes -------------------------------------------------------------------------------------------------
class FileSerializer(serializers.Serializer[Any]):
    record = serializers.IntegerField(required=False, help_text="The record objected to.")
    repair_case = serializers.IntegerField(
        required=False, help_text="Or the repair case whose decision (不予受理 / 不予修复) is objected to."
    )
    grounds = serializers.ListField(child=serializers.ChoiceField(choices=Ground.choices), min_length=1)
    statement = serializers.CharField(max_length=10000)
    signed_form = serializers.FileField(required=False, help_text="Walk-in: the scanned signed form.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("record" in attrs) == ("repair_case" in attrs):
            raise serializers.ValidationError(_("Name either the record or the repair case objected to."))
        return attrs


class EvidenceInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


@extend_schema(parameters=PURPOSE_PARAMS)
class ObjectionViewSet(
    AccessLoggedMixin,
    CaseTransitionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Objection],
):
    """Objections: applicants see theirs (and their agents by a verified authorisation), department staff
    their department's, intake city-wide. Steps: POST …/{id}/transitions/{name}/."""

    detail_serializer_class = ObjectionDetailSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        queryset = scoped(
            self.request.user, Objection.objects.select_related("record", "repair_case", "department")
        )
        if self.action != "list":
            queryset = queryset.prefetch_related("evidence")
        return queryset.order_by("-received_at", "-id")

    def get_serializer_class(self) -> Any:
        return ObjectionListSerializer if self.action == "list" else ObjectionDetailSerializer

    @extend_schema(request=FileSerializer, responses={201: dict})
    def create(self, request: Request) -> Response:
        """Object to a record, or to a decision on a repair application (the person, their agent, or intake
        for a walk-in applicant with the signed form)."""
        body = FileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        record = repair_case = None
        if "record" in data:
            record = get_object_or_404(records_for(request.user), pk=data["record"])
        else:
            repair_case = get_object_or_404(
                scoped(request.user, RepairCase.objects.select_related("record")), pk=data["repair_case"]
            )
        objection = services.file_objection(
            actor=request.user,
            grounds=data["grounds"],
            statement=data["statement"],
            record=record,
            repair_case=repair_case,
            signed_form=data.get("signed_form"),
        )
        location = f"{request.path.rstrip('/')}/{objection.pk}/"
        short = {"id": objection.pk, "number": objection.number, "state": objection.state, "url": location}
        return Response(short, status=status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(request=EvidenceInputSerializer, responses={201: EvidenceSerializer})
    @action(detail=True, methods=["post"], url_path="evidence")
    def add_evidence(self, request: Request, pk: str | None = None) -> Response:
        body = EvidenceInputSerializer(data=request.data)
        if not body.is_valid():
            raise DRFValidationError(body.errors)
        evidence = services.add_evidence(
            objection=self.get_object(),
            upload=body.validated_data["file"],
            actor=request.user,
            description=body.validated_data["description"],
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

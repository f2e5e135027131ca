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
from credit.models import Department, Person
from credit.models.people import persons_acted_for
from credit.roles import may
from credit.selectors import records_for, scoped
from repair.models import RepairCase

from . import complaint_services, reconsideration_services, services
from .models import (
    Complaint,
    Decision,
    Ground,
    Objection,
    ObjectionEvidence,
    Outcome,
    Reconsideration,
    Remedy,
)


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


class SupplementRequestSerializer(serializers.Serializer[Any]):
    missing = serializers.ListField(
        child=serializers.CharField(max_length=300),
        min_length=1,
        label=_("Materials missing"),
        help_text="Everything missing, in ONE notice.",
    )


class ReconsiderationAcceptSerializer(serializers.Serializer[Any]):
    simplified = serializers.BooleanField(
        required=False, default=False, label=_("Simplified procedure (decision within 30 days)")
    )


class ReconsiderationDraftSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=Decision.choices, label=_("Decision"))
    corrections = serializers.DictField(
        required=False,
        default=dict,
        label=_("Corrections"),
        help_text="For 变更 (vary): the record's fields and their new values.",
    )
    findings = serializers.CharField(max_length=5000, required=False, allow_blank=True, label=_("Findings"))
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=1000), required=False, default=list, label=_("Reasons")
    )


class ComplaintReplySerializer(serializers.Serializer[Any]):
    reply = serializers.CharField(max_length=10000, label=_("Written reply"))


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


class ReconsiderationListSerializer(serializers.ModelSerializer[Reconsideration]):
    record = serializers.CharField(source="record.number", read_only=True)
    objection = serializers.CharField(source="objection.number", read_only=True, default=None)
    repair_case = serializers.CharField(source="repair_case.number", read_only=True, default=None)
    department = serializers.CharField(source="department.name", read_only=True)
    office = serializers.CharField(source="office.name", read_only=True)

    class Meta:
        model = Reconsideration
        fields = [
            "id",
            "number",
            "state",
            "record",
            "objection",
            "repair_case",
            "department",
            "office",
            "channel",
            "received_at",
            "knew_on",
            "deemed_accepted",
            "simplified",
            "extended",
        ]


class ReconsiderationDetailSerializer(CaseSerializerMixin, ReconsiderationListSerializer):
    class Meta(ReconsiderationListSerializer.Meta):
        fields = [
            *ReconsiderationListSerializer.Meta.fields,
            "request",
            "statement",
            "supplement_missing",
            "non_acceptance_reasons",
            "draft_decision",
            "draft_corrections",
            "draft_findings",
            "draft_reasons",
            "decided_at",
            "allowed_transitions",
            "deadlines",
            "timeline",
        ]


class ReconsiderationFileSerializer(serializers.Serializer[Any]):
    objection = serializers.IntegerField(
        required=False, help_text="The objection whose decision is challenged."
    )
    repair_case = serializers.IntegerField(
        required=False, help_text="Or the repair case whose refusal or non-acceptance is challenged."
    )
    request = serializers.CharField(max_length=2000, help_text="What the applicant asks for (复议请求).")
    statement = serializers.CharField(max_length=10000, help_text="Facts and reasons.")
    knew_on = serializers.DateField(
        required=False, help_text="When the applicant learned of the decision, if it was not served."
    )
    signed_form = serializers.FileField(required=False, help_text="Walk-in: the scanned signed application.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("objection" in attrs) == ("repair_case" in attrs):
            raise serializers.ValidationError(_("Name either the objection or the repair case challenged."))
        return attrs


@extend_schema(parameters=PURPOSE_PARAMS)
class ReconsiderationViewSet(
    AccessLoggedMixin,
    CaseTransitionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Reconsideration],
):
    """Administrative reconsiderations: applicants see theirs, the reconsideration office all, the department
    whose decision is challenged its own. Steps: POST …/{id}/transitions/{name}/."""

    detail_serializer_class = ReconsiderationDetailSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        related = ("record", "objection", "repair_case", "department", "office")
        queryset = scoped(self.request.user, Reconsideration.objects.select_related(*related))
        return queryset.order_by("-received_at", "-id")

    def get_serializer_class(self) -> Any:
        return ReconsiderationListSerializer if self.action == "list" else ReconsiderationDetailSerializer

    @extend_schema(request=ReconsiderationFileSerializer, responses={201: dict})
    def create(self, request: Request) -> Response:
        """Apply for reconsideration of an objection decision or a repair refusal or non-acceptance."""
        body = ReconsiderationFileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        objection = repair_case = None
        if "objection" in data:
            objection = get_object_or_404(scoped(request.user, Objection.objects.all()), pk=data["objection"])
        else:
            repair_case = get_object_or_404(
                scoped(request.user, RepairCase.objects.all()), pk=data["repair_case"]
            )
        case = reconsideration_services.file_reconsideration(
            actor=request.user,
            request=data["request"],
            statement=data["statement"],
            objection=objection,
            repair_case=repair_case,
            knew_on=data.get("knew_on"),
            signed_form=data.get("signed_form"),
        )
        location = f"{request.path.rstrip('/')}/{case.pk}/"
        short = {"id": case.pk, "number": case.number, "state": case.state, "url": location}
        return Response(short, status=status.HTTP_201_CREATED, headers={"Location": location})


# -- complaints ---------------------------------------------------------------------------------------------
class ComplaintSerializer(CaseSerializerMixin, serializers.ModelSerializer[Complaint]):
    department = serializers.CharField(source="department.name", read_only=True)
    case = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = [
            "id",
            "number",
            "state",
            "about",
            "department",
            "case",
            "staff_named",
            "statement",
            "channel",
            "received_at",
            "reply",
            "replied_at",
            "allowed_transitions",
            "deadlines",
            "timeline",
        ]

    def get_case(self, complaint: Complaint) -> str | None:
        case = complaint.case
        return str(case) if case is not None else None


class ComplaintListSerializer(serializers.ModelSerializer[Complaint]):
    department = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Complaint
        fields = ["id", "number", "state", "about", "department", "received_at", "replied_at"]


class ComplaintFileSerializer(serializers.Serializer[Any]):
    about = serializers.ChoiceField(choices=Complaint.About.choices)
    statement = serializers.CharField(max_length=10000)
    repair_case = serializers.IntegerField(required=False, help_text="The repair case complained about.")
    objection = serializers.IntegerField(required=False, help_text="Or the objection complained about.")
    reconsideration = serializers.IntegerField(
        required=False, help_text="Or the reconsideration complained about."
    )
    department = serializers.IntegerField(required=False, help_text="The department, when no case is named.")
    person = serializers.IntegerField(
        required=False, help_text="Intake, for a walk-in complainant: the person."
    )
    staff_named = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        named = [k for k in ("repair_case", "objection", "reconsideration") if k in attrs]
        if len(named) > 1:
            raise serializers.ValidationError(_("Name at most one case."))
        return attrs


@extend_schema(parameters=PURPOSE_PARAMS)
class ComplaintViewSet(
    AccessLoggedMixin,
    CaseTransitionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Complaint],
):
    """Complaints: the complainant sees theirs and the reply; the head of the department concerned its
    department's; auditors all. The head replies: POST …/{id}/transitions/answer/ with a reply payload."""

    detail_serializer_class = ComplaintSerializer

    def get_queryset(self) -> Any:
        queryset = complaint_services.complaints_for(self.request.user).select_related("department")
        if self.action != "list":
            queryset = queryset.select_related("case_content_type")
        return queryset.order_by("-received_at", "-id")

    def get_serializer_class(self) -> Any:
        return ComplaintListSerializer if self.action == "list" else ComplaintSerializer

    @extend_schema(request=ComplaintFileSerializer, responses={201: dict})
    def create(self, request: Request) -> Response:
        body = ComplaintFileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        models = {"repair_case": RepairCase, "objection": Objection, "reconsideration": Reconsideration}
        case = None
        for field, model in models.items():
            if field in data:
                case = get_object_or_404(scoped(request.user, model.objects.all()), pk=data[field])
        department = get_object_or_404(Department, pk=data["department"]) if "department" in data else None
        person = None
        if "person" in data:
            # Intake names the walk-in complainant; anyone else only a person they act for.
            if may(request.user, "objections.forward_objection"):
                persons = Person.objects.all()
            else:
                persons = Person.objects.filter(pk__in=list(persons_acted_for(request.user)))  # type: ignore[arg-type]
            person = get_object_or_404(persons, pk=data["person"])
        complaint = complaint_services.file_complaint(
            actor=request.user,
            about=data["about"],
            statement=data["statement"],
            case=case,
            department=department,
            person=person,
            staff_named=data["staff_named"],
        )
        location = f"{request.path.rstrip('/')}/{complaint.pk}/"
        short = {"id": complaint.pk, "number": complaint.number, "state": complaint.state, "url": location}
        return Response(short, status=status.HTTP_201_CREATED, headers={"Location": location})

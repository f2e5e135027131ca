"""/api/v1/repairs/: the repair case on the kernel's case API contract, filing, eligibility, evidence,
interviews, notes, and the persons' commitments."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from credit.api.serializers import CaseSerializerMixin
from credit.api.views import PURPOSE_PARAMS, AccessLoggedMixin, CaseTransitionsMixin
from credit.models import CreditRecord
from credit.selectors import is_staff_member, records_for, scoped

from . import eligibility, services
from .models import CaseNote, Commitment, Evidence, EvidenceKind, Interview, RepairCase, RepairRevocation


# -- transition payloads (named by the transitions' `custom["payload"]`) ---------------------------------
class SupplementRequestSerializer(serializers.Serializer[Any]):
    missing = serializers.ListField(
        child=serializers.CharField(max_length=300),
        min_length=1,
        label=_("Materials missing"),
        help_text="Everything missing, in ONE notice.",
    )


class ReasonsSerializer(serializers.Serializer[Any]):
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=1000), min_length=1, label=_("Reasons")
    )


class DraftSerializer(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=RepairCase.Outcome.choices, label=_("Outcome"))
    reasons = serializers.ListField(
        child=serializers.CharField(max_length=1000), required=False, default=list, label=_("Reasons")
    )


# -- reads --------------------------------------------------------------------------------------------------
class EvidenceSerializer(serializers.ModelSerializer[Evidence]):
    class Meta:
        model = Evidence
        fields = [
            "id",
            "kind",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "hours",
            "amount",
            "description",
            "uploaded_at",
            "status",
            "rejection_reason",
            "verified_at",
        ]


class InterviewSerializer(serializers.ModelSerializer[Interview]):
    class Meta:
        model = Interview
        fields = ["id", "scheduled_at", "place", "online_link", "status", "minutes"]


class NoteSerializer(serializers.ModelSerializer[CaseNote]):
    class Meta:
        model = CaseNote
        fields = ["id", "text", "for_applicant", "created_at"]


class CommitmentSerializer(serializers.ModelSerializer[Commitment]):
    version = serializers.CharField(source="ruleset.label", read_only=True)
    case = serializers.CharField(source="case.number", read_only=True)

    class Meta:
        model = Commitment
        fields = ["case", "text", "text_sha256", "version", "signed_at", "breached_at"]


class RepairListSerializer(serializers.ModelSerializer[RepairCase]):
    record = serializers.CharField(source="record.number", read_only=True)
    department = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = RepairCase
        fields = ["id", "number", "state", "record", "department", "channel", "received_at", "extended"]


class RepairDetailSerializer(CaseSerializerMixin, RepairListSerializer):
    evidence = EvidenceSerializer(many=True, read_only=True)
    interviews = InterviewSerializer(many=True, read_only=True)
    notes = serializers.SerializerMethodField()
    commitment = CommitmentSerializer(read_only=True)
    volunteer_hours = serializers.SerializerMethodField()
    blockers = serializers.SerializerMethodField()

    class Meta(RepairListSerializer.Meta):
        fields = [
            *RepairListSerializer.Meta.fields,
            "statement",
            "duty_fulfilled_on",
            "supplement_missing",
            "non_acceptance_reasons",
            "draft_outcome",
            "draft_reasons",
            "sanctions_lifted",
            "evidence",
            "interviews",
            "notes",
            "commitment",
            "volunteer_hours",
            "blockers",
            "allowed_transitions",
            "deadlines",
            "timeline",
        ]

    def get_notes(self, case: RepairCase) -> list[dict[str, Any]]:
        notes = case.notes.all()
        if not is_staff_member(self.context["request"].user):
            notes = notes.filter(for_applicant=True)  # internal notes are staff-only
        return NoteSerializer(notes, many=True).data  # type: ignore[return-value]

    def get_volunteer_hours(self, case: RepairCase) -> dict[str, Any]:
        threshold = case.overlay.volunteer_hours_threshold if case.overlay else None
        return {
            "accepted": str(case.accepted_volunteer_hours()),
            "required": str(threshold) if threshold is not None else None,
        }

    def get_blockers(self, case: RepairCase) -> list[str]:
        return case.blockers()


class FileSerializer(serializers.Serializer[Any]):
    record = serializers.IntegerField()
    statement = serializers.CharField(max_length=5000)
    commitment_accepted = serializers.BooleanField()
    duty_fulfilled_on = serializers.DateField(required=False, allow_null=True)
    signed_form = serializers.FileField(required=False)


class EvidenceInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    hours = serializers.DecimalField(max_digits=6, decimal_places=1, required=False, allow_null=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class VerifyInputSerializer(serializers.Serializer[Any]):
    accept = serializers.BooleanField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class InterviewInputSerializer(serializers.Serializer[Any]):
    scheduled_at = serializers.DateTimeField()
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    online_link = serializers.URLField(required=False, allow_blank=True, default="")


class InterviewOutcomeSerializer(serializers.Serializer[Any]):
    held = serializers.BooleanField()
    minutes = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)


class NoteInputSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=5000)
    for_applicant = serializers.BooleanField(default=False)


class RevocationInputSerializer(serializers.Serializer[Any]):
    ground = serializers.ChoiceField(choices=RepairRevocation.Ground.choices)
    facts = serializers.CharField(max_length=5000)


@extend_schema(parameters=PURPOSE_PARAMS)
class RepairViewSet(
    AccessLoggedMixin,
    CaseTransitionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[RepairCase],
):
    """Repair cases: applicants see theirs (and their agents by a verified authorisation), department staff
    their department's, intake city-wide. Steps: POST …/{id}/transitions/{name}/."""

    detail_serializer_class = RepairDetailSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        queryset = scoped(
            self.request.user, RepairCase.objects.select_related("record", "department", "overlay")
        )
        if self.action != "list":
            queryset = queryset.select_related("commitment__ruleset", "commitment__case").prefetch_related(
                "evidence", "interviews"
            )
        return queryset.order_by("-received_at", "-id")

    def get_serializer_class(self) -> Any:
        return RepairListSerializer if self.action == "list" else RepairDetailSerializer

    def _detail(self, case: RepairCase, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=case.pk)
        return Response(RepairDetailSerializer(fresh, context={"request": self.request}).data, status=code)

    @extend_schema(request=FileSerializer, responses={201: dict})
    def create(self, request: Request) -> Response:
        """File a repair: by the person or their agent online, or by intake for a walk-in (signed form)."""
        body = FileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Filing reads the record's own fields and its department's city; the rest is not joined.
        record = get_object_or_404(
            scoped(request.user, CreditRecord.objects.select_related("department")),
            pk=body.validated_data["record"],
        )
        case = services.file_repair(
            record=record,
            actor=request.user,
            statement=body.validated_data["statement"],
            commitment_accepted=body.validated_data["commitment_accepted"],
            duty_fulfilled_on=body.validated_data.get("duty_fulfilled_on"),
            signed_form=body.validated_data.get("signed_form"),
        )
        # A short answer: the full case (deadlines, timeline, evidence) is one GET away, and building it here
        # was a third of the cost of filing (bench/intake.py).
        location = f"{request.path.rstrip('/')}/{case.pk}/"
        short = {"id": case.pk, "number": case.number, "state": case.state, "url": location}
        return Response(short, status=status.HTTP_201_CREATED, headers={"Location": location})

    def _record(self, request: Request, record_id: int) -> CreditRecord:
        return get_object_or_404(records_for(request.user), pk=record_id)

    @extend_schema(parameters=[OpenApiParameter("record", int, required=True)], responses={200: dict})
    @action(detail=False, methods=["get"])
    def eligibility(self, request: Request) -> Response:
        """Can this record be repaired now? Yes, or every reason why not with the first possible date."""
        record_id = request.query_params.get("record", "")
        if not record_id.isdigit():
            raise DRFValidationError({"record": ["Give the record's id."]})
        return Response(eligibility.check(self._record(request, int(record_id))).as_dict())

    @extend_schema(request=EvidenceInputSerializer, responses={201: EvidenceSerializer})
    @action(detail=True, methods=["post"], url_path="evidence")
    def add_evidence(self, request: Request, pk: str | None = None) -> Response:
        body = EvidenceInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        evidence = services.add_evidence(
            case=self.get_object(),
            upload=data["file"],
            kind=data["kind"],
            actor=request.user,
            hours=data.get("hours"),
            amount=data.get("amount"),
            description=data["description"],
        )
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VerifyInputSerializer, responses={200: EvidenceSerializer})
    @action(detail=True, methods=["post"], url_path=r"evidence/(?P<evidence_id>\d+)/verify")
    def verify_evidence(self, request: Request, pk: str | None = None, evidence_id: str = "") -> Response:
        case = self.get_object()
        body = VerifyInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        evidence = get_object_or_404(Evidence, pk=evidence_id, case=case)
        result = services.verify_evidence(
            evidence=evidence,
            accept=body.validated_data["accept"],
            reason=body.validated_data["reason"],
            actor=request.user,
        )
        return Response(EvidenceSerializer(result).data)

    @extend_schema(request=InterviewInputSerializer, responses={201: InterviewSerializer})
    @action(detail=True, methods=["post"])
    def interviews(self, request: Request, pk: str | None = None) -> Response:
        body = InterviewInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        interview = services.schedule_interview(
            case=self.get_object(),
            at=body.validated_data["scheduled_at"],
            place=body.validated_data["place"],
            online_link=body.validated_data["online_link"],
            actor=request.user,
        )
        return Response(InterviewSerializer(interview).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InterviewOutcomeSerializer, responses={200: InterviewSerializer})
    @action(detail=True, methods=["post"], url_path=r"interviews/(?P<interview_id>\d+)/outcome")
    def interview_outcome(self, request: Request, pk: str | None = None, interview_id: str = "") -> Response:
        case = self.get_object()
        body = InterviewOutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        interview = get_object_or_404(Interview, pk=interview_id, case=case)
        result = services.record_interview(
            interview=interview,
            held=body.validated_data["held"],
            minutes=body.validated_data["minutes"],
            actor=request.user,
        )
        return Response(InterviewSerializer(result).data)

    @extend_schema(request=ReasonSerializer, responses={200: RepairDetailSerializer})
    @action(detail=True, methods=["post"], url_path="waive-interview")
    def waive_interview(self, request: Request, pk: str | None = None) -> Response:
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.waive_interview(
            case=self.get_object(), reason=body.validated_data["reason"], actor=request.user
        )
        return self._detail(case)

    @extend_schema(request=NoteInputSerializer, responses={201: NoteSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str | None = None) -> Response:
        body = NoteInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = services.add_note(case=self.get_object(), actor=request.user, **body.validated_data)
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RevocationInputSerializer, responses={201: dict})
    @action(detail=True, methods=["post"])
    def revocations(self, request: Request, pk: str | None = None) -> Response:
        """Open the revocation of a granted repair (false materials, untrue commitment, deliberate breach)."""
        body = RevocationInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revocation = services.open_revocation(
            case=self.get_object(), actor=request.user, **body.validated_data
        )
        return Response({"id": revocation.pk, "state": revocation.state}, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: CommitmentSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def commitments(self, request: Request) -> Response:
        """The credit commitments of the persons the caller may see (public, listed per person)."""
        cases = self.get_queryset().values_list("pk", flat=True)
        commitments = (
            Commitment.objects.filter(case__in=cases).select_related("ruleset", "case").order_by("-signed_at")
        )
        return Response(CommitmentSerializer(commitments[:200], many=True).data)


class RevocationSerializer(CaseSerializerMixin, serializers.ModelSerializer[RepairRevocation]):
    case = serializers.CharField(source="case.number", read_only=True)
    new_record = serializers.CharField(source="new_record.number", read_only=True, default=None)

    class Meta:
        model = RepairRevocation
        fields = [
            "id",
            "number",
            "case",
            "ground",
            "facts",
            "state",
            "opened_at",
            "new_record",
            "allowed_transitions",
            "deadlines",
            "timeline",
        ]


@extend_schema(parameters=PURPOSE_PARAMS)
class RevocationViewSet(
    AccessLoggedMixin,
    CaseTransitionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[RepairRevocation],
):
    """Revocations of granted repairs (Order 36 Art. 25): opened by an officer with
    POST /api/v1/repairs/{id}/revocations/, decided by another legal reviewer (…/transitions/approve/)."""

    serializer_class = RevocationSerializer
    detail_serializer_class = RevocationSerializer

    def get_queryset(self) -> Any:
        return scoped(
            self.request.user, RepairRevocation.objects.select_related("case", "new_record")
        ).order_by("-id")

"""/api/v1/letters/: the letters of the persons a caller may see; downloads; service; public verification."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from credit.api.serializers import CaseSerializerMixin
from credit.api.views import PURPOSE_PARAMS, AccessLoggedMixin, CaseTransitionsMixin
from credit.models import Person
from credit.models.audit import AccessLog
from credit.selectors import is_staff_member, scoped

from . import services
from .models import Letter, LetterState, ServiceMethod, ServiceRecord


class ServiceRecordSerializer(serializers.ModelSerializer[ServiceRecord]):
    class Meta:
        model = ServiceRecord
        fields = ["method", "served_at", "receipt", "recorded_at"]


class LetterListSerializer(serializers.ModelSerializer[Letter]):
    number = serializers.CharField(source="reference_number", read_only=True)
    department = serializers.CharField(source="department.name", read_only=True)
    served_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Letter
        fields = ["id", "number", "kind", "state", "case_number", "department", "issued_at", "served_at"]


class LetterDetailSerializer(CaseSerializerMixin, LetterListSerializer):
    services = ServiceRecordSerializer(many=True, read_only=True)
    verification_code = serializers.SerializerMethodField()
    superseded_by = serializers.SerializerMethodField()

    class Meta(LetterListSerializer.Meta):
        fields = [
            *LetterListSerializer.Meta.fields,
            "verification_code",
            "sha256",
            "timestamped",
            "services",
            "supersedes",
            "superseded_by",
            "allowed_transitions",
            "deadlines",
            "timeline",
        ]

    def get_verification_code(self, letter: Letter) -> str:
        return services.display_code(letter.verification_code)

    def get_superseded_by(self, letter: Letter) -> int | None:
        successor = Letter.objects.filter(supersedes=letter).values_list("pk", flat=True).first()
        return successor


class RenderThrottle(UserRateThrottle):
    """The courtesy translation is rendered on request (~0.2 s of CPU): a per-user limit keeps one account
    from occupying the web workers."""

    scope = "render"
    rate = "20/min"


class ServiceInputSerializer(serializers.Serializer[Any]):
    method = serializers.ChoiceField(choices=ServiceMethod.choices)
    served_at = serializers.DateTimeField()
    receipt = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")


@extend_schema(parameters=PURPOSE_PARAMS)
class LetterViewSet(
    AccessLoggedMixin,
    CaseTransitionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Letter],
):
    """Applicants see their letters (and their agents, by a verified authorisation); staff their
    department's, with a purpose that is logged."""

    detail_serializer_class = LetterDetailSerializer

    def get_queryset(self) -> Any:
        return scoped(
            self.request.user, Letter.objects.select_related("department").prefetch_related("services")
        )

    def get_serializer_class(self) -> Any:
        return LetterListSerializer if self.action == "list" else LetterDetailSerializer

    def _issued(self) -> Letter:
        purpose = self.get_purpose()
        letter: Letter = self.get_object()
        self.check_purpose_covers(letter, purpose)
        if letter.state == LetterState.PENDING or not letter.file:
            raise ValidationError(_("The letter is still being prepared."), code="pending")
        self.log(purpose, [letter.person_id], AccessLog.Action.EXPORT)
        return letter

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> FileResponse:
        """The signed letter, as archived."""
        letter = self._issued()
        return FileResponse(
            letter.file.open("rb"),
            as_attachment=True,
            filename=f"{letter.pk}.pdf",
            content_type="application/pdf",
        )

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"], throttle_classes=[RenderThrottle])
    def english(self, request: Request, pk: str | None = None) -> HttpResponse:
        """An English courtesy translation, rendered on request and marked as not the legal document."""
        from .rendering import render_pdf

        letter = self._issued()
        data = render_pdf(letter.context, kind=letter.kind, language="en")
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{letter.pk}-en.pdf"'
        return response

    @extend_schema(request=ServiceInputSerializer, responses={201: ServiceRecordSerializer})
    @action(detail=True, methods=["post"])
    def service(self, request: Request, pk: str | None = None) -> Response:
        """Record how the letter was served (送达): in person or by post with a receipt, or electronically
        where the person has consented."""
        letter = self.get_object()
        body = ServiceInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = services.record_service(letter=letter, actor=request.user, **body.validated_data)
        return Response(ServiceRecordSerializer(record).data, status=status.HTTP_201_CREATED)


class VerifyThrottle(AnonRateThrottle):
    rate = "60/min"


@extend_schema(auth=[], responses={200: dict})
@api_view(["GET"])
@permission_classes([AllowAny])
@throttle_classes([VerifyThrottle])
def verify(request: Request, code: str) -> Response:
    """Anyone may check a letter by its verification code: authentic, superseded, revoked or unknown, with
    its kind, department, date and hash. No personal data."""
    return Response(services.verify_code(code).as_dict())


class ConsentInputSerializer(serializers.Serializer[Any]):
    person = serializers.IntegerField(
        required=False, help_text="Staff only: the person who signed the consent."
    )


def _consent_person(request: Request, person_id: int | None) -> Person:
    if person_id is None:
        own = Person.objects.filter(user_id=request.user.pk or 0).first()
        if own is None:
            raise ValidationError(_("Your account is not linked to a verified person yet."), code="no_person")
        return own
    if not is_staff_member(request.user):
        raise ValidationError(_("Only staff record a consent for someone else."), code="not_staff")
    return get_object_or_404(Person, pk=person_id)


@extend_schema(request=ConsentInputSerializer, responses={201: dict})
@api_view(["POST"])
def give_consent(request: Request) -> Response:
    """Consent to electronic service: letters are then served to the applicant portal when issued."""
    body = ConsentInputSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    consent = services.give_consent(
        person=_consent_person(request, body.validated_data.get("person")), actor=request.user
    )
    return Response(
        {"given_at": consent.given_at, "channel": consent.channel}, status=status.HTTP_201_CREATED
    )


@extend_schema(request=ConsentInputSerializer, responses={200: dict})
@api_view(["POST"])
def withdraw_consent(request: Request) -> Response:
    body = ConsentInputSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    withdrawn = services.withdraw_consent(
        person=_consent_person(request, body.validated_data.get("person")), actor=request.user
    )
    return Response({"withdrawn": withdrawn})

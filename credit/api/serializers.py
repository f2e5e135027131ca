from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credit.models import CreditRecord, Deadline, Penalty, RecordAmendment, TransitionLog
from credit.models.records import Domain, RecordType, Visibility
from credit.selectors import deadlines_of, is_staff_member, timeline
from credit.services.transitions import allowed_transitions


class DeadlineSerializer(serializers.ModelSerializer[Deadline]):
    due_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Deadline
        fields = [
            "kind",
            "description",
            "start_date",
            "due_date",
            "due_at",
            "value",
            "unit",
            "basis",
            "provisional",
            "status",
            "closed_at",
        ]


class TimelineEntrySerializer(serializers.ModelSerializer[TransitionLog]):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = TransitionLog
        fields = ["at", "transition", "from_state", "to_state", "actor", "reason"]

    def get_actor(self, entry: TransitionLog) -> str:
        # Applicants see that staff or the system acted, not which staff member.
        request = self.context.get("request")
        if request is not None and not is_staff_member(request.user):
            return "system" if entry.actor_id is None else "staff"
        return entry.actor_label


class CaseSerializerMixin(serializers.Serializer[Any]):
    """The case API contract: every case and record detail has these, computed for the caller."""

    allowed_transitions = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, obj: Any) -> list[str]:
        return allowed_transitions(obj, self.context["request"].user)

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, obj: Any) -> list[dict[str, Any]]:
        return DeadlineSerializer(deadlines_of(obj), many=True).data  # type: ignore[return-value]

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, obj: Any) -> list[dict[str, Any]]:
        request = self.context.get("request")
        entries = timeline(obj, for_applicant=request is not None and not is_staff_member(request.user))
        return TimelineEntrySerializer(entries, many=True, context=self.context).data  # type: ignore[return-value]


class PenaltySerializer(serializers.ModelSerializer[Penalty]):
    class Meta:
        model = Penalty
        fields = ["kind", "tier", "amount", "term_value", "term_unit", "description"]


class AmendmentHistorySerializer(serializers.ModelSerializer[RecordAmendment]):
    class Meta:
        model = RecordAmendment
        fields = ["field", "old_value", "new_value", "reason", "at"]


class PersonBriefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    id_type = serializers.CharField()
    id_masked = serializers.CharField()


class RecordListSerializer(serializers.ModelSerializer[CreditRecord]):
    person = PersonBriefSerializer(read_only=True)
    department = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = CreditRecord
        fields = [
            "id",
            "number",
            "state",
            "person",
            "record_type",
            "domain",
            "department",
            "decision_number",
            "decision_date",
            "tier",
            "repair_from",
            "display_until",
            "under_objection",
        ]


class RecordDetailSerializer(CaseSerializerMixin, RecordListSerializer):
    penalties = PenaltySerializer(many=True, read_only=True)
    amendments = AmendmentHistorySerializer(many=True, read_only=True)
    ruleset = serializers.CharField(source="ruleset.label", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta(RecordListSerializer.Meta):
        fields = [
            *RecordListSerializer.Meta.fields,
            "state_display",
            "facts",
            "visibility",
            "repairable",
            "repair_blocked_until",
            "ruleset",
            "penalties",
            "amendments",
            "allowed_transitions",
            "deadlines",
            "timeline",
        ]


class TransitionRequestSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    payload = serializers.DictField(required=False)


class AmendmentSerializer(serializers.Serializer[Any]):
    """What a correction may change; at least one field."""

    record_type = serializers.ChoiceField(choices=RecordType.choices, required=False)
    domain = serializers.ChoiceField(choices=Domain.choices, required=False)
    decision_number = serializers.CharField(max_length=100, required=False)
    decision_date = serializers.DateField(required=False)
    facts = serializers.CharField(required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    duty_fulfilled_on = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Name at least one field to correct.")
        return attrs

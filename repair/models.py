"""Credit repair (信用修复, NDRC Order 36 Arts. 14–17, 25): the case, the commitment, evidence, interviews.

The case's `state` is the law: its transitions carry who may act (department scope, and four-eyes for the
legal review: the reviewer is never someone who drafted, proposed or verified anything in the case)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from credit.roles import applicant, department_perm, may, nobody


class RepairState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, waiting for acceptance")
    AWAITING_SUPPLEMENT = "awaiting_supplement", _("Waiting for the applicant's supplement")
    NON_ACCEPTANCE_REVIEW = "non_acceptance_review", _("Non-acceptance in legal review")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    ACCEPTED = "accepted", _("Accepted, being verified")
    DECISION_REVIEW = "decision_review", _("Decision in legal review")
    REPAIRED = "repaired", _("Repaired")
    REFUSED = "refused", _("Repair refused")
    LAPSED = "lapsed", _("Lapsed (supplement not supplied in time)")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REVOKED = "revoked", _("Repair revoked")


S = RepairState
OPEN_STATES = [S.SUBMITTED, S.AWAITING_SUPPLEMENT, S.NON_ACCEPTANCE_REVIEW, S.ACCEPTED, S.DECISION_REVIEW]


def _officer(case: Any, user: Any) -> bool:
    return department_perm("repair.handle_repair")(case, user)


def _reviewer(case: Any, user: Any) -> bool:
    """The department's legal reviewer, who has not drafted, proposed or verified anything in this case."""
    return department_perm("repair.review_repair")(case, user) and user.pk not in case.involved_user_ids()


def _head(case: Any, user: Any) -> bool:
    return department_perm("repair.approve_extension")(case, user)


def _reopener(case: Any, user: Any) -> bool:
    """Who sets a repair decision aside: the deciding department's legal reviewer, approving a founded
    objection against it (the objection's own four-eyes rule applies to that approval), or the
    reconsideration office, never a member of the department whose decision it was."""
    if department_perm("objections.review_objection")(case, user):
        return True
    return may(user, "objections.decide_reconsideration") and case.department_id not in user.department_ids()


def _no_other_open_repair(case: Any) -> bool:
    others = RepairCase.objects.filter(record_id=case.record_id, state__in=OPEN_STATES).exclude(pk=case.pk)
    return not others.exists()


def _applicant_or_intake(case: Any, user: Any) -> bool:
    return applicant(case, user) or may(user, "repair.file_for_applicant")


def _no_supplement_yet(case: Any) -> bool:
    return not case.supplement_requested


def _ready_for_decision(case: Any) -> bool:
    return not case.blockers()


def _not_extended(case: Any) -> bool:
    return not case.extended


class RepairCase(ConcurrentTransitionMixin, models.Model):
    class Channel(models.TextChoices):
        ONLINE = "online", _("Online, by the applicant")
        WALK_IN = "walk_in", _("At the window, entered by intake")

    class Outcome(models.TextChoices):
        APPROVE = "approve", _("Repair")
        REFUSE = "refuse", _("Refuse")

    number = models.CharField(_("case number"), max_length=30, unique=True, null=True, editable=False)  # noqa: DJ001
    record = models.ForeignKey("credit.CreditRecord", on_delete=models.PROTECT, related_name="repair_cases")
    person = models.ForeignKey("credit.Person", on_delete=models.PROTECT, related_name="repair_cases")
    department = models.ForeignKey("credit.Department", on_delete=models.PROTECT, related_name="repair_cases")
    ruleset = models.ForeignKey(
        "credit.RuleSet", on_delete=models.PROTECT, related_name="+", verbose_name=_("rule set (procedure)")
    )
    overlay = models.ForeignKey(
        "credit.CityOverlay",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("local rules"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_form = models.FileField(
        _("signed application form (walk-in)"), upload_to="repair/forms/", blank=True
    )
    statement = models.TextField(_("how the conduct was corrected and the obligations performed"))
    duty_fulfilled_on = models.DateField(_("legal duty fulfilled on"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    state = FSMField(
        _("state"), max_length=30, choices=RepairState.choices, default=S.SUBMITTED, protected=True
    )
    supplement_requested = models.BooleanField(default=False)
    supplement_missing = models.JSONField(_("materials to supplement"), default=list, blank=True)
    non_acceptance_proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    non_acceptance_reasons = models.JSONField(default=list, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    extended = models.BooleanField(_("extended (complex case)"), default=False)
    interview_waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    interview_waiver_reason = models.TextField(blank=True)
    draft_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    draft_reasons = models.JSONField(default=list, blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    sanctions_lifted = models.BooleanField(_("sanctions lifted"), default=False)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("repair case")
        verbose_name_plural = _("repair cases")
        ordering = ["-received_at", "-id"]
        constraints = [
            # No two open repairs of one record, whatever races the API sees.
            models.UniqueConstraint(
                fields=["record"],
                condition=models.Q(state__in=OPEN_STATES),
                name="one_open_repair_per_record",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "state", "received_at"], name="repair_queue"),
            # The staff dashboard (workspace.stats): the cases decided in a period (handling time), and
            # city-wide the cases received in it (the queue index leads with the department). Measured on
            # PostgreSQL with 1,000,000 cases, 90 days: ~520 → ~300 ms and ~100 → ~50 ms.
            models.Index(
                fields=["decided_at"], condition=models.Q(decided_at__isnull=False), name="repair_decided"
            ),
            models.Index(fields=["received_at"], name="repair_received"),
        ]
        permissions = [
            ("handle_repair", _("Handle repair cases (accept, verify, draft)")),
            ("review_repair", _("Legal review of repair decisions")),
            ("approve_extension", _("Approve extensions and interview waivers")),
            ("file_for_applicant", _("File a repair for a walk-in applicant")),
        ]

    def __str__(self) -> str:
        return self.number or f"repair #{self.pk}"

    def involved_user_ids(self) -> set[int]:
        """Everyone who drafted, proposed, accepted or verified in this case: never its legal reviewer."""
        ids = {self.drafted_by_id, self.non_acceptance_proposed_by_id, self.accepted_by_id}
        ids |= set(self.evidence.exclude(verified_by=None).values_list("verified_by_id", flat=True))
        ids |= set(self.interviews.exclude(recorded_by=None).values_list("recorded_by_id", flat=True))
        return {i for i in ids if i is not None}

    def accepted_volunteer_hours(self) -> Any:
        total = self.evidence.filter(kind=EvidenceKind.VOLUNTEER, status=Evidence.Status.ACCEPTED).aggregate(
            total=models.Sum("hours")
        )["total"]
        return total or 0

    def blockers(self) -> list[str]:
        """What still stands before a decision can be drafted (the reasons are shown to staff)."""
        reasons = []
        if self.evidence.filter(status=Evidence.Status.PENDING).exists():
            reasons.append("evidence_pending")
        overlay = self.overlay
        waived = self.interview_waived_by_id is not None
        needs_interview = overlay is not None and overlay.interview_required and not waived
        if needs_interview and not self.interviews.filter(status=Interview.Status.HELD).exists():
            reasons.append("interview_not_held")
        return reasons

    # -- transitions: see docs/states.md -------------------------------------------------------------
    @transition(
        field=state, source=S.SUBMITTED, target=S.ACCEPTED, permission=_officer, custom={"label": _("Accept")}
    )
    def accept(self, *, actor: Any = None, **ctx: Any) -> None:
        self.accepted_at = timezone.now()
        self.accepted_by = actor

    @transition(
        field=state,
        source=S.SUBMITTED,
        target=S.AWAITING_SUPPLEMENT,
        conditions=[_no_supplement_yet],
        permission=_officer,
        custom={
            "label": _("Request a supplement (one notice)"),
            "payload": "repair.api.SupplementRequestSerializer",
        },
    )
    def request_supplement(self, *, payload: dict[str, Any], **ctx: Any) -> None:
        self.supplement_requested = True
        self.supplement_missing = payload["missing"]

    @transition(
        field=state,
        source=S.AWAITING_SUPPLEMENT,
        target=S.SUBMITTED,
        permission=_applicant_or_intake,
        custom={"label": _("Supply the missing materials")},
    )
    def supply(self, **ctx: Any) -> None:
        pass

    @transition(
        field=state,
        source=S.AWAITING_SUPPLEMENT,
        target=S.LAPSED,
        permission=nobody,
        custom={"label": _("Lapse"), "system": True},
    )
    def lapse(self, **ctx: Any) -> None:
        self.closed_at = timezone.now()

    @transition(
        field=state,
        source=S.SUBMITTED,
        target=S.NON_ACCEPTANCE_REVIEW,
        permission=_officer,
        custom={"label": _("Propose not to accept"), "payload": "repair.api.ReasonsSerializer"},
    )
    def propose_non_acceptance(self, *, actor: Any = None, payload: dict[str, Any], **ctx: Any) -> None:
        self.non_acceptance_proposed_by = actor
        self.non_acceptance_reasons = payload["reasons"]

    @transition(
        field=state,
        source=S.NON_ACCEPTANCE_REVIEW,
        target=S.NOT_ACCEPTED,
        permission=_reviewer,
        custom={"label": _("Approve the non-acceptance")},
    )
    def approve_non_acceptance(self, *, actor: Any = None, **ctx: Any) -> None:
        self.decided_by = actor
        self.decided_at = self.closed_at = timezone.now()

    @transition(
        field=state,
        source=S.NON_ACCEPTANCE_REVIEW,
        target=S.SUBMITTED,
        permission=_reviewer,
        custom={"label": _("Return to the officer"), "reason_required": True},
    )
    def return_non_acceptance(self, **ctx: Any) -> None:
        self.non_acceptance_proposed_by = None

    @transition(
        field=state,
        source=S.ACCEPTED,
        target=None,
        conditions=[_not_extended],
        permission=_head,
        custom={"label": _("Extend (complex case)"), "reason_required": True},
    )
    def extend(self, **ctx: Any) -> None:
        self.extended = True

    @transition(
        field=state,
        source=S.ACCEPTED,
        target=S.DECISION_REVIEW,
        conditions=[_ready_for_decision],
        permission=_officer,
        custom={"label": _("Draft the decision"), "payload": "repair.api.DraftSerializer"},
    )
    def draft_decision(self, *, actor: Any = None, payload: dict[str, Any], **ctx: Any) -> None:
        from django.core.exceptions import ValidationError

        outcome = payload["outcome"]
        if outcome == self.Outcome.APPROVE:
            self.check_repairable()
            threshold = self.overlay.volunteer_hours_threshold if self.overlay else None
            if threshold is not None and self.accepted_volunteer_hours() < threshold:
                raise ValidationError(
                    _("The city requires %(required)s certified volunteer hours; %(accepted)s are accepted."),
                    params={"required": threshold, "accepted": self.accepted_volunteer_hours()},
                    code="volunteer_hours",
                )
        elif not payload.get("reasons"):
            raise ValidationError(_("A refusal needs its reasons."), code="reasons_required")
        self.draft_outcome = outcome
        self.draft_reasons = payload.get("reasons", [])
        self.drafted_by = actor

    @transition(
        field=state,
        source=S.DECISION_REVIEW,
        target=RETURN_VALUE(S.REPAIRED, S.REFUSED),
        permission=_reviewer,
        custom={"label": _("Approve the decision")},
    )
    def approve_decision(self, *, actor: Any = None, **ctx: Any) -> str:
        self.decided_by = actor
        self.decided_at = self.closed_at = timezone.now()
        if self.draft_outcome == self.Outcome.APPROVE:
            self.check_repairable()
            self.sanctions_lifted = True
            return S.REPAIRED
        return S.REFUSED

    @transition(
        field=state,
        source=S.DECISION_REVIEW,
        target=S.ACCEPTED,
        permission=_reviewer,
        custom={"label": _("Return the draft"), "reason_required": True},
    )
    def return_decision(self, **ctx: Any) -> None:
        self.draft_outcome = ""
        self.drafted_by = None

    @transition(
        field=state,
        source=[S.SUBMITTED, S.AWAITING_SUPPLEMENT, S.ACCEPTED],
        target=S.WITHDRAWN,
        permission=applicant,
        custom={"label": _("Withdraw")},
    )
    def withdraw(self, **ctx: Any) -> None:
        self.closed_at = timezone.now()

    @transition(
        field=state,
        source=[S.NOT_ACCEPTED, S.REFUSED],
        target=RETURN_VALUE(S.SUBMITTED, S.ACCEPTED),
        conditions=[_no_other_open_repair],
        permission=_reopener,
        custom={"label": _("Reopen for a new decision"), "via_case": True, "reason_required": True},
    )
    def reopen(self, **ctx: Any) -> str:
        """The decision was set aside (an objection founded, a reconsideration): decide again. A refused
        repair goes back to verification, a non-acceptance back to the acceptance decision."""
        target = S.ACCEPTED if self.state == S.REFUSED else S.SUBMITTED
        self.reopened_count += 1
        self.draft_outcome = ""
        self.draft_reasons = []
        self.drafted_by = None
        self.non_acceptance_proposed_by = None
        self.decided_by = None
        self.decided_at = self.closed_at = None
        return target

    @transition(
        field=state,
        source=S.REPAIRED,
        target=S.REVOKED,
        permission=nobody,
        custom={"label": _("Repair revoked"), "system": True},
    )
    def revoke(self, **ctx: Any) -> None:
        pass

    def check_repairable(self) -> None:
        """The record's own conditions still hold at the moment of deciding (a period, a block, the duty)."""
        from django.core.exceptions import ValidationError

        from .eligibility import check

        answer = check(self.record, exclude_case=self)
        if not answer.eligible:
            raise ValidationError([reason.message for reason in answer.reasons], code="not_eligible")


class Commitment(models.Model):
    """信用承诺书: the rule set's text, signed inside the application; public, kept per person."""

    case = models.OneToOneField(RepairCase, on_delete=models.PROTECT, related_name="commitment")
    person = models.ForeignKey("credit.Person", on_delete=models.PROTECT, related_name="commitments")
    ruleset = models.ForeignKey("credit.RuleSet", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("text"))
    text_sha256 = models.CharField(_("SHA-256 of the text"), max_length=64)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    breached_at = models.DateTimeField(_("breach recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit commitment")
        verbose_name_plural = _("credit commitments")
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.person} {self.signed_at:%Y-%m-%d}"


class EvidenceKind(models.TextChoices):
    PERFORMANCE = "performance", _("Proof of performance or correction (主动履约/按时履约)")
    VOLUNTEER = "volunteer", _("Volunteer service certificate (志愿服务)")
    CHARITY = "charity", _("Charity donation receipt (慈善捐助)")
    TRAINING = "training", _("Training certificate")
    OTHER = "other", _("Other")


class Evidence(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for verification")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    case = models.ForeignKey(RepairCase, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(_("kind"), max_length=20, choices=EvidenceKind.choices)
    file = models.FileField(_("file"), upload_to="repair/evidence/%Y/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    hours = models.DecimalField(_("volunteer hours"), max_digits=6, decimal_places=1, null=True, blank=True)
    amount = models.DecimalField(_("donation (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    rejection_reason = models.CharField(
        _("why it was rejected (shown to the applicant)"), max_length=300, blank=True
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="volunteer") | models.Q(hours__isnull=False),
                name="volunteer_evidence_has_hours",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="charity") | models.Q(amount__isnull=False),
                name="charity_evidence_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.kind}"


class Interview(models.Model):
    """诚信约谈: scheduled with a 约谈通知书; held (with minutes), missed, or rescheduled."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        HELD = "held", _("Held")
        MISSED = "missed", pgettext_lazy("interview", "Missed")
        RESCHEDULED = "rescheduled", _("Rescheduled")

    case = models.ForeignKey(RepairCase, on_delete=models.PROTECT, related_name="interviews")
    scheduled_at = models.DateTimeField(_("time"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    online_link = models.URLField(_("online link"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    minutes = models.TextField(_("minutes"), blank=True)
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("integrity interview")
        verbose_name_plural = _("integrity interviews")
        ordering = ["scheduled_at", "id"]

    def __str__(self) -> str:
        return f"{self.case} {self.scheduled_at:%Y-%m-%d %H:%M}"


class CaseNote(models.Model):
    case = models.ForeignKey(RepairCase, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("note"))
    for_applicant = models.BooleanField(_("shown to the applicant"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case} note {self.pk}"


class RevocationState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed, in legal review")
    APPROVED = "approved", _("Approved: the repair is revoked")
    REJECTED = "rejected", _("Rejected")


def _revocation_reviewer(revocation: Any, user: Any) -> bool:
    return department_perm("repair.review_repair")(revocation, user) and user.pk != revocation.opened_by_id


class RepairRevocation(ConcurrentTransitionMixin, models.Model):
    """撤销信用修复 (Order 36 Art. 25): false materials, an untrue commitment or a deliberate breach of it."""

    class Ground(models.TextChoices):
        FALSE_MATERIALS = "false_materials", _("False materials (提供虚假材料)")
        UNTRUE_COMMITMENT = "untrue_commitment", _("Untrue commitment (信用承诺不实)")
        BREACH = "breach", _("Deliberate breach of the commitment (故意不履行承诺)")

    case = models.ForeignKey(RepairCase, on_delete=models.PROTECT, related_name="revocations")
    person = models.ForeignKey("credit.Person", on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("credit.Department", on_delete=models.PROTECT, related_name="+")
    ground = models.CharField(_("ground"), max_length=20, choices=Ground.choices)
    facts = models.TextField(_("facts and evidence"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    state = FSMField(
        _("state"),
        max_length=10,
        choices=RevocationState.choices,
        default=RevocationState.PROPOSED,
        protected=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    new_record = models.ForeignKey(
        "credit.CreditRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("the record shown for the revocation"),
    )

    class Meta:
        verbose_name = _("repair revocation")
        verbose_name_plural = _("repair revocations")
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(state="proposed"), name="one_open_revocation_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} revocation"

    @property
    def number(self) -> str:
        return f"{self.case.number}-R{self.pk}"

    @transition(
        field=state,
        source=RevocationState.PROPOSED,
        target=RevocationState.APPROVED,
        permission=_revocation_reviewer,
        custom={"label": _("Approve the revocation")},
    )
    def approve(self, *, actor: Any = None, **ctx: Any) -> None:
        self.decided_by = actor

    @transition(
        field=state,
        source=RevocationState.PROPOSED,
        target=RevocationState.REJECTED,
        permission=_revocation_reviewer,
        custom={"label": _("Reject the revocation"), "reason_required": True},
    )
    def reject(self, *, actor: Any = None, **ctx: Any) -> None:
        self.decided_by = actor
